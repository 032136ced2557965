package runtime

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// timerModel is the reference for TestTimerFiringBucketRegisterDelete: the
// pending timers with the sequence number of their registration; they fire
// by time, then registration.
type timerModel struct {
	seq     int
	pending map[[2]int64]int // (ts, key) -> registration sequence
}

func (m *timerModel) register(ts int64, key int) {
	id := [2]int64{ts, int64(key)}
	if _, ok := m.pending[id]; !ok {
		m.seq++
		m.pending[id] = m.seq
	}
}

func (m *timerModel) remove(ts int64, key int) { delete(m.pending, [2]int64{ts, int64(key)}) }

// next returns the first pending timer at or before wm and drops it.
func (m *timerModel) next(wm int64) ([2]int64, bool) {
	var best [2]int64
	bestSeq := -1
	for id, s := range m.pending {
		if id[0] > wm {
			continue
		}
		if bestSeq < 0 || cmp.Or(cmp.Compare(id[0], best[0]), cmp.Compare(s, bestSeq)) < 0 {
			best, bestSeq = id, s
		}
	}
	if bestSeq < 0 {
		return best, false
	}
	delete(m.pending, best)
	return best, true
}

// TestTimerFiringBucketRegisterDelete fires buckets big enough to be
// indexed (more than smallBucket timers of one time) while the callback
// registers timers at the firing time again (for keys already fired, still
// waiting, or new), deletes timers of the firing time (fired or waiting)
// and registers later ones. Every timer must fire exactly when the model
// says: a key fired and registered again at the same time fires again, a
// deleted waiting one does not fire, a deleted fired one changes nothing.
// (Fired keys stay in a bucket's index: find must not take them as live.)
func TestTimerFiringBucketRegisterDelete(t *testing.T) {
	for round := range 40 {
		rng := rand.New(rand.NewPCG(uint64(round), 7))
		keys := 4 + rng.IntN(60)
		clock := &manualTime{}
		clock.q = NewTimerQueue(clock)
		model := &timerModel{pending: map[[2]int64]int{}}
		var s *TimerService[int, struct{}]
		var fired, want [][2]int64
		wm := int64(-1)
		budget := 400 // callbacks that still act (the loop must end)
		s = NewTimerService[int, struct{}](clock.q,
			func(tm Timer[int, struct{}]) error {
				fired = append(fired, [2]int64{tm.TS, int64(tm.Key)})
				w, ok := model.next(wm)
				if !ok {
					t.Fatalf("round %d: timer %+v fired, the model has none due at %d", round, tm, wm)
				}
				want = append(want, w)
				if budget == 0 {
					return nil
				}
				budget--
				for range rng.IntN(4) {
					k := rng.IntN(keys)
					switch r := rng.IntN(6); {
					case r < 3: // the firing time again
						s.RegisterEventTime(Timer[int, struct{}]{TS: tm.TS, Key: k})
						model.register(tm.TS, k)
					case r < 5:
						s.DeleteEventTime(Timer[int, struct{}]{TS: tm.TS, Key: k})
						model.remove(tm.TS, k)
					default: // later
						ts := tm.TS + 1 + int64(rng.IntN(3))
						s.RegisterEventTime(Timer[int, struct{}]{TS: ts, Key: k})
						model.register(ts, k)
					}
				}
				return nil
			},
			func(Timer[int, struct{}]) error { return nil })
		for range 300 {
			ts, k := int64(rng.IntN(6)), rng.IntN(keys)
			if rng.IntN(5) == 0 {
				s.DeleteEventTime(Timer[int, struct{}]{TS: ts, Key: k})
				model.remove(ts, k)
				continue
			}
			s.RegisterEventTime(Timer[int, struct{}]{TS: ts, Key: k})
			model.register(ts, k)
		}
		for _, w := range []int64{2, 5, 100} {
			wm = w
			if err := s.AdvanceWatermark(w); err != nil {
				t.Fatal(err)
			}
			if _, ok := model.next(w); ok {
				t.Fatalf("round %d: the model has timers due at %d that did not fire", round, w)
			}
		}
		if !slices.Equal(fired, want) {
			t.Fatalf("round %d: fired\n%v\nwant\n%v", round, fired, want)
		}
		if s.NumEventTimers() != 0 {
			t.Fatalf("round %d: %d timers left", round, s.NumEventTimers())
		}
	}
}
