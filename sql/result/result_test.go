package result

import (
	"bytes"
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
)

func rw(k row.Kind, name string, cnt int64) row.Row {
	return row.Row{Kind: k, Fields: []row.Value{row.Str(name), row.Int(cnt)}}
}

var schema = row.NewSchema(row.Col("name", row.String()), row.Col("cnt", row.BigInt().NotNull()))

// The changelog of Flink's SQL client documentation example
// (SELECT name, COUNT(*) AS cnt FROM (VALUES ('Bob'), ('Alice'), ('Greg'),
// ('Bob')) AS NameTable(name) GROUP BY name) and its tableau output.
var docChangelog = []row.Row{
	rw(row.Insert, "Bob", 1), rw(row.Insert, "Alice", 1), rw(row.Insert, "Greg", 1),
	rw(row.UpdateBefore, "Bob", 1), rw(row.UpdateAfter, "Bob", 2),
}

func TestStreamingTableauMatchesFlinkDocs(t *testing.T) {
	want := `+----+--------------------------------+----------------------+
| op |                           name |                  cnt |
+----+--------------------------------+----------------------+
| +I |                            Bob |                    1 |
| +I |                          Alice |                    1 |
| +I |                           Greg |                    1 |
| -U |                            Bob |                    1 |
| +U |                            Bob |                    2 |
+----+--------------------------------+----------------------+
Received a total of 5 rows
`
	var b bytes.Buffer
	tab := NewStreamingTableau(&b, schema)
	if err := tab.Header(); err != nil {
		t.Fatal(err)
	}
	for _, r := range docChangelog {
		if err := tab.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Footer(); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestBatchTableau(t *testing.T) {
	var b bytes.Buffer
	rows := []row.Row{rw(row.Insert, "Alice", 1), {Fields: []row.Value{row.Null(), row.Int(2)}}}
	if err := PrintTableau(&b, schema, rows); err != nil {
		t.Fatal(err)
	}
	want := `+--------+-----+
|   name | cnt |
+--------+-----+
|  Alice |   1 |
| <NULL> |   2 |
+--------+-----+
2 rows in set
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTableRetract(t *testing.T) {
	tab := NewTable(schema.Types(), nil)
	for _, r := range docChangelog {
		if err := tab.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	want := "+I[Alice, 1]\n+I[Bob, 2]\n+I[Greg, 1]"
	if got := tab.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	err := tab.Apply(rw(row.Delete, "Bob", 1))
	if err == nil || !strings.Contains(err.Error(), "-D[Bob, 1] retracts a row the table does not hold") {
		t.Errorf("retracting an absent row: %v", err)
	}
	// Duplicates are kept and removed one at a time.
	tab.Apply(rw(row.Insert, "Greg", 1))
	tab.Apply(rw(row.Delete, "Greg", 1))
	if tab.Len() != 3 {
		t.Errorf("len %d, want 3", tab.Len())
	}
}

func TestTableUpsert(t *testing.T) {
	tab := NewTable(schema.Types(), []int{0})
	for _, r := range []row.Row{rw(row.Insert, "Bob", 1), rw(row.UpdateAfter, "Bob", 2),
		rw(row.Insert, "Ann", 5), rw(row.Delete, "Ann", 5)} {
		if err := tab.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := tab.String(); got != "+I[Bob, 2]" {
		t.Errorf("got %q", got)
	}
	if err := tab.Apply(rw(row.Delete, "Zed", 1)); err == nil {
		t.Error("deleting an absent key should fail")
	}
	// An update that changes the key: -U removes the old key's row.
	for _, r := range []row.Row{rw(row.UpdateBefore, "Bob", 2), rw(row.UpdateAfter, "Bea", 2)} {
		if err := tab.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := tab.String(); got != "+I[Bea, 2]" {
		t.Errorf("after a key change got %q", got)
	}
}
