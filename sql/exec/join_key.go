package exec

import (
	"encoding/binary"

	"github.com/weirstream/weir/row"
)

// intJoinKey returns the key selector of a join keyed by one integer
// column (Nexmark's joins on auction and person ids), or nil for other
// keys. It gives the bytes row.AppendKey gives (the state key and the
// exchange's hash must not change), built in a stack buffer: AppendKey's
// buffer escapes to the heap, one allocation per row more, and the
// selector runs twice per row (exchange and join).
func intJoinKey(idx []int, types []row.Type) func(row.Row) string {
	if len(idx) != 1 || idx[0] < 0 || idx[0] >= len(types) {
		return nil
	}
	switch types[idx[0]].Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
	default:
		return nil
	}
	c, n := idx[0], len(types)
	return func(r row.Row) string {
		if len(r.Fields) != n {
			return "" // a malformed row: the operator rejects it
		}
		f := r.Fields[c]
		if f.IsNull() {
			return "\x00"
		}
		var b [1 + binary.MaxVarintLen64]byte
		b[0] = 1
		k := binary.PutVarint(b[1:], f.Int())
		return string(b[:1+k])
	}
}
