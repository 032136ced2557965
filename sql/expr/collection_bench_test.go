package expr

import (
	"fmt"
	"math"
	"testing"

	"github.com/weirstream/weir/row"
)

// BenchmarkArrayDistinct compares the valueSet's hashing with scanning
// (hashFrom raised out of reach) on BIGINT arrays with half their values
// repeated.
func BenchmarkArrayDistinct(b *testing.B) {
	arr := row.ArrayType(tBigInt)
	for _, n := range []int{8, 64, 1024} {
		e := make([]row.Value, n)
		for i := range e {
			e[i] = row.Int(int64(i / 2))
		}
		in := []row.Value{row.Array(e)}
		for _, mode := range []string{"hash", "scan"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, mode), func(b *testing.B) {
				if mode == "scan" {
					defer func(h int) { hashFrom = h }(hashFrom)
					hashFrom = math.MaxInt
				}
				ev, err := Compile(MustCall("ARRAY_DISTINCT", Ref(0, arr)))
				if err != nil {
					b.Fatal(err)
				}
				ctx := &EvalContext{}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ev(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
