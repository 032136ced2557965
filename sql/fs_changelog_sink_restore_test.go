package sql_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/weirtest"
)

// TestFilesystemChangelogSinkRestore writes a GROUP BY's changelog into a
// filesystem debezium-json table through the exactly-once part files,
// takes a checkpoint, writes more changes that no checkpoint covers (a
// crash loses them), restores the checkpoint into a new job and finishes
// the input. The committed files hold each change exactly once (as many
// lines as the changelog has rows), and read back through a debezium-json
// source they give the aggregate's final table.
func TestFilesystemChangelogSinkRestore(t *testing.T) {
	var rows []row.Row
	for i := range 240 {
		rows = append(rows, row.Of(row.Str(fmt.Sprintf("k%d", i*i%11)), row.Int(int64(i%13))))
	}
	type agg struct{ n, sum int64 }
	final := map[string]agg{}
	for _, r := range rows {
		a := final[r.Fields[0].Str()]
		a.n++
		a.sum += r.Fields[1].Int()
		final[r.Fields[0].Str()] = a
	}
	out := filepath.Join(t.TempDir(), "totals")
	ddl := fmt.Sprintf(`CREATE TABLE T (customer STRING, amount INT) WITH ('connector' = 'datagen');
CREATE TABLE totals (customer STRING, n BIGINT, total INT)
  WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'debezium-json', 'sink.rolling-policy.file-size' = '2kb');
`, out)
	build := func(h *weirtest.Harness) *weirtest.Input[row.Row] {
		t.Helper()
		sess := sql.NewSession(sql.SessionOptions{})
		stmts, err := parser.Parse(ddl + `INSERT INTO totals SELECT customer, COUNT(*), SUM(amount) FROM T GROUP BY customer;`)
		if err != nil {
			t.Fatal(err)
		}
		var job *sql.Job
		for _, st := range stmts {
			if _, job, err = sess.Execute(st); err != nil {
				t.Fatal(err)
			}
		}
		in := weirtest.NewInput[row.Row](h)
		if err := job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, nil); err != nil {
			t.Fatal(err)
		}
		h.Start(t)
		return in
	}
	push := func(in *weirtest.Input[row.Row], rs []row.Row) {
		t.Helper()
		for _, r := range rs {
			if err := in.Push(r, weir.NoTimestamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	cut, lost := len(rows)/3, len(rows)/3+50

	h1 := weirtest.New(opts)
	in1 := build(h1)
	push(in1, rows[:cut])
	snap, err := h1.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	push(in1, rows[cut:lost]) // written, never committed: the job "crashes"
	if err := h1.Stepper().Run(); err != nil {
		t.Fatal(err)
	}

	h2 := weirtest.Restore(opts, snap)
	in2 := build(h2)
	push(in2, rows[cut:])
	if err := in2.End(); err != nil {
		t.Fatal(err)
	}
	if err := h2.Err(); err != nil {
		t.Fatal(err)
	}

	// Each change once: the first row of a customer is one +I line, every
	// later one a -U and a +U line.
	lines, files, deletes := 0, 0, 0
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			lines++
			if strings.Contains(l, `"op":"d"`) {
				deletes++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2*len(rows) - len(final); lines != want || deletes != len(rows)-len(final) {
		t.Fatalf("committed files hold %d lines (%d deletes), want %d (%d)", lines, deletes, want, len(rows)-len(final))
	}
	if files < 2 {
		t.Fatalf("%d committed part files: the changelog should span several", files)
	}

	sess := sql.NewSession(sql.SessionOptions{})
	got := execScriptOpts(t, sess, ddl+`SELECT * FROM totals;`, scriptOpts{par: 1, backend: weir.StateHeap, table: true})
	var want []string
	for k, a := range final {
		want = append(want, fmt.Sprintf("+I[%s, %d, %d]", k, a.n, a.sum))
	}
	sort.Strings(want)
	if exp := "ok\nok\n" + strings.Join(want, "\n") + "\n"; got != exp {
		t.Fatalf("read back:\n%s\nwant:\n%s", got, exp)
	}
}
