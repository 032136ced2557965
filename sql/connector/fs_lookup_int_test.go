package connector

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestFilesystemLookupIntKey: a lookup on one integer column (indexed by
// the key's value) finds, for every key, the rows the lookup by encoded
// key finds, in the same order, for each integer type: duplicates,
// negative keys, the type's extremes, NULL keys in the file and probed,
// keys of no row. A lookup on two columns keeps the encoded index.
func TestFilesystemLookupIntKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name string
		typ  row.Type
		min  int64
		max  int64
	}{
		{"TINYINT", row.TinyInt(), -128, 127},
		{"SMALLINT", row.SmallInt(), -32768, 32767},
		{"INT", row.IntType(), -1 << 31, 1<<31 - 1},
		{"BIGINT", row.BigInt(), -1 << 63, 1<<63 - 1},
	} {
		dir := t.TempDir()
		var b strings.Builder
		keys := []int64{c.min, c.max, 0, -1, 1}
		for i := range 300 {
			k := int64(rng.IntN(40)) - 20
			if rng.IntN(10) == 0 {
				k = keys[rng.IntN(len(keys))]
			}
			if rng.IntN(15) == 0 {
				fmt.Fprintf(&b, ",%d,null%d\n", rng.IntN(3), i) // NULL key
				continue
			}
			fmt.Fprintf(&b, "%d,%d,v%d\n", k, rng.IntN(3), i)
		}
		if err := os.WriteFile(filepath.Join(dir, "t.csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		schema := row.NewSchema(row.Col("k", c.typ), row.Col("j", row.IntType()), row.Col("v", row.String()))
		src, err := Filesystem{}.CreateSource(Context{Table: "side", Schema: schema, Options: map[string]string{
			"connector": "filesystem", "path": dir, "format": "csv"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		open := func(cols []int, intKey bool) *fsLookup {
			t.Helper()
			fn, err := src.(LookupSource).LookupFunction(cols)
			if err != nil {
				t.Fatal(err)
			}
			l := fn.(*fsLookup)
			if l.intKey != intKey {
				t.Fatalf("%s %v: intKey %v, want %v", c.name, cols, l.intKey, intKey)
			}
			if err := l.Open(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l
		}
		byInt := open([]int{0}, true)
		enc := open([]int{0}, true)
		enc.intKey = false // the encoded index, as before
		if err := enc.Open(ctx); err != nil {
			t.Fatal(err)
		}
		if enc.mu.ints != nil || enc.mu.rows == nil || byInt.mu.rows != nil || byInt.mu.ints == nil {
			t.Fatalf("%s: the two lookups did not build one index each", c.name)
		}
		show := func(rows []row.Row) string {
			var s []string
			for _, r := range rows {
				s = append(s, r.Fields[2].Str())
			}
			return strings.Join(s, ",")
		}
		probes := []row.Value{row.Null()}
		for k := int64(-25); k <= 25; k++ {
			probes = append(probes, row.Int(k))
		}
		for _, k := range keys {
			probes = append(probes, row.Int(k))
		}
		found := 0
		for _, p := range probes {
			a, err1 := byInt.Lookup(ctx, []row.Value{p})
			e, err2 := enc.Lookup(ctx, []row.Value{p})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if show(a) != show(e) {
				t.Errorf("%s key %v: %q by value, %q by encoding", c.name, p, show(a), show(e))
			}
			found += len(a)
		}
		if found == 0 {
			t.Fatalf("%s: no probe found a row", c.name)
		}
		open([]int{0, 1}, false) // two columns: the encoded index
	}
}
