package connector_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// nestedCols are nested columns of every shape, over the scalar types the
// format maps.
const nestedCols = `id INT NOT NULL
tags ARRAY<STRING>
nums ARRAY<INT NOT NULL> NOT NULL
m MAP<STRING, ARRAY<BIGINT>>
r ROW<a TINYINT, b ARRAY<ROW<p DOUBLE, q TIMESTAMP(9), d DECIMAL(25, 4)>>, c MAP<STRING, ROW<n DATE, t TIME>> NOT NULL>
nn ARRAY<ARRAY<DECIMAL(5, 2)>>
`

const nestedJSON = `{"id":1,"tags":["a",null,"c"],"nums":[1,2],"m":{"x":[1,null],"y":null,"z":[]},"r":{"a":-128,"b":[{"p":1.5,"q":"2024-03-10 12:30:00.123456789","d":123456789012345678901.2345},null,{"p":null,"q":null,"d":null}],"c":{"7":{"n":"2024-02-29","t":"23:59:59.999"},"8":null}},"nn":[[1.25],[],null,[null,-999.99]]}
{"id":2,"tags":[],"nums":[],"m":{},"r":{"a":null,"b":[],"c":{}},"nn":[]}
{"id":3,"tags":null,"nums":[3],"m":null,"r":null,"nn":null}
{"id":4,"tags":[null],"nums":[-4,5,6],"m":{"w":[null]},"r":{"a":127,"b":null,"c":{"1":{"n":null,"t":null}}},"nn":[null]}
`

func jsonTable(t *testing.T, name, cols, path string) connector.Context {
	return table(t, name, cols+"'connector' = 'filesystem'\n'path' = '"+path+"'\n'format' = 'json'\n")
}

// TestParquetNestedRoundTrip writes nested JSON rows into Parquet and
// reads them back, in each timestamp encoding and at parallelism 1 and 3:
// the rows equal those of a JSON → JSON copy.
func TestParquetNestedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.json"), nestedJSON)
	writeFile(t, filepath.Join(in, "b.json"), strings.ReplaceAll(nestedJSON, `"id":`, `"id":1`))
	direct := filepath.Join(dir, "direct")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), jsonTable(t, "src", nestedCols, in), jsonTable(t, "dst", nestedCols, direct), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	want := committed(t, direct)
	slices.Sort(want)
	if len(want) != 8 {
		t.Fatalf("the JSON copy has %d rows: %q", len(want), want)
	}
	for _, c := range []struct {
		name, opts string
		par        int
	}{
		{"int96-local", "", 1},
		{"int96-utc", "'parquet.utc-timezone' = 'true'\n", 3},
		{"int64-nanos", "'parquet.write.int64.timestamp' = 'true'\n'parquet.timestamp.time.unit' = 'nanos'\n'parquet.compression' = 'ZSTD'\n", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			pqDir, back := filepath.Join(dir, c.name), filepath.Join(dir, c.name+"-json")
			pqTable := table(t, "pq", nestedCols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n"+c.opts)
			if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: c.par}), jsonTable(t, "src", nestedCols, in), pqTable, connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: c.par}), pqTable, jsonTable(t, "dst", nestedCols, back), connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			got := committed(t, back)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("after Parquet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func openParquet(t *testing.T, name string) *pq.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// TestParquetNestedSchema checks the layout of a file Weir writes with
// parquet-go's own schema printing and reader: Flink's
// ParquetSchemaConverter layout (3-level LIST with "list" and "element",
// MAP with "key_value", a required key and the value's nullability,
// groups with the ROW's fields in order; NOT NULL types required).
func TestParquetNestedSchema(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	writeFile(t, filepath.Join(in, "a.json"), nestedJSON)
	dst := table(t, "dst", nestedCols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n'parquet.utc-timezone' = 'true'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), jsonTable(t, "src", nestedCols, in), dst, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	files := parquetFiles(t, out)
	if len(files) != 1 {
		t.Fatalf("%d Parquet files, want 1", len(files))
	}
	pf := openParquet(t, files[0])
	got := pf.Schema().String()
	want := `message flink_schema {
	required int32 id (INT(32,true));
	optional group tags (LIST) {
		repeated group list {
			optional binary element (STRING);
		}
	}
	required group nums (LIST) {
		repeated group list {
			required int32 element (INT(32,true));
		}
	}
	optional group m (MAP) {
		repeated group key_value {
			required binary key (STRING);
			optional group value (LIST) {
				repeated group list {
					optional int64 element (INT(64,true));
				}
			}
		}
	}
	optional group r {
		optional int32 a (INT(8,true));
		optional group b (LIST) {
			repeated group list {
				optional group element {
					optional double p;
					optional int96 q;
					optional fixed_len_byte_array(11) d (DECIMAL(25,4));
				}
			}
		}
		required group c (MAP) {
			repeated group key_value {
				required binary key (STRING);
				optional group value {
					optional int32 n (DATE);
					optional int32 t (TIME(isAdjustedToUTC=true,unit=MILLIS));
				}
			}
		}
	}
	optional group nn (LIST) {
		repeated group list {
			optional group element (LIST) {
				repeated group list {
					optional int32 element (DECIMAL(5,2));
				}
			}
		}
	}
}`
	if got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
	// The values, read by parquet-go into Go values, independently of
	// Weir's reader (parquet-go reads a NULL element as its zero value;
	// it cannot reconstruct a map of lists holding NULLs, so m is left out).
	type elem struct {
		P *float64 `parquet:"p,optional"`
	}
	type rec struct {
		ID   int32    `parquet:"id"`
		Tags []string `parquet:"tags,optional,list"`
		Nums []int32  `parquet:"nums,list"`
		R    *struct {
			A *int32 `parquet:"a,optional"`
			B []elem `parquet:"b,optional,list"`
		} `parquet:"r,optional"`
	}
	rows := make([]rec, 4)
	if n, err := pq.NewGenericReader[rec](pf).Read(rows); n != 4 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	r0 := rows[0]
	if r0.ID != 1 || !slices.Equal(r0.Tags, []string{"a", "", "c"}) ||
		!slices.Equal(r0.Nums, []int32{1, 2}) ||
		r0.R == nil || *r0.R.A != -128 || len(r0.R.B) != 3 || *r0.R.B[0].P != 1.5 || r0.R.B[1].P != nil || r0.R.B[2].P != nil {
		t.Errorf("row 1 read by parquet-go: %+v", r0)
	}
	if r1 := rows[1]; len(r1.Tags) != 0 || len(r1.Nums) != 0 || r1.R == nil || r1.R.A != nil {
		t.Errorf("row 2 read by parquet-go: %+v", r1)
	}
	if r3 := rows[3]; !slices.Equal(r3.Nums, []int32{-4, 5, 6}) || !slices.Equal(r3.Tags, []string{""}) || *r3.R.A != 127 {
		t.Errorf("row 4 read by parquet-go: %+v", r3)
	}
}

// foreignItem and foreignRec are written by parquet-go's own writer: a
// slice without the list tag is a bare repeated field (a legacy 2-level
// list: required list of required elements), one with it the standard
// 3-level LIST, a Go map a MAP, a pointer to a struct an optional group.
type foreignItem struct {
	K string  `parquet:"k"`
	V *int64  `parquet:"v,optional"`
	W []int32 `parquet:"w"`
}

type foreignInner struct {
	Name string    `parquet:"name"`
	Vals []float64 `parquet:"vals,list"`
}

type foreignRec struct {
	ID    int64            `parquet:"id"`
	Raw   []int64          `parquet:"raw"`
	Tags  []string         `parquet:"tags,list"`
	Items []foreignItem    `parquet:"items"`
	Attrs map[string]int32 `parquet:"attrs"`
	Inner *foreignInner    `parquet:"inner,optional"`
	Extra []foreignInner   `parquet:"extra,list"`
}

// TestParquetNestedForeignFile reads a file written by parquet-go's
// generic writer (structs with slices, maps and nested structs, small row
// groups) and checks every value.
func TestParquetNestedForeignFile(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	var recs []foreignRec
	want := map[int64]string{}
	for i := range int64(300) {
		r := foreignRec{ID: i, Attrs: map[string]int32{}}
		var raw, tags, items, attrs, vals []string
		for k := range i % 4 {
			r.Raw = append(r.Raw, i*10+k)
			raw = append(raw, fmt.Sprint(i*10+k))
		}
		for k := range i % 3 {
			s := fmt.Sprintf("t%d", k)
			r.Tags = append(r.Tags, s)
			tags = append(tags, `"`+s+`"`)
		}
		for k := range i % 3 {
			it := foreignItem{K: fmt.Sprintf("k%d", k)}
			v := "null"
			if k%2 == 1 {
				x := i * int64(k)
				it.V, v = &x, fmt.Sprint(x)
			}
			var ws []string
			for w := range k {
				it.W = append(it.W, int32(w))
				ws = append(ws, fmt.Sprint(w))
			}
			r.Items = append(r.Items, it)
			items = append(items, fmt.Sprintf(`{"k":"k%d","v":%s,"w":[%s]}`, k, v, strings.Join(ws, ",")))
		}
		if i%5 == 1 {
			r.Attrs["a"] = int32(i)
			attrs = append(attrs, fmt.Sprintf(`"a":%d`, i))
		}
		inner := "null"
		if i%2 == 0 {
			r.Inner = &foreignInner{Name: fmt.Sprint("n", i)}
			for k := range i % 3 {
				r.Inner.Vals = append(r.Inner.Vals, float64(k)+0.5)
				vals = append(vals, fmt.Sprint(float64(k)+0.5))
			}
			inner = fmt.Sprintf(`{"name":"n%d","vals":[%s]}`, i, strings.Join(vals, ","))
		}
		r.Extra = []foreignInner{{Name: "e"}}
		recs = append(recs, r)
		want[i] = fmt.Sprintf(`{"id":%d,"raw":[%s],"tags":[%s],"items":[%s],"attrs":{%s},"inner":%s,"extra":[{"name":"e","vals":[]}]}`,
			i, strings.Join(raw, ","), strings.Join(tags, ","), strings.Join(items, ","), strings.Join(attrs, ","), inner)
	}
	f, err := os.Create(filepath.Join(in, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewGenericWriter[foreignRec](f, pq.MaxRowsPerRowGroup(17), pq.PageBufferSize(256))
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cols := "id BIGINT NOT NULL\nraw ARRAY<BIGINT>\ntags ARRAY<STRING>\nitems ARRAY<ROW<k STRING, v BIGINT, w ARRAY<INT>>>\nattrs MAP<STRING, INT>\ninner ROW<name STRING, vals ARRAY<DOUBLE>>\nextra ARRAY<ROW<name STRING, vals ARRAY<DOUBLE>>>\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, jsonTable(t, "dst", cols, out), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	got := committed(t, out)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for _, l := range got {
		var id int64
		fmt.Sscanf(l, `{"id":%d,`, &id)
		if w := want[id]; l != w {
			t.Errorf("row %d:\n%s\nwant\n%s", id, l, w)
		}
		delete(want, id)
	}
}

// legacyList is a LIST-annotated group of any shape (parquet-go's List
// only makes the standard 3-level one).
type legacyList struct{ pq.Group }

func (legacyList) Type() pq.Type { return pq.List(pq.Leaf(pq.Int32Type)).Type() }

// TestParquetNestedLegacyLists reads the LIST forms of the Parquet spec's
// backward-compatibility rules: a repeated primitive, a one-field group
// named "array" or "<list>_tuple" (the group is the element), and a
// one-field group of another name (3-level: its field is the element).
func TestParquetNestedLegacyLists(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	sch := pq.NewSchema("m", pq.Group{
		"id": pq.Required(pq.Int(32)),
		"a":  pq.Optional(legacyList{pq.Group{"array": pq.Repeated(pq.Int(32))}}),
		"b":  pq.Optional(legacyList{pq.Group{"array": pq.Repeated(pq.Group{"s": pq.Required(pq.String())})}}),
		"c":  pq.Optional(legacyList{pq.Group{"c_tuple": pq.Repeated(pq.Group{"x": pq.Required(pq.Int(32))})}}),
		"d":  pq.Optional(legacyList{pq.Group{"bag": pq.Repeated(pq.Group{"y": pq.Optional(pq.Int(32))})}}),
	})
	for _, s := range []string{"optional group a (LIST) {\n\t\trepeated int32 array", "repeated group c_tuple", "repeated group bag {\n\t\t\toptional int32 y"} {
		if !strings.Contains(sch.String(), s) {
			t.Fatalf("the test's schema lacks %q:\n%s", s, sch)
		}
	}
	// Columns in name order: a, b.array.s, c.c_tuple.x, d.bag.y, id.
	i32 := func(x int32, r, d, c int) pq.Value { return pq.Int32Value(x).Level(r, d, c) }
	null := func(r, d, c int) pq.Value { return pq.NullValue().Level(r, d, c) }
	rows := []pq.Row{
		{i32(1, 0, 2, 0), i32(2, 1, 2, 0), pq.ByteArrayValue([]byte("x")).Level(0, 2, 1), i32(5, 0, 2, 2), i32(6, 1, 2, 2), i32(7, 0, 3, 3), null(1, 2, 3), i32(1, 0, 0, 4)},
		{null(0, 0, 0), null(0, 1, 1), null(0, 0, 2), null(0, 1, 3), i32(2, 0, 0, 4)},
	}
	f, err := os.Create(filepath.Join(in, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewWriter(f, sch)
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cols := "id INT\na ARRAY<INT NOT NULL>\nb ARRAY<ROW<s STRING>>\nc ARRAY<ROW<x INT>>\nd ARRAY<INT>\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, jsonTable(t, "dst", cols, out), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"id":1,"a":[1,2],"b":[{"s":"x"}],"c":[{"x":5},{"x":6}],"d":[7,null]}`,
		`{"id":2,"a":null,"b":[],"c":null,"d":[]}`,
	}
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParquetNestedRestore copies Parquet files with nested columns to
// Parquet through a job that fails once in each run after some output is
// committed and is restored from its latest checkpoint at another
// parallelism (one row per poll, so checkpoints fall inside files and
// inside row groups): every row is written once with its own nested
// values.
func TestParquetNestedRestore(t *testing.T) {
	dir := t.TempDir()
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	type kv struct {
		K string  `parquet:"k"`
		N []int64 `parquet:"n,list"`
	}
	type rec struct {
		ID   int64            `parquet:"id"`
		Tags []string         `parquet:"tags,list"`
		Sub  *kv              `parquet:"sub,optional"`
		M    map[string]int64 `parquet:"m"`
	}
	mk := func(id int64) rec {
		r := rec{ID: id, M: map[string]int64{}}
		for k := range id % 4 {
			r.Tags = append(r.Tags, fmt.Sprint(id, "-", k))
		}
		if id%3 != 0 {
			r.Sub = &kv{K: fmt.Sprint("k", id)}
			for k := range id % 5 {
				r.Sub.N = append(r.Sub.N, id+k)
			}
		}
		if id%2 == 0 {
			r.M[fmt.Sprint("m", id)] = -id
		}
		return r
	}
	const files, perFile = 3, 15000
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		var rows []rec
		for i := range perFile {
			rows = append(rows, mk(int64(f*perFile+i)))
		}
		if err := pq.WriteFile(filepath.Join(in, fmt.Sprintf("f%d.parquet", f)), rows, pq.MaxRowsPerRowGroup(1001)); err != nil {
			t.Fatal(err)
		}
	}
	cols := "id BIGINT NOT NULL\ntags ARRAY<STRING>\nsub ROW<k STRING, n ARRAY<BIGINT>>\nm MAP<STRING, BIGINT>\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n")
	fails := 0
	for i, p := range []int{2, 1, 3} {
		err := runFailingParquetJob(t, src, dst, out, chk, p, int64(4000+3000*i))
		if err == nil {
			break
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
		fails++
	}
	if err := runFailingParquetJob(t, src, dst, out, chk, 2, 0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	if fails == 0 {
		t.Fatal("no run failed: the test restored nothing")
	}
	count := map[int64]int{}
	for _, name := range parquetFiles(t, out) {
		rows, err := pq.ReadFile[rec](name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			w := mk(r.ID)
			if !slices.Equal(r.Tags, w.Tags) || (r.Sub == nil) != (w.Sub == nil) ||
				r.Sub != nil && (r.Sub.K != w.Sub.K || !slices.Equal(r.Sub.N, w.Sub.N)) ||
				len(r.M) != len(w.M) || r.M[fmt.Sprint("m", r.ID)] != w.M[fmt.Sprint("m", r.ID)] {
				t.Fatalf("row %d is %+v, want %+v", r.ID, r, w)
			}
			count[r.ID]++
		}
	}
	for id := range int64(files * perFile) {
		if count[id] != 1 {
			t.Errorf("row %d written %d times", id, count[id])
		}
	}
	t.Logf("%d failures and restores", fails)
}

// TestParquetNestedBadInput: a nested column whose Parquet shape or type
// cannot be read as the table's fails the job naming file and column
// path; a nested value out of range or NULL where the type is NOT NULL is
// a bad record naming file, row and field (a dead letter with a
// dead-letter output).
func TestParquetNestedBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	type item struct {
		P int64 `parquet:"p"`
	}
	type rec struct {
		ID    int64    `parquet:"id"`
		Items []item   `parquet:"items,list"`
		Tags  []string `parquet:"tags,list"`
		Sub   *item    `parquet:"sub,optional"`
	}
	rows := []rec{{1, []item{{1}}, []string{"a"}, &item{1}}, {2, []item{{2}, {300}}, nil, nil}, {3, nil, []string{"c"}, &item{3}}}
	if err := pq.WriteFile(filepath.Join(in, "a.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	copyTo := func(cols string, b connector.BuildContext) ([]string, error) {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, jsonTable(t, "dst", cols, out), b); err != nil {
			return nil, err
		}
		return committed(t, out), nil
	}
	for _, c := range []struct{ cols, want string }{
		{"id BIGINT\nitems ARRAY<ROW<p STRING>>\n", "a.parquet: column `items`.element.`p`: a Parquet INT64 (INT(64,true)) cannot be read as STRING"},
		{"id BIGINT\nitems ARRAY<BIGINT>\n", "a.parquet: column `items`.element: a Parquet group cannot be read as BIGINT"},
		{"id BIGINT\nitems MAP<STRING, BIGINT>\n", "a.parquet: column `items`: a Parquet LIST group cannot be read as MAP<STRING, BIGINT>"},
		{"id BIGINT\ntags ROW<a STRING>\n", "a.parquet: column `tags`: a Parquet LIST group cannot be read as ROW<`a` STRING>"},
		{"id ARRAY<BIGINT>\n", "a.parquet: column `id`: a Parquet INT64 (INT(64,true)) cannot be read as ARRAY<BIGINT>"},
	} {
		_, err := copyTo(c.cols, connector.BuildContext{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.cols, err, c.want)
		}
	}
	// A missing nested field reads as NULL, an absent list as NULL.
	got, err := copyTo("id BIGINT\nitems ARRAY<ROW<p BIGINT, q STRING>>\ntags ARRAY<STRING>\n", connector.BuildContext{})
	want := []string{`{"id":1,"items":[{"p":1,"q":null}],"tags":["a"]}`, `{"id":2,"items":[{"p":2,"q":null},{"p":300,"q":null}],"tags":[]}`, `{"id":3,"items":[],"tags":["c"]}`}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("missing field: %q, %v", got, err)
	}
	// Out of range in an element: a bad record naming row and field.
	_, err = copyTo("id BIGINT\nitems ARRAY<ROW<p TINYINT>>\n", connector.BuildContext{})
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || !strings.HasSuffix(bad.DeadLetter.Source, "a.parquet row 2") || bad.DeadLetter.Field != "items.element.p" ||
		!strings.Contains(bad.DeadLetter.Reason, "element 2 of `items`: value 300 out of the range of TINYINT") {
		t.Errorf("out of range: %v", err)
	}
	// NULL in a NOT NULL element: a bad record.
	_, err = copyTo("id BIGINT\nsub ROW<p BIGINT> NOT NULL\n", connector.BuildContext{})
	if !errors.As(err, &bad) || !strings.HasSuffix(bad.DeadLetter.Source, "a.parquet row 2") || bad.DeadLetter.Field != "sub" {
		t.Errorf("NULL in NOT NULL: %v", err)
	}
}
