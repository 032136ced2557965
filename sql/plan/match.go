package plan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// MatchRecognize is MATCH_RECOGNIZE (... ONE ROW PER MATCH ...) over an
// append-only input, as Flink's StreamExecMatch: rows are partitioned by
// PartitionKeys, ordered by the time attribute TimeCol, matched against the
// pattern Vars (strict contiguity between variables, as Flink translates
// concatenation) and each match yields one row: the partition columns,
// then the measures.
//
// DEFINE conditions and MEASURES are expressions over navigation slots
// (Navs): the expression's input row is the slot values, computed for the
// match (MEASURES) or the partial match and the row under test (DEFINE).
type MatchRecognize struct {
	In            Rel
	PartitionKeys []int
	// TimeCol is the ORDER BY time attribute of In; ProcTime marks a
	// processing-time attribute (rows are matched as they arrive).
	TimeCol  int
	ProcTime bool
	// OrderBy are the ORDER BY keys after the time attribute: they order
	// the rows of equal timestamps (Flink's EventComparator).
	OrderBy []SortKey
	Vars    []MatchVar
	Skip    MatchSkip
	// SkipVar is the variable of SKIP TO FIRST / SKIP TO LAST.
	SkipVar string
	// Within is the WITHIN interval in milliseconds (0: none).
	Within int64
	// Navs are the navigation slots the DEFINE conditions and the
	// measures read.
	Navs []MatchNav
	// Measures are the MEASURES expressions over the slots; MeasureNavs
	// are the slots they read.
	Measures    []expr.Expr
	MeasureNavs []int
	Cols        []Column
}

// MatchSkip is an AFTER MATCH SKIP strategy.
type MatchSkip uint8

// AFTER MATCH SKIP strategies.
const (
	// SkipToNextRow is the default, as in Flink (Calcite's default).
	SkipToNextRow MatchSkip = iota
	SkipPastLastRow
	SkipToFirst
	SkipToLast
)

func (s MatchSkip) String() string {
	switch s {
	case SkipPastLastRow:
		return "SKIP PAST LAST ROW"
	case SkipToFirst:
		return "SKIP TO FIRST"
	case SkipToLast:
		return "SKIP TO LAST"
	}
	return "SKIP TO NEXT ROW"
}

// MatchVar is one pattern variable with its quantifier and condition.
type MatchVar struct {
	Name string
	// Min and Max bound the rows the variable takes (Max -1: unbounded);
	// 1, 1 without a quantifier.
	Min, Max int
	// Quantified marks a written quantifier (A{1} is quantified, A is not).
	Quantified bool
	// Greedy is false for a reluctant quantifier (*?, +?, {n,m}?).
	Greedy bool
	// Define is the DEFINE condition over the slots, nil for TRUE; Navs
	// are the slots it reads.
	Define expr.Expr
	Navs   []int
}

// NavKind is what a navigation slot computes.
type NavKind uint8

// Navigation kinds.
const (
	// NavLast is LAST(var.x, n): the n-th last row of var (n = 0: the
	// last); var.x alone is LAST(var.x, 0).
	NavLast NavKind = iota
	// NavFirst is FIRST(var.x, n): the n-th row of var from the first.
	NavFirst
	// NavPrev is PREV(x, n) in DEFINE: the n-th row before the current
	// one in the partial match.
	NavPrev
	// NavAgg is an aggregate over the rows of var.
	NavAgg
	// NavRowtime is MATCH_ROWTIME().
	NavRowtime
	// NavProctime is MATCH_PROCTIME().
	NavProctime
)

// MatchNav is one navigation slot.
type MatchNav struct {
	Kind NavKind
	// Var is the pattern variable, "" for all rows (Flink's default
	// pattern variable *). In a DEFINE condition of variable V, the rows
	// of V and of * include the row under test.
	Var    string
	Offset int
	// Arg is evaluated over one input row (nil for COUNT(*) and the time
	// functions).
	Arg expr.Expr
	// Agg is the aggregate function (NavAgg), upper case.
	Agg      string
	Distinct bool
	T        row.Type
}

func (n MatchNav) String() string {
	arg := "*"
	if n.Arg != nil {
		arg = n.Arg.String()
	}
	v := n.Var
	if v == "" {
		v = "*"
	}
	switch n.Kind {
	case NavFirst:
		return fmt.Sprintf("FIRST(%s.%s, %d)", v, arg, n.Offset)
	case NavPrev:
		return fmt.Sprintf("PREV(%s, %d)", arg, n.Offset)
	case NavAgg:
		d := ""
		if n.Distinct {
			d = "DISTINCT "
		}
		return fmt.Sprintf("%s(%s%s.%s)", n.Agg, d, v, arg)
	case NavRowtime:
		return "MATCH_ROWTIME()"
	case NavProctime:
		return "MATCH_PROCTIME()"
	}
	return fmt.Sprintf("LAST(%s.%s, %d)", v, arg, n.Offset)
}

// Columns implements Rel.
func (m *MatchRecognize) Columns() []Column { return m.Cols }

// Inputs implements Rel.
func (m *MatchRecognize) Inputs() []Rel { return []Rel{m.In} }

// Mode implements Rel: MATCH_RECOGNIZE appends.
func (m *MatchRecognize) Mode() Mode { return InsertOnly }

// PatternString prints the pattern as written (normalised).
func (m *MatchRecognize) PatternString() string {
	parts := make([]string, len(m.Vars))
	for i, v := range m.Vars {
		s := v.Name
		if v.Quantified {
			switch {
			case v.Min == 0 && v.Max == -1:
				s += "*"
			case v.Min == 1 && v.Max == -1:
				s += "+"
			case v.Min == 0 && v.Max == 1:
				s += "?"
			case v.Max == -1:
				s += "{" + strconv.Itoa(v.Min) + ",}"
			case v.Min == v.Max:
				s += "{" + strconv.Itoa(v.Min) + "}"
			default:
				s += "{" + strconv.Itoa(v.Min) + "," + strconv.Itoa(v.Max) + "}"
			}
			if !v.Greedy {
				s += "?"
			}
		}
		parts[i] = s
	}
	return strings.Join(parts, " ")
}

func (m *MatchRecognize) describe() (string, []string) {
	in := m.In.Columns()
	var keys []string
	for _, k := range m.PartitionKeys {
		keys = append(keys, in[k].Name)
	}
	order := in[m.TimeCol].Name + " ASC"
	for _, k := range m.OrderBy {
		dir := " ASC"
		if k.Desc {
			dir = " DESC"
		}
		order += ", " + in[k.Col].Name + dir
	}
	attrs := []string{"partitionBy=[" + strings.Join(keys, ", ") + "]", "orderBy=[" + order + "]"}
	var ms []string
	for i, e := range m.Measures {
		ms = append(ms, substNavs(e.String(), m.Navs, in)+" AS "+m.Cols[len(m.PartitionKeys)+i].Name)
	}
	attrs = append(attrs, "measures=["+strings.Join(ms, ", ")+"]", "rowsPerMatch=[ONE ROW PER MATCH]")
	skip := m.Skip.String()
	if m.SkipVar != "" {
		skip += " " + m.SkipVar
	}
	attrs = append(attrs, "after=["+skip+"]", "pattern=["+m.PatternString()+"]")
	if m.Within > 0 {
		attrs = append(attrs, "within=["+strconv.FormatInt(m.Within, 10)+"ms]")
	}
	var defs []string
	for _, v := range m.Vars {
		if v.Define != nil {
			defs = append(defs, v.Name+" AS "+substNavs(v.Define.String(), m.Navs, in))
		}
	}
	attrs = append(attrs, "define=["+strings.Join(defs, ", ")+"]")
	return "Match", attrs
}

var slotRef = regexp.MustCompile(`\$(\d+)`)

// substNavs prints slot references $i as the navigation they stand for,
// with input columns by name.
func substNavs(s string, navs []MatchNav, in []Column) string {
	return slotRef.ReplaceAllStringFunc(s, func(ref string) string {
		i, err := strconv.Atoi(ref[1:])
		if err != nil || i >= len(navs) {
			return ref
		}
		return slotRef.ReplaceAllStringFunc(navs[i].String(), func(ref string) string {
			j, err := strconv.Atoi(ref[1:])
			if err != nil || j >= len(in) {
				return ref
			}
			return in[j].Name
		})
	})
}

// matchBinder binds the DEFINE and MEASURES expressions of one
// MATCH_RECOGNIZE: pattern variable references, FIRST/LAST/PREV and
// aggregates become navigation slots.
type matchBinder struct {
	b      *Binder
	in     *scope
	vars   map[string]bool
	navs   []MatchNav
	navIdx map[string]int
	// define is the variable whose condition is being bound ("" in
	// MEASURES).
	define  string
	measure bool
	used    []int
	rowtime row.Type
}

func (mb *matchBinder) slot(n MatchNav) expr.Expr {
	key := fmt.Sprintf("%d|%s|%d|%v|%s|%v", n.Kind, n.Var, n.Offset, n.Arg, n.Agg, n.Distinct)
	i, ok := mb.navIdx[key]
	if !ok {
		i = len(mb.navs)
		mb.navs = append(mb.navs, n)
		mb.navIdx[key] = i
	}
	found := false
	for _, u := range mb.used {
		found = found || u == i
	}
	if !found {
		mb.used = append(mb.used, i)
	}
	return expr.Ref(i, mb.navs[i].T)
}

// argBinder binds a navigation argument over one input row: var.col and
// col become input columns; the variables named are collected in vars.
func (mb *matchBinder) arg(e ast.Expr) (expr.Expr, string, error) {
	var named []string
	eb := &exprBinder{sc: mb.in, fns: mb.b.Funcs}
	eb.hook = func(x ast.Expr) (expr.Expr, bool, error) {
		switch n := x.(type) {
		case *ast.ColumnRef:
			if len(n.Parts) >= 2 && mb.vars[n.Parts[0].Name] {
				named = append(named, n.Parts[0].Name)
				r, err := mb.in.resolve(&ast.ColumnRef{Pos: n.Pos, Parts: n.Parts[1:]})
				return r, true, err
			}
		case *ast.Call:
			if len(n.Name.Parts) == 1 {
				switch strings.ToUpper(n.Name.Parts[0].Name) {
				case "FIRST", "LAST", "PREV", "NEXT", "MATCH_ROWTIME", "MATCH_PROCTIME", "CLASSIFIER", "MATCH_NUMBER":
					return nil, true, errAt(n, "%s cannot be nested in a pattern navigation or aggregate", n.Name)
				}
			}
			if _, ok := isAggCall(n, mb.b.Funcs); ok {
				return nil, true, errAt(n, "aggregate %s cannot be nested in a pattern navigation or aggregate", n)
			}
		}
		return nil, false, nil
	}
	x, err := eb.bind(e)
	if err != nil {
		return nil, "", err
	}
	v := ""
	for _, n := range named {
		if v != "" && n != v {
			return nil, "", errAt(e, "a pattern navigation or aggregate must reference a single pattern variable, %s references %s and %s", e, v, n)
		}
		v = n
	}
	return x, v, nil
}

func intArg(e ast.Expr) (int, bool) {
	l, ok := e.(*ast.Literal)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(l.Value)
	return n, err == nil && n >= 0
}

// hook binds the MATCH_RECOGNIZE-specific expressions.
func (mb *matchBinder) hook(e ast.Expr) (expr.Expr, bool, error) {
	switch n := e.(type) {
	case *ast.ColumnRef:
		// var.col is LAST(var.col); a plain col is LAST(*.col): the row
		// under test in DEFINE, the last row of the match in MEASURES.
		x, v, err := mb.arg(n)
		if err != nil {
			return nil, true, err
		}
		return mb.slot(MatchNav{Kind: NavLast, Var: v, Arg: x, T: nullable(x.Type())}), true, nil
	case *ast.Call:
		if len(n.Name.Parts) != 1 {
			return nil, false, nil
		}
		fn := strings.ToUpper(n.Name.Parts[0].Name)
		switch fn {
		case "FIRST", "LAST", "PREV":
			if len(n.Args) < 1 || len(n.Args) > 2 {
				return nil, true, errAt(n, "%s takes a column reference and an optional offset", fn)
			}
			off := map[string]int{"FIRST": 0, "LAST": 0, "PREV": 1}[fn]
			if len(n.Args) == 2 {
				var ok bool
				if off, ok = intArg(n.Args[1]); !ok {
					return nil, true, errAt(n.Args[1], "the offset of %s must be a non-negative integer literal", fn)
				}
			}
			x, v, err := mb.arg(n.Args[0])
			if err != nil {
				return nil, true, err
			}
			kind := map[string]NavKind{"FIRST": NavFirst, "LAST": NavLast, "PREV": NavPrev}[fn]
			if kind == NavPrev {
				if mb.measure {
					return nil, true, errAt(n, "PREV is supported in DEFINE only (in MEASURES use LAST(var.col, n))")
				}
				v = ""
			}
			return mb.slot(MatchNav{Kind: kind, Var: v, Offset: off, Arg: x, T: nullable(x.Type())}), true, nil
		case "NEXT":
			return nil, true, errAt(n, "NEXT is not supported in MATCH_RECOGNIZE (a streaming pattern cannot look at rows that have not arrived)")
		case "CLASSIFIER", "MATCH_NUMBER":
			return nil, true, errAt(n, "%s is not supported in MATCH_RECOGNIZE (as in Flink)", fn)
		case "MATCH_ROWTIME", "MATCH_PROCTIME":
			if !mb.measure {
				return nil, true, errAt(n, "%s() is allowed in MEASURES only", fn)
			}
			if len(n.Args) != 0 && (fn != "MATCH_ROWTIME" || len(n.Args) != 1) {
				return nil, true, errAt(n, "%s() takes no arguments here", fn)
			}
			if len(n.Args) == 1 {
				// MATCH_ROWTIME(rowtime_field) (Flink 1.15): the match's
				// rowtime typed as the ORDER BY event-time attribute it
				// names, TIMESTAMP or TIMESTAMP_LTZ.
				x, v, err := mb.arg(n.Args[0])
				if err != nil {
					return nil, true, err
				}
				if r, ok := x.(*expr.InputRef); !ok || v != "" || r.T.TimeAttr != row.Rowtime || mb.rowtime.TimeAttr != row.Rowtime {
					return nil, true, errAt(n.Args[0], "MATCH_ROWTIME's argument must be the ORDER BY event-time attribute, not %s", n.Args[0])
				}
			}
			if fn == "MATCH_ROWTIME" {
				if mb.rowtime.TimeAttr != row.Rowtime {
					return nil, true, errAt(n, "MATCH_ROWTIME() needs ORDER BY an event-time attribute")
				}
				return mb.slot(MatchNav{Kind: NavRowtime, T: mb.rowtime.NotNull()}), true, nil
			}
			t := row.TimestampLTZType(3).NotNull()
			t.TimeAttr = row.Proctime
			return mb.slot(MatchNav{Kind: NavProctime, T: t}), true, nil
		}
		c, ok := isAggCall(n, mb.b.Funcs)
		if !ok {
			return nil, false, nil
		}
		if c.Filter != nil {
			return nil, true, errAt(n, "FILTER is not supported in MATCH_RECOGNIZE aggregates")
		}
		switch fn {
		case "COUNT", "SUM", "AVG", "MIN", "MAX":
		default:
			return nil, true, errAt(n, "aggregate %s is not supported in MATCH_RECOGNIZE (COUNT, SUM, AVG, MIN and MAX are)", fn)
		}
		nav := MatchNav{Kind: NavAgg, Agg: fn, Distinct: c.Distinct}
		var argTypes []row.Type
		switch {
		case len(c.Args) == 1:
			if st, ok := c.Args[0].(*ast.Star); ok {
				if fn != "COUNT" {
					return nil, true, errAt(n, "%s(*) is not an aggregate", fn)
				}
				if len(st.Qualifier) == 1 && mb.vars[st.Qualifier[0].Name] {
					nav.Var = st.Qualifier[0].Name
				} else if len(st.Qualifier) > 0 {
					return nil, true, errAt(st, "%s is not a pattern variable", st.Qualifier[0].Name)
				}
				break
			}
			x, v, err := mb.arg(c.Args[0])
			if err != nil {
				return nil, true, err
			}
			nav.Arg, nav.Var = x, v
			argTypes = []row.Type{x.Type()}
		default:
			return nil, true, errAt(n, "%s takes one argument in MATCH_RECOGNIZE", fn)
		}
		aggFn := fn
		if nav.Arg == nil {
			aggFn = "COUNT"
		}
		t, err := mb.b.AggType(aggFn, nav.Distinct, argTypes)
		if err != nil {
			return nil, true, errAt(n, "%v", err)
		}
		nav.T = t
		return mb.slot(nav), true, nil
	case *ast.SubqueryExpr, *ast.ExistsExpr:
		return nil, true, errAt(e, "subqueries are not supported in MATCH_RECOGNIZE")
	}
	return nil, false, nil
}

func nullable(t row.Type) row.Type {
	t = t.WithNullable(true)
	t.TimeAttr = row.NoTimeAttr
	return t
}

func (mb *matchBinder) bind(e ast.Expr) (expr.Expr, []int, error) {
	mb.used = nil
	eb := &exprBinder{sc: &scope{}, hook: mb.hook, fns: mb.b.Funcs}
	x, err := eb.bind(e)
	if err != nil {
		return nil, nil, err
	}
	return x, mb.used, nil
}

// bindMatch binds MATCH_RECOGNIZE over its input.
func (b *Binder) bindMatch(n *ast.MatchRecognize) (Rel, error) {
	in, sc, err := b.bindFrom(n.Input)
	if err != nil {
		return nil, err
	}
	if in.Mode() != InsertOnly {
		return nil, errAt(n, "%v", ConsumeError("Match Recognize", in))
	}
	cols := in.Columns()
	m := &MatchRecognize{In: in}
	if n.AllRows {
		return nil, errAt(n, "All rows per match mode is not supported yet.")
	}
	// PARTITION BY
	keyExprs := &exprBinder{sc: sc, fns: b.Funcs}
	for _, p := range n.PartitionBy {
		x, err := keyExprs.bind(p)
		if err != nil {
			return nil, err
		}
		ref, ok := x.(*expr.InputRef)
		if !ok {
			return nil, errAt(p, "PARTITION BY of MATCH_RECOGNIZE takes columns, not %s", p)
		}
		m.PartitionKeys = append(m.PartitionKeys, ref.Index)
	}
	// ORDER BY: a time attribute ascending first.
	if len(n.OrderBy) == 0 {
		return nil, errAt(n, "You must specify either rowtime or proctime for order by.")
	}
	first, err := keyExprs.bind(n.OrderBy[0].Expr)
	if err != nil {
		return nil, err
	}
	ref, ok := first.(*expr.InputRef)
	if !ok || cols[ref.Index].Type.TimeAttr == row.NoTimeAttr {
		return nil, errAt(n.OrderBy[0], "You must specify either rowtime or proctime for order by as the first one.")
	}
	if n.OrderBy[0].Desc {
		return nil, errAt(n.OrderBy[0], "Primary sort order of a streaming table must be ascending on time.")
	}
	for _, o := range n.OrderBy[1:] {
		x, err := keyExprs.bind(o.Expr)
		if err != nil {
			return nil, err
		}
		r, ok := x.(*expr.InputRef)
		if !ok {
			return nil, errAt(o, "ORDER BY of MATCH_RECOGNIZE takes columns after the time attribute, not %s", o.Expr)
		}
		// Flink's default null order: NULLS FIRST ascending, LAST descending.
		k := SortKey{Col: r.Index, Desc: o.Desc, NullsLast: o.Desc}
		switch strings.ToUpper(o.Nulls) {
		case "FIRST":
			k.NullsLast = false
		case "LAST":
			k.NullsLast = true
		}
		m.OrderBy = append(m.OrderBy, k)
	}
	m.TimeCol, m.ProcTime = ref.Index, cols[ref.Index].Type.TimeAttr == row.Proctime
	// PATTERN
	vars := map[string]bool{}
	if err := m.bindPattern(n.Pattern, vars); err != nil {
		return nil, err
	}
	if err := m.checkPattern(n); err != nil {
		return nil, err
	}
	// WITHIN
	if n.Within != nil {
		x, err := (&exprBinder{sc: &scope{}}).bind(n.Within)
		if err != nil {
			return nil, err
		}
		if x, err = expr.Fold(x); err != nil {
			return nil, errAt(n.Within, "%v", err)
		}
		l, ok := x.(*expr.Literal)
		if !ok || l.T.Root != row.TypeIntervalDayTime || l.Value.IsNull() || l.Value.Int() <= 0 {
			return nil, errAt(n.Within, "WITHIN needs a positive constant INTERVAL ... DAY TO SECOND, not %s", x)
		}
		m.Within = l.Value.Int()
	}
	// AFTER MATCH SKIP
	if a := n.AfterMatch; a != nil {
		switch a.Kind {
		case ast.SkipToNextRow:
			m.Skip = SkipToNextRow
		case ast.SkipPastLast:
			m.Skip = SkipPastLastRow
		case ast.SkipToFirst, ast.SkipToLast:
			m.Skip = SkipToFirst
			if a.Kind == ast.SkipToLast {
				m.Skip = SkipToLast
			}
			if !vars[a.Var.Name] {
				return nil, errAt(a.Var, "AFTER MATCH %s %s: %s is not a pattern variable", m.Skip, a.Var.Name, a.Var.Name)
			}
			m.SkipVar = a.Var.Name
		}
	}
	mb := &matchBinder{b: b, in: sc, vars: vars, navIdx: map[string]int{}}
	if !m.ProcTime {
		mb.rowtime = cols[m.TimeCol].Type
	}
	// DEFINE
	for _, d := range n.Defines {
		i := m.varIndex(d.Var.Name)
		if i < 0 {
			return nil, errAt(d.Var, "DEFINE names %s, which is not a variable of the PATTERN", d.Var.Name)
		}
		if m.Vars[i].Define != nil {
			return nil, errAt(d.Var, "pattern variable %s is defined twice", d.Var.Name)
		}
		mb.define = d.Var.Name
		x, used, err := mb.bind(d.Cond)
		if err != nil {
			return nil, err
		}
		if err := checkBoolean(d.Cond, x, "DEFINE"); err != nil {
			return nil, err
		}
		m.Vars[i].Define, m.Vars[i].Navs = x, used
	}
	// MEASURES
	mb.define, mb.measure = "", true
	var out []Column
	for _, k := range m.PartitionKeys {
		c := cols[k]
		c.Type.TimeAttr = row.NoTimeAttr
		out = append(out, c)
	}
	var measureNavs []int
	for _, it := range n.Measures {
		x, used, err := mb.bind(it.Expr)
		if err != nil {
			return nil, err
		}
		t := x.Type()
		if r, ok := x.(*expr.InputRef); !ok || (mb.navs[r.Index].Kind != NavRowtime && mb.navs[r.Index].Kind != NavProctime) {
			t.TimeAttr = row.NoTimeAttr
		}
		for _, u := range used {
			dup := false
			for _, v := range measureNavs {
				dup = dup || u == v
			}
			if !dup {
				measureNavs = append(measureNavs, u)
			}
		}
		m.Measures = append(m.Measures, x)
		out = append(out, Column{Name: it.Alias.Name, Type: t})
	}
	seen := map[string]bool{}
	for _, c := range out {
		if seen[c.Name] {
			return nil, errAt(n, "MATCH_RECOGNIZE output has two columns named %s (partition columns come first, then the measures)", c.Name)
		}
		seen[c.Name] = true
	}
	m.MeasureNavs = measureNavs
	m.Navs = mb.navs
	m.Cols = out
	return m, nil
}

func (m *MatchRecognize) varIndex(name string) int {
	for i, v := range m.Vars {
		if v.Name == name {
			return i
		}
	}
	return -1
}

// bindPattern flattens the pattern into variables; Flink supports
// concatenation of (quantified) variables only.
func (m *MatchRecognize) bindPattern(p ast.PatternTerm, vars map[string]bool) error {
	switch t := p.(type) {
	case *ast.PatternSeq:
		for _, x := range t.Terms {
			if err := m.bindPattern(x, vars); err != nil {
				return err
			}
		}
		return nil
	case *ast.PatternAlt:
		return errAt(t, "Currently, CEP doesn't support branching patterns (|).")
	case *ast.PatternGroup:
		return errAt(t, "Group patterns are not supported yet: quantifiers apply to single pattern variables.")
	case *ast.PatternVar:
		return m.addVar(t, MatchVar{Name: t.Name.Name, Min: 1, Max: 1, Greedy: true}, vars)
	case *ast.PatternQuant:
		v, ok := t.Term.(*ast.PatternVar)
		if !ok {
			return errAt(t, "Group patterns are not supported yet: quantifiers apply to single pattern variables.")
		}
		if t.Reluctant && t.Min == 0 && t.Max == 1 {
			return errAt(t, "Reluctant optional variables are not supported yet.")
		}
		if t.Max == 0 {
			return errAt(t, "quantifier {%d,%d} of %s: the maximum must be positive", t.Min, t.Max, v.Name.Name)
		}
		return m.addVar(v, MatchVar{Name: v.Name.Name, Min: t.Min, Max: t.Max, Quantified: true, Greedy: !t.Reluctant}, vars)
	}
	return errAt(p, "pattern %s is not supported", p)
}

func (m *MatchRecognize) addVar(at ast.Node, v MatchVar, vars map[string]bool) error {
	if vars[v.Name] {
		return errAt(at, "Pattern variables must be unique. That might change in the future. (%s appears twice)", v.Name)
	}
	vars[v.Name] = true
	m.Vars = append(m.Vars, v)
	return nil
}

// checkPattern refuses what Flink's planner refuses.
func (m *MatchRecognize) checkPattern(n *ast.MatchRecognize) error {
	empty := true
	for _, v := range m.Vars {
		empty = empty && v.Min == 0
	}
	if empty {
		return errAt(n.Pattern, "Patterns that can produce empty matches are not supported. There must be at least one non-optional state.")
	}
	last := m.Vars[len(m.Vars)-1]
	if last.Quantified && last.Greedy && !(last.Min == 0 && last.Max == 1) {
		return errAt(n.Pattern, "Greedy quantifiers are not allowed as the last element of a Pattern yet. Finish your pattern with either a simple variable or reluctant quantifier.")
	}
	return nil
}
