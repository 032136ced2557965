package weir_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestRestartsExhaustedSaysSo: a job whose restart strategy allows no more
// restarts fails with its last error, saying that it restarted and why it
// stops now (Flink: "Recovery is suppressed by
// FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=2, ...)"),
// so that a user who set restart-strategy.* sees it was applied.
func TestRestartsExhaustedSaysSo(t *testing.T) {
	boom := errors.New("boom")
	env := weir.NewEnvironment(weir.Options{
		Restart:              &weir.FixedDelayRestart{Attempts: 2, Delay: time.Millisecond},
		RepeatedFailureLimit: -1,
	})
	weir.TryMap(weir.FromSlice(env, []int{1, 2, 3}), func(v int) (int, error) {
		if v == 2 {
			return 0, boom
		}
		return v, nil
	}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	job, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = job.Wait()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "restart strategy allows no more restarts after 2") {
		t.Fatalf("Wait = %v, want boom and that the 2 restarts are used up", err)
	}
	// Without a restart strategy the error is the failure itself.
	env = weir.NewEnvironment(weir.Options{})
	weir.TryMap(weir.FromSlice(env, []int{1, 2, 3}), func(v int) (int, error) {
		if v == 2 {
			return 0, boom
		}
		return v, nil
	}).SinkTo(weir.SinkFunc[int](func(context.Context, int, int64) error { return nil }))
	if job, err = env.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := job.Wait(); !errors.Is(err, boom) || strings.Contains(err.Error(), "restart") {
		t.Fatalf("Wait without restarts = %v, want boom alone", err)
	}
}
