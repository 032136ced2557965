package connector_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// TestParquetMultisetNullElement writes MULTISETs holding a NULL element
// (at the top level and in an ARRAY) as Flink's ParquetSchemaConverter
// and MapWriter do: the key column has the element's nullability
// (OPTIONAL for a nullable element, REQUIRED for NOT NULL) and a NULL
// element is an absent key; its count is kept, so it reads back.
func TestParquetMultisetNullElement(t *testing.T) {
	dir := t.TempDir()
	pqDir := filepath.Join(dir, "pq")
	cols := "id BIGINT\nm MULTISET<STRING>\na ARRAY<MULTISET<INT>>\nn MULTISET<STRING NOT NULL>\n"
	ms := func(keys []row.Value, counts ...int64) row.Value {
		cs := make([]row.Value, len(counts))
		for i, c := range counts {
			cs[i] = row.Int(c)
		}
		return row.Map(keys, cs)
	}
	rows := []row.Row{
		{Fields: []row.Value{row.Int(1), ms([]row.Value{row.Null(), row.Str("a")}, 3, 1),
			row.Array([]row.Value{ms([]row.Value{row.Int(5), row.Null()}, 2, 7), row.Null()}), ms([]row.Value{row.Str("x")}, 1)}},
		{Fields: []row.Value{row.Int(2), ms([]row.Value{row.Null()}, 0), row.Array(nil), ms(nil)}},
	}
	sink, err := connector.Default().CreateSink(table(t, "pq", cols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	if _, err := sink.Consume(connector.BuildContext{Env: env, Prefix: "pq"}, weir.FromSlice(env, rows)); err != nil {
		t.Fatal(err)
	}
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	files := parquetFiles(t, pqDir)
	if len(files) != 1 {
		t.Fatalf("%d Parquet files, want 1", len(files))
	}
	schema := openParquet(t, files[0]).Schema().String()
	for _, want := range []string{
		"optional group m (MAP) {\n\t\trepeated group key_value {\n\t\t\toptional binary key (STRING);\n\t\t\trequired int32 value (INT(32,true));",
		"repeated group key_value {\n\t\t\t\t\toptional int32 key (INT(32,true));\n\t\t\t\t\trequired int32 value (INT(32,true));",
		"optional group n (MAP) {\n\t\trepeated group key_value {\n\t\t\trequired binary key (STRING);",
	} {
		if !strings.Contains(schema, want) {
			t.Errorf("the schema\n%s\nhas no\n%s", schema, want)
		}
	}
	src, err := connector.Default().CreateSource(table(t, "pq", cols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n"))
	if err != nil {
		t.Fatal(err)
	}
	env = weir.NewEnvironment(weir.Options{})
	st, err := src.Produce(connector.BuildContext{Env: env, Prefix: "back"})
	if err != nil {
		t.Fatal(err)
	}
	types := table(t, "pq", cols).Schema.Types()
	var got []string
	st.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error {
		got = append(got, row.FormatRow(r, types))
		return nil
	}))
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{"+I[1, {NULL=3, a=1}, [{NULL=7, 5=2}, NULL], {x=1}]", "+I[2, {NULL=0}, [], {}]"}
	if !slices.Equal(got, want) {
		t.Errorf("after Parquet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
