package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// reviewExtra is a nested group the table does not declare.
type reviewExtra struct {
	A int32  `parquet:"a"`
	B string `parquet:"b,optional"`
}

// reviewRec is written by parquet-go's GenericWriter, independently of
// Weir's writer: repeated and nested columns the table lacks placed before
// the table's, the table's columns in another order, dictionary encoding,
// decimals as INT32, INT64 and FIXED_LEN_BYTE_ARRAY, an annotated INT64
// timestamp and a narrower integer.
type reviewRec struct {
	Tags  []string     `parquet:"tags,list"`
	Raw   []int64      `parquet:"raw"`
	Name  *string      `parquet:"name,optional,dict"`
	Extra *reviewExtra `parquet:"extra,optional"`
	N     int32        `parquet:"n,dict"`
	D1    int32        `parquet:"d1,decimal(2:9)"`
	D2    int64        `parquet:"d2,decimal(3:18)"`
	D3    [9]byte      `parquet:"d3,decimal(4:20)"`
	D4    int32        `parquet:"d4,decimal(1:5)"`
	TS    int64        `parquet:"ts,timestamp(microsecond:utc)"`
	ID    int64        `parquet:"ID"`
}

func reviewDec(u *big.Int, scale int) string {
	neg := u.Sign() < 0
	s := new(big.Int).Abs(u).String()
	for len(s) <= scale {
		s = "0" + s
	}
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func reviewFixed(u *big.Int, n int) [9]byte {
	var out [9]byte
	m := new(big.Int).Set(u)
	if m.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	m.FillBytes(out[:])
	return out
}

func reviewRecs(n int) ([]reviewRec, []map[string]string) {
	var recs []reviewRec
	var want []map[string]string
	base := time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)
	for i := range n {
		r := reviewRec{ID: int64(i), N: int32(i%300 - 150)}
		for k := range i % 4 {
			r.Tags = append(r.Tags, fmt.Sprintf("t%d", k))
		}
		for k := range i % 3 {
			r.Raw = append(r.Raw, int64(k))
		}
		w := map[string]string{"id": fmt.Sprint(i), "n": fmt.Sprint(r.N)}
		if i%5 != 0 {
			s := fmt.Sprintf("name-%d", i%7)
			r.Name = &s
			w["name"] = s
		} else {
			w["name"] = "<nil>"
		}
		if i%2 == 0 {
			r.Extra = &reviewExtra{A: int32(i)}
		}
		sign := int64(1)
		if i%3 == 0 {
			sign = -1
		}
		r.D1 = int32(sign * int64(i*7919%100000000))
		w["d1"] = reviewDec(big.NewInt(int64(r.D1)), 2)
		r.D2 = sign * int64(i) * 1_000_000_007
		w["d2"] = reviewDec(big.NewInt(r.D2), 3)
		u3 := new(big.Int).Mul(big.NewInt(sign*int64(i+1)), new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil))
		u3.Add(u3, big.NewInt(int64(i)))
		r.D3 = reviewFixed(u3, 9)
		w["d3"] = reviewDec(u3, 4)
		r.D4 = int32(sign * int64(i%10000))
		// DECIMAL(5,1) read as DECIMAL(10,2): one more zero.
		w["d4"] = reviewDec(new(big.Int).Mul(big.NewInt(int64(r.D4)), big.NewInt(10)), 2)
		ts := base.Add(time.Duration(i) * 1234567 * time.Microsecond)
		r.TS = ts.UnixMicro()
		w["ts"] = ts.Format("2006-01-02 15:04:05.999999")
		recs = append(recs, r)
		want = append(want, w)
	}
	return recs, want
}

// TestParquetReviewForeignFile reads a file written by parquet-go's
// GenericWriter (many row groups, repeated and nested columns the table
// does not declare before the ones it does) and checks every value.
func TestParquetReviewForeignFile(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	recs, want := reviewRecs(500)
	f, err := os.Create(filepath.Join(in, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w := pq.NewGenericWriter[reviewRec](f, pq.MaxRowsPerRowGroup(37), pq.PageBufferSize(512))
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// An empty file (0 rows) of the same schema reads as nothing.
	f, err = os.Create(filepath.Join(in, "b.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w = pq.NewGenericWriter[reviewRec](f)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cols := "id BIGINT NOT NULL\nname STRING\nd1 DECIMAL(9, 2)\nd2 DECIMAL(18, 3)\nd3 DECIMAL(20, 4)\nd4 DECIMAL(10, 2)\nts TIMESTAMP(6)\nn INT\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n'parquet.utc-timezone' = 'true'\n")
	for _, p := range []int{1, 2} {
		t.Run(fmt.Sprint("p", p), func(t *testing.T) {
			o := filepath.Join(out, fmt.Sprint(p))
			dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+o+"'\n'format' = 'json'\n")
			if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{Parallelism: p}), src, dst, connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			got := committed(t, o)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			seen := map[string]bool{}
			for _, l := range got {
				d := json.NewDecoder(strings.NewReader(l))
				d.UseNumber()
				var m map[string]any
				if err := d.Decode(&m); err != nil {
					t.Fatal(err)
				}
				id := fmt.Sprint(m["id"])
				var i int
				fmt.Sscan(id, &i)
				if i < 0 || i >= len(want) || seen[id] {
					t.Fatalf("row %s: bad or repeated id", l)
				}
				seen[id] = true
				for k, v := range want[i] {
					if g := fmt.Sprint(m[k]); g != v {
						t.Errorf("row %d column %s = %s, want %s (%s)", i, k, g, v, l)
					}
				}
			}
		})
	}
}

// TestParquetReviewRestoreRowGroups fails and restores a job reading
// files of many small row groups with a repeated column before the
// table's: a restore seeks inside a file across row groups, and every row
// is written once with its own values.
func TestParquetReviewRestoreRowGroups(t *testing.T) {
	dir := t.TempDir()
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	type inRec struct {
		Tags []string `parquet:"tags,list"`
		ID   int64    `parquet:"id"`
		Tag  *string  `parquet:"tag,optional,dict"`
	}
	type outRec struct {
		ID  int64   `parquet:"id"`
		Tag *string `parquet:"tag,optional"`
	}
	tagOf := func(id int64) *string {
		if id%11 == 0 {
			return nil
		}
		s := fmt.Sprintf("t%d", id%13)
		return &s
	}
	const files, perFile = 3, 20000
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		var rows []inRec
		for i := range perFile {
			id := int64(f*perFile + i)
			r := inRec{ID: id, Tag: tagOf(id)}
			for k := range id % 3 {
				r.Tags = append(r.Tags, fmt.Sprint(k))
			}
			rows = append(rows, r)
		}
		fh, err := os.Create(filepath.Join(in, fmt.Sprintf("f%d.parquet", f)))
		if err != nil {
			t.Fatal(err)
		}
		w := pq.NewGenericWriter[inRec](fh, pq.MaxRowsPerRowGroup(997))
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	cols := "id BIGINT NOT NULL\ntag STRING\n"
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
		rows, err := pq.ReadFile[outRec](name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			want := tagOf(r.ID)
			if (want == nil) != (r.Tag == nil) || want != nil && *want != *r.Tag {
				t.Fatalf("row %d has tag %v, want %v", r.ID, r.Tag, want)
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

func runFailingParquetJob(t *testing.T, src, dst connector.Context, out, chk string, p int, failAfter int64) error {
	return runFailingJob(t, src, dst, chk, p, failAfter, func() bool { return hasParquetFiles(out) })
}

// TestParquetReviewUnsigned reads unsigned Parquet integers (UINT_32 in
// INT32, UINT_64 in INT64) as BIGINT: a value above the signed range of
// its physical type is its unsigned value, not a negative number; one
// above BIGINT's range is a bad record.
func TestParquetReviewUnsigned(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	type rec struct {
		ID int64  `parquet:"id"`
		U  uint32 `parquet:"u"`
		V  uint64 `parquet:"v"`
	}
	rows := []rec{{1, 7, 8}, {2, 4_000_000_000, 1 << 62}, {3, 1 << 31, 1<<63 + 5}}
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pq.WriteFile(filepath.Join(in, "a.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	// u alone: every row, with its unsigned value.
	src := table(t, "src", "id BIGINT\nu BIGINT\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst := table(t, "dst", "id BIGINT\nu BIGINT\n'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n")
	if err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, dst, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(committed(t, out), "\n")
	for _, r := range rows {
		if want := fmt.Sprintf(`{"id":%d,"u":%d}`, r.ID, r.U); !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	// v: row 3 does not fit BIGINT.
	src = table(t, "src", "id BIGINT\nv BIGINT\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst = table(t, "dst", "id BIGINT\nv BIGINT\n'connector' = 'filesystem'\n'path' = '"+filepath.Join(dir, "out2")+"'\n'format' = 'json'\n")
	err := runJob(t, connector.Default(), weir.NewEnvironment(weir.Options{}), src, dst, connector.BuildContext{})
	if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(err.Error(), "9223372036854775813") {
		t.Errorf("row 3 (v above BIGINT) should be a bad record naming it and its value; err %v", err)
	}
}

// TestParquetReviewPartitionedRestore writes a Parquet table partitioned
// by a nullable column through failures and restores at parallelism
// 2/1/3: every row once, in the directory of its value (NULL in the
// default partition), its file holding only the other column.
func TestParquetReviewPartitionedRestore(t *testing.T) {
	dir := t.TempDir()
	in, out, chk := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
	type inRec struct {
		ID  int64   `parquet:"id"`
		Tag *string `parquet:"tag,optional"`
	}
	tagOf := func(id int64) *string {
		if id%11 == 0 {
			return nil
		}
		s := fmt.Sprintf("t/%d", id%5)
		return &s
	}
	const files, perFile = 3, 15000
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		var rows []inRec
		for i := range perFile {
			id := int64(f*perFile + i)
			rows = append(rows, inRec{ID: id, Tag: tagOf(id)})
		}
		if err := pq.WriteFile(filepath.Join(in, fmt.Sprintf("f%d.parquet", f)), rows, pq.MaxRowsPerRowGroup(1000)); err != nil {
			t.Fatal(err)
		}
	}
	cols := "id BIGINT NOT NULL\ntag STRING\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'parquet'\n")
	dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'parquet'\n")
	dst.PartitionKeys = []int{1}
	committedAny := func() bool {
		m, _ := filepath.Glob(filepath.Join(out, "*", "part-*.parquet"))
		return len(m) > 0
	}
	fails := 0
	for i, p := range []int{2, 1, 3} {
		err := runFailingJob(t, src, dst, chk, p, int64(4000+3000*i), committedAny)
		if err == nil {
			break
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
		fails++
	}
	if err := runFailingJob(t, src, dst, chk, 2, 0, committedAny); err != nil {
		t.Fatalf("final run: %v", err)
	}
	if fails == 0 {
		t.Fatal("no run failed: the test restored nothing")
	}
	type outRec struct {
		ID int64 `parquet:"id"`
	}
	count := map[int64]int{}
	m, err := filepath.Glob(filepath.Join(out, "*", "part-*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range m {
		f, err := pq.ReadFile[outRec](name)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := pf.Stat()
		file, err := pq.OpenFile(pf, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(file.Schema().Fields()); n != 1 {
			t.Errorf("%s has %d columns, want 1 (id)", name, n)
		}
		pf.Close()
		part := filepath.Base(filepath.Dir(name))
		for _, r := range f {
			want := "tag=" + connector.DefaultPartitionName
			if tg := tagOf(r.ID); tg != nil {
				want = "tag=" + strings.ReplaceAll(*tg, "/", "%2F")
			}
			if part != want {
				t.Fatalf("row %d in %s, want %s", r.ID, part, want)
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

// runFailingJob copies src to dst in a job restored from its latest
// checkpoint in chk, which fails once it has seen failAfter rows (if > 0)
// and ready reports true (ready runs in the job's operators: it must not
// call t).
func runFailingJob(t *testing.T, src, dst connector.Context, chk string, p int, failAfter int64, ready func() bool) error {
	env := weir.NewEnvironment(weir.Options{Parallelism: p, AutoWatermarkInterval: -1,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: chk}, Restore: "latest"})
	reg := connector.Default()
	s, err := reg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.CreateSink(dst)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "src"})
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	st = weir.TryMap(st, func(r row.Row) (row.Row, error) {
		if failAfter > 0 && seen.Add(1) >= failAfter && ready() {
			return r, errInjected
		}
		return r, nil
	})
	if _, err := k.Consume(connector.BuildContext{Env: env, Prefix: "dst"}, st); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return env.Execute(ctx)
}
