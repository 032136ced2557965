package cep

import (
	"math"
	"testing"
	"time"
)

// A partial match that starts near either end of time times out at start
// + Within saturated at MaxInt64: the deadline never wraps into the past
// (a timer there fired at once and re-registered itself forever), and a
// watermark at the deadline drops the match.
func TestTimeoutAtExtremeTimestamps(t *testing.T) {
	p := Begin[snapEvent]("a").Where(func(e snapEvent) bool { return e.Name == "a" }).Times(3).Within(10 * time.Minute)
	n, err := compile(p)
	if err != nil {
		t.Fatal(err)
	}
	const w = int64(10 * time.Minute / time.Millisecond)
	for _, tc := range []struct {
		name         string
		ts           int64
		wantDeadline int64
	}{
		{"max", math.MaxInt64, math.MaxInt64},
		{"near max", math.MaxInt64 - 5, math.MaxInt64},
		{"min", math.MinInt64, math.MinInt64 + w},
		{"near min", math.MinInt64 + 1, math.MinInt64 + 1 + w},
		{"ordinary", 1_000, 1_000 + w},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMatcher(n)
			var timedOut []int64
			m.emit = func(*buffer[snapEvent], partial, int64) error { t.Fatal("unexpected match"); return nil }
			m.timeout = func(_ *buffer[snapEvent], _ partial, at int64) error {
				timedOut = append(timedOut, at)
				return nil
			}
			b := newBuffer[snapEvent]()
			if err := m.process(b, snapEvent{Name: "a"}, tc.ts); err != nil {
				t.Fatal(err)
			}
			d, ok := m.nextTimeout(b)
			if !ok || d != tc.wantDeadline {
				t.Fatalf("next timeout %d (%v), want %d", d, ok, tc.wantDeadline)
			}
			if tc.wantDeadline > tc.ts {
				if err := m.advance(b, tc.wantDeadline-1); err != nil {
					t.Fatal(err)
				}
				if len(timedOut) != 0 || len(b.PMs) != 1 {
					t.Fatalf("timed out %v before the deadline; %d partial matches", timedOut, len(b.PMs))
				}
			}
			if err := m.advance(b, tc.wantDeadline); err != nil {
				t.Fatal(err)
			}
			if len(timedOut) != 1 || timedOut[0] != tc.wantDeadline || len(b.PMs) != 0 {
				t.Fatalf("timed out at %v with %d partial matches left, want once at %d", timedOut, len(b.PMs), tc.wantDeadline)
			}
			// The final watermark, MaxInt64, times it out too (t - start
			// overflowed for a start far in the past).
			timedOut = nil
			if err := m.process(b, snapEvent{Name: "a"}, tc.ts); err != nil {
				t.Fatal(err)
			}
			if err := m.advance(b, math.MaxInt64); err != nil {
				t.Fatal(err)
			}
			if len(timedOut) != 1 || timedOut[0] != tc.wantDeadline || len(b.PMs) != 0 {
				t.Fatalf("at the final watermark: timed out at %v with %d partial matches left, want once at %d", timedOut, len(b.PMs), tc.wantDeadline)
			}
		})
	}
}
