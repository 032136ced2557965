package plan

import (
	"reflect"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Optimize rewrites a bound plan with the rules of Flink's logical
// optimization that shape a pipeline of projections and filters, and
// returns the new plan; the output columns of every node Optimize keeps,
// and of the root, do not change. Rules, applied bottom-up:
//
//   - a Scan of a table with computed columns
//     becomes a Calc that computes them over a source Scan (Scan.Source),
//     so that the Calcs above can merge into it;
//   - constant subexpressions are folded (expr.Fold), and a condition
//     that folds to TRUE is dropped;
//   - a Calc over a Calc merges into one (Flink's FlinkCalcMergeRule):
//     the upper expressions are rewritten over the lower's input, and the
//     condition is the lower's AND the rewritten upper's (evaluated left
//     to right). They do not merge when the upper refers to a
//     non-deterministic lower expression, nor when it refers more than
//     once to a lower expression that is more than a column or field
//     reference or a literal (that would evaluate it several times);
//   - in the projections of a Calc whose condition has a conjunct
//     column = literal, a comparison of that column with a literal is
//     decided, and the CASE branches so decided are dropped (Calcite's
//     simplification under the filter's predicates: the Nexmark views'
//     CASE over event_type becomes the one branch of the view's type);
//   - the fields a Calc over a source scan reads are pushed into the
//     scan when its connector produces nested fields as columns
//     (pushProjection, Flink's projection push-down with nested fields);
//   - a Calc over a regular Join that does not read every column of the
//     join moves its projection below the join: each input gets a Calc of
//     the columns the upper Calc, the keys and the residual condition read
//     (Flink's ProjectJoinTransposeRule), so the join keeps smaller rows
//     in state and emits smaller rows; likewise over a Top-N or
//     deduplicating Rank (Flink's CalcRankTransposeRule): the Rank reads
//     the columns the Calc reads and its partition and order keys;
//   - a Calc that keeps every row and column under the same names is
//     dropped.
//
// Optimize does not modify r; unchanged subtrees are shared.
func Optimize(r Rel) Rel {
	ins := r.Inputs()
	if len(ins) > 0 {
		opt := make([]Rel, len(ins))
		changed := false
		for i, in := range ins {
			opt[i] = Optimize(in)
			changed = changed || opt[i] != in
		}
		if changed {
			n, ok := withInputs(r, ins, opt)
			if !ok {
				return r
			}
			r = n
		}
	}
	switch n := r.(type) {
	case *Scan:
		return expandScan(n)
	case *Calc:
		return optimizeCalc(n)
	case *Rank:
		if n.BatchOver && n.End < 0 {
			// A row number no filter bounds, in the batch mode.
			return n.batchOverAggregate()
		}
	}
	return r
}

// optimizeCalc applies the Calc rules to c, whose input is optimized.
func optimizeCalc(n *Calc) Rel {
	c := simplifyCalc(foldCalc(n))
	if lower, ok := c.In.(*Calc); ok {
		if m, ok := mergeCalcs(c, lower); ok {
			c = simplifyCalc(m)
		}
	}
	c, _ = pushProjection(c)
	switch in := c.In.(type) {
	case *Join:
		if p, ok := pruneJoin(c, in); ok {
			c = p
		}
	case *Rank:
		if p, ok := pruneRank(c, in); ok {
			c = p
		}
	}
	if c.IsIdentity() && sameNames(c.Cols, c.In.Columns()) {
		return c.In
	}
	return c
}

// withInputs returns a copy of r reading ins[i]'s replacement opt[i]
// instead of ins[i]. Nodes of this package are rebuilt directly; another
// node (one with Rel or []Rel fields) is copied and its fields holding an
// old input are pointed at the new one. It reports false when it cannot
// tell where an input is held.
func withInputs(r Rel, ins, opt []Rel) (Rel, bool) {
	switch n := r.(type) {
	case *Calc:
		c := *n
		c.In = opt[0]
		return &c, true
	case *Aggregate:
		c := *n
		c.In = opt[0]
		return &c, true
	case *WindowTVF:
		c := *n
		c.In = opt[0]
		return &c, true
	case *WindowAggregate:
		c := *n
		c.In = opt[0]
		return &c, true
	case *Union:
		c := *n
		c.Ins = opt
		return &c, true
	case *Sink:
		c := *n
		c.In = opt[0]
		return &c, true
	}
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return r, false
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	relType := reflect.TypeFor[Rel]()
	replaced := 0
	replace := func(f reflect.Value) {
		if f.IsNil() {
			return
		}
		old := f.Interface().(Rel)
		for i, in := range ins {
			if in == old {
				f.Set(reflect.ValueOf(opt[i]))
				replaced++
				return
			}
		}
	}
	// walk visits the fields of a struct and of the structs it embeds
	// (the joins' inputs are in an embedded joinCommon).
	var walk func(s reflect.Value)
	walk = func(s reflect.Value) {
		for i := range s.NumField() {
			f := s.Field(i)
			if f.Kind() == reflect.Struct && s.Type().Field(i).Anonymous {
				// An embedded struct (even unexported: its exported
				// fields are settable).
				walk(f)
				continue
			}
			if !f.CanSet() {
				continue
			}
			switch {
			case f.Type() == relType:
				replace(f)
			case f.Kind() == reflect.Slice && f.Type().Elem() == relType:
				ns := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				reflect.Copy(ns, f)
				f.Set(ns)
				for j := range ns.Len() {
					replace(ns.Index(j))
				}
			}
		}
	}
	walk(cp.Elem())
	if replaced != len(ins) {
		return r, false
	}
	out, ok := cp.Interface().(Rel)
	return out, ok
}

// expandScan turns a scan of a table with computed columns or reordered
// source columns into a Calc over the source scan.
func expandScan(s *Scan) Rel {
	if s.Source {
		return s
	}
	tab := s.Table
	src := tab.SourceColumns()
	pos := make([]int, len(tab.Columns))
	for i := range pos {
		pos[i] = -1
	}
	for p, c := range src {
		pos[c] = p
	}
	identity := len(src) == len(tab.Columns)
	projs := make([]expr.Expr, len(tab.Columns))
	for i, c := range tab.Columns {
		switch {
		case pos[i] >= 0:
			projs[i] = expr.Ref(pos[i], c.Type)
			identity = identity && pos[i] == i
		default:
			projs[i] = tab.Computed[i]
		}
	}
	if identity {
		return s
	}
	return &Calc{In: &Scan{Table: tab, Source: true}, Projects: projs, Cols: tab.Columns}
}

// foldCalc folds the constant subexpressions of a Calc.
func foldCalc(c *Calc) *Calc {
	out := *c
	out.Projects = make([]expr.Expr, len(c.Projects))
	for i, p := range c.Projects {
		out.Projects[i] = fold(p)
	}
	if c.Cond != nil {
		out.Cond = fold(c.Cond)
		if l, ok := out.Cond.(*expr.Literal); ok && !l.Value.IsNull() && l.Value.Bool() {
			out.Cond = nil
		}
	}
	return &out
}

func fold(e expr.Expr) expr.Expr {
	f, err := expr.Fold(e)
	if err != nil {
		return e
	}
	return f
}

// trivial reports whether evaluating e costs no more than reading a
// column: a reference, a field of one, or a literal.
func trivial(e expr.Expr) bool {
	switch n := e.(type) {
	case *expr.InputRef, *expr.Literal:
		return true
	case *expr.FieldAccess:
		return trivial(n.Arg)
	}
	return false
}

// MergeCalcs is mergeCalcs, for the translator: a Calc over one whose
// unread PROCTIME() it does not compute (sql/translate_proctime.go).
func MergeCalcs(upper, lower *Calc) (*Calc, bool) { return mergeCalcs(upper, lower) }

// mergeCalcs merges upper, a Calc over lower, into one Calc over lower's
// input, if that is safe (see Optimize).
func mergeCalcs(upper, lower *Calc) (*Calc, bool) {
	uses := make([]int, len(lower.Projects))
	count := func(i int) {
		if i < len(uses) {
			uses[i]++
		}
	}
	for _, p := range upper.Projects {
		expr.Refs(p, count)
	}
	if upper.Cond != nil {
		expr.Refs(upper.Cond, count)
	}
	for i, n := range uses {
		if n == 0 {
			continue
		}
		e := lower.Projects[i]
		if !expr.IsDeterministic(e) || (n > 1 && !trivial(e)) {
			return nil, false
		}
	}
	m := &Calc{In: lower.In, Cols: upper.Cols, Projects: make([]expr.Expr, len(upper.Projects))}
	for i, p := range upper.Projects {
		m.Projects[i] = expr.Substitute(p, lower.Projects)
	}
	m.Cond = lower.Cond
	if upper.Cond != nil {
		c := expr.Substitute(upper.Cond, lower.Projects)
		if m.Cond == nil {
			m.Cond = c
		} else {
			and, err := expr.NewCall("AND", m.Cond, c)
			if err != nil {
				return nil, false
			}
			m.Cond = and
		}
	}
	return m, true
}

func sameNames(a, b []Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// simplifyCalc decides, in a Calc's projections, the comparisons
// column = literal that its condition decides (see Optimize).
func simplifyCalc(c *Calc) *Calc {
	if c.Cond == nil {
		return c
	}
	known := map[int]*expr.Literal{}
	var conj func(e expr.Expr)
	conj = func(e expr.Expr) {
		call, ok := e.(*expr.Call)
		if !ok {
			return
		}
		if call.Func.Name == "AND" {
			for _, a := range call.Args {
				conj(a)
			}
			return
		}
		if i, l, ok := refEqualsLiteral(call); ok {
			known[i] = l
		}
	}
	conj(c.Cond)
	if len(known) == 0 {
		return c
	}
	out := *c
	out.Projects = make([]expr.Expr, len(c.Projects))
	for i, p := range c.Projects {
		out.Projects[i] = decide(p, known)
	}
	return &out
}

// refEqualsLiteral matches =($i, literal) or =(literal, $i) over a
// column and a non-NULL literal of the same integer or string type root.
func refEqualsLiteral(c *expr.Call) (int, *expr.Literal, bool) {
	if c.Func.Name != "=" || len(c.Args) != 2 {
		return 0, nil, false
	}
	r, ok := c.Args[0].(*expr.InputRef)
	l, ok2 := c.Args[1].(*expr.Literal)
	if !ok || !ok2 {
		r, ok = c.Args[1].(*expr.InputRef)
		l, ok2 = c.Args[0].(*expr.Literal)
	}
	if !ok || !ok2 || l.Value.IsNull() || l.T.Root != r.T.Root {
		return 0, nil, false
	}
	switch l.T.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt, row.TypeChar, row.TypeVarChar:
		return r.Index, l, true
	}
	return 0, nil, false
}

// decide rewrites the comparisons and CASE branches of e that known
// (column = literal facts) decides.
func decide(e expr.Expr, known map[int]*expr.Literal) expr.Expr {
	switch n := e.(type) {
	case *expr.Call:
		if i, l, ok := refEqualsLiteral(n); ok {
			if k, found := known[i]; found && k.T.Root == l.T.Root {
				return expr.Lit(row.Bool(row.Equal(k.Value, l.Value, l.T)), n.T)
			}
			return n
		}
		args := make([]expr.Expr, len(n.Args))
		for i, a := range n.Args {
			args[i] = decide(a, known)
		}
		return &expr.Call{Func: n.Func, Args: args, T: n.T}
	case *expr.Cast:
		return &expr.Cast{Arg: decide(n.Arg, known), T: n.T, Try: n.Try, Implicit: n.Implicit}
	case *expr.FieldAccess:
		return &expr.FieldAccess{Arg: decide(n.Arg, known), Index: n.Index, T: n.T}
	case *expr.Case:
		c := &expr.Case{T: n.T}
		for i := range n.Whens {
			w, t := decide(n.Whens[i], known), decide(n.Thens[i], known)
			if l, ok := w.(*expr.Literal); ok {
				if l.Value.IsNull() || !l.Value.Bool() {
					continue // never taken
				}
				if len(c.Whens) == 0 && sameType(t.Type(), n.T) {
					return t // always taken
				}
			}
			c.Whens = append(c.Whens, w)
			c.Thens = append(c.Thens, t)
		}
		c.Else = decide(n.Else, known)
		if len(c.Whens) == 0 && sameType(c.Else.Type(), n.T) {
			return c.Else
		}
		return c
	}
	return e
}

// sameType reports whether two types are equal but for nullability and
// time attributes.
func sameType(a, b row.Type) bool {
	a.TimeAttr, b.TimeAttr = row.Type{}.TimeAttr, row.Type{}.TimeAttr
	return a.WithNullable(true).Equal(b.WithNullable(true))
}
