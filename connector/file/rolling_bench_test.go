package file_test

import (
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// BenchmarkExactlyOnceWriteRolling writes JSON records through an
// exactly-once writer without and with the time-based rolling policies
// (the SQL connector's defaults set both): the cost of reading the clock
// per record.
func BenchmarkExactlyOnceWriteRolling(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts file.ExactlyOnceOptions
	}{
		{"size-only", file.ExactlyOnceOptions{}},
		{"rollover+inactivity", file.ExactlyOnceOptions{RolloverInterval: 30 * time.Minute, InactivityInterval: 30 * time.Minute}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w, err := file.ExactlyOnceJSONSink[kout](b.TempDir(), tc.opts).CreateWriter(weir.SinkContext{Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := w.Write(b.Context(), kout{Key: "k", Seq: int64(i), Sum: int64(i)}, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
