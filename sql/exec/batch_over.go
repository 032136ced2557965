package exec

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/state"
)

// BatchOverFunc is the function of a BatchOverCall.
type BatchOverFunc uint8

// The functions of a batch OVER window.
const (
	// OverAgg is an aggregate function (BatchOverCall.Agg) over the
	// call's frame.
	OverAgg BatchOverFunc = iota
	// OverRowNumber is ROW_NUMBER(): 1, 2, 3, ... in the partition's order.
	OverRowNumber
	// OverRank is RANK(): 1 + the rows before the row's peer group.
	OverRank
	// OverDenseRank is DENSE_RANK(): the number of the row's peer group.
	OverDenseRank
	// OverPercentRank is PERCENT_RANK(): (RANK() - 1) / (rows - 1), 0 for
	// a partition of one row (DOUBLE).
	OverPercentRank
	// OverCumeDist is CUME_DIST(): the rows up to the last peer of the
	// row, divided by the partition's rows (DOUBLE).
	OverCumeDist
	// OverNtile is NTILE(Offset): the bucket 1..Offset of the row, the
	// buckets as equal as can be, the first ones a row larger.
	OverNtile
	// OverLead and OverLag are LEAD and LAG(Arg, Offset, Default): Arg
	// of the row Offset rows after (before) the row in the partition's
	// order, or the Default column's value when there is none.
	OverLead
	OverLag
)

// BoundKind is the kind of a frame bound of a batch OVER window.
type BoundKind uint8

// Frame bound kinds.
const (
	BoundUnboundedPreceding BoundKind = iota
	BoundPreceding
	BoundCurrentRow
	BoundFollowing
	BoundUnboundedFollowing
)

// FrameBound is one end of a frame. Rows is the offset of a ROWS
// frame; Range the offset of a RANGE frame, a value of the first order
// key's type (for a TIMESTAMP or TIMESTAMP_LTZ key: milliseconds; for a
// DATE key: days; for a TIME key: nanoseconds), or a number of months
// when RangeType is INTERVAL YEAR TO MONTH (over a DATE, TIMESTAMP or
// TIMESTAMP_LTZ key: the bound is the key plus or minus that many months,
// the day clamped to the month's last, as expr.AddMonths).
type FrameBound struct {
	Kind  BoundKind
	Rows  int64
	Range row.Value
	// RangeType is the type of Range for a DECIMAL key: a DECIMAL whose
	// scale is at least the key's, so that an offset finer than the key
	// (0.5 over a DECIMAL(5, 0)) stays exact; INTERVAL YEAR TO MONTH for
	// an offset in months. Zero: the key's type.
	RangeType row.Type
}

// BatchOverCall is one call of a batch OVER window.
type BatchOverCall struct {
	Func BatchOverFunc
	// Agg is the aggregate call of OverAgg.
	Agg AggCall
	// Rows makes the frame of OverAgg a ROWS frame; otherwise RANGE
	// (peers: rows whose order keys are equal).
	Rows       bool
	Start, End FrameBound
	// Arg is the value column of LEAD and LAG; Default the default's
	// column or -1 (NULL).
	Arg, Default int
	// Offset is LEAD's and LAG's offset, NTILE's number of buckets.
	Offset int64
}

// BatchOverSpec configures BatchOver.
type BatchOverSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// PartitionKeys are the PARTITION BY columns (empty: one partition).
	PartitionKeys []int
	// OrderBy are the ORDER BY keys (may be empty).
	OrderBy []OrderKey
	// Calls are the window's calls, in output order.
	Calls []BatchOverCall
	// UID and Name name the operator (optional).
	UID, Name string
	// MemoryBudget is the memory, in bytes, a partition may take while it
	// is sorted and computed (table.exec.resource.external-buffer-memory;
	// estimated from the rows' encoded size and their number of fields);
	// a larger partition is sorted externally into a spill file and read
	// back from it. Zero or negative: no limit.
	MemoryBudget int64
	// SpillDirs are the directories of the spill files (io.tmp.dirs),
	// subtask i taking the (i mod len)-th; none: the subtask's local
	// directory under the job's state directory
	// (weir.RuntimeContext.LocalDir), or the system's temporary directory
	// when the job has none. Each subtask makes a directory of its own in
	// it as its first partition spills, removed when the subtask closes.
	SpillDirs []string
}

func (s BatchOverSpec) check() error {
	if err := checkKeys(s.Types, s.PartitionKeys, "partition key"); err != nil {
		return err
	}
	for _, k := range s.OrderBy {
		if k.Col < 0 || k.Col >= len(s.Types) {
			return fmt.Errorf("sql/exec: BatchOver: order key column %d out of range (%d columns)", k.Col, len(s.Types))
		}
	}
	for _, c := range s.Calls {
		switch c.Func {
		case OverAgg:
			if _, err := newCall(c.Agg, s.Types, false); err != nil {
				return err
			}
			if !c.Rows && (c.Start.Kind == BoundPreceding || c.Start.Kind == BoundFollowing ||
				c.End.Kind == BoundPreceding || c.End.Kind == BoundFollowing) && len(s.OrderBy) != 1 {
				return fmt.Errorf("sql/exec: BatchOver: a RANGE frame with an offset needs exactly one order key")
			}
		case OverLead, OverLag:
			if c.Arg < 0 || c.Arg >= len(s.Types) || c.Default >= len(s.Types) || c.Offset < 0 {
				return fmt.Errorf("sql/exec: BatchOver: bad LEAD/LAG call (column %d, default %d, offset %d)", c.Arg, c.Default, c.Offset)
			}
		case OverNtile:
			if c.Offset <= 0 {
				return fmt.Errorf("sql/exec: BatchOver: NTILE needs a positive number of buckets, not %d", c.Offset)
			}
		}
	}
	return nil
}

// BatchOver computes the calls of one OVER window of the batch mode
// (Flink's BatchExecOverAggregate) over a bounded, insert-only input: it
// keeps each partition's rows in keyed list state ("batch-over-rows", so
// a checkpoint holds them) and, when the input ends (the final
// watermark), sorts the partition by the order keys (rows with equal keys
// in arrival order) and emits every row with the calls' results appended,
// insert-only. A partition is held in memory while it is computed when
// it fits spec.MemoryBudget, else it is sorted into a spill file and read
// back from it (batch_over_spill.go).
func BatchOver(in weir.Stream[row.Row], spec BatchOverSpec) (weir.Stream[row.Row], error) {
	if err := spec.check(); err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ks := weir.KeyBy(in, keySelector(spec.Types, spec.PartitionKeys))
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &batchOverFn{spec: spec}).DefaultName("OverAggregate")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

type batchOverFn struct {
	spec  BatchOverSpec
	codec *row.Codec
	rows  state.List[string]
	spill spillFiles
	// rc is the runtime context, for cancelled.
	rc *weir.KeyedRuntimeContext[string]
}

// cancelCheckEvery is how many rows the sort, merge and computation of a
// partition handle between two looks at the task's context.
const cancelCheckEvery = 4096

// cancelled returns the task context's error (wrapped) every
// cancelCheckEvery-th i, nil otherwise: a cancelled or failed job stops
// the partition at once, not at its end.
func (f *batchOverFn) cancelled(i int) error {
	if i%cancelCheckEvery != 0 || f.rc == nil {
		return nil
	}
	if err := f.rc.Context().Err(); err != nil {
		return fmt.Errorf("sql/exec: OverAggregate: stopped: %w", err)
	}
	return nil
}

func (f *batchOverFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.rc = ctx
	f.codec = row.NewCodec(f.spec.Types)
	f.rows = state.GetList[string, string](ctx.State(), state.Descriptor{Name: "batch-over-rows"})
	base := ctx.LocalDir()
	if d := f.spec.SpillDirs; len(d) > 0 {
		base = d[ctx.Subtask()%len(d)]
	}
	f.spill = spillFiles{base: base}
	return nil
}

// Close removes the spill files a failed partition left.
func (f *batchOverFn) Close() error {
	return f.spill.close()
}

func (f *batchOverFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: OverAggregate takes the final rows of its input, got a %v row %s", in.Kind, row.FormatRow(in, f.spec.Types))
	}
	f.rows.Add(string(f.codec.Append(nil, in)))
	ctx.RegisterEventTimeTimer(weir.MaxWatermark - 1)
	return nil
}

func (f *batchOverFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], _ int64) (err error) {
	enc := f.rows.Get()
	if len(enc) == 0 {
		return nil
	}
	p, err := f.sortPartition(enc)
	if err != nil {
		return err
	}
	f.rows.Clear()
	if p.file != nil {
		defer func() {
			if rerr := f.spill.remove(p.file); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	return f.emit(p, ctx.Collect)
}

// emit computes the calls over the sorted partition p and emits its rows
// with their results, in the window's order, row by row: every call keeps
// its own cursors into p (see batch_over_spill.go).
func (f *batchOverFn) emit(p *sortedPart, collect func(row.Row)) error {
	spec := f.spec
	n := p.n
	evals := make([]*overEval, len(spec.Calls))
	for i, c := range spec.Calls {
		e, err := f.newEval(c, p)
		if err != nil {
			return err
		}
		evals[i] = e
	}
	cur, look := p.cursor(), p.cursor()
	pi := peerInfo{n: n}
	w := len(spec.Types)
	for i := 0; i < n; i++ {
		if err := f.cancelled(i + 1); err != nil {
			return err
		}
		r := cur.at(i)
		pi.i = i
		if i >= pi.end {
			// A new peer group: find its end.
			pi.start, pi.dense = i, pi.dense+1
			j := i + 1
			for j < n && compareByKeys(r, look.at(j), spec.OrderBy, spec.Types) == 0 {
				j++
			}
			pi.end = j
		}
		fields := append(make([]row.Value, 0, w+len(spec.Calls)), r.Fields...)
		for _, e := range evals {
			fields = e.next(fields, r, &pi)
			if e.set != nil {
				if err := e.set.failed(); err != nil {
					return err
				}
			}
		}
		if p.err != nil {
			return p.err
		}
		collect(row.Row{Kind: row.Insert, Fields: fields})
	}
	return nil
}

// peerInfo is where the current row i stands among the partition's n
// rows: its peer group [start, end) and the group's number (dense).
type peerInfo struct {
	i, n, start, end int
	dense            int64
}

// overEval computes one call row by row.
type overEval struct {
	f *batchOverFn
	c BatchOverCall
	// cur reads LEAD's and LAG's row.
	cur *partCursor
	// Aggregates: set over the rows [a, b); add reads row b, drop row a,
	// redo the frame of a recomputed row; lo and hi are the RANGE offset
	// bounds' cursors and last positions.
	set             *aggSet
	slide           bool
	a, b            int
	add, drop, redo *partCursor
	loCur, hiCur    *partCursor
	loPos, hiPos    int
}

func (f *batchOverFn) newEval(c BatchOverCall, p *sortedPart) (*overEval, error) {
	e := &overEval{f: f, c: c}
	switch c.Func {
	case OverLead, OverLag:
		e.cur = p.cursor()
	case OverAgg:
		e.slide = c.Start.Kind != BoundUnboundedPreceding && retractable(c.Agg, f.spec.Types)
		set, err := newAggSet([]AggCall{c.Agg}, f.spec.Types, e.slide)
		if err != nil {
			return nil, err
		}
		e.set = set
		e.add, e.drop, e.redo = p.cursor(), p.cursor(), p.cursor()
		e.loCur, e.hiCur = p.cursor(), p.cursor()
	}
	return e, nil
}

// next appends the call's value for the current row r.
func (e *overEval) next(dst []row.Value, r row.Row, pi *peerInfo) []row.Value {
	c := e.c
	i, n := pi.i, pi.n
	var v row.Value
	switch c.Func {
	case OverAgg:
		return e.aggregate(dst, r, pi)
	case OverRowNumber:
		v = row.Int(int64(i + 1))
	case OverRank:
		v = row.Int(int64(pi.start + 1))
	case OverDenseRank:
		v = row.Int(pi.dense)
	case OverPercentRank:
		p := 0.0
		if n > 1 {
			p = float64(pi.start) / float64(n-1)
		}
		v = row.Float(p)
	case OverCumeDist:
		v = row.Float(float64(pi.end) / float64(n))
	case OverNtile:
		v = row.Int(ntile(int64(i), int64(n), c.Offset))
	case OverLead, OverLag:
		j := int64(i) + c.Offset
		if c.Func == OverLag {
			j = int64(i) - c.Offset
		}
		switch {
		case j >= 0 && j < int64(n):
			v = e.cur.at(int(j)).Fields[c.Arg]
		case c.Default >= 0:
			v = r.Fields[c.Default]
		}
	}
	return append(dst, v)
}

// ntile is the bucket (1-based) of row i (0-based) of n rows in k
// buckets: the first n mod k buckets hold one row more than the others.
func ntile(i, n, k int64) int64 {
	size, rem := n/k, n%k
	large := rem * (size + 1) // the rows of the larger buckets
	if i < large {
		return i/(size+1) + 1
	}
	return rem + (i-large)/size + 1
}

// retractable reports whether an aggregate's accumulator can take
// retractions, so that a frame can slide. A FLOAT or DOUBLE SUM or AVG
// cannot: retracting is not exact in floating point (1e20 + 1 + 1 -
// 1e20 is 0, not the frame's 2), so its frames are summed afresh, in
// the frame's order, as Flink's sliding frames do.
func retractable(a AggCall, types []row.Type) bool {
	if a.Distinct {
		return false
	}
	switch a.Func {
	case Sum, Sum0, Avg:
		if t := types[a.Args[0]].Root; t == row.TypeFloat || t == row.TypeDouble {
			return false
		}
		return true
	case CountStar, Count, Min, Max, FirstValue, LastValue:
		return true
	}
	return false
}

// aggregate appends an aggregate's value for the current row: its frame
// is [lo, hi) of the sorted partition. A frame from UNBOUNDED PRECEDING
// grows (rows are only added); another slides, retracting the rows that
// leave it when the accumulator can, else it is recomputed. Both bounds
// only move forward from one row to the next.
func (e *overEval) aggregate(dst []row.Value, r row.Row, pi *peerInfo) []row.Value {
	c := e.c
	lo := e.bound(c.Start, false, r, pi)
	hi := e.bound(c.End, true, r, pi)
	if hi < lo {
		hi = lo
	}
	set := e.set
	switch {
	case c.Start.Kind == BoundUnboundedPreceding:
		for ; e.b < hi; e.b++ {
			set.apply(e.add.at(e.b), false)
		}
	case e.slide && lo >= e.a && hi >= e.b:
		if lo >= e.b {
			set.reset()
			e.a, e.b = lo, lo
		}
		for ; e.b < hi; e.b++ {
			set.apply(e.add.at(e.b), false)
		}
		for ; e.a < lo; e.a++ {
			set.apply(e.drop.at(e.a), true)
		}
	default:
		set.reset()
		for k := lo; k < hi; k++ {
			set.apply(e.redo.at(k), false)
		}
		e.a, e.b = lo, hi
	}
	return set.appendValues(dst)
}

// bound returns the index of a frame bound for the current row r: the
// first row of the frame (end false) or the one after its last (end
// true).
func (e *overEval) bound(fb FrameBound, end bool, r row.Row, pi *peerInfo) int {
	c := e.c
	i, n := pi.i, pi.n
	clamp := func(x int64) int { return int(max(0, min(int64(n), x))) }
	switch fb.Kind {
	case BoundUnboundedPreceding:
		return 0
	case BoundUnboundedFollowing:
		return n
	case BoundCurrentRow:
		switch {
		case c.Rows && end:
			return i + 1
		case c.Rows:
			return i
		case end:
			return pi.end
		default:
			return pi.start
		}
	}
	if c.Rows {
		// An offset beyond the partition reaches as far as n+1 rows does
		// (and i ± it cannot overflow).
		off := min(fb.Rows, int64(n)+1)
		j := int64(i) - off
		if fb.Kind == BoundFollowing {
			j = int64(i) + off
		}
		if end {
			j++
		}
		return clamp(j)
	}
	// RANGE n PRECEDING|FOLLOWING over the one order key: the first row
	// at or past the bound (end: past it). The rows are sorted by the
	// key and the bound moves with it, so the search goes on from the
	// previous row's answer (but for months over a TIMESTAMP, below).
	k := e.f.spec.OrderBy[0]
	t := e.f.spec.Types[k.Col]
	x := r.Fields[k.Col]
	// Preceding rows are smaller (ascending) or larger (descending).
	neg := (fb.Kind == BoundPreceding) != k.Desc
	ot := t
	if t.Root == row.TypeDecimal && fb.RangeType.Root == row.TypeDecimal || fb.RangeType.Root == row.TypeIntervalYearMonth {
		ot = fb.RangeType
	}
	pos, cur := &e.loPos, e.loCur
	if end {
		pos, cur = &e.hiPos, e.hiCur
	}
	// past reports whether row j is at or past the bound.
	past := func(j int) bool {
		cmp := rangeCompare(cur.at(j).Fields[k.Col], x, fb.Range, neg, k, t, ot)
		return cmp > 0 || cmp == 0 && !end
	}
	if ot.Root == row.TypeIntervalYearMonth && (t.Root == row.TypeTimestamp || t.Root == row.TypeTimestampLTZ) &&
		*pos > 0 && past(*pos-1) {
		// Months over a TIMESTAMP key keep the time of day and clamp the
		// day, so a later key's bound may be earlier (2025-03-29 23:00 - 1
		// month is 02-28 23:00, 03-30 10:00 - 1 month 02-28 10:00): the
		// bound went back, search the rows before.
		*pos = sort.Search(*pos, past)
		return *pos
	}
	for *pos < n && !past(*pos) {
		*pos++
	}
	return *pos
}

// rangeCompare compares y with the bound x + off (x - off when neg) in
// the key's order: descending keys reversed, NULLs first or last; a NULL
// x makes the bound NULL (the NULL rows are the frame).
func rangeCompare(y, x, off row.Value, neg bool, k OrderKey, t, ot row.Type) int {
	yn, xn := y.IsNull(), x.IsNull()
	switch {
	case yn && xn:
		return 0
	case yn || xn:
		if yn == !k.NullsLast {
			return -1
		}
		return 1
	}
	c := shiftedCompare(y, x, off, neg, t, ot)
	if k.Desc {
		c = -c
	}
	return c
}

// shiftedCompare compares y with x + off (x - off when neg) in the
// natural order of the type t; ot is off's type (a DECIMAL key's offset
// may have a larger scale than the key).
func shiftedCompare(y, x, off row.Value, neg bool, t, ot row.Type) int {
	if ot.Root == row.TypeIntervalYearMonth {
		return monthShiftedCompare(y, x, off.Int(), neg, t)
	}
	switch t.Root {
	case row.TypeFloat, row.TypeDouble:
		// NaN sorts after every number (row.Compare) and is its own
		// bound (NaN plus anything): it is equal to NaN only.
		switch xn, yn := math.IsNaN(x.Float()), math.IsNaN(y.Float()); {
		case xn && yn:
			return 0
		case yn:
			return 1
		case xn:
			return -1
		}
		o := off.Float()
		if neg {
			o = -o
		}
		b := x.Float() + o
		switch yv := y.Float(); {
		case yv < b:
			return -1
		case yv > b:
			return 1
		}
		return 0
	case row.TypeDecimal:
		// Compare at the offset's scale (at least the key's).
		o := row.DecimalUnscaled(off, ot)
		b := new(big.Int).Set(row.DecimalUnscaled(x, t))
		yu := row.DecimalUnscaled(y, t)
		if d := ot.Scale - t.Scale; d > 0 {
			m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
			b.Mul(b, m)
			yu = new(big.Int).Mul(yu, m)
		} else if d < 0 {
			o = new(big.Int).Mul(o, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d)), nil))
		}
		if neg {
			b.Sub(b, o)
		} else {
			b.Add(b, o)
		}
		return yu.Cmp(b)
	case row.TypeTimestamp, row.TypeTimestampLTZ:
		if c := compareShifted64(y.Millis(), x.Millis(), off.Int(), neg); c != 0 {
			return c
		}
		switch yn, xn := y.NanoOfMilli(), x.NanoOfMilli(); {
		case yn < xn:
			return -1
		case yn > xn:
			return 1
		}
		return 0
	}
	// Integers, DATE (days) and TIME (nanoseconds).
	return compareShifted64(y.Int(), x.Int(), off.Int(), neg)
}

// monthShiftedCompare compares y with x plus off months (minus when neg)
// for a DATE (days), TIMESTAMP or TIMESTAMP_LTZ key (the month
// arithmetic on its UTC fields, as Weir's ts + INTERVAL '1' MONTH).
func monthShiftedCompare(y, x row.Value, off int64, neg bool, t row.Type) int {
	if neg {
		off = -off
	}
	cmp64 := func(a, b int64) int {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	if t.Root == row.TypeDate {
		b := expr.AddMonths(time.Unix(x.Int()*86400, 0).UTC(), off)
		return cmp64(y.Int(), b.Unix()/86400)
	}
	b := expr.AddMonths(time.UnixMilli(x.Millis()).UTC(), off)
	if c := cmp64(y.Millis(), b.UnixMilli()); c != 0 {
		return c
	}
	return cmp64(int64(y.NanoOfMilli()), int64(x.NanoOfMilli()))
}

// compareShifted64 compares y with x + off (x - off when neg; off >= 0)
// exactly: a bound beyond the int64 range is beyond every y.
func compareShifted64(y, x, off int64, neg bool) int {
	var b int64
	if neg {
		b = x - off
		if b > x { // below the range
			return 1
		}
	} else {
		b = x + off
		if b < x { // above the range
			return -1
		}
	}
	switch {
	case y < b:
		return -1
	case y > b:
		return 1
	}
	return 0
}
