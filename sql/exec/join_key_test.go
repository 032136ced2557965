package exec

import (
	"math"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestIntJoinKeyBytes: the integer join key is byte for byte row.AppendKey's
// (the state key and the exchange's hash), NULL included.
func TestIntJoinKeyBytes(t *testing.T) {
	for _, typ := range []row.Type{row.TinyInt(), row.SmallInt(), row.IntType(), row.BigInt()} {
		types := []row.Type{row.String(), typ}
		sel := joinKeySelector([]int{1}, types)
		if intJoinKey([]int{1}, types) == nil {
			t.Fatalf("%s: no integer key selector", typ)
		}
		vals := []row.Value{row.Null(), row.Int(0), row.Int(1), row.Int(-1), row.Int(63), row.Int(64), row.Int(-65),
			row.Int(1 << 40), row.Int(math.MaxInt64), row.Int(math.MinInt64)}
		for i := range int64(3000) {
			vals = append(vals, row.Int(i*i*7919-i))
		}
		for _, v := range vals {
			r := row.Of(row.Str("x"), v)
			want := string(row.AppendKey(nil, r, []int{1}, []row.Type{typ}))
			if got := sel(r); got != want {
				t.Fatalf("%s %v: key %x, AppendKey %x", typ, row.Format(v, typ), got, want)
			}
		}
	}
	if intJoinKey([]int{0}, []row.Type{row.String()}) != nil || intJoinKey([]int{0, 1}, []row.Type{row.BigInt(), row.BigInt()}) != nil {
		t.Fatal("an integer key selector for a key that is not one integer column")
	}
}
