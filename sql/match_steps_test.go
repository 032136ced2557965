package sql

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/format/csv"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/plan"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestMatchSteps runs the MATCH_RECOGNIZE scripts of
// testdata/match_steps: the operator planned from SQL runs on a test
// harness that the script drives row by row, with explicit watermarks,
// processing time, snapshots and restores. Commands:
//
//	exec                 a DDL statement (the table's connector is not used)
//	match [parallelism=N] [backend=heap|pebble]
//	                     plans the query (SELECT * FROM t MATCH_RECOGNIZE
//	                     (...)) and starts its operator; prints the output
//	                     types or the error
//	feed [sort]          CSV rows of the input table (event timestamp: the
//	                     ORDER BY rowtime), "watermark <time>",
//	                     "proctime <time>", "end"; prints the rows emitted
//	restore [parallelism=N] [backend=...]
//	                     snapshot, then go on in a job restored from it
func TestMatchSteps(t *testing.T) {
	datadriven.Walk(t, "testdata/match_steps", func(t *testing.T, path string) {
		s := &matchScript{sess: NewSession(SessionOptions{})}
		datadriven.RunTest(t, path, s.run)
	})
}

type matchScript struct {
	sess    *Session
	node    *plan.MatchRecognize
	spec    exec.MatchSpec
	dec     *csv.Decoder
	h       *weirtest.Harness
	in      *weirtest.Input[row.Row]
	out     *weirtest.Output[row.Row]
	timeCol int
}

func matchOptions(t *testing.T, d *datadriven.TestData) weir.Options {
	p, backend := 1, weir.StateHeap
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "parallelism":
			p, _ = strconv.Atoi(a.Vals[0])
		case "backend":
			backend = a.Vals[0]
		}
	}
	return weir.Options{Parallelism: p, MaxParallelism: 128, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

func (s *matchScript) build(h *weirtest.Harness) {
	s.in = weirtest.NewInput[row.Row](h)
	out, err := exec.MatchRecognize(s.in.Stream(), s.spec)
	if err != nil {
		panic(err)
	}
	s.out = weirtest.Capture(h, out)
}

func (s *matchScript) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "exec":
		stmts, err := parser.Parse(d.Input)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		if _, _, err := s.sess.Execute(stmts[0]); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	case "match":
		stmts, err := parser.Parse(d.Input)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		j, err := s.sess.plan(stmts[0])
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		m, ok := j.query.(*plan.MatchRecognize)
		if !ok {
			t.Fatalf("the query's plan is %T, not a MatchRecognize: write SELECT * FROM t MATCH_RECOGNIZE (...)", j.query)
		}
		if _, ok := m.In.(*plan.Scan); !ok {
			t.Fatalf("MATCH_RECOGNIZE reads %T: read a table without computed columns", m.In)
		}
		s.node = m
		tr := &translator{cfg: j.cfg, loc: time.UTC, uids: map[string]int{}}
		s.spec = tr.matchSpec(m)
		s.timeCol = s.spec.TimeCol
		s.dec, err = csv.NewDecoder(plan.Schema(m.In), csv.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exec.MatchRecognize(weir.FromSlice(weir.NewEnvironment(weir.Options{}), []row.Row{}), s.spec); err != nil {
			return "error: " + err.Error() + "\n"
		}
		s.h = weirtest.New(matchOptions(t, d))
		s.build(s.h)
		s.h.Start(t)
		var types []string
		for _, c := range m.Columns() {
			types = append(types, c.Name+" "+c.Type.String())
		}
		return "out: " + strings.Join(types, ", ") + "\n"
	case "restore":
		snap, err := s.h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		h := weirtest.Restore(matchOptions(t, d), snap)
		s.build(h)
		h.Start(t)
		s.h = h
		return "ok\n"
	case "feed":
		for _, l := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			l = strings.TrimSpace(l)
			var err error
			switch {
			case l == "":
			case l == "end":
				err = s.in.End()
			case strings.HasPrefix(l, "watermark "):
				var ms int64
				if ms, err = stepTime(strings.TrimPrefix(l, "watermark ")); err == nil {
					err = s.in.Watermark(ms)
				}
			case strings.HasPrefix(l, "proctime "):
				var ms int64
				if ms, err = stepTime(strings.TrimPrefix(l, "proctime ")); err == nil {
					err = s.h.SetProcessingTime(ms)
				}
			default:
				r, ok, derr := s.dec.Decode([]byte(l))
				if derr != nil || !ok {
					t.Fatalf("row %q: %v", l, derr)
				}
				ts := weir.NoTimestamp
				if s.timeCol >= 0 {
					ts = r.Fields[s.timeCol].Millis()
				}
				err = s.in.Push(r, ts)
			}
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
		}
		var lines []string
		types := plan.Types(s.node)
		for _, r := range s.out.Take() {
			lines = append(lines, row.FormatRow(r, types)+"\n")
		}
		if d.HasArg("sort") {
			sortStrings(lines)
		}
		return strings.Join(lines, "")
	}
	t.Fatalf("unknown command %s", d.Cmd)
	return ""
}

func stepTime(s string) (int64, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.000", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if tm, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return tm.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("bad time %q", s)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
