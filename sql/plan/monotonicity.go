package plan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// This file is Flink's FlinkRelMdModifiedMonotonicity: how the values of
// each column of a node's rows may change when a row is updated, and
// Flink's RankProcessStrategy.analyzeRankProcessStrategies, which uses it
// to run a Top-N over an updating input as UpdateFastStrategy
// (UpdatableTopNFunction).

// Monotonicity is how a column's value may change when its row is
// updated (Calcite's SqlMonotonicity as Flink uses it).
type Monotonicity uint8

// Monotonicities.
const (
	// NotMonotonic: the value may change either way.
	NotMonotonic Monotonicity = iota
	// Constant: an updated row keeps the value (a group key).
	Constant
	// Increasing: the value only grows (COUNT, MAX).
	Increasing
	// Decreasing: the value only shrinks (MIN).
	Decreasing
)

// monotonicity computes modified monotonicities, memoised per node.
type monotonicity struct {
	memo map[Rel][]Monotonicity
	done map[Rel]bool
}

// ModifiedMonotonicity returns the monotonicity of each of r's columns,
// or nil when r's changes may delete rows or are not known (Flink's null
// RelModifiedMonotonicity).
func ModifiedMonotonicity(r Rel) []Monotonicity {
	m := &monotonicity{memo: map[Rel][]Monotonicity{}, done: map[Rel]bool{}}
	return m.of(r)
}

func fill(n int, v Monotonicity) []Monotonicity {
	out := make([]Monotonicity, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func (m *monotonicity) containsDelete(r Rel) bool { return m.of(r) == nil }

func (m *monotonicity) allAppend(r Rel) bool {
	mono := m.of(r)
	if mono == nil {
		return false
	}
	for _, x := range mono {
		if x != Constant {
			return false
		}
	}
	return true
}

func (m *monotonicity) containsUpdate(r Rel) bool {
	mono := m.of(r)
	return mono != nil && !m.allAppend(r)
}

// passThrough is Flink's getMonotonicity for nodes that make no updates
// of their own.
func (m *monotonicity) passThrough(in Rel, n int) []Monotonicity {
	switch {
	case m.containsDelete(in):
		return nil
	case m.allAppend(in):
		return fill(n, Constant)
	}
	return fill(n, NotMonotonic)
}

func (m *monotonicity) of(r Rel) []Monotonicity {
	if m.done[r] {
		return m.memo[r]
	}
	out := m.compute(r)
	m.memo[r], m.done[r] = out, true
	return out
}

func (m *monotonicity) compute(r Rel) []Monotonicity {
	n := len(r.Columns())
	switch x := r.(type) {
	case *Scan:
		if x.Table.SourceMode == Updating {
			// A changelog source: no column is known constant.
			return fill(n, NotMonotonic)
		}
		return fill(n, Constant)
	case *Values:
		return fill(n, Constant)
	case *Calc:
		return m.calc(x)
	case *Aggregate:
		return m.aggregate(x)
	case *Rank:
		return m.rank(x)
	case *OverAggregate, *IntervalJoin, *BatchOverAggregate:
		return fill(n, Constant)
	case *Correlate, *LookupJoin, *Expand:
		return m.passThrough(r.Inputs()[0], n)
	case *Join:
		return m.join(x.Left, x.Right, x.LeftKeys, x.RightKeys, x.Residual == nil, false)
	case *SemiJoin:
		if x.Anti {
			return nil
		}
		return m.join(x.Left, x.Right, x.LeftKeys, x.RightKeys, x.Residual == nil, true)
	case *Union:
		for _, in := range x.Ins {
			if m.containsDelete(in) {
				return nil
			}
		}
		head := m.of(x.Ins[0])
		for _, in := range x.Ins[1:] {
			if !slices.Equal(head, m.of(in)) {
				return fill(n, NotMonotonic)
			}
		}
		return slices.Clone(head)
	}
	// Window aggregations, rankings and joins, temporal joins, MATCH
	// RECOGNIZE, ...: Flink has no rule for these physical nodes (null).
	return nil
}

// calc is Flink's rule for a Calc: projections copy their input
// column's monotonicity (through widening CASTs), other expressions are not
// monotonic, and a condition that an update may stop satisfying makes
// every column not monotonic.
func (m *monotonicity) calc(c *Calc) []Monotonicity {
	if m.containsDelete(c.In) {
		return nil
	}
	if m.allAppend(c.In) {
		return fill(len(c.Projects), Constant)
	}
	in := m.of(c.In)
	out := fill(len(c.Projects), NotMonotonic)
	for i, p := range c.Projects {
		// Only a CAST that keeps the values' order keeps the column's
		// monotonicity (CAST(9 AS STRING) > CAST(10 AS STRING); a
		// narrowing integer CAST wraps). Flink looks through every CAST.
		if ref, ok := stripWidening(p).(*expr.InputRef); ok {
			out[i] = in[ref.Index]
		}
	}
	if c.Cond != nil && needRetract(c.Cond, in) {
		return fill(len(c.Projects), NotMonotonic)
	}
	return out
}

// stripCast removes CASTs around e.
func stripCast(e expr.Expr) expr.Expr {
	for {
		c, ok := e.(*expr.Cast)
		if !ok {
			return e
		}
		e = c.Arg
	}
}

// needRetract is Flink's isNeedRetract: whether an updated row may stop
// satisfying cond, given the input columns' monotonicities.
func needRetract(cond expr.Expr, in []Monotonicity) bool {
	// varying returns the monotonicity of the first operand that is a
	// non-constant input column.
	varying := func(args []expr.Expr) (Monotonicity, bool) {
		for _, a := range args {
			if ref, ok := stripCast(a).(*expr.InputRef); ok && in[ref.Index] != Constant {
				return in[ref.Index], true
			}
		}
		return 0, false
	}
	switch e := stripCast(cond).(type) {
	case *expr.InputRef:
		return in[e.Index] != Constant
	case *expr.Call:
		switch e.Func.Name {
		case "AND", "OR":
			for _, a := range e.Args {
				if needRetract(a, in) {
					return true
				}
			}
			return false
		case ">", ">=":
			mono, ok := varying(e.Args)
			return ok && mono != Increasing
		case "<", "<=":
			mono, ok := varying(e.Args)
			return ok && mono != Decreasing
		case "=", "<>", "IN", "NOT IN", "SEARCH":
			_, ok := varying(e.Args)
			return ok
		case "NOT", "IS NOT TRUE", "IS TRUE", "IS NOT NULL", "IS NULL":
			if len(e.Args) == 1 {
				return needRetract(e.Args[0], in)
			}
		}
	}
	return false
}

// aggregate is Flink's getRelModifiedMonotonicityOnAggregate: group keys
// are constant; COUNT and MAX increase, MIN decreases, SUM increases over
// a column known non-negative (decreases over one known non-positive);
// over an updating input an aggregate keeps its monotonicity only where
// its argument's matches (COUNT always).
func (m *monotonicity) aggregate(a *Aggregate) []Monotonicity {
	in := m.of(a.In)
	if in == nil {
		return nil
	}
	for _, k := range a.Keys {
		if in[k] != Constant {
			return nil
		}
	}
	out := fill(len(a.Keys)+len(a.Aggs), Constant)
	update := m.containsUpdate(a.In)
	for i, c := range a.Aggs {
		mono := NotMonotonic
		if a.PartialFinal == "" && c.UDF == nil {
			mono = aggMonotonicity(c, a.In)
		}
		if update {
			switch {
			case len(c.Args) > 1:
				mono = NotMonotonic
			case len(c.Args) == 1 && in[c.Args[0]] != mono && c.Func != "COUNT":
				mono = NotMonotonic
			}
		}
		out[len(a.Keys)+i] = mono
	}
	return out
}

// aggMonotonicity is Flink's getMonotonicityOnAggCall.
func aggMonotonicity(c AggCall, in Rel) Monotonicity {
	switch c.Func {
	case "COUNT":
		return Increasing
	case "MAX":
		return Increasing
	case "MIN":
		return Decreasing
	case "SUM", "SUM0", "$SUM0":
		if len(c.Args) != 1 {
			return NotMonotonic
		}
		lo, hi := columnBounds(in, c.Args[0])
		switch {
		case lo != nil:
			if *lo >= 0 {
				return Increasing
			}
		case hi != nil:
			if *hi <= 0 {
				return Decreasing
			}
		}
	}
	return NotMonotonic
}

// columnBounds returns what is known of the values of column col of r
// (Flink's FlinkRelMdColumnInterval, for the cases Weir derives): the
// minimum and maximum of a VALUES column of numeric literals, and the
// bounds a Calc's condition puts on a column (col >= c, col > c,
// col <= c, col < c with an integer or floating literal c), through
// projections. nil: not known.
func columnBounds(r Rel, col int) (lo, hi *float64) {
	switch x := r.(type) {
	case *Values:
		for _, rw := range x.Rows {
			v, ok := numLit(rw[col])
			if !ok {
				return nil, nil
			}
			if lo == nil || v < *lo {
				lo = &v
			}
			if hi == nil || v > *hi {
				hi = &v
			}
		}
		return lo, hi
	case *Calc:
		p, ok := stripWidening(x.Projects[col]).(*expr.InputRef)
		if !ok {
			return nil, nil
		}
		lo, hi = columnBounds(x.In, p.Index)
		for _, cj := range conjuncts(x.Cond) {
			c, ok := cj.(*expr.Call)
			if !ok || len(c.Args) != 2 {
				continue
			}
			op := c.Func.Name
			a, b := stripWidening(c.Args[0]), stripCast(c.Args[1])
			if _, ok := b.(*expr.InputRef); ok {
				a, b = b, a
				op = map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
			}
			ref, ok := a.(*expr.InputRef)
			if !ok || ref.Index != p.Index {
				continue
			}
			v, ok := numLit(b)
			if !ok {
				continue
			}
			switch op {
			case ">", ">=":
				if lo == nil || v > *lo {
					lo = &v
				}
			case "<", "<=":
				if hi == nil || v < *hi {
					hi = &v
				}
			}
		}
		return lo, hi
	}
	return nil, nil
}

// stripWidening removes the CASTs around e that keep every value's sign
// and order (integers to wider integers or to FLOAT/DOUBLE, FLOAT to
// DOUBLE), the only ones through which a bound on the cast value bounds
// the column: CAST(-200 AS TINYINT) is 56, CAST(-0.5 AS INT) is 0.
func stripWidening(e expr.Expr) expr.Expr {
	width := map[row.Root]int{row.TypeTinyInt: 1, row.TypeSmallInt: 2, row.TypeInt: 3, row.TypeBigInt: 4}
	for {
		c, ok := e.(*expr.Cast)
		if !ok {
			return e
		}
		from, to := c.Arg.Type().Root, c.T.Root
		wf, fromInt := width[from]
		wt, toInt := width[to]
		switch {
		case fromInt && toInt && wt >= wf:
		case fromInt && (to == row.TypeFloat || to == row.TypeDouble):
		case from == row.TypeFloat && to == row.TypeDouble:
		case from == to && (from == row.TypeFloat || from == row.TypeDouble):
		default:
			return e
		}
		e = c.Arg
	}
}

// numLit returns the value of an integer or floating-point literal.
func numLit(e expr.Expr) (float64, bool) {
	l, ok := stripCast(e).(*expr.Literal)
	if !ok || l.Value.IsNull() {
		return 0, false
	}
	switch {
	case l.T.IsInteger():
		return float64(l.Value.Int()), true
	case l.T.Root == row.TypeDouble || l.T.Root == row.TypeFloat:
		return l.Value.Float(), true
	}
	return 0, false
}

// rank is Flink's rule for a Rank: a deduplication over inserts keeps
// its first row (constant) or replaces it (partition keys constant); a
// Top-N's partition keys and row number are constant and its first sort
// key moves as its order (its other columns may change either way).
func (m *monotonicity) rank(r *Rank) []Monotonicity {
	n := len(r.Cols)
	switch {
	case r.NumbersRows():
		return fill(n, Constant) // an OVER aggregation
	case r.Strategy == WindowTopN || r.Strategy == WindowDedup:
		return nil
	case r.Strategy == Dedup:
		if !m.allAppend(r.In) {
			return nil
		}
		if r.KeepLast() || r.In.Columns()[r.OrderBy[0].Col].Type.TimeAttr == row.Rowtime {
			out := fill(n, NotMonotonic)
			for _, k := range r.PartitionKeys {
				out[k] = Constant
			}
			return out
		}
		return fill(n, Constant)
	}
	in := m.of(r.In)
	if in == nil {
		return nil
	}
	for _, k := range r.PartitionKeys {
		if in[k] != Constant {
			return nil
		}
	}
	out := fill(n, NotMonotonic)
	for _, k := range r.PartitionKeys {
		out[k] = Constant
	}
	if r.RowNumber {
		out[n-1] = Constant
	}
	if len(r.OrderBy) > 0 {
		o := r.OrderBy[0]
		switch mono := in[o.Col]; {
		case (mono == Increasing || mono == Constant) && o.Desc:
			out[o.Col] = Increasing
		case (mono == Decreasing || mono == Constant) && !o.Desc:
			out[o.Col] = Decreasing
		}
	}
	return out
}

// join is Flink's rule for a join: over inputs without deletes whose
// join keys are constant (and an equi-join if an input updates), the
// columns keep their inputs' monotonicities.
func (m *monotonicity) join(l, r Rel, lk, rk []int, equi, semi bool) []Monotonicity {
	if m.containsDelete(l) || m.containsDelete(r) {
		return nil
	}
	constantOn := func(x Rel, keys []int) bool {
		mono := m.of(x)
		for _, k := range keys {
			if mono[k] != Constant {
				return false
			}
		}
		return true
	}
	update := m.containsUpdate(l) || m.containsUpdate(r)
	if !constantOn(l, lk) || !constantOn(r, rk) || update && !equi {
		return nil
	}
	if semi {
		return slices.Clone(m.of(l))
	}
	return append(slices.Clone(m.of(l)), m.of(r)...)
}

// UpdateFastKey returns the unique key an UpdateFastStrategy Top-N of r
// keeps its rows by (Flink's RankProcessStrategy): r's input must be an
// updating one with an upsert key that contains the partition keys, whose
// changes delete no rows, and every ORDER BY column must move towards the
// top when its row is updated (increase for DESC, decrease for ASC) or
// be constant. It returns nil otherwise (RetractStrategy), and for
// rankings other than a Top-N.
//
// Flink asks for no deletes through the monotonicity alone; Weir also
// requires that the input's changelog has no -D rows (kinds: the modify
// kinds of the changelog inference), which an aggregation over an
// updating input or an outer join can emit and UpdatableTopNFunction
// would take for updates.
func (r *Rank) updateFastKey(inputKinds modifyKinds) []int {
	if r.Strategy != TopN || r.NumbersRows() || r.IsLimit() || len(r.OrderBy) == 0 ||
		inputKinds&kindUpdate == 0 || inputKinds&kindDelete != 0 {
		return nil
	}
	var key []int
	for _, k := range upsertKeys(r.In) {
		if containsAll(k, r.PartitionKeys) {
			key = k
			break
		}
	}
	if key == nil {
		return nil
	}
	mono := ModifiedMonotonicity(r.In)
	if mono == nil {
		return nil
	}
	for _, o := range r.OrderBy {
		switch mono[o.Col] {
		case Constant:
		case Increasing:
			if !o.Desc {
				return nil
			}
		case Decreasing:
			if o.Desc {
				return nil
			}
		default:
			return nil
		}
	}
	return slices.Clone(key)
}

// updateFastName prints the strategy as Flink's EXPLAIN does:
// UpdateFastStrategy[0,1].
func updateFastName(key []int) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = strconv.Itoa(k)
	}
	return "UpdateFastStrategy[" + strings.Join(parts, ",") + "]"
}
