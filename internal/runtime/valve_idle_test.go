package runtime

import (
	"context"
	"slices"
	"testing"
)

// wmRecorder records what the gate hands the head operator.
type wmRecorder struct{ got []string }

func (r *wmRecorder) ProcessWatermark(wm int64) error {
	r.got = append(r.got, "wm "+itoa(wm))
	return nil
}

func (r *wmRecorder) ProcessWatermarkStatus(idle bool) error {
	if idle {
		r.got = append(r.got, "idle")
	} else {
		r.got = append(r.got, "active")
	}
	return nil
}

func itoa(v int64) string {
	if v < 0 {
		return "-" + itoa(-v)
	}
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

// TestAllIdleFlushesMaxWatermark: as Flink's StatusWatermarkValve, when
// the last active channel goes idle, the highest watermark of all channels
// is emitted before the idle status (here channel 1's 50, which went idle
// first); while one channel is active its watermark is the combined one.
func TestAllIdleFlushesMaxWatermark(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []Envelope
		chans []int
		want  []string
	}{
		{
			name:  "flush",
			steps: []Envelope{{Kind: KindWatermark, Val: 10}, {Kind: KindWatermark, Val: 50}, {Kind: KindStatus, Val: 1}, {Kind: KindStatus, Val: 1}, {Kind: KindStatus, Val: 0}},
			chans: []int{0, 1, 1, 0, 0},
			want:  []string{"wm 10", "wm 50", "idle", "active"},
		},
		{
			// The channel going idle last is behind the combined watermark
			// (its watermark went back to 20): no flush, as Flink's valve
			// flushes only when that channel held the combined watermark,
			// although idle channel 1 has 60.
			name: "no flush behind",
			steps: []Envelope{{Kind: KindWatermark, Val: 30}, {Kind: KindWatermark, Val: 40}, {Kind: KindStatus, Val: 1},
				{Kind: KindWatermark, Val: 60}, {Kind: KindWatermark, Val: 20}, {Kind: KindStatus, Val: 1}},
			chans: []int{0, 1, 1, 1, 0, 0},
			want:  []string{"wm 30", "idle"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := NewGate()
			g.NewChannel(0, 1)
			g.NewChannel(0, 1)
			rec := &wmRecorder{}
			task := &Task{Name: "t", Gate: g, Head: rec}
			if err := task.Open(); err != nil {
				t.Fatal(err)
			}
			for i, e := range c.steps {
				if err := task.handle(context.Background(), c.chans[i], e); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(rec.got, c.want) {
				t.Fatalf("head got %v, want %v", rec.got, c.want)
			}
		})
	}
}
