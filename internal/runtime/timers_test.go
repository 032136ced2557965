package runtime

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

type manualTime struct {
	now int64
	q   *TimerQueue
}

func (m *manualTime) Now() int64 { return m.now }

// TestTimerServiceOrderAndDedup fires random timers, with duplicates and
// deletions, and checks they come out once each, in time order, exactly
// those not deleted.
func TestTimerServiceOrderAndDedup(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		var fired []Timer[int, struct{}]
		clock := &manualTime{}
		clock.q = NewTimerQueue(clock)
		s := NewTimerService[int, struct{}](clock.q,
			func(tm Timer[int, struct{}]) error { fired = append(fired, tm); return nil },
			func(Timer[int, struct{}]) error { return nil })
		want := map[[2]int64]bool{}
		for i := 0; i < 300; i++ {
			tm := Timer[int, struct{}]{TS: int64(rng.IntN(100)), Key: rng.IntN(10)}
			id := [2]int64{tm.TS, int64(tm.Key)}
			if rng.IntN(4) == 0 {
				s.DeleteEventTime(tm)
				delete(want, id)
				continue
			}
			s.RegisterEventTime(tm)
			want[id] = true
		}
		if s.NumEventTimers() != len(want) {
			t.Fatalf("NumEventTimers = %d, want %d", s.NumEventTimers(), len(want))
		}
		if err := s.AdvanceWatermark(49); err != nil {
			t.Fatal(err)
		}
		if err := s.AdvanceWatermark(1000); err != nil {
			t.Fatal(err)
		}
		if len(fired) != len(want) {
			t.Fatalf("fired %d timers, want %d", len(fired), len(want))
		}
		if !slices.IsSortedFunc(fired, func(a, b Timer[int, struct{}]) int { return int(a.TS - b.TS) }) {
			t.Fatalf("timers fired out of order")
		}
		for _, f := range fired {
			if !want[[2]int64{f.TS, int64(f.Key)}] {
				t.Fatalf("timer %+v fired but was deleted or never registered", f)
			}
			delete(want, [2]int64{f.TS, int64(f.Key)})
		}
	}
}

func TestProcessingTimers(t *testing.T) {
	clock := &manualTime{}
	clock.q = NewTimerQueue(clock)
	var fired []int64
	s := NewTimerService[string, struct{}](clock.q,
		func(Timer[string, struct{}]) error { return nil },
		func(tm Timer[string, struct{}]) error {
			fired = append(fired, tm.TS)
			return nil
		})
	for _, ts := range []int64{30, 10, 20, 10} {
		s.RegisterProcessingTime(Timer[string, struct{}]{TS: ts, Key: "k"})
	}
	clock.now = 19
	if err := clock.q.FireDue(clock.now); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fired, []int64{10}) {
		t.Fatalf("fired %v at 19", fired)
	}
	clock.now = 30
	if err := clock.q.FireDue(clock.now); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fired, []int64{10, 20, 30}) {
		t.Fatalf("fired %v at 30", fired)
	}
}

func BenchmarkTimerRegisterFire(b *testing.B) {
	b.ReportAllocs()
	clock := &manualTime{}
	clock.q = NewTimerQueue(clock)
	s := NewTimerService[int, struct{}](clock.q,
		func(Timer[int, struct{}]) error { return nil }, func(Timer[int, struct{}]) error { return nil })
	for i := 0; i < 100_000; i++ {
		s.RegisterEventTime(Timer[int, struct{}]{TS: int64(i), Key: i})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.RegisterEventTime(Timer[int, struct{}]{TS: int64(100_000 + i), Key: i})
		if err := s.AdvanceWatermark(int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// A callback that registers a due timer for every timer it fires keeps a
// timer loop going for ever (CEP did, on a Within deadline that wrapped
// around); once the task is cancelled the loop stops with ErrCanceled.
func TestTimerLoopsStopWhenCanceled(t *testing.T) {
	for _, domain := range []string{"event", "processing"} {
		t.Run(domain, func(t *testing.T) {
			clock := &manualTime{now: 10}
			clock.q = NewTimerQueue(clock)
			done := make(chan struct{})
			clock.q.SetDone(done)
			var s *TimerService[int, struct{}]
			fired := 0
			again := func(tm Timer[int, struct{}]) error {
				fired++
				if fired == 1000 {
					close(done)
				}
				if fired > 1_000_000 {
					return errors.New("not stopped by the cancellation")
				}
				next := Timer[int, struct{}]{TS: tm.TS, Key: tm.Key + 1}
				if domain == "event" {
					s.RegisterEventTime(next)
				} else {
					s.RegisterProcessingTime(next)
				}
				return nil
			}
			s = NewTimerService[int, struct{}](clock.q, again, again)
			var err error
			if domain == "event" {
				s.RegisterEventTime(Timer[int, struct{}]{TS: 5})
				err = s.AdvanceWatermark(10)
			} else {
				s.RegisterProcessingTime(Timer[int, struct{}]{TS: 5})
				err = clock.q.FireDue(10)
			}
			if !errors.Is(err, ErrCanceled) {
				t.Fatalf("timer loop returned %v after %d timers, want ErrCanceled", err, fired)
			}
			if fired > 1000+cancelCheckEvery {
				t.Fatalf("%d timers fired after the cancellation", fired-1000)
			}
		})
	}
}
