package file_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// benchRead reads b.N records from a file written by the sink, through a
// pipeline ending in a discarding sink: allocations are per record.
func benchRead(b *testing.B, csv bool) {
	b.ReportAllocs()
	dir := b.TempDir()
	out := filepath.Join(dir, "data")
	env := weir.NewEnvironment(weir.Options{})
	src := weir.FromSlice(env, events(b.N))
	var src2 weir.Source[event]
	if csv {
		src.SinkTo(file.CSVSink[event](out, file.SinkOptions{}))
		src2 = file.CSVSource[event](out, file.SourceOptions{})
	} else {
		src.SinkTo(file.JSONSink[event](out, file.SinkOptions{}))
		src2 = file.JSONSource[event](out, file.SourceOptions{})
	}
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	env = weir.NewEnvironment(weir.Options{})
	n := 0
	weir.FromSource(env, src2, weir.NoWatermarks[event](), "read").SinkTo(weir.SinkFunc[event](func(context.Context, event, int64) error { n++; return nil }))
	b.ResetTimer()
	if err := env.Execute(context.Background()); err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("read %d records, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkJSONSource(b *testing.B) { benchRead(b, false) }
func BenchmarkCSVSource(b *testing.B)  { benchRead(b, true) }
