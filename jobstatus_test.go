package weir_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weirstream/weir"
)

// TestJobStatus follows a job's status through its life: running, failed
// after its restarts, finished, canceled.
func TestJobStatus(t *testing.T) {
	t.Run("failed after restarts", func(t *testing.T) {
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
		}).SinkTo(weir.SinkFunc[int](func(int, int64) error { return nil }))
		job, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Wait(); !errors.Is(err, boom) {
			t.Fatalf("Wait = %v, want boom", err)
		}
		s := job.Status()
		if s.State != weir.JobFailed || s.Attempts != 3 || !errors.Is(s.LastFailure, boom) || s.Ended.Before(s.Started) || s.Ended.IsZero() {
			t.Fatalf("status %+v: want FAILED after 3 attempts with boom", s)
		}
	})
	t.Run("finished", func(t *testing.T) {
		env := weir.NewEnvironment(weir.Options{})
		weir.FromSlice(env, []int{1, 2, 3}).SinkTo(weir.SinkFunc[int](func(int, int64) error { return nil }))
		job, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Wait(); err != nil {
			t.Fatal(err)
		}
		if s := job.Status(); s.State != weir.JobFinished || s.Attempts != 1 || s.LastFailure != nil {
			t.Fatalf("status %+v: want FINISHED after 1 attempt", s)
		}
	})
	t.Run("running then canceled", func(t *testing.T) {
		env := weir.NewEnvironment(weir.Options{})
		seen := make(chan struct{})
		first := true
		weir.FromSource[int](env, counter{}, weir.NoWatermarks[int](), "counter").
			SinkTo(weir.SinkFunc[int](func(int, int64) error {
				if first {
					first = false
					close(seen)
				}
				return nil
			}))
		job, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		<-seen
		if s := job.Status(); s.State != weir.JobRunning || s.Attempts != 1 || !s.Ended.IsZero() {
			t.Fatalf("status %+v: want RUNNING", s)
		}
		job.Cancel()
		if err := job.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v", err)
		}
		if s := job.Status(); s.State != weir.JobCanceled {
			t.Fatalf("status %+v: want CANCELED", s)
		}
	})
}
