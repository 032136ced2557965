package connector_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

const multisetCols = `id INT NOT NULL
s MULTISET<STRING>
r ROW<m MULTISET<STRING> NOT NULL>
a ARRAY<MULTISET<STRING>>
`

// TestParquetMultiset writes MULTISET columns (top level, in a ROW, in an
// ARRAY) into Parquet and reads them back: Flink's layout (a MAP of the
// elements to their INT32 counts), NULL and empty multisets kept, counts
// kept as they are (0 and negative too), the entries read back in
// ascending element order whatever order they were written in.
func TestParquetMultiset(t *testing.T) {
	dir := t.TempDir()
	in, pqDir, back := filepath.Join(dir, "in"), filepath.Join(dir, "pq"), filepath.Join(dir, "back")
	writeFile(t, filepath.Join(in, "a.json"), `{"id":1,"s":{"b":2,"a":1},"r":{"m":{"x":0}},"a":[{"q":1,"p":3},null,{}]}
{"id":2,"s":null,"r":null,"a":null}
{"id":3,"s":{},"r":{"m":{}},"a":[]}
{"id":4,"s":{"c":-1},"r":{"m":{"z":7,"y":1,"x":2}},"a":[{"a":2147483647}]}
`)
	pqTable := table(t, "pq", multisetCols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), jsonTable(t, "src", multisetCols, in), pqTable, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	files := parquetFiles(t, pqDir)
	if len(files) != 1 {
		t.Fatalf("%d Parquet files, want 1", len(files))
	}
	schema := openParquet(t, files[0]).Schema().String()
	for _, want := range []string{`	optional group s (MAP) {
		repeated group key_value {
			optional binary key (STRING);
			required int32 value (INT(32,true));
		}
	}`, `	optional group r {
		required group m (MAP) {
			repeated group key_value {
				optional binary key (STRING);
				required int32 value (INT(32,true));
			}
		}
	}`} {
		if !strings.Contains(schema, want) {
			t.Errorf("the schema\n%s\nhas no\n%s", schema, want)
		}
	}
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), pqTable, jsonTable(t, "dst", multisetCols, back), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	got := committed(t, back)
	slices.Sort(got)
	want := []string{
		`{"id":1,"s":{"a":1,"b":2},"r":{"m":{"x":0}},"a":[{"p":3,"q":1},null,{}]}`,
		`{"id":2,"s":null,"r":null,"a":null}`,
		`{"id":3,"s":{},"r":{"m":{}},"a":[]}`,
		`{"id":4,"s":{"c":-1},"r":{"m":{"x":2,"y":1,"z":7}},"a":[{"a":2147483647}]}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("after Parquet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParquetMultisetForeignFile reads a MULTISET from a file another
// writer made (parquet-go's, from Go maps: entries in random order), and
// refuses a NULL count (the counts are INT NOT NULL) as a bad record and
// a MAP whose values are not INT32 counts.
func TestParquetMultisetForeignFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ID int64            `parquet:"id"`
		S  map[string]int32 `parquet:"s"`
	}
	rows := []rec{{1, map[string]int32{"e": 5, "a": 1, "d": 4, "b": 2, "c": 3, "f": 6}}, {2, map[string]int32{}}}
	if err := pq.WriteFile(filepath.Join(in, "a.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	copyTo := func(in, cols string) ([]string, error) {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, jsonTable(t, "dst", cols, out), connector.BuildContext{}); err != nil {
			return nil, err
		}
		got := committed(t, out)
		slices.Sort(got)
		return got, nil
	}
	got, err := copyTo(in, "id BIGINT\ns MULTISET<STRING>\n")
	want := []string{`{"id":1,"s":{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}}`, `{"id":2,"s":{}}`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("foreign file: %q, %v; want %q", got, err, want)
	}
	readAll := func(in, cols string) error {
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
		return runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, table(t, "dst", cols+"'connector' = 'blackhole'\n"), connector.BuildContext{})
	}
	if err := readAll(in, "id BIGINT\ns MULTISET<INT>\n"); err == nil || !strings.Contains(err.Error(), "column `s`.key: a Parquet BYTE_ARRAY (STRING) cannot be read as INT") {
		t.Errorf("MULTISET<INT> over string keys: %v", err)
	}
	// Counts of another type than INT32.
	in2 := filepath.Join(dir, "in2")
	if err := os.MkdirAll(in2, 0o755); err != nil {
		t.Fatal(err)
	}
	type recStr struct {
		ID int64             `parquet:"id"`
		S  map[string]string `parquet:"s"`
	}
	if err := pq.WriteFile(filepath.Join(in2, "a.parquet"), []recStr{{1, map[string]string{"a": "x"}}}); err != nil {
		t.Fatal(err)
	}
	if err := readAll(in2, "id BIGINT\ns MULTISET<STRING>\n"); err == nil || !strings.Contains(err.Error(), "column `s`.value: a Parquet BYTE_ARRAY (STRING) cannot be read as INT NOT NULL") {
		t.Errorf("string counts: %v", err)
	}
	// A NULL count: a bad record naming the row and the field.
	in3 := filepath.Join(dir, "in3")
	if err := os.MkdirAll(in3, 0o755); err != nil {
		t.Fatal(err)
	}
	// parquet-go's struct writer cannot write a NULL map value: the rows
	// are written as levels (columns: id, s.key_value.key,
	// s.key_value.value).
	f, err := os.Create(filepath.Join(in3, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewWriter(f, pq.NewSchema("m", pq.Group{"id": pq.Int(64), "s": pq.Optional(pq.Map(pq.String(), pq.Optional(pq.Int(32))))}))
	if _, err := w.WriteRows([]pq.Row{
		{pq.Int64Value(1).Level(0, 0, 0), pq.ByteArrayValue([]byte("a")).Level(0, 2, 1), pq.Int32Value(2).Level(0, 3, 2)},
		{pq.Int64Value(2).Level(0, 0, 0), pq.ByteArrayValue([]byte("a")).Level(0, 2, 1), pq.NullValue().Level(0, 2, 2)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = copyTo(in3, "id BIGINT\ns MULTISET<STRING>\n")
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || !strings.HasSuffix(bad.DeadLetter.Source, "a.parquet row 2") || bad.DeadLetter.Field != "s.value" {
		t.Errorf("NULL count: %v", err)
	}
}
