package connector_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// annotatedMap is a MAP-annotated group of any key_value layout
// (parquet-go's Map makes the key required).
type annotatedMap struct{ pq.Group }

func (annotatedMap) Type() pq.Type { return pq.Map(pq.String(), pq.Int(32)).Type() }

// TestParquetMultisetOptionalKeys reads a MULTISET as Flink's
// ParquetSchemaConverter writes one for a nullable element type: an
// optional key (Flink leaves a NULL element's key absent) and a required
// INT32 count.
func TestParquetMultisetOptionalKeys(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(in, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	s := pq.Optional(annotatedMap{pq.Group{"key_value": pq.Repeated(pq.Group{"key": pq.Optional(pq.String()), "value": pq.Int(32)})}})
	w := pq.NewWriter(f, pq.NewSchema("m", pq.Group{"id": pq.Int(64), "s": s}))
	// Columns: id, s.key_value.key (max def 3), s.key_value.value (max
	// def 2).
	if _, err := w.WriteRows([]pq.Row{
		{pq.Int64Value(1).Level(0, 0, 0),
			pq.ByteArrayValue([]byte("b")).Level(0, 3, 1), pq.NullValue().Level(1, 2, 1), pq.ByteArrayValue([]byte("a")).Level(1, 3, 1),
			pq.Int32Value(2).Level(0, 2, 2), pq.Int32Value(3).Level(1, 2, 2), pq.Int32Value(1).Level(1, 2, 2)},
		{pq.Int64Value(2).Level(0, 0, 0), pq.NullValue().Level(0, 1, 1), pq.NullValue().Level(0, 1, 2)},
		{pq.Int64Value(3).Level(0, 0, 0), pq.NullValue().Level(0, 0, 1), pq.NullValue().Level(0, 0, 2)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cols := "id BIGINT\ns MULTISET<STRING>\n"
	out := filepath.Join(dir, "out")
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n'json.map-null-key.mode' = 'LITERAL'\n'json.map-null-key.literal' = 'NUL'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, dst, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	got := committed(t, out)
	slices.Sort(got)
	want := []string{`{"id":1,"s":{"NUL":3,"a":1,"b":2}}`, `{"id":2,"s":{}}`, `{"id":3,"s":null}`}
	if !slices.Equal(got, want) {
		t.Errorf("optional keys:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
