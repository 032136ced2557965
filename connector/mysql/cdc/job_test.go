package cdc

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/testnet"
	"github.com/weirstream/weir/weirtest"
)

// pipeline is the job of these tests: the source, its changes captured,
// and its dead letters if dead is set.
type pipeline struct {
	h    *weirtest.Harness
	out  *weirtest.Output[Change]
	dead *weirtest.Output[weir.DeadLetter]
}

func newPipeline(t testing.TB, h *weirtest.Harness, opts Options, withDead bool) *pipeline {
	p := &pipeline{h: h}
	tag := weir.NewOutputTag[weir.DeadLetter]("dead")
	if withDead {
		opts.ErrorPolicy = weir.DeadLetterTo(tag)
	}
	s := weir.FromSource[Change](h.Env(), NewSource(opts), weir.NoWatermarks[Change](), "mysql").UID("mysql").SetParallelism(1)
	p.out = weirtest.Capture(h, s)
	if withDead {
		p.dead = weirtest.Capture(h, weir.SideOutput(s, tag))
	}
	h.Start(t)
	return p
}

// runUntil runs the job until cond holds, polling with a deadline; it
// returns the job's error if it fails.
func (p *pipeline) runUntil(t testing.TB, what string, cond func() bool) error {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		if err := p.h.Stepper().Run(); err != nil {
			return err
		}
		if cond() {
			return nil
		}
		select {
		case <-deadline:
			t.Fatalf("no %s within 30s", what)
		case <-tick.C:
		}
	}
}

func checkpointOpts(t testing.TB) weir.Options {
	return weir.Options{Parallelism: 1, Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: filepath.Join(t.TempDir(), "chk")}}
}

// TestRestoreFromCheckpoint runs the source in a job, checkpoints, lets
// more changes through, then restores the checkpoint in a new job: it
// emits exactly the changes after the checkpoint.
func TestRestoreFromCheckpoint(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	fill(t, db, table, 100)
	opts := Options{Addr: addr, Tables: []string{table}, ChunkSize: 30}
	p := newPipeline(t, weirtest.New(checkpointOpts(t)), opts, false)
	m := newModel(t)
	must(t, p.runUntil(t, "snapshot", func() bool { return len(p.out.Values()) == 100 }))
	mustExec(t, db, "UPDATE "+table+" SET u = u + 1 WHERE id < 10")
	must(t, p.runUntil(t, "updates", func() bool { return len(p.out.Values()) == 110 }))
	for _, c := range p.out.Take() {
		m.apply(c)
	}
	snap, err := p.h.Snapshot()
	must(t, err)
	mustExec(t, db, "UPDATE "+table+" SET u = u + 1 WHERE id >= 90")
	mustExec(t, db, "DELETE FROM "+table+" WHERE id = 50")
	must(t, p.runUntil(t, "changes after the checkpoint", func() bool { return len(p.out.Values()) == 121 }))
	after := p.out.Take()

	// The restored job emits the same changes after the checkpoint.
	p2 := newPipeline(t, weirtest.Restore(checkpointOpts(t), snap), opts, false)
	must(t, p2.runUntil(t, "changes after restore", func() bool { return len(p2.out.Values()) >= 11 }))
	got := p2.out.Take()
	if len(got) != len(after) {
		t.Fatalf("restored job emitted %d changes, the first run %d after the checkpoint", len(got), len(after))
	}
	for i := range got {
		if got[i].Op != after[i].Op || got[i].Position != after[i].Position {
			t.Fatalf("change %d: restored %c at %v, first run %c at %v", i, got[i].Op, got[i].Position, after[i].Op, after[i].Position)
		}
		m.apply(got[i])
	}
	m.check(db, table)
}

// TestDeadLetters: a row the source cannot decode (a zero date) goes to
// the dead-letter output with its position, the job goes on; under the
// default policy it fails the job naming the row.
func TestDeadLetters(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, "id INT PRIMARY KEY, d DATE")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, '2024-01-01')")
	reg := prometheus.NewRegistry()
	opts := Options{Addr: addr, Tables: []string{table}, Registry: reg}
	p := newPipeline(t, weirtest.New(weir.Options{Parallelism: 1}), opts, true)
	must(t, p.runUntil(t, "snapshot", func() bool { return len(p.out.Values()) == 1 }))
	conn, err := db.Conn(t.Context())
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), "SET SESSION sql_mode = ''")
	must(t, err)
	_, err = conn.ExecContext(t.Context(), "INSERT INTO "+table+" VALUES (2, '0000-00-00'), (3, '2024-01-03')")
	must(t, err)
	must(t, p.runUntil(t, "dead letter", func() bool { return len(p.out.Values()) == 2 && len(p.dead.Values()) == 1 }))
	d := p.dead.Values()[0]
	if d.Field != "d" || !strings.Contains(d.Reason, "zero date") || !strings.Contains(d.Source, table) || !strings.Contains(d.Source, "row 0") {
		t.Fatalf("dead letter %+v", d)
	}
	if got := p.out.Values()[1].After[0]; got != int64(3) {
		t.Fatalf("the row after the bad one is %v", got)
	}
	if n := metricValue(t, reg, "weir_mysql_cdc_dead_letters_total"); n != 1 {
		t.Fatalf("dead letters metric %v", n)
	}

	// Fail policy: a fresh job (snapshot of the zero date row) fails.
	p2 := newPipeline(t, weirtest.New(weir.Options{Parallelism: 1}), Options{Addr: addr, Tables: []string{table}}, false)
	err = p2.runUntil(t, "failure", func() bool { return false })
	if !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), "zero date") {
		t.Fatalf("job error %v", err)
	}
}

// metricValue returns the value of a counter or gauge in reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	must(t, err)
	for _, f := range fams {
		if f.GetName() == name {
			var v float64
			for _, m := range f.GetMetric() {
				v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
			return v
		}
	}
	return 0
}

// TestColumnCountChange: DDL while the source runs fails the job clearly.
func TestColumnCountChange(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	p := newPipeline(t, weirtest.New(weir.Options{Parallelism: 1}), Options{Addr: addr, Tables: []string{table}}, false)
	mustExec(t, db, "INSERT INTO "+table+" VALUES (1, 1, 1)")
	must(t, p.runUntil(t, "row", func() bool { return len(p.out.Values()) == 1 }))
	mustExec(t, db, "ALTER TABLE "+table+" ADD COLUMN w INT")
	mustExec(t, db, "INSERT INTO "+table+" VALUES (2, 2, 2, 2)")
	err := p.runUntil(t, "failure", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "DDL") || !strings.Contains(err.Error(), "4 columns") {
		t.Fatalf("job error %v", err)
	}
}

// TestOutage cuts the connections (through a proxy) while changes are
// made, twice: the source reconnects with backoff and every change
// arrives exactly once.
func TestOutage(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	fill(t, db, table, 200)
	proxy := testnet.NewProxy(t, addr)
	reg := prometheus.NewRegistry()
	opts := Options{Addr: proxy.Addr(), Tables: []string{table}, ChunkSize: 50, Registry: reg,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	p := newPipeline(t, weirtest.New(weir.Options{Parallelism: 1}), opts, false)
	m := newModel(t)
	must(t, p.runUntil(t, "snapshot", func() bool { return len(p.out.Values()) == 200 }))
	for round := range 2 {
		stop := make(chan struct{})
		var wg syncGroup
		writer(t, db, table, uint64(10+round), 199, stop, &wg.WaitGroup)
		n := len(p.out.Values())
		must(t, p.runUntil(t, "changes", func() bool { return len(p.out.Values()) > n+20 }))
		proxy.Cut()
		must(t, p.runUntil(t, "reconnect attempt", func() bool { return metricValue(t, reg, "weir_mysql_cdc_reconnects_total") > float64(round) }))
		close(stop)
		wg.Wait()
		proxy.Restore()
	}
	// A last row marks the end: once it arrived, everything before it did.
	mustExec(t, db, "INSERT INTO "+table+" VALUES (-1, 0, 0)")
	must(t, p.runUntil(t, "catch-up", func() bool {
		vs := p.out.Values()
		return len(vs) > 0 && vs[len(vs)-1].After != nil && vs[len(vs)-1].After[0] == int64(-1)
	}))
	for _, c := range p.out.Values() {
		m.apply(c)
	}
	m.check(db, table)
	if lag := metricValue(t, reg, "weir_mysql_cdc_lag_seconds"); lag < 0 || lag > 60 {
		t.Fatalf("lag %v s", lag)
	}
	if ev := metricValue(t, reg, "weir_mysql_cdc_events_total"); ev != float64(m.n) {
		t.Fatalf("events metric %v, %d changes", ev, m.n)
	}
	t.Logf("%d changes, %v reconnects", m.n, metricValue(t, reg, "weir_mysql_cdc_reconnects_total"))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMissingBinlog: a start position the server no longer has (purged
// binlog) fails the job at once instead of retrying forever.
func TestMissingBinlog(t *testing.T) {
	db := testDB(t)
	table := newTable(t, db, kvCols)
	p := newPipeline(t, weirtest.New(weir.Options{Parallelism: 1}), Options{Addr: addr, Tables: []string{table},
		Startup: SpecificOffset, StartFile: "mariadb-bin.999999", StartPos: 4}, false)
	err := p.runUntil(t, "failure", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "cannot send the binlog") {
		t.Fatalf("job error %v", err)
	}
}
