package exec

import (
	"fmt"
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

// The script tests drive one operator through a weirtest harness. A script
// starts with the operator:
//
//	join type=left left=(BIGINT,STRING) right=(BIGINT,STRING) lkeys=0 rkeys=0 [cond=(<,1,1)] [ttl=10s] [lttl=..] [rttl=..] [nullsafe] [lappend] [rappend]
//	ijoin type=inner left=(...) right=(...) lkeys=0 rkeys=0 ltime=1 rtime=1 lower=10s upper=20s [proctime]
//	rank types=(...) partition=(0) order=(2) [desc] [nullslast] end=N [start=N] [rownum] [updating] [noub] [ttl=..] [cache=ROWS] [nocache] [backend=heap|pebble] [legacy=top-n|retractable]
//	dedup types=(...) keys=(0) [last] [rowtime=COL] [ub] [insert] [updating]
//	wrank types=(...) wstart=COL wend=COL [partition=(..)] order=(..) [desc] [nullslast] end=N [start=N] [rownum]
//	wdedup types=(...) wstart=COL wend=COL time=COL [keys=(..)] [last]
//	wjoin type=full left=(...) right=(...) lkeys=(..) rkeys=(..) lwstart=C lwend=C rwstart=C rwend=C
//
// then sends rows (one per line, "+I[1, a]", NULL as "null", TS as
// "2020-01-01 10:00:00" or epoch millis) with "left", "right" or "in",
// moves time with "watermark N" (all inputs) and "proctime N", and
// "restore p=N backend=heap|pebble" checkpoints the job and goes on in a
// job restored from the checkpoint. Each command's expected output is the
// changelog the operator emitted; with the argument "sorted" its lines are
// sorted (for rows of several keys, whose relative order is unspecified).
func TestJoinScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		base := path[strings.LastIndex(path, "/")+1:]
		if !strings.HasPrefix(base, "join_") && !strings.HasPrefix(base, "rank_") {
			t.Skip("not a join or rank script")
		}
		s := &opScript{t: t}
		datadriven.RunTest(t, path, s.run)
	})
}

type opScript struct {
	t       *testing.T
	build   func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error)
	inTypes [][]row.Type
	out     []row.Type
	h       *weirtest.Harness
	ins     []*weirtest.Input[row.Row]
	cap     *weirtest.Output[row.Row]
}

func scriptType(s string) (row.Type, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "BIGINT":
		return row.BigInt(), nil
	case "INT":
		return row.IntType(), nil
	case "STRING":
		return row.String(), nil
	case "TS":
		return row.TimestampType(3), nil
	}
	return row.Type{}, fmt.Errorf("unknown type %q", s)
}

func scriptArgTypes(d *datadriven.TestData, key string) ([]row.Type, error) {
	for _, a := range d.CmdArgs {
		if a.Key != key {
			continue
		}
		var ts []row.Type
		for _, v := range a.Vals {
			t, err := scriptType(v)
			if err != nil {
				return nil, err
			}
			ts = append(ts, t)
		}
		return ts, nil
	}
	return nil, fmt.Errorf("missing %s=", key)
}

func scriptArgInts(d *datadriven.TestData, key string) []int {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			var out []int
			for _, v := range a.Vals {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					d.Fatalf(nil, "%s: %v", key, err)
				}
				out = append(out, n)
			}
			return out
		}
	}
	return nil
}

func scriptArgInt(d *datadriven.TestData, key string, def int64) int64 {
	if v := scriptArgInts(d, key); len(v) > 0 {
		return int64(v[0])
	}
	return def
}

func scriptArgDur(d *datadriven.TestData, key string) time.Duration {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			v, err := time.ParseDuration(a.Vals[0])
			if err != nil {
				d.Fatalf(nil, "%s: %v", key, err)
			}
			return v
		}
	}
	return 0
}

func scriptArgStr(d *datadriven.TestData, key, def string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return def
}

func scriptJoinType(s string) (JoinType, error) {
	switch s {
	case "inner":
		return InnerJoin, nil
	case "left":
		return LeftJoin, nil
	case "right":
		return RightJoin, nil
	case "full":
		return FullJoin, nil
	case "semi":
		return SemiJoin, nil
	case "anti":
		return AntiJoin, nil
	}
	return 0, fmt.Errorf("unknown join type %q", s)
}

// condArg parses cond=(op,lcol,rcol): left[lcol] op right[rcol] on
// integers; NULL is false.
func scriptCond(d *datadriven.TestData) JoinCondition {
	for _, a := range d.CmdArgs {
		if a.Key != "cond" {
			continue
		}
		op := a.Vals[0]
		l, _ := strconv.Atoi(a.Vals[1])
		r, _ := strconv.Atoi(a.Vals[2])
		return func(lf, rf []row.Value) (bool, error) {
			if lf[l].IsNull() || rf[r].IsNull() {
				return false, nil
			}
			x, y := lf[l].Int(), rf[r].Int()
			switch op {
			case "<":
				return x < y, nil
			case ">":
				return x > y, nil
			case "<>":
				return x != y, nil
			}
			return false, fmt.Errorf("unknown op %q", op)
		}
	}
	return nil
}

func (s *opScript) run(t *testing.T, d *datadriven.TestData) string {
	out := s.run1(t, d)
	if d.HasArg("sorted") {
		// Rows of different keys, possibly from different subtasks: their
		// relative order is not specified.
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		sort.Strings(lines)
		out = strings.Join(lines, "\n") + "\n"
	}
	return out
}

func (s *opScript) run1(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "join", "ijoin", "wjoin":
		lt, err := scriptArgTypes(d, "left")
		if err != nil {
			return err.Error()
		}
		rt, err := scriptArgTypes(d, "right")
		if err != nil {
			return err.Error()
		}
		jt, err := scriptJoinType(scriptArgStr(d, "type", "inner"))
		if err != nil {
			return err.Error()
		}
		s.inTypes = [][]row.Type{lt, rt}
		s.out = append(append([]row.Type{}, lt...), rt...)
		if jt >= SemiJoin {
			s.out = lt
		}
		if d.Cmd == "join" {
			spec := JoinSpec{Type: jt, LeftTypes: lt, RightTypes: rt, LeftKeys: scriptArgInts(d, "lkeys"), RightKeys: scriptArgInts(d, "rkeys"),
				Condition: scriptCond(d), StateTTL: scriptArgDur(d, "ttl"), LeftStateTTL: scriptArgDur(d, "lttl"), RightStateTTL: scriptArgDur(d, "rttl"),
				LeftAppendOnly: d.HasArg("lappend"), RightAppendOnly: d.HasArg("rappend")}
			if d.HasArg("nullsafe") {
				spec.NullSafe = make([]bool, len(spec.LeftKeys))
				for i := range spec.NullSafe {
					spec.NullSafe[i] = true
				}
			}
			s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return RegularJoin(ins[0], ins[1], spec)
			}
		} else if d.Cmd == "wjoin" {
			spec := WindowJoinSpec{Type: jt, LeftTypes: lt, RightTypes: rt, LeftKeys: scriptArgInts(d, "lkeys"), RightKeys: scriptArgInts(d, "rkeys"),
				LeftWindowStart: int(scriptArgInt(d, "lwstart", 0)), LeftWindowEnd: int(scriptArgInt(d, "lwend", 1)),
				RightWindowStart: int(scriptArgInt(d, "rwstart", 0)), RightWindowEnd: int(scriptArgInt(d, "rwend", 1)), Condition: scriptCond(d)}
			s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return WindowJoin(ins[0], ins[1], spec)
			}
		} else {
			spec := IntervalJoinSpec{Type: jt, LeftTypes: lt, RightTypes: rt, LeftKeys: scriptArgInts(d, "lkeys"), RightKeys: scriptArgInts(d, "rkeys"),
				LeftTime: int(scriptArgInt(d, "ltime", 0)), RightTime: int(scriptArgInt(d, "rtime", 0)),
				LowerBound: scriptArgDur(d, "lower"), UpperBound: scriptArgDur(d, "upper"), ProcTime: d.HasArg("proctime"), Condition: scriptCond(d)}
			s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
				return IntervalJoin(ins[0], ins[1], spec)
			}
		}
		return s.start(1, weir.StateHeap, "")
	case "rank":
		ts, err := scriptArgTypes(d, "types")
		if err != nil {
			return err.Error()
		}
		spec := RankSpec{Types: ts, PartitionKeys: scriptArgInts(d, "partition"), RankStart: scriptArgInt(d, "start", 1), RankEnd: scriptArgInt(d, "end", 1),
			OutputRankNumber: d.HasArg("rownum"), Updating: d.HasArg("updating"), GenerateUpdateBefore: !d.HasArg("noub"), StateTTL: scriptArgDur(d, "ttl"),
			UpdateKey: scriptArgInts(d, "update"), CacheSize: scriptArgInt(d, "cache", 0), noCache: d.HasArg("nocache")}
		for _, c := range scriptArgInts(d, "order") {
			spec.OrderBy = append(spec.OrderBy, OrderKey{Col: c, Desc: d.HasArg("desc"), NullsLast: d.HasArg("nullslast")})
		}
		s.inTypes = [][]row.Type{ts}
		s.out = ts
		if spec.OutputRankNumber {
			s.out = append(append([]row.Type{}, ts...), row.BigInt())
		}
		legacy := scriptArgStr(d, "legacy", "")
		builds := 0
		s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) {
			// legacy: the first job runs the layout the operator had
			// before (its snapshots restore into the current one).
			builds++
			spec := spec
			spec.topN = builds == 1 && legacy == "top-n"
			spec.retractable = builds == 1 && legacy == "retractable"
			return Rank(ins[0], spec)
		}
		return s.start(1, scriptArgStr(d, "backend", weir.StateHeap), "")
	case "wrank":
		ts, err := scriptArgTypes(d, "types")
		if err != nil {
			return err.Error()
		}
		spec := WindowRankSpec{Types: ts, PartitionKeys: scriptArgInts(d, "partition"), WindowStart: int(scriptArgInt(d, "wstart", 0)), WindowEnd: int(scriptArgInt(d, "wend", 1)),
			RankStart: scriptArgInt(d, "start", 1), RankEnd: scriptArgInt(d, "end", 1), OutputRankNumber: d.HasArg("rownum")}
		for _, c := range scriptArgInts(d, "order") {
			spec.OrderBy = append(spec.OrderBy, OrderKey{Col: c, Desc: d.HasArg("desc"), NullsLast: d.HasArg("nullslast")})
		}
		s.inTypes = [][]row.Type{ts}
		s.out = ts
		if spec.OutputRankNumber {
			s.out = append(append([]row.Type{}, ts...), row.BigInt())
		}
		s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return WindowRank(ins[0], spec) }
		return s.start(1, weir.StateHeap, "")
	case "wdedup":
		ts, err := scriptArgTypes(d, "types")
		if err != nil {
			return err.Error()
		}
		spec := WindowDedupSpec{Types: ts, Keys: scriptArgInts(d, "keys"), WindowStart: int(scriptArgInt(d, "wstart", 0)), WindowEnd: int(scriptArgInt(d, "wend", 1)),
			TimeCol: int(scriptArgInt(d, "time", 0)), KeepLast: d.HasArg("last")}
		s.inTypes = [][]row.Type{ts}
		s.out = ts
		s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return WindowDeduplicate(ins[0], spec) }
		return s.start(1, weir.StateHeap, "")
	case "dedup":
		ts, err := scriptArgTypes(d, "types")
		if err != nil {
			return err.Error()
		}
		spec := DedupSpec{Types: ts, Keys: scriptArgInts(d, "keys"), KeepLast: d.HasArg("last"), RowTime: d.HasArg("rowtime"),
			TimeCol: int(scriptArgInt(d, "rowtime", 0)), GenerateUpdateBefore: d.HasArg("ub"), GenerateInsert: d.HasArg("insert"),
			Updating: d.HasArg("updating")}
		s.inTypes = [][]row.Type{ts}
		s.out = ts
		s.build = func(ins []weir.Stream[row.Row]) (weir.Stream[row.Row], error) { return Deduplicate(ins[0], spec) }
		return s.start(1, weir.StateHeap, "")
	case "left", "right", "in":
		i := 0
		if d.Cmd == "right" {
			i = 1
		}
		if s.h == nil || i >= len(s.ins) {
			d.Fatalf(t, "no such input")
		}
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			r, ts, err := scriptRow(line, s.inTypes[i])
			if err != nil {
				d.Fatalf(t, "%s: %v", line, err)
			}
			if err := s.ins[i].Push(r, ts); err != nil {
				break
			}
		}
		return s.take()
	case "watermark":
		wm, err := strconv.ParseInt(d.CmdArgs[0].Key, 10, 64)
		if err != nil {
			tm, terr := time.Parse("2006-01-02T15:04:05.999", d.CmdArgs[0].Key)
			if terr != nil {
				d.Fatalf(t, "watermark: %v", err)
			}
			wm = tm.UnixMilli()
		}
		for _, in := range s.ins {
			if err := in.Watermark(wm); err != nil {
				return "error: " + err.Error()
			}
		}
		return s.take()
	case "proctime":
		pt, err := strconv.ParseInt(d.CmdArgs[0].Key, 10, 64)
		if err != nil {
			d.Fatalf(t, "proctime: %v", err)
		}
		if err := s.h.SetProcessingTime(pt); err != nil {
			return "error: " + err.Error()
		}
		return s.take()
	case "restore":
		snap, err := s.h.Snapshot()
		if err != nil {
			return "error: " + err.Error()
		}
		return s.start(int(scriptArgInt(d, "p", 1)), scriptArgStr(d, "backend", weir.StateHeap), snap.Path)
	}
	d.Fatalf(t, "unknown command %s", d.Cmd)
	return ""
}

// start builds the operator on a new harness, restored from path if set.
func (s *opScript) start(p int, backend, path string) string {
	opts := weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: s.t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: s.t.TempDir()}}
	var h *weirtest.Harness
	if path == "" {
		h = weirtest.New(opts)
	} else {
		pt := int64(0)
		if s.h != nil {
			pt = s.h.ProcessingTime()
		}
		h = weirtest.Restore(opts, weirtest.Snapshot{Path: path, ProcessingTime: pt})
	}
	ins := make([]*weirtest.Input[row.Row], len(s.inTypes))
	streams := make([]weir.Stream[row.Row], len(s.inTypes))
	for i := range ins {
		ins[i] = weirtest.NewInput[row.Row](h)
		streams[i] = ins[i].Stream()
	}
	out, err := s.build(streams)
	if err != nil {
		return "error: " + err.Error()
	}
	s.h, s.ins, s.cap = h, ins, weirtest.Capture(h, out.UID("op"))
	if err := h.StartErr(); err != nil {
		return "error: " + err.Error()
	}
	s.t.Cleanup(func() {
		if st := h.Stepper(); st != nil {
			_ = st.Close()
		}
	})
	return "ok"
}

func (s *opScript) take() string {
	if err := s.h.Err(); err != nil {
		// The engine's prefix names the task and subtask; keep the
		// operator's own message.
		msg := err.Error()
		if i := strings.Index(msg, "sql/exec:"); i >= 0 {
			msg = msg[i:]
		}
		return "error: " + msg
	}
	var b strings.Builder
	for _, r := range s.cap.Take() {
		b.WriteString(row.FormatRow(r, s.out))
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

// parseRow parses "+I[1, a, null]" with the given field types; the record
// timestamp is that of the first TS column, or 0.
func scriptRow(s string, types []row.Type) (row.Row, int64, error) {
	if len(s) < 4 || s[2] != '[' || s[len(s)-1] != ']' {
		return row.Row{}, 0, fmt.Errorf("want KIND[fields]")
	}
	k, err := row.ParseKind(s[:2])
	if err != nil {
		return row.Row{}, 0, err
	}
	parts := strings.Split(s[3:len(s)-1], ",")
	if len(parts) != len(types) {
		return row.Row{}, 0, fmt.Errorf("%d fields, want %d", len(parts), len(types))
	}
	r := row.Row{Kind: k, Fields: make([]row.Value, len(types))}
	var ts int64
	tsSet := false
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "null" {
			continue
		}
		switch {
		case types[i].IsString():
			r.Fields[i] = row.Str(p)
		case types[i].IsTimestamp():
			ms, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				tm, perr := time.Parse("2006-01-02 15:04:05.999", p)
				if perr != nil {
					if tm, perr = time.Parse("2006-01-02 15:04", p); perr != nil {
						return row.Row{}, 0, perr
					}
				}
				ms = tm.UnixMilli()
			}
			r.Fields[i] = row.Timestamp(ms, 0)
			if !tsSet {
				ts, tsSet = ms, true
			}
		default:
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return row.Row{}, 0, err
			}
			r.Fields[i] = row.Int(n)
		}
	}
	return r, ts, nil
}
