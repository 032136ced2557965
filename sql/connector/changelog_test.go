package connector_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/weirtest"
)

// TestPrintChangelog: print accepts every kind and shows it as Flink's
// RowKind short string.
func TestPrintChangelog(t *testing.T) {
	var buf syncBuffer
	reg := connector.Default()
	reg.Register(connector.Print{Stdout: &buf})
	k, err := reg.CreateSink(table(t, "out", "k STRING\nc BIGINT\n'connector' = 'print'\n'print-identifier' = 'agg'"))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := k.ChangelogMode(connector.All); err != nil || m != connector.All {
		t.Fatalf("mode %s, %v", m, err)
	}
	h := weirtest.New(weir.Options{})
	in := weirtest.NewInput[row.Row](h)
	if _, err := k.Consume(connector.BuildContext{Env: h.Env(), Prefix: "out"}, in.Stream()); err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	for _, r := range []row.Row{
		row.Of(row.Str("a"), row.Int(1)),
		row.Of(row.Str("a"), row.Int(1)).WithKind(row.UpdateBefore),
		row.Of(row.Str("a"), row.Int(2)).WithKind(row.UpdateAfter),
		row.Of(row.Str("a"), row.Int(2)).WithKind(row.Delete),
	} {
		if err := in.Push(r, weir.NoTimestamp); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"agg> +I[a, 1]", "agg> -U[a, 1]", "agg> +U[a, 2]", "agg> -D[a, 2]"}
	if got := buf.lines(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProjectionPushDown: datagen and filesystem produce only the
// projected columns, in the projection's order, with the same values.
func TestProjectionPushDown(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("1,a,true\n2,b,false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec string
		want []string
	}{
		{"id BIGINT\nname STRING\nok BOOLEAN\n'connector' = 'filesystem'\n'path' = '" + in + "'\n'format' = 'csv'", []string{"+I[TRUE, 1]", "+I[FALSE, 2]"}},
		{"id BIGINT\nname STRING\nok BOOLEAN\n'connector' = 'datagen'\n'fields.id.kind' = 'sequence'\n'fields.id.start' = '1'\n'fields.id.end' = '2'\n'fields.ok.null-rate' = '1'", []string{"+I[NULL, 1]", "+I[NULL, 2]"}},
	} {
		var buf syncBuffer
		reg := connector.Default()
		reg.Register(connector.Print{Stdout: &buf})
		s, err := reg.CreateSource(table(t, "src", tc.spec))
		if err != nil {
			t.Fatal(err)
		}
		pd, ok := s.(connector.ProjectionPushDown)
		if !ok {
			t.Fatalf("%T does not take projections", s)
		}
		if err := pd.ApplyProjection([]int{2, 0}); err != nil {
			t.Fatal(err)
		}
		env := weir.NewEnvironment(weir.Options{})
		st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "src"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := reg.CreateSink(table(t, "out", "ok BOOLEAN\nid BIGINT\n'connector' = 'print'"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Consume(connector.BuildContext{Env: env, Prefix: "out"}, st); err != nil {
			t.Fatal(err)
		}
		if err := env.Execute(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := buf.lines(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", strings.SplitN(tc.spec, "'connector'", 2)[1][:15], got, tc.want)
		}
	}
}

// TestFilesystemRaw reads lines as a single STRING column.
func TestFilesystemRaw(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("hello, world\n\nbye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	reg := connector.Default()
	reg.Register(connector.Print{Stdout: &buf})
	env := weir.NewEnvironment(weir.Options{})
	if err := runJob(t, reg, env, table(t, "src", "line STRING\n'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'raw'"),
		table(t, "out", "line STRING\n'connector' = 'print'"), connector.BuildContext{}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.lines(), []string{"+I[hello, world]", "+I[bye]"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestDatagenRestore: a datagen table checkpoints its position; restored
// from a checkpoint, it produces exactly the rows not yet produced.
func TestDatagenRestore(t *testing.T) {
	spec := "id BIGINT\nv INT\n'connector' = 'datagen'\n'rows-per-second' = '10'\n'fields.id.kind' = 'sequence'\n'fields.id.start' = '1'\n'fields.id.end' = '30'\n'fields.v.min' = '0'\n'fields.v.max' = '1000'"
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: filepath.Join(t.TempDir(), "ckpt")}}
	build := func(h *weirtest.Harness) *weirtest.Output[row.Row] {
		s, err := connector.Default().CreateSource(table(t, "gen", spec))
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Produce(connector.BuildContext{Env: h.Env(), Prefix: "gen"})
		if err != nil {
			t.Fatal(err)
		}
		return weirtest.Capture(h, st)
	}
	format := func(rs []row.Row) []string {
		var out []string
		for _, r := range rs {
			out = append(out, row.FormatRow(r, []row.Type{row.BigInt(), row.IntType()}))
		}
		return out
	}
	// Uninterrupted run, for the expected rows.
	h0 := weirtest.New(weir.Options{})
	out0 := build(h0)
	h0.Start(t)
	for ms := int64(0); !h0.Finished() && ms < 100_000; ms += 500 {
		if err := h0.SetProcessingTime(ms); err != nil {
			t.Fatal(err)
		}
	}
	want := format(out0.Values())
	if len(want) != 30 {
		t.Fatalf("uninterrupted run: %d rows", len(want))
	}
	h := weirtest.New(opts)
	out := build(h)
	h.Start(t)
	if err := h.SetProcessingTime(1000); err != nil {
		t.Fatal(err)
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	before := format(out.Values())
	if err := h.SetProcessingTime(2000); err != nil { // produced, then lost with the job
		t.Fatal(err)
	}
	if len(before) == 0 || len(before) >= 30 {
		t.Fatalf("%d rows before the checkpoint", len(before))
	}
	h2 := weirtest.Restore(weir.Options{Checkpoints: opts.Checkpoints}, snap)
	out2 := build(h2)
	h2.Start(t)
	for ms := snap.ProcessingTime; !h2.Finished() && ms < 100_000; ms += 500 {
		if err := h2.SetProcessingTime(ms); err != nil {
			t.Fatal(err)
		}
	}
	got := append(before, format(out2.Values())...)
	if !slices.Equal(got, want) {
		t.Errorf("with a restore after %d rows:\n%q\nwant\n%q", len(before), got, want)
	}
}

// TestDatagenTypes generates every common type with defaults and checks
// each value against its type: integers in range, decimals within their
// precision, strings and collections of the configured length.
func TestDatagenTypes(t *testing.T) {
	spec := `
b BOOLEAN
ti TINYINT
si SMALLINT
i INT
bi BIGINT
f FLOAT
d DOUBLE
dec DECIMAL(6, 2)
c CHAR(4)
vc VARCHAR(7)
s STRING
by BYTES
dt DATE
tm TIME
ts TIMESTAMP(3)
ltz TIMESTAMP_LTZ(3)
arr ARRAY<INT>
m MAP<STRING,INT>
'connector' = 'datagen'
'number-of-rows' = '200'
'rows-per-second' = '1000000'
'fields.s.length' = '10'
'fields.s.var-len' = 'true'
'fields.arr.length' = '2'
'fields.dt.max-past' = '10 d'
`
	ctx := table(t, "gen", spec)
	s, err := connector.Default().CreateSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(weir.Options{})
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "gen"})
	if err != nil {
		t.Fatal(err)
	}
	var rows []row.Row
	st.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error { rows = append(rows, r); return nil }))
	if err := env.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 200 {
		t.Fatalf("%d rows", len(rows))
	}
	types := ctx.Schema.Types()
	seen := map[string]bool{}
	for _, r := range rows {
		for i, v := range r.Fields {
			col, typ := ctx.Schema.Columns[i].Name, types[i]
			if v.IsNull() {
				t.Fatalf("%s is NULL without a null-rate", col)
			}
			text := row.Format(v, typ)
			seen[col+"="+text] = true
			bad := false
			switch col {
			case "ti":
				bad = v.Int() < -128 || v.Int() > 127
			case "si":
				bad = v.Int() < -32768 || v.Int() > 32767
			case "i":
				bad = v.Int() < -1<<31 || v.Int() >= 1<<31
			case "dec":
				_, ok := row.DecimalFromUnscaled(row.DecimalUnscaled(v, typ), typ)
				bad = !ok
			case "c":
				bad = len(v.Str()) != 4
			case "vc":
				bad = len(v.Str()) != 7
			case "s":
				bad = len(v.Str()) < 1 || len(v.Str()) > 10
			case "by":
				bad = len(v.Str()) != 100
			case "tm":
				bad = v.Int() < 0 || v.Int() >= 86400e9
			case "arr":
				bad = len(v.Elems()) != 2
			case "m":
				bad = len(v.MapOf().Keys) > 3
			}
			if bad {
				t.Fatalf("%s: %s is not a valid value of %s here", col, text, typ)
			}
		}
	}
	// Random columns vary.
	for _, col := range []string{"b", "i", "bi", "d", "dec", "s", "dt"} {
		n := 0
		for k := range seen {
			if strings.HasPrefix(k, col+"=") {
				n++
			}
		}
		if n < 2 {
			t.Errorf("column %s took %d distinct values in 200 rows", col, n)
		}
	}
}
