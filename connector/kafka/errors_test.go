package kafka

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirstream/weir"
)

// TestErrorKinds classifies errors the connector really produces with
// the weir.Is* helpers: each is of its own kind and of no other.
func TestErrorKinds(t *testing.T) {
	type kinds struct{ corruption, retriable, option, dataLoss, auth bool }
	for _, tc := range []struct {
		name string
		err  func(t *testing.T) error
		want kinds
	}{
		{"produce refused by a broker without enough replicas", retriableProduceError, kinds{retriable: true}},
		{"sink without brokers", func(t *testing.T) error {
			env := weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, []string{"a"}).SinkTo(NewSink(SinkOptions[string]{Topic: "t", Serializer: StringSerde{}}))
			return env.Execute(context.Background())
		}, kinds{option: true}},
		{"damaged committable", func(t *testing.T) error {
			w, err := NewSink(SinkOptions[string]{Brokers: []string{"127.0.0.1:1"}, Topic: "t", Serializer: StringSerde{},
				Guarantee: ExactlyOnce, TransactionalIDPrefix: "p"}).CreateWriter(weir.SinkContext{Parallelism: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			return w.(weir.TwoPhaseCommitWriter[string]).Commit(t.Context(), [][]byte{{2, 0, 1, 0xff}})
		}, kinds{corruption: true}},
		{"damaged record value", func(t *testing.T) error {
			_, err := JSONSerde[int]{}.Deserialize(&kgo.Record{Value: []byte("{")})
			return err
		}, kinds{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			if err == nil {
				t.Fatal("no error")
			}
			got := kinds{weir.IsCorruption(err), weir.IsRetriable(err), weir.IsInvalidOption(err), weir.IsDataLoss(err), weir.IsAuthentication(err)}
			if got != tc.want {
				t.Fatalf("%v: kinds %+v, want %+v", err, got, tc.want)
			}
		})
	}
}

// retriableProduceError runs a job whose sink's broker answers every
// produce with NOT_ENOUGH_REPLICAS, a retriable error, until the client
// gives up.
func retriableProduceError(t *testing.T) error {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotEnoughReplicas.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []string{"a", "b"}).SinkTo(NewSink(SinkOptions[string]{
		Brokers: c.ListenAddrs(), Topic: "out", Serializer: StringSerde{},
		ClientOptions: []kgo.Opt{kgo.DisableIdempotentWrite(), kgo.RecordRetries(2), kgo.RecordDeliveryTimeout(time.Second)}}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = env.Execute(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Execute = %v, want the produce error before the test's deadline", err)
	}
	return err
}
