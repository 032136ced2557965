package bench

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
)

// BenchmarkMapFilterEngine runs scenario a's pipeline (b.N records) for
// profiling: go test -run '^$' -bench MapFilterEngine -cpuprofile ...
func BenchmarkMapFilterEngine(b *testing.B) {
	b.ReportAllocs()
	if _, err := mapFilterEngine(context.Background(), int64(b.N), weir.Options{}); err != nil {
		b.Fatal(err)
	}
}
