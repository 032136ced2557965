package connector_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/sql/connector"
)

// parquetCols covers every type the parquet format maps, nullable and not.
const parquetCols = `b BOOLEAN
t TINYINT
s SMALLINT
i INT NOT NULL
l BIGINT
f FLOAT
d DOUBLE
d5 DECIMAL(5, 2)
d15 DECIMAL(15, 3)
d25 DECIMAL(25, 4)
str STRING
bin BYTES
dt DATE
tm TIME
ts TIMESTAMP(9)
ltz TIMESTAMP_LTZ(3)
`

// parquetJSON is the input; its second and third rows hold NULLs and
// negative and pre-epoch values.
const parquetJSON = `{"b":true,"t":-128,"s":32767,"i":1,"l":9007199254740993,"f":1.5,"d":-2.25,"d5":123.45,"d15":-123456789012.345,"d25":123456789012345678901.2345,"str":"héllo, \"w\"","bin":"AAEC/w==","dt":"2024-02-29","tm":"23:59:59.999","ts":"2024-03-10 12:30:00.123456789","ltz":"2024-01-01 00:00:00.001Z"}
{"b":null,"t":null,"s":null,"i":2,"l":null,"f":null,"d":null,"d5":null,"d15":null,"d25":null,"str":null,"bin":null,"dt":null,"tm":null,"ts":null,"ltz":null}
{"b":false,"t":127,"s":-32768,"i":-3,"l":-1,"f":-0.0,"d":1e300,"d5":-999.99,"d15":0.001,"d25":-99999999999999999999.9999,"str":"","bin":"","dt":"1969-12-31","tm":"00:00:00","ts":"1969-12-31 23:59:59.999999999","ltz":"1900-01-01 12:00:00Z"}
`

// TestFilesystemParquetRoundTrip writes JSON rows into Parquet through the
// exactly-once sink, reads the Parquet files back with the parquet source
// and writes JSON again: the rows must equal those of a JSON → JSON copy,
// for each timestamp encoding (INT96 with the local or the UTC zone, INT64
// in each unit) and at parallelism 1 and 3.
func TestFilesystemParquetRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.json"), parquetJSON)
	jsonTable := func(name, path string) connector.Context {
		return table(t, name, parquetCols+"'connector' = 'filesystem'\n'path' = '"+path+"'\n'format' = 'json'\n")
	}
	direct := filepath.Join(dir, "direct")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), jsonTable("src", in), jsonTable("dst", direct), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	want := committed(t, direct)
	if len(want) != 3 {
		t.Fatalf("the JSON copy has %d rows: %q", len(want), want)
	}
	for _, c := range []struct {
		name, opts string
		par        int
		micros     bool // timestamps keep microseconds
	}{
		{"int96-local", "", 1, false},
		{"int96-utc", "'parquet.utc-timezone' = 'true'\n", 3, false},
		{"int64-nanos", "'parquet.write.int64.timestamp' = 'true'\n'parquet.timestamp.time.unit' = 'nanos'\n", 1, false},
		{"int64-micros-gzip", "'parquet.write.int64.timestamp' = 'true'\n'parquet.compression' = 'GZIP'\n", 3, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pqDir, back := filepath.Join(dir, c.name), filepath.Join(dir, c.name+"-json")
			pqTable := func(name string) connector.Context {
				return table(t, name, parquetCols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n"+c.opts)
			}
			env := weir.NewEnvironment(weir.Options{Parallelism: c.par})
			if err := runJob(t, connector.Default(), env, jsonTable("src", in), pqTable("pq"), connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			env = weir.NewEnvironment(weir.Options{Parallelism: c.par})
			if err := runJob(t, connector.Default(), env, pqTable("pq"), jsonTable("dst", back), connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			want := want
			if c.micros {
				r := strings.NewReplacer(".123456789", ".123456", ".999999999", ".999999")
				want = slices.Clone(want)
				for i := range want {
					want[i] = r.Replace(want[i])
				}
			}
			if got := committed(t, back); !slices.Equal(got, want) {
				t.Errorf("after Parquet:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	// INT64 in milliseconds loses the sub-millisecond part, as in Flink.
	t.Run("int64-millis", func(t *testing.T) {
		pqDir, back := filepath.Join(dir, "millis"), filepath.Join(dir, "millis-json")
		pqTable := table(t, "pq", parquetCols+"'connector' = 'filesystem'\n'path' = '"+pqDir+"'\n'format' = 'parquet'\n'parquet.write.int64.timestamp' = 'true'\n'parquet.timestamp.time.unit' = 'millis'\n")
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), jsonTable("src", in), pqTable, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), pqTable, jsonTable("dst", back), connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(committed(t, back), "\n")
		for _, s := range []string{`"ts":"2024-03-10 12:30:00.123"`, `"ts":"1969-12-31 23:59:59.999"`} {
			if !strings.Contains(got, s) {
				t.Errorf("%s missing from\n%s", s, got)
			}
		}
	})
}

// hasParquetFiles reports whether a committed Parquet file is under dir
// (false when dir does not exist yet). Jobs call it from their operators,
// where a test must not fail.
func hasParquetFiles(dir string) bool {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".parquet") && !strings.HasPrefix(e.Name(), ".") {
			return true
		}
	}
	return false
}

// parquetFiles returns the committed Parquet files under dir.
func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".parquet") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// TestFilesystemParquetSchema checks the written file with parquet-go's
// own reader, independently of Weir's: the columns in the table's order
// with Flink's physical and logical types, and the values (INT96 as Hive
// encodes it: nanoseconds of the day, then the Julian day).
func TestFilesystemParquetSchema(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	writeFile(t, filepath.Join(in, "a.json"), parquetJSON)
	src := table(t, "src", parquetCols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'json'\n")
	dst := table(t, "dst", parquetCols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n'parquet.utc-timezone' = 'true'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, dst, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	files := parquetFiles(t, out)
	if len(files) != 1 {
		t.Fatalf("%d Parquet files, want 1", len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fl := range pf.Schema().Fields() {
		ty := fl.Type().Kind().String()
		if lt := fl.Type().LogicalType(); lt != nil {
			ty += " " + lt.String()
		}
		if fl.Type().Kind() == pq.FixedLenByteArray {
			ty += fmt.Sprintf(" len %d", fl.Type().Length())
		}
		rep := "optional"
		if fl.Required() {
			rep = "required"
		}
		got = append(got, rep+" "+fl.Name()+": "+ty)
	}
	want := []string{
		"optional b: BOOLEAN",
		"optional t: INT32 INT(8,true)",
		"optional s: INT32 INT(16,true)",
		"required i: INT32 INT(32,true)",
		"optional l: INT64 INT(64,true)",
		"optional f: FLOAT",
		"optional d: DOUBLE",
		"optional d5: INT32 DECIMAL(5,2)",
		"optional d15: INT64 DECIMAL(15,3)",
		"optional d25: FIXED_LEN_BYTE_ARRAY DECIMAL(25,4) len 11",
		"optional str: BYTE_ARRAY STRING",
		"optional bin: BYTE_ARRAY",
		"optional dt: INT32 DATE",
		"optional tm: INT32 TIME(isAdjustedToUTC=true,unit=MILLIS)",
		"optional ts: INT96",
		"optional ltz: INT96",
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The values of the first row, read by parquet-go into a struct.
	type rec struct {
		B   *bool             `parquet:"b,optional"`
		T   *int32            `parquet:"t,optional"`
		I   int32             `parquet:"i"`
		L   *int64            `parquet:"l,optional"`
		D5  *int32            `parquet:"d5,optional"`
		Str *string           `parquet:"str,optional"`
		Dt  *int32            `parquet:"dt,optional"`
		Tm  *int32            `parquet:"tm,optional"`
		Ts  *deprecated.Int96 `parquet:"ts,optional"`
		Ltz *deprecated.Int96 `parquet:"ltz,optional"`
	}
	rd := pq.NewGenericReader[rec](pf)
	rows := make([]rec, 3)
	n, err := rd.Read(rows)
	if err != nil && !errors.Is(err, io.EOF) || n != 3 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	r := rows[0]
	if *r.B != true || *r.T != -128 || r.I != 1 || *r.L != 9007199254740993 || *r.D5 != 12345 || *r.Str != `héllo, "w"` {
		t.Errorf("row 1: %+v", r)
	}
	if *r.Dt != int32(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC).Unix()/86400) || *r.Tm != 86399000 {
		t.Errorf("row 1 date/time: %d %d", *r.Dt, *r.Tm)
	}
	// 2024-03-10 12:30:00.123456789 UTC: Julian day 2460380, 45000.123456789 s.
	if ts := *r.Ts; ts[2] != 2460380 || int64(uint64(ts[0])|uint64(ts[1])<<32) != 45000_123_456_789 {
		t.Errorf("row 1 ts INT96 %v", ts)
	}
	if rows[1].B != nil || rows[1].I != 2 || rows[1].Ts != nil {
		t.Errorf("row 2: %+v", rows[1])
	}
	// 1969-12-31 23:59:59.999999999: day -1 (Julian 2440587), the day's last nanosecond.
	if ts := *rows[2].Ts; ts[2] != 2440587 || int64(uint64(ts[0])|uint64(ts[1])<<32) != 86_399_999_999_999 {
		t.Errorf("row 3 ts INT96 %v", ts)
	}
}

// TestParquetLocalZone: with 'parquet.utc-timezone' false a TIMESTAMP is
// written as the instant of its wall-clock time in the local zone, as
// java.sql.Timestamp.valueOf reads it in Flink: in New York 2024-03-10
// 02:30 does not exist (clocks jump from 02:00 to 03:00) and is read as
// 03:30 EDT, 07:30 UTC.
func TestParquetLocalZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	wall := func(s string) int64 {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for _, c := range []struct{ wall, utc string }{
		{"2024-03-10 01:30", "2024-03-10 06:30"}, // EST
		{"2024-03-10 02:30", "2024-03-10 07:30"}, // in the gap
		{"2024-03-10 03:30", "2024-03-10 07:30"}, // EDT
		{"2024-07-01 12:00", "2024-07-01 16:00"},
		{"1969-12-31 23:00", "1970-01-01 04:00"},
	} {
		if got := connector.LocalToInstant(wall(c.wall), ny); got != wall(c.utc) {
			t.Errorf("%s local: instant %s, want %s UTC", c.wall, time.UnixMilli(got).UTC().Format("2006-01-02 15:04"), c.utc)
		}
	}
}

var errInjected = errors.New("injected failure")

// TestFilesystemParquetRestore copies Parquet files to Parquet through a
// job that fails once in each run after some output is committed, and is
// restored from its latest checkpoint at another parallelism each time
// (reading one row per poll, so checkpoints fall inside files): the output
// holds every input row exactly once.
func TestFilesystemParquetRestore(t *testing.T) {
	dir := t.TempDir()
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	type rec struct {
		ID  int64  `parquet:"id"`
		Tag string `parquet:"tag,optional"`
	}
	const files, perFile = 4, 25000
	for f := range files {
		var rows []rec
		for i := range perFile {
			id := int64(f*perFile + i)
			rows = append(rows, rec{ID: id, Tag: fmt.Sprintf("t%d", id%13)})
		}
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := pq.WriteFile(filepath.Join(in, fmt.Sprintf("f%d.parquet", f)), rows); err != nil {
			t.Fatal(err)
		}
	}
	cols := "id BIGINT NOT NULL\ntag STRING\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n")
	run := func(p int, failAfter int64) error {
		return runFailingJob(t, src, dst, chk, p, failAfter, func() bool { return hasParquetFiles(out) })
	}
	fails := 0
	for i, p := range []int{2, 1, 3} {
		err := run(p, int64(5000+2500*i))
		if err == nil {
			break
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
		fails++
	}
	if err := run(2, 0); err != nil {
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
			if r.Tag != fmt.Sprintf("t%d", r.ID%13) {
				t.Fatalf("row %d has tag %q", r.ID, r.Tag)
			}
			count[r.ID]++
		}
	}
	for id := range int64(files * perFile) {
		if count[id] != 1 {
			t.Errorf("row %d written %d times", id, count[id])
		}
	}
	if len(count) != files*perFile {
		t.Errorf("%d distinct rows, want %d", len(count), files*perFile)
	}
	t.Logf("%d failures and restores", fails)
}

// TestFilesystemParquetBadInput: a file that is not Parquet fails the job
// naming it; a column whose Parquet type cannot be read as the table's
// fails naming file and column; a value out of the column's range is a bad
// record naming row and field (a dead letter with a dead-letter output); a
// column the file lacks reads as NULL.
func TestFilesystemParquetBadInput(t *testing.T) {
	dir := t.TempDir()
	type rec struct {
		ID  int64  `parquet:"id"`
		Tag string `parquet:"tag"`
	}
	good := filepath.Join(dir, "good")
	if err := os.MkdirAll(good, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pq.WriteFile(filepath.Join(good, "a.parquet"), []rec{{1, "x"}, {1000, "y"}, {3, "z"}}); err != nil {
		t.Fatal(err)
	}
	copyTo := func(spec, in string, b connector.BuildContext) ([]string, error) {
		out := filepath.Join(t.TempDir(), "out")
		src := table(t, "src", spec+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
		dst := table(t, "dst", spec+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n")
		err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, dst, b)
		if err != nil {
			return nil, err
		}
		return committed(t, out), nil
	}
	// Missing column: NULL; ID matched ignoring case.
	got, err := copyTo("ID BIGINT\ntag STRING\nmissing INT\n", good, connector.BuildContext{})
	if err != nil || !slices.Equal(got, []string{"1,x,", "1000,y,", "3,z,"}) {
		t.Errorf("missing column: %q, %v", got, err)
	}
	// Type mismatch.
	_, err = copyTo("id BIGINT\ntag INT\n", good, connector.BuildContext{})
	if err == nil || !strings.Contains(err.Error(), "a.parquet: column `tag`: a Parquet BYTE_ARRAY (STRING) cannot be read as INT") {
		t.Errorf("type mismatch: %v", err)
	}
	// Out of range: fails naming row and field.
	_, err = copyTo("id TINYINT\ntag STRING\n", good, connector.BuildContext{})
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || !strings.HasSuffix(bad.DeadLetter.Source, "a.parquet row 2") || bad.DeadLetter.Field != "id" {
		t.Errorf("out of range: %v", err)
	}
	// Not Parquet.
	notPq := filepath.Join(dir, "bad")
	writeFile(t, filepath.Join(notPq, "x.parquet"), "this is not parquet\n")
	_, err = copyTo("id BIGINT\n", notPq, connector.BuildContext{})
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "x.parquet") || !strings.Contains(err.Error(), "not a readable Parquet file") {
		t.Errorf("not parquet: %v", err)
	}
}
