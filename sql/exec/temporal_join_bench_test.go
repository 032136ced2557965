package exec

import (
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
)

// BenchmarkTemporalJoin: orders (3 rows in 4) joined with the versions of
// 100 keys (1 row in 4), times rising 10 ms a row, the watermark 1 s
// behind every 100 rows: each key holds a few waiting orders and versions.
func BenchmarkTemporalJoin(b *testing.B) {
	lt := []row.Type{row.BigInt(), row.TimestampType(3), row.BigInt()}
	rt := []row.Type{row.BigInt(), row.BigInt(), row.TimestampType(3)}
	spec := TemporalJoinSpec{Type: LeftJoin, LeftTypes: lt, RightTypes: rt, LeftKeys: []int{0}, RightKeys: []int{0}, LeftTime: 1, RightTime: 2}
	benchJoinOp(b, 2, func(s []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return TemporalJoin(s[0], s[1], spec) },
		func(i int) (int, row.Row, int64) {
			ts := int64(i) * 10
			k := row.Int(int64(i * 7919 % 100))
			if i%4 == 3 {
				return 1, row.Of(k, row.Int(int64(i)), row.Timestamp(ts, 0)), ts
			}
			return 0, row.Of(k, row.Timestamp(ts, 0), row.Int(int64(i))), ts
		}, true)
}
