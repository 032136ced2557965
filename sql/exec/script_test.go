package exec

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// TestScripts runs the scripts in testdata. Commands:
//
//	group-agg | window-agg | window-assign | session-tvf | attached-window-agg | over [parallelism=N] [backend=heap|pebble]
//	  in: <types>           input column types
//	  keys: $0, $1          group keys (session-tvf: PARTITION BY keys)
//	  agg: SUM($1) ...      one per aggregate call
//	  insert-only: true     (group-agg) append-only input
//	  update-before: true   (group-agg) emit -U before +U
//	  ttl: 10s              (group-agg) state TTL
//	  time: $0 | proctime   (window) time attribute
//	  window: TUMBLE 10m    (window) TUMBLE size [OFFSET o] | HOP slide size | CUMULATE step max | SESSION gap
//	  window: $2 $3         (attached-window-agg) the window_start and window_end columns
//	  ----
//	  out: <output types>, or the error
//	feed
//	  +I[...]               a row (event timestamp = time column, if any)
//	  watermark <time>      a watermark
//	  proctime <time>       move processing time
//	  end                   end the input
//	  ----
//	  the rows the operator emitted meanwhile
//	counters                late-dropped and ignored-retraction counts
//	restore [parallelism=N] [backend=...]
//	                        snapshot, then continue on a restored job
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.HasSuffix(path, ".txt") {
			t.Skip("a join or rank script (TestJoinScripts)")
		}
		if strings.Contains(filepath.ToSlash(path), "testdata/fixtures/") {
			t.Skip("a snapshot restored by a test (not a script)")
		}
		s := &script{t: t}
		datadriven.RunTest(t, path, s.run)
	})
}

type script struct {
	t        *testing.T
	kind     string
	lines    map[string][]string
	inTypes  []row.Type
	outTypes []row.Type
	timeCol  int
	counters *Counters
	h        *weirtest.Harness
	in       *weirtest.Input[row.Row]
	out      *weirtest.Output[row.Row]
}

func options(t *testing.T, d *datadriven.TestData) weir.Options {
	p, backend := 1, weir.StateHeap
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "parallelism":
			p, _ = strconv.Atoi(a.Vals[0])
		case "backend":
			backend = a.Vals[0]
		}
	}
	return weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
}

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "group-agg", "window-agg", "window-assign", "session-tvf", "attached-window-agg", "dedup", "topn", "over", "sort":
		s.kind = d.Cmd
		s.counters = nil
		s.lines = map[string][]string{}
		for _, l := range strings.Split(d.Input, "\n") {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			s.lines[strings.TrimSpace(k)] = append(s.lines[strings.TrimSpace(k)], strings.TrimSpace(v))
		}
		h := weirtest.New(options(t, d))
		if err := s.build(h); err != nil {
			return "error: " + err.Error()
		}
		h.Start(t)
		s.h = h
		parts := make([]string, len(s.outTypes))
		for i, ty := range s.outTypes {
			parts[i] = ty.String()
		}
		return "out: " + strings.Join(parts, ", ")
	case "restore":
		snap, err := s.h.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		h := weirtest.Restore(options(t, d), snap)
		if err := s.build(h); err != nil {
			t.Fatal(err)
		}
		h.Start(t)
		if err := h.SetProcessingTime(snap.ProcessingTime); err != nil {
			t.Fatal(err)
		}
		s.h = h
		return "ok"
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
				if ms, err = parseTime(strings.TrimPrefix(l, "watermark ")); err == nil {
					err = s.in.Watermark(ms)
				}
			case strings.HasPrefix(l, "proctime "):
				var ms int64
				if ms, err = parseTime(strings.TrimPrefix(l, "proctime ")); err == nil {
					err = s.h.SetProcessingTime(ms)
				}
			default:
				var r row.Row
				if r, err = parseRow(l, s.inTypes); err != nil {
					t.Fatal(err)
				}
				ts := weir.NoTimestamp
				if s.timeCol >= 0 {
					ts = r.Fields[s.timeCol].Millis()
					if s.kind == "attached-window-agg" {
						ts-- // window_time
					}
				}
				err = s.in.Push(r, ts)
			}
			if err != nil {
				return "error: " + err.Error()
			}
		}
		var lines []string
		for _, r := range s.out.Take() {
			lines = append(lines, row.FormatRow(r, s.outTypes)+"\n")
		}
		if d.HasArg("sort") {
			sort.Strings(lines)
		}
		return strings.Join(lines, "")
	case "counters":
		return fmt.Sprintf("late-dropped=%d ignored-retractions=%d\n",
			s.counters.LateRecordsDropped.Load(), s.counters.IgnoredRetractions.Load())
	}
	t.Fatalf("unknown command %s", d.Cmd)
	return ""
}

func (s *script) one(key string) string {
	if v := s.lines[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// build builds the operator under test on h from the script's spec.
func (s *script) build(h *weirtest.Harness) error {
	var err error
	if s.inTypes, err = parseTypes(s.one("in")); err != nil {
		return err
	}
	keys, err := parseInts(s.one("keys"))
	if err != nil {
		return err
	}
	var aggs []AggCall
	for _, a := range s.lines["agg"] {
		c, err := parseAgg(a)
		if err != nil {
			return err
		}
		aggs = append(aggs, c)
	}
	if s.counters == nil {
		s.counters = &Counters{}
	}
	s.in = weirtest.NewInput[row.Row](h)
	s.timeCol = -1
	var out weir.Stream[row.Row]
	switch s.kind {
	case "group-agg":
		spec := GroupAggSpec{InputTypes: s.inTypes, GroupKeys: keys, Aggs: aggs, UID: "agg",
			InsertOnly: s.one("insert-only") == "true", GenerateUpdateBefore: s.one("update-before") == "true",
			Counters: s.counters}
		if ttl := s.one("ttl"); ttl != "" {
			if spec.StateTTL, err = time.ParseDuration(ttl); err != nil {
				return err
			}
		}
		if s.outTypes, err = spec.OutputTypes(); err != nil {
			return err
		}
		if out, err = GroupAggregate(s.in.Stream(), spec); err != nil {
			return err
		}
	case "dedup":
		spec := DedupSpec{Types: s.inTypes, Keys: keys, KeepLast: s.one("keep") == "last",
			GenerateUpdateBefore: s.one("update-before") == "true", GenerateInsert: true}
		if tc := s.one("time"); tc != "proctime" {
			spec.RowTime = true
			if spec.TimeCol, err = strconv.Atoi(strings.TrimPrefix(tc, "$")); err != nil {
				return err
			}
		}
		s.outTypes = s.inTypes
		if out, err = Deduplicate(s.in.Stream(), spec); err != nil {
			return err
		}
	case "topn":
		spec := TopNSpec{InputTypes: s.inTypes, PartitionKeys: keys, OutputRank: s.one("rank") == "true",
			GenerateUpdateBefore: s.one("update-before") == "true", UID: "topn"}
		if spec.N, err = strconv.Atoi(s.one("n")); err != nil {
			return err
		}
		for _, sk := range s.lines["sort"] {
			f := strings.Fields(sk)
			col, err := strconv.Atoi(strings.TrimPrefix(f[0], "$"))
			if err != nil {
				return err
			}
			k := SortKey{Col: col}
			for _, w := range f[1:] {
				switch w {
				case "DESC":
					k.Desc = true
				case "NULLS_FIRST":
					k.NullsFirst = true
				}
			}
			spec.SortKeys = append(spec.SortKeys, k)
		}
		if s.outTypes, err = spec.OutputTypes(); err != nil {
			return err
		}
		if out, err = TopN(s.in.Stream(), spec); err != nil {
			return err
		}
	case "over":
		if out, err = s.over(aggs, keys); err != nil {
			return err
		}
	case "sort":
		if out, err = s.sort(); err != nil {
			return err
		}
	case "attached-window-agg":
		// window: $start $end (the input's window columns; the event
		// timestamp of a row is its window_end - 1 ms)
		if out, err = s.attachedWindowAgg(keys, aggs); err != nil {
			return err
		}
	case "window-agg", "window-assign", "session-tvf":
		w, err := parseWindow(s.one("window"))
		if err != nil {
			return err
		}
		timeCol := ProcTime
		if tc := s.one("time"); tc != "proctime" {
			if timeCol, err = strconv.Atoi(strings.TrimPrefix(tc, "$")); err != nil {
				return err
			}
			s.timeCol = timeCol
		}
		if s.kind == "session-tvf" {
			// keys: the PARTITION BY columns
			spec := SessionTVFSpec{InputTypes: s.inTypes, TimeCol: timeCol, Window: w, PartitionKeys: keys,
				UID: "stvf", Counters: s.counters}
			if s.outTypes, err = spec.OutputTypes(); err != nil {
				return err
			}
			if out, err = SessionTVF(s.in.Stream(), spec); err != nil {
				return err
			}
			break
		}
		if s.kind == "window-assign" {
			spec := WindowAssignSpec{InputTypes: s.inTypes, TimeCol: timeCol, Window: w}
			if s.outTypes, err = spec.OutputTypes(); err != nil {
				return err
			}
			if out, err = WindowAssign(s.in.Stream(), spec); err != nil {
				return err
			}
			break
		}
		spec := WindowAggSpec{InputTypes: s.inTypes, TimeCol: timeCol, Window: w, GroupKeys: keys, Aggs: aggs,
			UID: "wagg", Counters: s.counters, UpdatingInput: s.one("updating") == "true"}
		if s.outTypes, err = spec.OutputTypes(); err != nil {
			return err
		}
		if out, err = WindowAggregate(s.in.Stream(), spec); err != nil {
			return err
		}
	}
	s.out = weirtest.Capture(h, out)
	return nil
}
