package connector

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/weirstream/weir/row"
)

// TestFilesystemLookupPathRegex: a lookup of a filesystem table reads the
// files its source.path.regex-pattern selects.
func TestFilesystemLookupPathRegex(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"a.csv": "1,one\n", "b.txt": "2,two\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	schema := row.NewSchema(row.Col("k", row.BigInt()), row.Col("v", row.String()))
	src, err := Filesystem{}.CreateSource(Context{Table: "side", Schema: schema, Options: map[string]string{
		"connector": "filesystem", "path": dir, "format": "csv", "source.path.regex-pattern": `.*\.csv`}})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := src.(LookupSource).LookupFunction([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := fn.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	for k, want := range map[int64]int{1: 1, 2: 0} {
		rows, err := fn.Lookup(ctx, []row.Value{row.Int(k)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != want {
			t.Errorf("key %d: %d rows, want %d", k, len(rows), want)
		}
	}
}
