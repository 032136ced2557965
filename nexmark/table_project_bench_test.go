package nexmark

import "testing"

// BenchmarkProjectedRow builds the source rows of q20's projection (every
// bid and auction field, event_type) for generated events.
func BenchmarkProjectedRow(b *testing.B) {
	paths := [][]int{{0}}
	for f := range 7 {
		paths = append(paths, []int{3, f})
	}
	for f := range 10 {
		paths = append(paths, []int{2, f})
	}
	g, err := NewGenerator(DefaultConfig(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	events := make([]Event, 1024)
	for i := range events {
		events[i] = g.Event(int64(i))
	}
	a := newProjectArena(paths)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.row(events[i%len(events)])
		i++
	}
}
