package connector_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/weirtest"
)

// syncBuffer is a bytes.Buffer safe for the print sink's subtasks.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSuffix(s.b.String(), "\n"), "\n")
}

func table(t *testing.T, name, spec string) connector.Context {
	t.Helper()
	ctx, err := parseTable(name, spec)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// runJob builds source → sink on env and executes it.
func runJob(t *testing.T, reg *connector.Registry, env *weir.Environment, src, sink connector.Context, b connector.BuildContext) error {
	t.Helper()
	s, err := reg.CreateSource(src)
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.CreateSink(sink)
	if err != nil {
		t.Fatal(err)
	}
	b.Env = env
	b.Prefix = src.Table
	st, err := s.Produce(b)
	if err != nil {
		t.Fatal(err)
	}
	b.Prefix = sink.Table
	if _, err := k.Consume(b, st); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return env.Execute(ctx)
}

const genSpec = `
id BIGINT
v INT
n STRING
d DECIMAL(5, 2)
'connector' = 'datagen'
'rows-per-second' = '1000000'
'fields.id.kind' = 'sequence'
'fields.id.start' = '1'
'fields.id.end' = '4'
'fields.v.min' = '7'
'fields.v.max' = '7'
'fields.n.null-rate' = '1'
'fields.d.min' = '1.5'
'fields.d.max' = '1.5'
`

// TestDatagenToPrint runs datagen → print and checks the lines against
// Flink's print format: "+I[1, 7, NULL, 1.50]", with "id> " at
// parallelism 1 and "id:<subtask>> " above.
func TestDatagenToPrint(t *testing.T) {
	for _, tc := range []struct {
		name, opts string
		par        int
		want       []string
	}{
		{"plain", "", 1, []string{"+I[1, 7, NULL, 1.50]", "+I[2, 7, NULL, 1.50]", "+I[3, 7, NULL, 1.50]", "+I[4, 7, NULL, 1.50]"}},
		{"identifier", "'print-identifier' = 'out'", 1, []string{"out> +I[1, 7, NULL, 1.50]", "out> +I[2, 7, NULL, 1.50]", "out> +I[3, 7, NULL, 1.50]", "out> +I[4, 7, NULL, 1.50]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf syncBuffer
			reg := connector.Default()
			reg.Register(connector.Print{Stdout: &buf})
			sink := table(t, "out", "id BIGINT\nv INT\nn STRING\nd DECIMAL(5, 2)\n'connector' = 'print'\n"+tc.opts)
			env := weir.NewEnvironment(weir.Options{Parallelism: tc.par})
			if err := runJob(t, reg, env, table(t, "gen", genSpec), sink, connector.BuildContext{}); err != nil {
				t.Fatal(err)
			}
			if got := buf.lines(); !slices.Equal(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestPrintParallel checks the subtask prefixes of a print sink with
// parallelism 2: "2> " without identifier, "id:2> " with one (subtasks
// counted from 1, as Flink's PrintSinkOutputWriter).
func TestPrintParallel(t *testing.T) {
	for _, tc := range []struct{ opts, prefix string }{{"", ""}, {"'print-identifier' = 'x'\n", "x:"}} {
		var buf syncBuffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		sink := table(t, "out", "id BIGINT\nv INT\nn STRING\nd DECIMAL(5, 2)\n'connector' = 'print'\n'sink.parallelism' = '2'\n"+tc.opts)
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		if err := runJob(t, reg, env, table(t, "gen", genSpec), sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		got := buf.lines()
		var ids []string
		for _, l := range got {
			p, rest, ok := strings.Cut(l, "> ")
			if !ok || (p != tc.prefix+"1" && p != tc.prefix+"2") {
				t.Fatalf("line %q: want prefix %q1 or %q2", l, tc.prefix, tc.prefix)
			}
			ids = append(ids, rest)
		}
		sort.Strings(ids)
		want := []string{"+I[1, 7, NULL, 1.50]", "+I[2, 7, NULL, 1.50]", "+I[3, 7, NULL, 1.50]", "+I[4, 7, NULL, 1.50]"}
		if !slices.Equal(ids, want) {
			t.Errorf("rows %v, want %v", ids, want)
		}
	}
}

// TestDatagenDeterministic checks that random columns do not depend on the
// parallelism: the same rows come out at parallelism 1 and 3.
func TestDatagenDeterministic(t *testing.T) {
	spec := `
id BIGINT
a INT
s STRING
f DOUBLE
b BOOLEAN
ts TIMESTAMP(3)
arr ARRAY<INT>
'connector' = 'datagen'
'number-of-rows' = '50'
'rows-per-second' = '1000000'
'fields.s.length' = '5'
'fields.a.min' = '-10'
'fields.a.max' = '10'
'fields.ts.max-past' = '1 h'
`
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := func(par int) []string {
		var buf syncBuffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		reg.Register(connector.Datagen{Now: func() time.Time { return now }})
		sink := table(t, "out", spec[:strings.Index(spec, "'connector'")]+"'connector' = 'print'\n'sink.parallelism' = '1'")
		env := weir.NewEnvironment(weir.Options{Parallelism: par})
		if err := runJob(t, reg, env, table(t, "gen", spec), sink, connector.BuildContext{}); err != nil {
			t.Fatal(err)
		}
		l := buf.lines()
		sort.Strings(l)
		return l
	}
	one, three := run(1), run(3)
	if len(one) != 50 || !slices.Equal(one, three) {
		t.Fatalf("parallelism 1 gave %d rows, 3 gave %d; equal=%t", len(one), len(three), slices.Equal(one, three))
	}
	for _, l := range one {
		// a in [-10, 10], s 5 hex characters, ts within the hour before now.
		f := strings.Split(strings.TrimSuffix(strings.TrimPrefix(l, "+I["), "]"), ", ")
		if len(f[2]) != 5 || strings.Trim(f[2], "0123456789abcdef") != "" {
			t.Errorf("row %s: s is not 5 hex digits", l)
		}
		ts, err := time.Parse("2006-01-02 15:04:05.000", f[5])
		if err != nil || ts.After(now) || ts.Before(now.Add(-time.Hour)) {
			t.Errorf("row %s: ts %s not in the hour before %s", l, f[5], now)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// committed returns the lines of the committed part files under dir
// (names not starting with '.'), sorted.
func committed(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestFilesystemJSONToCSV reads JSON lines and writes CSV through the
// exactly-once sink (committed at the end of the bounded job).
func TestFilesystemJSONToCSV(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	writeFile(t, filepath.Join(in, "a.json"), `{"id": 1, "name": "a,b", "price": 12.5, "ts": "2020-12-30 12:13:14.123", "tags": ["x", "y"]}
{"id": 2, "name": null, "price": "3", "ts": "2020-12-30 12:13:14", "tags": []}

{"id": 3, "name": "say \"hi\"", "ts": null, "extra": true}
`)
	writeFile(t, filepath.Join(in, "_ignored.json"), "not json\n")
	cols := "id BIGINT\nname STRING\nprice DECIMAL(10, 2)\nts TIMESTAMP(3)\ntags ARRAY<STRING>\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'json'\n")
	sink := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n")
	env := weir.NewEnvironment(weir.Options{})
	if err := runJob(t, connector.Default(), env, src, sink, connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`1,"a,b",12.50,2020-12-30 12:13:14.123,x;y`,
		`2,,3.00,2020-12-30 12:13:14,`,
		`3,"say ""hi""",,,`,
	}
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFilesystemBadRecords: a bad line fails the job naming file, line and
// field; json.ignore-parse-errors skips it (fields that do not convert are
// NULL); a dead-letter policy gets it.
func TestFilesystemBadRecords(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	writeFile(t, in, "{\"id\": 1, \"n\": 2}\n{\"id\": \"x\", \"n\": 3}\n{broken\n{\"id\": 4, \"n\": 5}\n")
	cols := "id BIGINT\nn INT\n"
	run := func(extra string, b connector.BuildContext, side func(weir.Stream[row.Row])) ([]string, error) {
		var buf syncBuffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'json'\n"+extra)
		s, err := reg.CreateSource(src)
		if err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{})
		b.Env, b.Prefix = env, "src"
		st, err := s.Produce(b)
		if err != nil {
			t.Fatal(err)
		}
		if side != nil {
			side(st)
		}
		k, err := reg.CreateSink(table(t, "out", cols+"'connector' = 'print'"))
		if err != nil {
			t.Fatal(err)
		}
		b.Prefix = "out"
		if _, err := k.Consume(b, st); err != nil {
			t.Fatal(err)
		}
		err = env.Execute(context.Background())
		return buf.lines(), err
	}
	_, err := run("", connector.BuildContext{}, nil)
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || bad.DeadLetter.Field != "id" || !strings.Contains(bad.DeadLetter.Source, "in.json line 2") {
		t.Fatalf("error %v: want a bad record at line 2, field id", err)
	}
	got, err := run("'json.ignore-parse-errors' = 'true'\n", connector.BuildContext{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+I[1, 2]", "+I[NULL, 3]", "+I[4, 5]"}; !slices.Equal(got, want) {
		t.Errorf("ignore-parse-errors: got %v, want %v", got, want)
	}
	tag := weir.NewOutputTag[weir.DeadLetter]("bad")
	var dead []string
	var mu sync.Mutex
	got, err = run("", connector.BuildContext{OnError: weir.DeadLetterTo(tag)}, func(st weir.Stream[row.Row]) {
		weir.SideOutput(st, tag).SinkTo(weir.SinkFunc[weir.DeadLetter](func(_ context.Context, d weir.DeadLetter, _ int64) error {
			mu.Lock()
			defer mu.Unlock()
			dead = append(dead, filepath.Base(d.Source)+" "+d.Field+" "+string(d.Raw))
			return nil
		}))
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+I[1, 2]", "+I[4, 5]"}; !slices.Equal(got, want) {
		t.Errorf("dead letters: rows %v, want %v", got, want)
	}
	if want := []string{`in.json line 2 id {"id": "x", "n": 3}`, `in.json line 3  {broken`}; !slices.Equal(dead, want) {
		t.Errorf("dead letters %q, want %q", dead, want)
	}
	// Both: fields that do not convert are NULL (the row is kept), lines
	// that do not parse go to the dead letters rather than vanish.
	dead = nil
	got, err = run("'json.ignore-parse-errors' = 'true'\n", connector.BuildContext{OnError: weir.DeadLetterTo(tag)}, func(st weir.Stream[row.Row]) {
		weir.SideOutput(st, tag).SinkTo(weir.SinkFunc[weir.DeadLetter](func(_ context.Context, d weir.DeadLetter, _ int64) error {
			mu.Lock()
			defer mu.Unlock()
			dead = append(dead, filepath.Base(d.Source)+" "+d.Field+" "+string(d.Raw))
			return nil
		}))
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+I[1, 2]", "+I[NULL, 3]", "+I[4, 5]"}; !slices.Equal(got, want) {
		t.Errorf("ignore-parse-errors with dead letters: rows %v, want %v", got, want)
	}
	if want := []string{`in.json line 3  {broken`}; !slices.Equal(dead, want) {
		t.Errorf("ignore-parse-errors with dead letters: %q, want %q", dead, want)
	}
}

// TestFilesystemSinkExactlyOnce writes through the filesystem sink, takes
// a checkpoint (committing what came before it), writes more, and
// restores from the checkpoint as after a crash: the rows written after
// it are written again, and every row is committed exactly once.
func TestFilesystemSinkExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cols := "id BIGINT\nname STRING\n"
	sinkCtx := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n")
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: filepath.Join(dir, "ckpt")}}
	build := func(h *weirtest.Harness) *weirtest.Input[row.Row] {
		in := weirtest.NewInput[row.Row](h)
		k, err := connector.Default().CreateSink(sinkCtx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Consume(connector.BuildContext{Env: h.Env(), Prefix: "dst"}, in.Stream()); err != nil {
			t.Fatal(err)
		}
		return in
	}
	r := func(id int64, name string) row.Row { return row.Of(row.Int(id), row.Str(name)) }
	h := weirtest.New(opts)
	in := build(h)
	h.Start(t)
	for _, x := range []row.Row{r(1, "a"), r(2, "b")} {
		if err := in.Push(x, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Push(r(3, "c"), weir.NoTimestamp); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":1,"name":"a"}`, `{"id":2,"name":"b"}`}
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Fatalf("after the checkpoint: %v, want %v", got, want)
	}
	// The job dies here; row 3 was never committed. Restore.
	h2 := weirtest.Restore(opts, snap)
	in2 := build(h2)
	h2.Start(t)
	for _, x := range []row.Row{r(3, "c"), r(4, "d")} {
		if err := in2.Push(x, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	if err := in2.End(); err != nil {
		t.Fatal(err)
	}
	want = append(want, `{"id":3,"name":"c"}`, `{"id":4,"name":"d"}`)
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Fatalf("after restore and end: %v, want %v", got, want)
	}
}

// TestFilesystemToFilesystemRestore reads CSV files into the filesystem
// JSON sink under checkpoints: a checkpoint is taken, a file is added,
// and the job is restored from the checkpoint. The restored source skips
// what the checkpoint says it read and reads the new file; the sink
// commits every row exactly once.
func TestFilesystemToFilesystemRestore(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	writeFile(t, filepath.Join(in, "1.csv"), "1,a\n2,b\n")
	cols := "id BIGINT\nname STRING\n"
	srcCtx := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'csv'\n")
	sinkCtx := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'json'\n")
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: filepath.Join(dir, "ckpt")}}
	build := func(h *weirtest.Harness) {
		reg := connector.Default()
		s, err := reg.CreateSource(srcCtx)
		if err != nil {
			t.Fatal(err)
		}
		k, err := reg.CreateSink(sinkCtx)
		if err != nil {
			t.Fatal(err)
		}
		// A second, pushed input keeps the job running after the files
		// are read, so that a checkpoint can be taken.
		keep := weirtest.NewInput[row.Row](h)
		st, err := s.Produce(connector.BuildContext{Env: h.Env(), Prefix: "src"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Consume(connector.BuildContext{Env: h.Env(), Prefix: "dst"}, weir.Union(st, keep.Stream())); err != nil {
			t.Fatal(err)
		}
	}
	h := weirtest.New(opts)
	build(h)
	h.Start(t)
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":1,"name":"a"}`, `{"id":2,"name":"b"}`}
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Fatalf("after the checkpoint: %v, want %v", got, want)
	}
	writeFile(t, filepath.Join(in, "2.csv"), "3,c\n")
	h2 := weirtest.Restore(opts, snap)
	build(h2)
	h2.Start(t)
	if _, err := h2.Snapshot(); err != nil {
		t.Fatal(err)
	}
	want = append(want, `{"id":3,"name":"c"}`)
	if got := committed(t, out); !slices.Equal(got, want) {
		t.Fatalf("after the restore: %v, want %v", got, want)
	}
}
