package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/weirstream/weir"
)

// Cancelling a job interrupts a Kafka sink blocked on a broker that does
// not answer: the at-least-once sink's final flush waiting for a produce
// acknowledgement, the exactly-once sink's commit waiting for EndTxn. The
// job ends promptly with context.Canceled and leaves no goroutine behind.
func TestCancelInterruptsBlockedSink(t *testing.T) {
	for _, tc := range []struct {
		name      string
		guarantee Guarantee
		key       kmsg.Key // the request the broker never answers
	}{
		{"AtLeastOnceFlush", AtLeastOnce, kmsg.Produce},
		{"ExactlyOnceCommit", ExactlyOnce, kmsg.EndTxn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "out"))
			if err != nil {
				t.Fatal(err)
			}
			seeds := c.ListenAddrs()
			// The broker holds every controlled request until release.
			release := make(chan struct{})
			seen := make(chan struct{})
			first := true
			c.ControlKey(int16(tc.key), func(kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				if first {
					first = false
					close(seen)
				}
				c.SleepControl(func() { <-release })
				return nil, nil, false
			})

			env := weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, []string{"a", "b", "c"}).SinkTo(NewSink(SinkOptions[string]{
				Brokers: seeds, Topic: "out", Serializer: StringSerde{},
				Guarantee: tc.guarantee, TransactionalIDPrefix: "cancel"}))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- env.Execute(ctx) }()
			select {
			case <-seen:
			case err := <-done:
				t.Fatalf("Execute = %v before the broker held a %v request", err, kmsg.NameForKey(int16(tc.key)))
			}
			cancel()
			deadline := time.NewTimer(30 * time.Second)
			defer deadline.Stop()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Execute = %v, want context.Canceled", err)
				}
			case <-deadline.C:
				t.Fatalf("Execute did not return after the job was cancelled: the sink blocked on %v was not interrupted", kmsg.NameForKey(int16(tc.key)))
			}
			close(release)
			c.Close()
			// kfake's own cluster goroutine may still be finishing a held
			// control request after Close on a loaded machine; the check is
			// for the job's and the sink's goroutines.
			goleak.VerifyNone(t, leaks, goleak.IgnoreAnyFunction("github.com/twmb/franz-go/pkg/kfake.(*Cluster).run"))
		})
	}
}
