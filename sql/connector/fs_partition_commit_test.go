package connector_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// successWatch checks, from inside the job, that a partition holding a
// _SUCCESS file holds all of its rows, exactly once: with the
// partition-time trigger and rows in time order, a partition is committed
// only after all its rows were written and their checkpoint completed.
type successWatch struct {
	out  string
	want map[string][]string // partition -> sorted ids
	mu   sync.Mutex
	seen map[string]bool
	bad  []string
}

func (w *successWatch) check() {
	m, _ := filepath.Glob(filepath.Join(w.out, "dt=*", "h=*", "_SUCCESS"))
	for _, s := range m {
		dir := filepath.Dir(s)
		rel, _ := filepath.Rel(w.out, dir)
		rel = filepath.ToSlash(rel)
		w.mu.Lock()
		done := w.seen[rel]
		w.mu.Unlock()
		if done {
			continue
		}
		got := partitionIDs(dir)
		w.mu.Lock()
		w.seen[rel] = true
		if !slices.Equal(got, w.want[rel]) {
			w.bad = append(w.bad, fmt.Sprintf("%s committed holding %v, want %v", rel, got, w.want[rel]))
		}
		w.mu.Unlock()
	}
}

func (w *successWatch) committed() bool {
	m, _ := filepath.Glob(filepath.Join(w.out, "dt=*", "h=*", "_SUCCESS"))
	return len(m) > 0
}

// partitionIDs reads the ids of a partition's committed csv part files.
func partitionIDs(dir string) []string {
	var ids []string
	m, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	for _, p := range m {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				id, _, _ := strings.Cut(l, ",")
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// runCommitJob copies src to the partitioned dst, restored from chk's
// latest checkpoint, with event time from column ts; it fails once it
// has seen failAfter rows (if > 0) in this run and some partition was
// committed.
func runCommitJob(t *testing.T, src, dst connector.Context, chk string, p int, failAfter int64, w *successWatch) error {
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
	wms := weir.ForMonotonousTimestamps[row.Row]().WithTimestamps(func(r row.Row) int64 { return r.Fields[1].Millis() })
	st, err := s.Produce(connector.BuildContext{Env: env, Prefix: "src", Watermarks: wms})
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	st = weir.TryMap(st, func(r row.Row) (row.Row, error) {
		w.check()
		if failAfter > 0 && seen.Add(1) >= failAfter && w.committed() {
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

// TestPartitionCommitRestoreSQL writes a day of rows (one every 15 s) into
// hourly partitions with the partition-time trigger; runs fail and
// restore at other parallelisms. A partition's success file appears only
// once all of its rows are committed, exactly once; at the end every
// partition has one.
func TestPartitionCommitRestoreSQL(t *testing.T) {
	in, out, chk := t.TempDir(), filepath.Join(t.TempDir(), "out"), t.TempDir()
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	want := map[string][]string{}
	// A row every 15 s: enough rows that checkpoints complete and
	// partitions commit while the first runs still read.
	for i := range 24 * 240 {
		ts := start.Add(time.Duration(i) * 15 * time.Second)
		fmt.Fprintf(&b, "%d,%s,%s,%d\n", i, ts.Format("2006-01-02 15:04:05"), ts.Format("2006-01-02"), ts.Hour())
		part := fmt.Sprintf("dt=%s/h=%d", ts.Format("2006-01-02"), ts.Hour())
		want[part] = append(want[part], fmt.Sprint(i))
	}
	for _, ids := range want {
		slices.Sort(ids)
	}
	if err := os.WriteFile(filepath.Join(in, "rows.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cols := "id BIGINT\nts TIMESTAMP\ndt STRING\nh INT\n"
	src := table(t, "src", cols+"'connector' = 'filesystem'\n'path' = '"+in+"'\n'format' = 'csv'\n")
	dst := table(t, "dst", cols+"'connector' = 'filesystem'\n'path' = '"+out+"'\n'format' = 'csv'\n"+
		"'sink.partition-commit.trigger' = 'partition-time'\n"+
		"'partition.time-extractor.timestamp-pattern' = '$dt $h:00:00'\n"+
		"'sink.partition-commit.delay' = '1 h'\n"+
		"'sink.partition-commit.policy.kind' = 'success-file'\n")
	dst.PartitionKeys = []int{2, 3}
	w := &successWatch{out: out, want: want, seen: map[string]bool{}}
	fails := 0
	for i, p := range []int{2, 1, 3} {
		err := runCommitJob(t, src, dst, chk, p, int64(500+300*i), w)
		if err == nil {
			break
		}
		if !errors.Is(err, errInjected) {
			t.Fatalf("run %d: %v", i, err)
		}
		fails++
	}
	if fails == 0 {
		t.Fatal("no run failed: the test restored nothing")
	}
	w.mu.Lock()
	early := len(w.seen)
	w.mu.Unlock()
	if early == 0 {
		t.Fatal("no partition was committed before the final run")
	}
	if err := runCommitJob(t, src, dst, chk, 2, 0, w); err != nil {
		t.Fatalf("final run: %v", err)
	}
	w.check()
	if len(w.bad) > 0 {
		t.Fatalf("%d partitions committed incomplete: %s", len(w.bad), strings.Join(w.bad, "; "))
	}
	for part, ids := range want {
		if _, err := os.Stat(filepath.Join(out, part, "_SUCCESS")); err != nil {
			t.Errorf("%s: %v", part, err)
		}
		if got := partitionIDs(filepath.Join(out, part)); !slices.Equal(got, ids) {
			t.Errorf("%s holds %v, want %v", part, got, ids)
		}
	}
	t.Logf("%d failures; %d partitions committed before the final run", fails, early)
}
