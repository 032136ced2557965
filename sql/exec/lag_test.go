package exec

import (
	"testing"

	"github.com/weirstream/weir/row"
)

// TestLagAcc checks LAG's accumulator against the definition (the value
// offset rows back, NULLs counting, else the default) and that its
// encoding, as checkpoints store it, restores the same state.
func TestLagAcc(t *testing.T) {
	vals := []row.Value{row.Int(1), row.Null(), row.Int(3), row.Int(4), row.Int(5)}
	for _, offset := range []int64{0, 1, 2, 4, 7} {
		k, err := newCall(Call(Lag, 0, 1, 2), []row.Type{row.BigInt(), row.IntType().NotNull(), row.BigInt()}, false)
		if err != nil {
			t.Fatal(err)
		}
		def := row.Int(-9)
		for i, v := range vals {
			k.apply(row.Of(v, row.Int(offset), def), false)
			want := def
			if j := int64(i) - offset; j >= 0 {
				want = vals[j]
			}
			got := k.acc.value()
			if !row.Equal(got, want, row.BigInt()) || got.IsNull() != want.IsNull() {
				t.Errorf("offset %d after %d rows: LAG = %v, want %v", offset, i+1, got, want)
			}
			enc := k.acc.appendTo(nil)
			r := &lagAcc{t: row.BigInt().WithNullable(true)}
			n, err := r.decode(enc)
			if err != nil || n != len(enc) {
				t.Fatalf("decode: %d of %d bytes, %v", n, len(enc), err)
			}
			if g := r.value(); !row.Equal(g, got, row.BigInt()) || g.IsNull() != got.IsNull() {
				t.Errorf("offset %d after %d rows: restored LAG = %v, want %v", offset, i+1, g, got)
			}
		}
	}
}
