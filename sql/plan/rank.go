package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// RankStrategy is the operator a ROW_NUMBER() ranking runs as.
type RankStrategy uint8

// Rank strategies.
const (
	// TopN keeps the rows numbered Start..End per partition (Flink's
	// append-only or retracting Top-N, by the input's mode).
	TopN RankStrategy = iota
	// Dedup keeps the first (ORDER BY time ASC) or last (DESC) row per
	// partition: rn = 1 ordered by a time attribute.
	Dedup
	// WindowTopN ranks within each window (partitioned by window_start,
	// window_end of a window TVF or window aggregation).
	WindowTopN
	// WindowDedup deduplicates within each window by rowtime.
	WindowDedup
)

// SortKey is one ORDER BY item of a ranking.
type SortKey struct {
	Col       int
	Desc      bool
	NullsLast bool
}

// Rank is ROW_NUMBER() OVER (PARTITION BY PartitionKeys ORDER BY OrderBy)
// restricted to Start <= rn <= End. Its columns are the input's, then the
// row number (BIGINT NOT NULL) when RowNumber is set.
type Rank struct {
	In            Rel
	PartitionKeys []int
	OrderBy       []SortKey
	// Start and End are the kept row numbers (inclusive); End < 0 while no
	// filter bounds it (then the plan is refused).
	Start, End int64
	RowNumber  bool
	// Func is "RANK" or "DENSE_RANK" for those ranking functions, "" for
	// ROW_NUMBER. They are supported unfiltered and ordered by a
	// processing-time attribute only, where each row is its own peer
	// group (Flink's OVER aggregation with RankAggFunction /
	// DenseRankAggFunction numbers them 1, 2, 3, ...).
	Func     string
	Strategy RankStrategy
	// WindowStart and WindowEnd are the window columns of window
	// strategies (they are not in PartitionKeys).
	WindowStart, WindowEnd int
	Window                 Window
	Cols                   []Column
	// UpdateFast, set by InferChangelogs, is the unique key of the input
	// by which a Top-N over an updating input keeps its rows when it runs
	// as Flink's UpdateFastStrategy (UpdatableTopNFunction: see
	// updateFastKey); nil: RetractStrategy (or not a Top-N over an
	// updating input).
	UpdateFast []int
	// BatchOver is set in the batch mode: while no filter bounds the row
	// number, the Rank is an OVER window (Optimize makes it a
	// BatchOverAggregate).
	BatchOver bool
}

// Columns implements Rel.
func (r *Rank) Columns() []Column { return r.Cols }

// Inputs implements Rel.
func (r *Rank) Inputs() []Rel { return []Rel{r.In} }

// Mode implements Rel.
func (r *Rank) Mode() Mode {
	if r.NumbersRows() || r.BatchOver && r.End < 0 {
		return InsertOnly
	}
	switch r.Strategy {
	case WindowTopN, WindowDedup:
		return InsertOnly
	case TopN:
		if r.IsLimit() && r.In.Mode() == InsertOnly {
			// The first rows of an append-only input stay the first.
			return InsertOnly
		}
	case Dedup:
		if !r.OrderBy[0].Desc && r.In.Columns()[r.OrderBy[0].Col].Type.TimeAttr == row.Proctime {
			return InsertOnly
		}
	}
	return Updating
}

// IsLimit reports whether the rank is LIMIT without ORDER BY (Flink's
// Limit): a Top-N without order keys, where rows rank by arrival.
func (r *Rank) IsLimit() bool { return r.Strategy == TopN && len(r.OrderBy) == 0 && !r.RowNumber }

// KeepLast reports whether a deduplication keeps the last row.
func (r *Rank) KeepLast() bool { return r.OrderBy[0].Desc }

func (r *Rank) describe() (string, []string) {
	if r.NumbersRows() {
		return r.describeOver()
	}
	if r.IsLimit() {
		return "Limit", []string{fmt.Sprintf("offset=[%d]", r.Start-1), fmt.Sprintf("fetch=[%d]", r.End-r.Start+1)}
	}
	in := r.In.Columns()
	cols := func(idx []int) string {
		n := make([]string, len(idx))
		for i, c := range idx {
			n[i] = in[c].Name
		}
		return strings.Join(n, ", ")
	}
	var order []string
	for _, k := range r.OrderBy {
		s := in[k.Col].Name + " ASC"
		if k.Desc {
			s = in[k.Col].Name + " DESC"
		}
		order = append(order, s)
	}
	keep := "FirstRow"
	if r.KeepLast() {
		keep = "LastRow"
	}
	timeKind := "ROWTIME"
	if in[r.OrderBy[0].Col].Type.TimeAttr == row.Proctime {
		timeKind = "PROCTIME"
	}
	rng := fmt.Sprintf("rankRange=[rankStart=%d, rankEnd=%d]", r.Start, r.End)
	if r.End < 0 {
		rng = fmt.Sprintf("rankRange=[rankStart=%d, rankEnd=unbounded]", r.Start)
	}
	sel := "select=[" + names(r.Cols) + "]"
	switch r.Strategy {
	case Dedup:
		return "Deduplicate", []string{"keep=[" + keep + "]", "key=[" + cols(r.PartitionKeys) + "]", "order=[" + timeKind + "]"}
	case WindowTopN:
		return "WindowRank", []string{"window=[" + windowOn(r.Window, in[r.WindowStart].Name, in[r.WindowEnd].Name) + "]", "rankType=[ROW_NUMBER]", rng,
			"partitionBy=[" + cols(r.PartitionKeys) + "]", "orderBy=[" + strings.Join(order, ", ") + "]", sel}
	case WindowDedup:
		return "WindowDeduplicate", []string{"window=[" + windowOn(r.Window, in[r.WindowStart].Name, in[r.WindowEnd].Name) + "]", "keep=[" + keep + "]",
			"partitionKeys=[" + cols(r.PartitionKeys) + "]", "orderKey=[" + in[r.OrderBy[0].Col].Name + "]", "order=[" + timeKind + "]"}
	}
	strategy := "AppendFastStrategy"
	switch {
	case r.UpdateFast != nil:
		strategy = updateFastName(r.UpdateFast)
	case r.In.Mode() == Updating:
		strategy = "RetractStrategy"
	}
	return "Rank", []string{"strategy=[" + strategy + "]", "rankType=[ROW_NUMBER]", rng,
		"partitionBy=[" + cols(r.PartitionKeys) + "]", "orderBy=[" + strings.Join(order, ", ") + "]", sel}
}

// overItem recognises ROW_NUMBER() OVER (...) as a select item.
func overItem(e ast.Expr) (*ast.Call, bool) {
	c, ok := e.(*ast.Call)
	if !ok || (c.Over == nil && c.OverName == nil) {
		return nil, false
	}
	return c, true
}

// bindRowNumber plans a select list with ROW_NUMBER() OVER items: a Rank
// (unbounded until an enclosing WHERE bounds its row number) under a Calc
// projecting the items.
func (b *Binder) bindRowNumber(from Rel, eb *exprBinder, where expr.Expr, items []selectItem) (Rel, error) {
	base, err := filtered(from, conjuncts(where))
	if err != nil {
		return nil, err
	}
	var rank *Rank
	var spec string
	for _, it := range items {
		c, ok := overItem(it.e)
		if !ok {
			continue
		}
		fn := ""
		if len(c.Name.Parts) == 1 {
			fn = strings.ToUpper(c.Name.Parts[0].Name)
		}
		if fn != "ROW_NUMBER" && fn != "RANK" && fn != "DENSE_RANK" || len(c.Args) != 0 || c.Over == nil {
			return nil, errAt(c, "%s OVER is not supported yet (ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) filtered by its row number is: Flink's Top-N and deduplication)", c.Name)
		}
		if rank != nil {
			if c.Over.String() != spec {
				return nil, errAt(c, "only one ROW_NUMBER() window per query is supported")
			}
			continue
		}
		spec = c.Over.String()
		w := c.Over
		if w.Frame != nil || w.Base != nil {
			return nil, errAt(c, "ROW_NUMBER() takes no window frame")
		}
		if len(w.OrderBy) == 0 {
			return nil, errAt(c, "ROW_NUMBER() needs an ORDER BY in its OVER clause")
		}
		rank = &Rank{Start: 1, End: -1, RowNumber: true, BatchOver: b.Batch}
		if fn != "ROW_NUMBER" {
			rank.Func = fn
		}
		// A PARTITION BY or ORDER BY expression that is not a column (such
		// as PROCTIME(), as Flink's DeduplicateITCase orders by) is
		// computed by a Calc below the Rank, after the input's columns.
		var extra []expr.Expr
		keyCol := func(x expr.Expr) int {
			if ref, ok := x.(*expr.InputRef); ok {
				return ref.Index
			}
			extra = append(extra, x)
			return len(base.Columns()) + len(extra) - 1
		}
		for _, p := range w.PartitionBy {
			x, err := eb.bind(p)
			if err != nil {
				return nil, err
			}
			rank.PartitionKeys = append(rank.PartitionKeys, keyCol(x))
		}
		for _, o := range w.OrderBy {
			x, err := eb.bind(o.Expr)
			if err != nil {
				return nil, err
			}
			k := SortKey{Col: keyCol(x), Desc: o.Desc, NullsLast: o.Desc}
			switch strings.ToUpper(o.Nulls) {
			case "FIRST":
				k.NullsLast = false
			case "LAST":
				k.NullsLast = true
			}
			rank.OrderBy = append(rank.OrderBy, k)
		}
		rankIn := base
		if len(extra) > 0 {
			in := base.Columns()
			projs := make([]expr.Expr, 0, len(in)+len(extra))
			cols := append([]Column(nil), in...)
			for i, c := range in {
				projs = append(projs, expr.Ref(i, c.Type))
			}
			for i, x := range extra {
				t := stripTimeAttr(x)
				if isProctime(x) {
					t.TimeAttr = row.Proctime
				}
				projs = append(projs, x)
				cols = append(cols, Column{Name: fmt.Sprintf("$%d", len(in)+i), Type: t})
			}
			rankIn = &Calc{In: base, Projects: projs, Cols: cols}
		}
		rank.In = rankIn
		rank.Cols = append(append([]Column(nil), rankIn.Columns()...), Column{Name: "w0$o0", Type: row.BigInt().NotNull()})
	}
	rnIndex := len(base.Columns())
	if rank != nil {
		rnIndex = len(rank.In.Columns())
	}
	rn := expr.Ref(rnIndex, row.BigInt().NotNull())
	projs := make([]expr.Expr, len(items))
	cols := make([]Column, len(items))
	for i, it := range items {
		if _, ok := overItem(it.e); ok {
			projs[i] = rn
		} else if projs[i], err = eb.bind(it.e); err != nil {
			return nil, err
		}
		cols[i] = Column{Name: it.name, Type: stripTimeAttr(projs[i])}
		if r, ok := projs[i].(*expr.InputRef); ok && r.Index < len(base.Columns()) {
			cols[i].Type = base.Columns()[r.Index].Type
		}
	}
	return &Calc{In: rank, Projects: projs, Cols: cols}, nil
}

// hasOver reports whether a select list has an OVER call at its top.
func hasOver(items []selectItem) bool {
	for _, it := range items {
		if _, ok := overItem(it.e); ok {
			return true
		}
	}
	return false
}

// fuseRank turns a filter on the row number of an unbounded Rank below c
// (through Calcs passing the row number on) into the Rank's range, drops
// the row number column when nothing uses it any more, and picks the
// ranking strategy.
func fuseRank(c *Calc) (Rel, error) {
	var chain []*Calc
	cur := c.In
	for {
		x, ok := cur.(*Calc)
		if !ok {
			break
		}
		chain = append(chain, x)
		cur = x.In
	}
	rank, ok := cur.(*Rank)
	if !ok || rank.End >= 0 || c.Cond == nil {
		return c, nil
	}
	// The row number's position at each level, bottom up.
	pos := len(rank.In.Columns())
	pure := true // the chain uses the row number only as a plain column
	for i := len(chain) - 1; i >= 0; i-- {
		x := chain[i]
		next := -1
		for j, p := range x.Projects {
			if r, ok := p.(*expr.InputRef); ok && r.Index == pos {
				if next < 0 {
					next = j
				}
			} else if uses(p, pos) {
				pure = false
			}
		}
		if x.Cond != nil && uses(x.Cond, pos) || next < 0 {
			return c, nil
		}
		pos = next
	}
	start, end := int64(1), int64(-1)
	var rest []expr.Expr
	for _, cj := range conjuncts(c.Cond) {
		op, n, ok := rowNumberBound(cj, pos)
		if !ok {
			rest = append(rest, cj)
			continue
		}
		lo, hi := int64(1), int64(-1)
		switch op {
		case "=":
			lo, hi = n, n
		case "<=":
			hi = n
		case "<":
			hi = n - 1
		case ">=":
			lo = n
		case ">":
			lo = n + 1
		}
		if lo > start {
			start = lo
		}
		if hi >= 0 && (end < 0 || hi < end) {
			end = hi
		}
	}
	if end < 0 {
		return c, nil
	}
	if end < start {
		return nil, fmt.Errorf("sql: the row number filter keeps no rows (rank range %d..%d)", start, end)
	}
	rank.Start, rank.End = start, end
	cond, err := andAll(rest)
	if err != nil {
		return nil, err
	}
	out := &Calc{In: c.In, Projects: c.Projects, Cond: cond, Cols: c.Cols}
	used := uses(cond, pos)
	for _, p := range out.Projects {
		used = used || uses(p, pos)
	}
	if !used && pure {
		dropRowNumber(rank, chain, out)
	}
	if err := classifyRank(rank); err != nil {
		return nil, err
	}
	return out, nil
}

// uses reports whether e reads input column i.
func uses(e expr.Expr, i int) bool {
	found := false
	walkExpr(e, func(x expr.Expr) {
		if r, ok := x.(*expr.InputRef); ok && r.Index == i {
			found = true
		}
	})
	return found
}

// rowNumberBound recognises rn op N and N op rn for the row number column
// pos and an integer constant N; it returns the op with rn on the left.
func rowNumberBound(e expr.Expr, pos int) (string, int64, bool) {
	c, ok := e.(*expr.Call)
	if !ok || len(c.Args) != 2 {
		return "", 0, false
	}
	op := c.Func.Name
	flip := map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
	if _, ok := flip[op]; !ok {
		return "", 0, false
	}
	a, b := c.Args[0], c.Args[1]
	if r, ok := b.(*expr.InputRef); ok && r.Index == pos {
		a, b = b, a
		op = flip[op]
	}
	if r, ok := a.(*expr.InputRef); !ok || r.Index != pos {
		return "", 0, false
	}
	k, err := expr.Fold(b)
	if err != nil {
		return "", 0, false
	}
	l, ok := k.(*expr.Literal)
	if !ok || l.Value.IsNull() || !l.T.IsInteger() {
		return "", 0, false
	}
	return op, l.Value.Int(), true
}

// dropRowNumber removes the row number column from the Rank and the
// Calcs above it (chain, top first, then top).
func dropRowNumber(rank *Rank, chain []*Calc, top *Calc) {
	rank.RowNumber = false
	pos := len(rank.Cols) - 1
	rank.Cols = rank.Cols[:pos]
	down := func(i int) int {
		if i > pos {
			return i - 1
		}
		return i
	}
	for i := len(chain) - 1; i >= 0; i-- {
		x := chain[i]
		var projs []expr.Expr
		var cols []Column
		next := -1
		for j, p := range x.Projects {
			if r, ok := p.(*expr.InputRef); ok && r.Index == pos {
				if next < 0 {
					next = j
				}
				continue
			}
			projs = append(projs, mapRefs(p, down))
			cols = append(cols, x.Cols[j])
		}
		if x.Cond != nil {
			x.Cond = mapRefs(x.Cond, down)
		}
		x.Projects, x.Cols = projs, cols
		pos = next
	}
	for j, p := range top.Projects {
		top.Projects[j] = mapRefs(p, down)
	}
	if top.Cond != nil {
		top.Cond = mapRefs(top.Cond, down)
	}
}

// classifyRank picks the operator of a bounded Rank, as Flink's rules do.
func classifyRank(r *Rank) error {
	in := r.In.Columns()
	ws, we, win, isWin := windowProps(r.In)
	if p, ok := attachedProps(r.In); ok {
		// A window-attached input may have several window_start and
		// window_end columns (a window join's output has both sides',
		// whatever the join type: window_attached_props.go): the
		// partition keys pick the pair.
		s, e := -1, -1
		for _, k := range r.PartitionKeys {
			if s < 0 && p.starts[k] {
				s = k
			}
			if e < 0 && p.ends[k] {
				e = k
			}
		}
		if s >= 0 && e >= 0 {
			ws, we, win, isWin = s, e, p.w, true
		}
	}
	if isWin {
		var rest []int
		hasS, hasE := false, false
		for _, k := range r.PartitionKeys {
			switch k {
			case ws:
				hasS = true
			case we:
				hasE = true
			default:
				rest = append(rest, k)
			}
		}
		if hasS && hasE && r.In.Mode() == InsertOnly {
			r.PartitionKeys, r.WindowStart, r.WindowEnd, r.Window = rest, ws, we, win
			o := r.OrderBy[0]
			if len(r.OrderBy) == 1 && r.Start == 1 && r.End == 1 && !r.RowNumber && in[o.Col].Type.TimeAttr == row.Rowtime {
				r.Strategy = WindowDedup
				return nil
			}
			r.Strategy = WindowTopN
			return nil
		}
	}
	o := r.OrderBy[0]
	if len(r.OrderBy) == 1 && r.Start == 1 && r.End == 1 && !r.RowNumber && in[o.Col].Type.TimeAttr != row.NoTimeAttr {
		if r.In.Mode() == Updating && (!o.Desc || in[o.Col].Type.TimeAttr == row.Rowtime) {
			return fmt.Errorf("sql: deduplication of an updating input is only supported keeping the last row on processing time")
		}
		r.Strategy = Dedup
		return nil
	}
	r.Strategy = TopN
	return nil
}

// CheckBounded refuses a Rank whose row number no filter bounds, unless it
// numbers rows in time order (NumbersRows: an OVER aggregation).
func (r *Rank) CheckBounded() error {
	if r.Func != "" && (r.End >= 0 || !r.NumbersRows() || r.In.Columns()[r.OrderBy[0].Col].Type.TimeAttr != row.Proctime) {
		return fmt.Errorf("sql: %s() OVER is supported only unfiltered and ordered by a processing-time attribute (an OVER aggregation numbering the rows), not yet otherwise", r.Func)
	}
	if r.End < 0 && !r.NumbersRows() {
		return fmt.Errorf("sql: ROW_NUMBER() without a bound on its number is not supported yet: ROW_NUMBER() is supported only in a subquery whose row number an enclosing WHERE bounds (rn <= N, rn = 1, rn < N, rn BETWEEN a AND b: Flink's Top-N and deduplication)")
	}
	return nil
}

// windowOn describes the window of a window TVF's output, identified by
// its window_start and window_end columns, as Flink's EXPLAIN does.
func windowOn(w Window, start, end string) string {
	cols := fmt.Sprintf("win_start=[%s], win_end=[%s]", start, end)
	switch w.Kind {
	case Hop:
		return fmt.Sprintf("HOP(%s, size=[%s], slide=[%s])", cols, ms(w.Size), ms(w.Slide))
	case Cumulate:
		return fmt.Sprintf("CUMULATE(%s, max_size=[%s], step=[%s])", cols, ms(w.Size), ms(w.Step))
	case Session:
		// Flink's SessionWindowSpec.toSummaryString.
		return fmt.Sprintf("SESSION(%s, gap=[%s])", cols, ms(w.Gap))
	}
	s := fmt.Sprintf("TUMBLE(%s, size=[%s]", cols, ms(w.Size))
	if w.Offset != 0 {
		s += fmt.Sprintf(", offset=[%s]", ms(w.Offset))
	}
	return s + ")"
}

// openRank reports whether r is (through Calcs) a Rank no filter bounds
// yet.
func openRank(r Rel) bool {
	for {
		switch n := r.(type) {
		case *Calc:
			r = n.In
		case *Rank:
			return n.End < 0
		default:
			return false
		}
	}
}
