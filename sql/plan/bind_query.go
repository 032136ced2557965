package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// AggTypeFunc derives an aggregate call's result type from the function
// name, DISTINCT and argument types.
type AggTypeFunc func(fn string, distinct bool, args []row.Type) (row.Type, error)

// Binder turns queries into logical plans over a catalog.
type Binder struct {
	cat *Catalog
	// scope is the namespace names resolve in while a view's query is
	// bound (the view's Scope), else nil: the current one.
	scope *Namespace
	// Funcs are the session's user-defined functions (nil: none).
	Funcs *Functions
	// AggType types aggregate calls (the runtime's aggregate functions
	// decide which calls exist).
	AggType AggTypeFunc
	ctes    []map[string]*ast.CTE
	depth   int
	// aggArgs binds the scalar subqueries in the arguments of the
	// aggregate calls bindAggregate is about to bind (joined below the
	// aggregation by bindSelect; scalar_subquery.go), else nil.
	aggArgs map[*ast.SubqueryExpr]expr.Expr
	// Batch is the batch runtime mode: the query's ORDER BY orders its
	// result (Sort).
	Batch bool
	// viewTop is the depth of the view query being bound (0: none): a
	// view's query is a top-level query of its own (sort.go atTop).
	viewTop int
	// topSelect is the depth of the top-level query's body while it is
	// bound (0: none): its SELECT is the top-level SELECT (atTopSelect).
	topSelect int
	// scalarTop is the depth of an uncorrelated scalar subquery being
	// bound (0: none), whose SELECT counts as top-level for
	// atTopSelect.
	scalarTop int
	// relTop is the depth of a query bound as a relation of its
	// enclosing query (0: none): a derived table, a WITH item or a set
	// operation's input. Its SELECT counts as top-level for atTopSelect:
	// in Flink's batch mode its aggregate without GROUP BY has a row over
	// no input as well (batch_agg.go).
	relTop int
}

// qualify returns the full identifier of a table or view name, relative
// to the view being bound or the current catalog and database.
func (b *Binder) qualify(n *ast.Name) (ObjectID, error) {
	if b.scope != nil {
		return b.cat.QualifyIn(n, *b.scope)
	}
	return b.cat.Qualify(n)
}

// NewBinder returns a binder over cat.
func NewBinder(cat *Catalog, aggType AggTypeFunc) *Binder {
	return &Binder{cat: cat, AggType: aggType}
}

func errAt(n ast.Node, format string, args ...any) error {
	return fmt.Errorf("sql: %s: %s", pos(n.Position()), fmt.Sprintf(format, args...))
}

// Query binds a query.
func (b *Binder) Query(q ast.QueryExpr) (Rel, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > 64 {
		return nil, errAt(q, "views or subqueries nested too deeply (a view referring to itself?)")
	}
	switch n := q.(type) {
	case *ast.Query:
		if len(n.With) > 0 {
			m := map[string]*ast.CTE{}
			for _, c := range n.With {
				m[c.Name.Name] = c
			}
			b.ctes = append(b.ctes, m)
			defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
		}
		if !b.atTop() && n.Limit == nil && n.Offset == nil {
			// An ORDER BY without LIMIT or OFFSET in a subquery orders
			// nothing: Calcite's SqlToRelConverter drops it
			// (removeSortInSubQuery, on in Flink's planner). Not in a
			// view's query, which Flink converts as a top-level query.
			return b.Query(n.Body)
		}
		if b.atTop() || b.depth == b.scalarTop || b.depth == b.relTop {
			// The body of a top-level query is its top-level SELECT.
			saved := b.topSelect
			b.topSelect = b.depth + 1
			defer func() { b.topSelect = saved }()
		}
		if len(n.OrderBy) > 0 || n.Limit != nil || n.Offset != nil {
			return b.bindOrderLimit(n)
		}
		return b.Query(n.Body)
	case *ast.Select:
		return b.bindSelect(n)
	case *ast.SetOp:
		return b.bindSetOp(n)
	case *ast.Values:
		return b.bindValues(n)
	}
	return nil, errAt(q, "query %T is not supported", q)
}

func (b *Binder) lookupCTE(name string) *ast.CTE {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c, ok := b.ctes[i][name]; ok {
			return c
		}
	}
	return nil
}

// renamed returns r with new column names (a Calc projecting every column).
func renamed(r Rel, names []string) Rel {
	cols := r.Columns()
	out := make([]Column, len(cols))
	projs := make([]expr.Expr, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: names[i], Type: c.Type}
		projs[i] = expr.Ref(i, c.Type)
	}
	return &Calc{In: r, Projects: projs, Cols: out}
}

func (b *Binder) applyAlias(r Rel, alias *ast.Alias, defaultQual string) (Rel, *scope, error) {
	qual := defaultQual
	if alias != nil {
		qual = alias.Name.Name
		if len(alias.Columns) > 0 {
			if len(alias.Columns) != len(r.Columns()) {
				return nil, nil, errAt(alias, "alias %s names %d columns, the table has %d", qual, len(alias.Columns), len(r.Columns()))
			}
			names := make([]string, len(alias.Columns))
			for i, c := range alias.Columns {
				names[i] = c.Name
			}
			r = renamed(r, names)
		}
	}
	return r, scopeOf(r, qual), nil
}

func (b *Binder) bindFrom(ref ast.TableRef) (Rel, *scope, error) {
	switch n := ref.(type) {
	case *ast.TableName:
		if n.SystemTime != nil {
			return nil, nil, errAt(n, "FOR SYSTEM_TIME AS OF is supported on the right side of a join only (a lookup join)")
		}
		r, qual, err := b.namedTable(n.Name)
		if err != nil {
			return nil, nil, err
		}
		r, sc, err := b.applyAlias(r, n.Alias, qual)
		if err == nil && n.Alias == nil && (len(n.Name.Parts) > 1 || b.lookupCTE(n.Name.Parts[0].Name) == nil) {
			// A catalog table or view without an alias: its columns are
			// reachable by its qualified name too (scope.resolve).
			if id, qerr := b.qualify(n.Name); qerr == nil {
				for i := range sc.cols {
					sc.cols[i].ID = id
				}
			}
		}
		return r, sc, err
	case *ast.DerivedTable:
		if n.Lateral {
			return nil, nil, errAt(n, "LATERAL subqueries are not supported yet")
		}
		r, err := b.relQuery(n.Query)
		if err != nil {
			return nil, nil, err
		}
		return b.applyAlias(r, n.Alias, "")
	case *ast.Unnest:
		return b.bindGeneratorAlone(n)
	case *ast.TableFunc:
		if !isWindowTVF(n) {
			return b.bindGeneratorAlone(n)
		}
		r, err := b.bindWindowTVF(n)
		if err != nil {
			return nil, nil, err
		}
		return b.applyAlias(r, n.Alias, "")
	case *ast.MatchRecognize:
		r, err := b.bindMatch(n)
		if err != nil {
			return nil, nil, err
		}
		return b.applyAlias(r, n.Alias, "")
	case *ast.Join:
		t, err := b.fromTree(n)
		if err != nil {
			return nil, nil, err
		}
		r, err := b.planFrom(t, nil)
		if err != nil {
			return nil, nil, err
		}
		return r, t.sc, nil
	}
	return nil, nil, errAt(ref, "%s is not supported in FROM yet", ref)
}

// namedTable binds a table, view or CTE name; qual is the name to qualify
// its columns with.
func (b *Binder) namedTable(name *ast.Name) (Rel, string, error) {
	if len(name.Parts) == 1 {
		if c := b.lookupCTE(name.Parts[0].Name); c != nil {
			r, err := b.relQuery(c.Query)
			if err != nil {
				return nil, "", err
			}
			if len(c.Columns) > 0 {
				if len(c.Columns) != len(r.Columns()) {
					return nil, "", errAt(c, "WITH %s names %d columns, its query has %d", c.Name.Name, len(c.Columns), len(r.Columns()))
				}
				names := make([]string, len(c.Columns))
				for i, col := range c.Columns {
					names[i] = col.Name
				}
				r = renamed(r, names)
			}
			return r, c.Name.Name, nil
		}
	}
	id, err := b.qualify(name)
	if err != nil {
		return nil, "", err
	}
	obj := id.Name
	if t, ok := b.cat.TableAt(id); ok {
		return &Scan{Table: t}, obj, nil
	}
	if v, ok := b.cat.ViewAt(id); ok {
		saved, savedScope, savedFuncs := b.viewTop, b.scope, b.Funcs
		b.viewTop = b.depth + 1
		if v.Scope != (Namespace{}) {
			b.scope = &v.Scope
			b.Funcs = b.Funcs.In(v.Scope)
		}
		r, err := b.Query(v.Query)
		b.viewTop, b.scope, b.Funcs = saved, savedScope, savedFuncs
		if err != nil {
			return nil, "", fmt.Errorf("sql: view %s: %w", obj, err)
		}
		if len(v.Columns) > 0 {
			r = renamed(r, v.Columns)
		}
		return r, obj, nil
	}
	return nil, "", errAt(name, "Object '%s' not found", name)
}

// selectItem is one output column of a select list before binding.
type selectItem struct {
	e    ast.Expr
	name string
}

func (b *Binder) expandItems(s *ast.Select, sc *scope) ([]selectItem, error) {
	var items []selectItem
	for i, it := range s.Items {
		if st, ok := it.Expr.(*ast.Star); ok {
			qual := ""
			if len(st.Qualifier) > 0 {
				qual = st.Qualifier[len(st.Qualifier)-1].Name
			}
			cols := sc.star(qual)
			if len(cols) == 0 {
				return nil, errAt(st, "Unknown identifier '%s'", qual)
			}
			for _, c := range cols {
				parts := []*ast.Ident{{Pos: st.Pos, Name: c.Name}}
				if c.Qual != "" {
					parts = append([]*ast.Ident{{Pos: st.Pos, Name: c.Qual}}, parts...)
				}
				items = append(items, selectItem{e: &ast.ColumnRef{Pos: st.Pos, Parts: parts}, name: c.Name})
			}
			continue
		}
		name := ""
		switch {
		case it.Alias != nil:
			name = it.Alias.Name
		default:
			switch x := it.Expr.(type) {
			case *ast.ColumnRef:
				name = x.Parts[len(x.Parts)-1].Name
			case *ast.FieldAccess:
				name = x.Field.Name
			}
		}
		if name == "" {
			name = "EXPR$" + strconv.Itoa(i)
		}
		items = append(items, selectItem{e: it.Expr, name: name})
	}
	return uniqueNames(items), nil
}

// uniqueNames renames duplicate output names as Flink does (a, a0, a1...).
func uniqueNames(items []selectItem) []selectItem {
	seen := map[string]bool{}
	for i := range items {
		n := items[i].name
		if seen[n] {
			for k := 0; ; k++ {
				c := n + strconv.Itoa(k)
				if !seen[c] {
					n = c
					break
				}
			}
		}
		seen[n] = true
		items[i].name = n
	}
	return items
}

func stripTimeAttr(e expr.Expr) row.Type {
	t := e.Type()
	if _, ok := e.(*expr.InputRef); !ok {
		t.TimeAttr = row.NoTimeAttr
	}
	return t
}

func checkBoolean(n ast.Node, e expr.Expr, clause string) error {
	if e.Type().Root != row.TypeBoolean && e.Type().Root != row.TypeNull {
		return errAt(n, "%s must be a boolean condition, not %s", clause, e.Type())
	}
	return nil
}

func (b *Binder) bindSelect(s *ast.Select) (Rel, error) {
	if err := refuseLookupHints(s.Hints); err != nil {
		return nil, err
	}
	var from Rel
	var sc *scope
	var tree *fromNode
	if j, ok := s.From.(*ast.Join); ok {
		var err error
		if tree, err = b.fromTree(j); err != nil {
			return nil, err
		}
		sc = tree.sc
	} else if s.From == nil {
		from, sc = &Values{Rows: [][]expr.Expr{{}}}, &scope{}
	} else {
		var err error
		if from, sc, err = b.bindFrom(s.From); err != nil {
			return nil, err
		}
	}
	eb := &exprBinder{sc: sc, fns: b.Funcs}
	var where expr.Expr
	// x [NOT] IN (subquery) conjuncts become semi/anti joins (semiJoin).
	whereAST, subs := splitSubqueryConds(s.Where)
	// Conjuncts with scalar subqueries are bound once those are joined.
	whereAST, scalarWhere := splitScalarConds(whereAST)
	if whereAST != nil {
		if containsAgg(whereAST, b.Funcs) {
			return nil, errAt(whereAST, "aggregate functions are not allowed in WHERE")
		}
		var err error
		if where, err = eb.bind(whereAST); err != nil {
			return nil, err
		}
		if err := checkBoolean(whereAST, where, "WHERE"); err != nil {
			return nil, err
		}
	}
	if tree != nil {
		// WHERE conditions of a join go into the join (equi-keys, time
		// bounds) and its inputs where they can.
		var err error
		if from, err = b.planFrom(tree, conjuncts(where)); err != nil {
			return nil, err
		}
		where = nil
	}
	if len(subs) > 0 {
		for _, in := range subs {
			var err error
			if from, err = b.semiJoin(from, sc, in); err != nil {
				return nil, err
			}
		}
		sc = sc.withoutTimeAttrs()
		eb = &exprBinder{sc: sc, fns: b.Funcs}
	}
	items, err := b.expandItems(s, sc)
	if err != nil {
		return nil, err
	}
	agg := len(s.GroupBy) > 0 || s.Having != nil
	for _, it := range items {
		agg = agg || containsAgg(it.e, b.Funcs)
	}
	if !agg && anyOver(items) {
		// An aggregate in a named window's PARTITION BY or ORDER BY
		// aggregates the query as one written in an OVER (...) does.
		for _, w := range s.Windows {
			agg = agg || containsAgg(w.Spec, b.Funcs)
		}
	}
	scalars := scalarSubqueries(scalarWhere, nil)
	scalars = markSubqueries(scalarWhere, scalars) // subquery_mark.go
	if !agg {
		for _, it := range items {
			scalars = scalarSubqueries(it.e, scalars)
			scalars = markSubqueries(it.e, scalars)
		}
	}
	if len(scalars) > 0 {
		var refs map[*ast.SubqueryExpr]expr.Expr
		if from, sc, refs, err = b.joinScalars(from, sc, scalars); err != nil { // scalar_subquery.go
			return nil, err
		}
		eb = &exprBinder{sc: sc, fns: b.Funcs, hook: scalarHook(refs)}
		if scalarWhere != nil {
			if containsAgg(scalarWhere, b.Funcs) {
				return nil, errAt(scalarWhere, "aggregate functions are not allowed in WHERE")
			}
			x, err := eb.bind(scalarWhere)
			if err != nil {
				return nil, err
			}
			if err := checkBoolean(scalarWhere, x, "WHERE"); err != nil {
				return nil, err
			}
			if where == nil {
				where = x
			} else if where, err = expr.NewCall("AND", where, x); err != nil {
				return nil, err
			}
		}
	}
	var out Rel
	switch {
	case agg:
		// OVER calls with GROUP BY or aggregates run over the
		// aggregation's rows (postAggregate, over_group.go).
		if where != nil && openRank(from) {
			// A Top-N under an aggregation: the WHERE bounds the rank.
			if from, err = filtered(from, conjuncts(where)); err != nil {
				return nil, errAt(s, "%v", strings.TrimPrefix(err.Error(), "sql: "))
			}
			where = nil
		}
		var argRefs map[*ast.SubqueryExpr]expr.Expr
		if from, sc, argRefs, err = b.joinAggArgScalars(s, from, sc, items); err != nil {
			return nil, err
		}
		saved := b.aggArgs
		b.aggArgs = argRefs
		out, err = b.bindAggregate(s, from, sc, where, items)
		b.aggArgs = saved
	case b.Batch && needsBatchOver(items):
		out, err = b.bindBatchOver(s, from, eb, where, items) // batch_over.go
	case hasOverAggregate(items):
		out, err = b.bindOver(s, from, eb, where, items)
	case hasOver(items):
		out, err = b.bindRowNumber(from, eb, where, items)
	default:
		projs := make([]expr.Expr, len(items))
		cols := make([]Column, len(items))
		for i, it := range items {
			if projs[i], err = eb.bind(it.e); err != nil {
				return nil, err
			}
			cols[i] = Column{Name: it.name, Type: stripTimeAttr(projs[i])}
			if isProctime(projs[i]) {
				cols[i].Type.TimeAttr = row.Proctime
			}
		}
		if out, err = fuseRank(&Calc{In: from, Projects: projs, Cond: where, Cols: cols}); err != nil {
			return nil, errAt(s, "%v", strings.TrimPrefix(err.Error(), "sql: "))
		}
	}
	if err != nil {
		return nil, err
	}
	if s.Distinct {
		if r, ok := attachedDistinct(out); ok {
			// Over a window aggregation's output: a window
			// aggregation again (window_attached.go).
			return r, nil
		}
		if g, ok := distinctAsGroupBy(s, out); ok {
			// Over a window TVF: GROUP BY the items, which plans a
			// window aggregation when they hold window_start and
			// window_end (Calcite turns DISTINCT into that Aggregate;
			// Flink's PullUpWindowTableFunctionIntoWindowAggregateRule
			// then takes it).
			if r, err := b.bindSelect(g); err == nil {
				if _, isWindow := stripCalcs(r).(*WindowAggregate); isWindow {
					return r, nil
				}
			}
		}
		out = distinct(out)
	}
	return out, nil
}

// distinctAsGroupBy returns SELECT DISTINCT s as SELECT ... GROUP BY its
// items when the projection planned for it, projected, reads a window
// TVF through Calcs only and s has no aggregate, GROUP BY, HAVING, star
// or subquery (so binding it again is the same query); ok false otherwise.
func distinctAsGroupBy(s *ast.Select, projected Rel) (*ast.Select, bool) {
	if len(s.GroupBy) > 0 || s.Having != nil || len(s.Windows) > 0 {
		return nil, false
	}
	if _, ok := stripCalcs(projected).(*WindowTVF); !ok {
		return nil, false
	}
	g := *s
	g.Distinct = false
	g.GroupBy = nil
	for _, it := range s.Items {
		if _, star := it.Expr.(*ast.Star); star || hasSubquery(it.Expr) {
			return nil, false
		}
		g.GroupBy = append(g.GroupBy, it.Expr)
	}
	return &g, true
}

// stripCalcs returns the first input of r under its Calcs.
func stripCalcs(r Rel) Rel {
	for {
		c, ok := r.(*Calc)
		if !ok {
			return r
		}
		r = c.In
	}
}

// distinct groups by every column (SELECT DISTINCT).
func distinct(r Rel) Rel {
	cols := r.Columns()
	keys := make([]int, len(cols))
	out := make([]Column, len(cols))
	for i, c := range cols {
		keys[i] = i
		c.Type.TimeAttr = row.NoTimeAttr
		out[i] = c
	}
	return &Aggregate{In: r, Keys: keys, Cols: out}
}

// aggSpec is an aggregate call found in a select list or HAVING.
type aggSpec struct {
	call     *ast.Call
	fn       string
	args     []expr.Expr
	filter   expr.Expr
	distinct bool
	// ignoreNulls is ARRAY_AGG's IGNORE NULLS.
	ignoreNulls bool
	// key, if set, names the call in aggRewrite.aggCol instead of
	// call.String(): the helper calls of a reduced call (stddev.go).
	key string
}

// keyOf is the name of the call in aggRewrite.aggCol.
func (sp *aggSpec) keyOf() string {
	if sp.key != "" {
		return sp.key
	}
	return sp.call.String()
}

func (b *Binder) bindAggregate(s *ast.Select, from Rel, sc *scope, where expr.Expr, items []selectItem) (Rel, error) {
	eb := &exprBinder{sc: sc, fns: b.Funcs}
	if b.aggArgs != nil {
		eb.hook = scalarHook(b.aggArgs)
		b.aggArgs = nil // not for the aggregations of nested queries
	}
	// Group keys, bound over the FROM scope.
	var keys []expr.Expr
	keyIdx := map[string]int{}
	var group *WindowTVF // a legacy group window: GROUP BY TUMBLE(ts, size), ...
	// Grouping sets: the sets of each GROUP BY element (a plain key is
	// the one set of itself), crossed when there are GROUPING SETS,
	// ROLLUP, CUBE or ().
	var elems [][][]int
	var setsAt ast.Node
	addKey := func(g ast.Expr) (int, error) {
		if containsAgg(g, b.Funcs) {
			return 0, errAt(g, "aggregate functions are not allowed in GROUP BY")
		}
		if anyOver([]selectItem{{e: g}}) {
			return 0, errAt(g, "Windowed aggregate expression is illegal in GROUP BY clause")
		}
		k, err := eb.bind(g)
		if err != nil {
			return 0, err
		}
		if i, dup := keyIdx[k.String()]; dup {
			return i, nil
		}
		keyIdx[k.String()] = len(keys)
		keys = append(keys, k)
		return len(keys) - 1, nil
	}
	for _, g := range s.GroupBy {
		if w, ok, err := b.groupWindow(g, from, eb); ok || err != nil {
			if err != nil {
				return nil, err
			}
			if group != nil {
				return nil, errAt(g, "only one group window is allowed in GROUP BY")
			}
			group = w
			continue
		}
		if gs, ok := g.(*ast.GroupingSets); ok {
			sets, err := groupingSets(gs, addKey)
			if err != nil {
				return nil, err
			}
			elems = append(elems, sets)
			setsAt = g
			continue
		}
		if r, ok := g.(*ast.RowExpr); ok && len(r.Fields) == 0 {
			elems = append(elems, [][]int{{}}) // (): the grand total
			setsAt = g
			continue
		}
		i, err := addKey(g)
		if err != nil {
			return nil, err
		}
		elems = append(elems, [][]int{{i}})
	}
	// Aggregate calls of the select list and HAVING.
	var specs []*aggSpec
	specIdx := map[string]int{}
	var collectErr error
	collect := func(n ast.Node) bool {
		if collectErr != nil {
			return false
		}
		e, ok := n.(ast.Expr)
		if !ok {
			return true
		}
		switch n.(type) {
		case *ast.SubqueryExpr, *ast.ExistsExpr:
			return false
		}
		c, ok := isAggCall(e, b.Funcs)
		if !ok {
			return true
		}
		if _, seen := specIdx[c.String()]; seen {
			return false
		}
		if _, seen := specIdx[c.String()+reducedSumSq]; seen {
			return false
		}
		sp := &aggSpec{call: c, fn: b.Funcs.aggFuncName(c.Name), distinct: c.Distinct,
			ignoreNulls: c.NullTreatment == "IGNORE NULLS"}
		if c.NullTreatment != "" && sp.fn != "ARRAY_AGG" {
			collectErr = errAt(c, "Cannot specify IGNORE NULLS or RESPECT NULLS following '%s'", sp.fn)
			return false
		}
		if err := checkPercentile(c, sp.fn); err != nil {
			collectErr = err
			return false
		}
		args, uf, err := b.aggCallArgs(c)
		if err != nil {
			collectErr = err
			return false
		}
		for i, a := range args {
			if a == nil {
				sp.args = append(sp.args, nullArg(uf, i))
				continue
			}
			if _, star := a.(*ast.Star); star {
				if sp.fn != "COUNT" || len(c.Args) != 1 {
					collectErr = errAt(a, "'*' is only allowed in COUNT(*)")
					return false
				}
				continue
			}
			if containsAgg(a, b.Funcs) {
				collectErr = errAt(a, "Aggregate expressions cannot be nested")
				return false
			}
			x, err := eb.bind(a)
			if err != nil {
				collectErr = err
				return false
			}
			sp.args = append(sp.args, x)
		}
		if c.Filter != nil {
			f, err := eb.bind(c.Filter)
			if err != nil {
				collectErr = err
				return false
			}
			if err := checkBoolean(c.Filter, f, "FILTER"); err != nil {
				collectErr = err
				return false
			}
			sp.filter = f
		}
		if isReducedAgg(c) {
			helpers, err := b.reducedSpecs(sp)
			if err != nil {
				collectErr = err
				return false
			}
			for _, h := range helpers {
				specIdx[h.keyOf()] = len(specs)
				specs = append(specs, h)
			}
			return false
		}
		specIdx[c.String()] = len(specs)
		specs = append(specs, sp)
		return false
	}
	for _, it := range items {
		ast.Inspect(it.e, collect)
	}
	if s.Having != nil {
		ast.Inspect(s.Having, collect)
	}
	if anyOver(items) {
		// The aggregates of named windows' PARTITION BY and ORDER BY
		// (over_group.go).
		for _, w := range s.Windows {
			ast.Inspect(w.Spec, collect)
		}
	}
	if collectErr != nil {
		return nil, collectErr
	}

	if setsAt != nil {
		sets := crossSets(elems)
		if group != nil {
			return nil, errAt(setsAt, "GROUPING SETS, ROLLUP and CUBE with a group window are not supported yet")
		}
		if tvf, ok := from.(*WindowTVF); ok {
			// A window aggregation when window_start and window_end are
			// in every grouping set (window_grouping_sets.go); otherwise,
			// as in Flink, a group aggregation over the window TVF.
			n := len(tvf.In.Columns())
			ws, hasWS := keyIdx[fmt.Sprintf("$%d", n)]
			we, hasWE := keyIdx[fmt.Sprintf("$%d", n+1)]
			if hasWS && hasWE && inEverySet(sets, ws, we) && (len(sets) > 1 || len(sets[0]) != len(keys)) {
				return b.bindWindowGroupingSets(s, tvf, sc, where, keys, specs, sets, setsAt, items)
			}
		}
		if len(sets) > 1 || len(sets[0]) != len(keys) {
			aggRel, _, err := b.expandGroupingSets(from, where, keys, specs, sets, setsAt, -1)
			if err != nil {
				return nil, err
			}
			nk := len(keys)
			rw := &aggRewrite{in: eb, keyCol: map[string]int{}, aggCol: map[string]int{}, outType: Types(aggRel), groupingCol: nk, nkeys: nk}
			for k, i := range keyIdx {
				rw.keyCol[k] = i
			}
			for k, i := range specIdx {
				rw.aggCol[k] = nk + 1 + i
			}
			if b.Batch && b.atTopSelect() && slices.ContainsFunc(sets, func(s []int) bool { return len(s) == 0 }) {
				// The empty set's row also over no input (batch_agg.go).
				r, err := batchEmptyGroupingSet(s, aggRel, nk)
				if err != nil {
					return nil, err
				}
				return b.postAggregate(s, r, rw, items)
			}
			return b.postAggregate(s, aggRel, rw, items)
		}
		// One set of every key: a plain GROUP BY.
	}
	if group != nil {
		n := len(from.Columns())
		keys = append(keys, expr.Ref(n, group.Cols[n].Type), expr.Ref(n+1, group.Cols[n+1].Type))
		return b.bindWindowAggregate(s, group, sc, where, keys, specs, items, true)
	}
	// A window aggregation: GROUP BY window_start, window_end over a
	// window TVF.
	if tvf, ok := from.(*WindowTVF); ok {
		n := len(tvf.In.Columns())
		_, hasWS := keyIdx[fmt.Sprintf("$%d", n)]
		_, hasWE := keyIdx[fmt.Sprintf("$%d", n+1)]
		if hasWS && hasWE {
			return b.bindWindowAggregate(s, tvf, sc, where, keys, specs, items, false)
		}
	}
	// The same over a window TVF behind Calcs (a view or subquery that
	// projects or filters the TVF's rows): window_tvf_calc.go.
	if r, ok, err := b.bindWindowAggregateThroughCalcs(s, from, sc, where, keys, specs, items); ok {
		return r, err
	}
	// A cascaded window aggregation: GROUP BY window_start, window_end
	// over a window aggregation's output (window_attached.go).
	if r, ok, err := b.bindAttachedWindowAggregate(s, from, sc, where, keys, specs, items); ok {
		return r, err
	}

	// Pre-projection: keys, then aggregate arguments and filters.
	pre := &preCalc{in: from}
	for _, k := range keys {
		pre.add(k)
	}
	calls, err := b.aggCalls(specs, pre)
	if err != nil {
		return nil, err
	}
	preRel := pre.rel(where)
	aggCols := make([]Column, 0, len(keys)+len(calls))
	keyCols := make([]int, len(keys))
	for i := range keys {
		keyCols[i] = i
		c := preRel.Columns()[i]
		c.Type.TimeAttr = row.NoTimeAttr
		aggCols = append(aggCols, c)
	}
	for _, c := range calls {
		aggCols = append(aggCols, Column{Name: c.Name, Type: c.Type})
	}
	aggRel := &Aggregate{In: preRel, Keys: keyCols, Aggs: calls, Cols: aggCols}
	rw := &aggRewrite{in: eb, keyCol: map[string]int{}, aggCol: map[string]int{}, outType: Types(aggRel), groupingCol: -1, nkeys: len(keys)}
	for k, i := range keyIdx {
		rw.keyCol[k] = i
	}
	for k, i := range specIdx {
		rw.aggCol[k] = len(keys) + i
	}
	if b.Batch && len(keys) == 0 && b.atTopSelect() {
		// One row also over no input (batch_agg.go).
		r, err := batchEmptyAggregate(s, aggRel)
		if err != nil {
			return nil, err
		}
		return b.postAggregate(s, r, rw, items)
	}
	return b.postAggregate(s, aggRel, rw, items)
}

// groupWindow recognises a legacy group window function of GROUP BY:
// TUMBLE(time_attr, size), HOP(time_attr, slide, size) and
// SESSION(time_attr, gap), and returns it as a window TVF over from.
func (b *Binder) groupWindow(g ast.Expr, from Rel, eb *exprBinder) (*WindowTVF, bool, error) {
	c, ok := g.(*ast.Call)
	if !ok || len(c.Name.Parts) != 1 || c.Over != nil {
		return nil, false, nil
	}
	fn := strings.ToUpper(c.Name.Parts[0].Name)
	var kind WindowKind
	switch fn {
	case "TUMBLE":
		kind = Tumble
	case "HOP":
		kind = Hop
	case "SESSION":
		kind = Session
	default:
		return nil, false, nil
	}
	want := map[WindowKind]int{Tumble: 2, Hop: 3, Session: 2}[kind]
	if len(c.Args) != want && !(kind == Tumble && len(c.Args) == 3) {
		return nil, true, errAt(c, "%s group window takes %d arguments", fn, want)
	}
	te, err := eb.bind(c.Args[0])
	if err != nil {
		return nil, true, err
	}
	ref, ok := te.(*expr.InputRef)
	if !ok || ref.T.TimeAttr == row.NoTimeAttr {
		return nil, true, errAt(c.Args[0], "Window can only be defined on a time attribute column, but is type of %s", te.Type())
	}
	var ivs []int64
	for _, a := range c.Args[1:] {
		e, err := (&exprBinder{sc: &scope{}}).bind(a)
		if err != nil {
			return nil, true, err
		}
		if e, err = expr.Fold(e); err != nil {
			return nil, true, errAt(a, "%v", err)
		}
		l, ok := e.(*expr.Literal)
		if !ok || l.T.Root != row.TypeIntervalDayTime || l.Value.IsNull() || l.Value.Int() <= 0 {
			return nil, true, errAt(a, "%s needs positive constant INTERVAL ... DAY TO SECOND arguments, not %s", fn, e)
		}
		ivs = append(ivs, l.Value.Int())
	}
	w := Window{Kind: kind, TimeCol: ref.Index}
	switch kind {
	case Tumble:
		w.Size = ivs[0]
		if len(ivs) > 1 {
			w.Offset = ivs[1]
		}
	case Hop:
		// Flink's legacy group window takes any size and slide (its
		// sliding window assigner); Weir keeps such windows unsliced.
		w.Slide, w.Size = ivs[0], ivs[1]
		w.Unsliced = w.Size%w.Slide != 0
	case Session:
		w.Gap = ivs[0]
	}
	cols := from.Columns()
	t := cols[ref.Index].Type
	t.TimeAttr = ref.T.TimeAttr
	wt, wtime := windowColumnTypes(&w, t)
	out := append(append([]Column(nil), cols...), Column{Name: "window_start", Type: wt}, Column{Name: "window_end", Type: wt}, Column{Name: "window_time", Type: wtime})
	return &WindowTVF{In: from, Window: w, Cols: out}, true, nil
}

// preCalc builds the projection in front of an aggregation.
type preCalc struct {
	in    Rel
	projs []expr.Expr
	idx   map[string]int
}

func (p *preCalc) add(e expr.Expr) int {
	if p.idx == nil {
		p.idx = map[string]int{}
	}
	if i, ok := p.idx[e.String()]; ok {
		return i
	}
	p.idx[e.String()] = len(p.projs)
	p.projs = append(p.projs, e)
	return len(p.projs) - 1
}

func (p *preCalc) rel(where expr.Expr) *Calc {
	cols := make([]Column, len(p.projs))
	in := p.in.Columns()
	for i, e := range p.projs {
		name := "$f" + strconv.Itoa(i)
		if r, ok := e.(*expr.InputRef); ok {
			name = in[r.Index].Name
		}
		cols[i] = Column{Name: name, Type: e.Type()}
	}
	return &Calc{In: p.in, Projects: p.projs, Cond: where, Cols: cols}
}

func (b *Binder) aggCalls(specs []*aggSpec, pre *preCalc) ([]AggCall, error) {
	calls := make([]AggCall, len(specs))
	for i, sp := range specs {
		c := AggCall{Func: sp.fn, Distinct: sp.distinct, IgnoreNulls: sp.ignoreNulls, Filter: -1, Name: "EXPR$" + strconv.Itoa(i)}
		if err := b.userAgg(sp, &c); err != nil {
			return nil, err
		}
		var types []row.Type
		for _, a := range sp.args {
			c.Args = append(c.Args, pre.add(a))
			t := a.Type()
			t.TimeAttr = row.NoTimeAttr
			types = append(types, t)
		}
		if sp.filter != nil {
			c.Filter = pre.add(sp.filter)
		}
		t, err := b.aggSpecType(sp.call, sp.fn, b.Funcs.userAggOf(sp.call.Name), sp.distinct, types)
		if err != nil {
			return nil, errAt(sp.call, "%v", err)
		}
		c.Type = t
		calls[i] = c
	}
	return calls, nil
}

// postAggregate binds the select list and HAVING over an aggregation's
// output.
func (b *Binder) postAggregate(s *ast.Select, agg Rel, rw *aggRewrite, items []selectItem) (Rel, error) {
	post := &exprBinder{agg: rw, fns: b.Funcs, aggType: b.AggType}
	// Scalar subqueries of the select list and HAVING are joined above
	// the aggregation (scalar_subquery.go).
	var err error
	if agg, post.hook, err = b.joinAggScalars(s, agg, rw, items); err != nil {
		return nil, err
	}
	if s.Having != nil && anyOver([]selectItem{{e: s.Having}}) {
		return nil, errAt(s.Having, "Windowed aggregate expression is illegal in HAVING clause")
	}
	if anyOver(items) {
		return b.overAggregated(s, agg, post, items) // over_group.go
	}
	projs := make([]expr.Expr, len(items))
	cols := make([]Column, len(items))
	for i, it := range items {
		e, err := post.bind(it.e)
		if err != nil {
			return nil, err
		}
		projs[i] = e
		cols[i] = Column{Name: it.name, Type: stripTimeAttr(e)}
		if r, ok := e.(*expr.InputRef); ok {
			cols[i].Type = agg.Columns()[r.Index].Type
		}
	}
	var having expr.Expr
	if s.Having != nil {
		if having, err = post.bind(s.Having); err != nil {
			return nil, err
		}
		if err := checkBoolean(s.Having, having, "HAVING"); err != nil {
			return nil, err
		}
	}
	return &Calc{In: agg, Projects: projs, Cond: having, Cols: cols}, nil
}

// bindWindowAggregate plans a window aggregation over a window TVF (legacy:
// a group window of GROUP BY, whose SESSION windows are per group key).
func (b *Binder) bindWindowAggregate(s *ast.Select, tvf *WindowTVF, sc *scope, where expr.Expr, keys []expr.Expr, specs []*aggSpec, items []selectItem, legacy bool) (Rel, error) {
	return b.bindWindowAggregateAs(s, tvf, sc, where, keys, keys, specs, items, legacy)
}

// bindWindowAggregateAs is bindWindowAggregate where keys are over tvf's
// columns and scopeKeys are the same keys as the select list's
// expressions name them (over the FROM of s, which may be tvf behind
// Calcs: window_tvf_calc.go).
func (b *Binder) bindWindowAggregateAs(s *ast.Select, tvf *WindowTVF, sc *scope, where expr.Expr, keys, scopeKeys []expr.Expr, specs []*aggSpec, items []selectItem, legacy bool) (Rel, error) {
	n := len(tvf.In.Columns())
	usesWindowCols := func(e expr.Expr) bool {
		found := false
		walkExpr(e, func(x expr.Expr) {
			if r, ok := x.(*expr.InputRef); ok && r.Index >= n {
				found = true
			}
		})
		return found
	}
	if where != nil && usesWindowCols(where) {
		return nil, errAt(s.Where, "a WHERE condition on window_start, window_end or window_time of a window aggregation is not supported")
	}
	pre := &preCalc{in: tvf.In}
	timeCol := pre.add(expr.Ref(tvf.Window.TimeCol, tvf.In.Columns()[tvf.Window.TimeCol].Type))
	var plainKeys []int
	windowKey := map[int]int{} // key position → n, n+1 or n+2
	for i, k := range keys {
		if r, ok := k.(*expr.InputRef); ok && r.Index >= n {
			windowKey[i] = r.Index - n
			continue
		}
		if usesWindowCols(k) {
			return nil, errAt(s, "group key %s uses window columns; group by window_start and window_end themselves", k)
		}
		plainKeys = append(plainKeys, i)
	}
	win := tvf.Window
	var keyCols []int
	for _, i := range plainKeys {
		keyCols = append(keyCols, pre.add(keys[i]))
	}
	if win.Kind == Session {
		if legacy {
			win.PartitionKeys = keyCols
		} else if !groupsByPartitionKeys(keys, plainKeys, win.PartitionKeys) {
			return nil, errAt(s, "a SESSION window aggregation must group by window_start, window_end and exactly the PARTITION BY columns of the SESSION window")
		}
	}
	for _, sp := range specs {
		for _, a := range sp.args {
			if usesWindowCols(a) {
				return nil, errAt(sp.call, "aggregate arguments cannot use window columns")
			}
		}
	}
	calls, err := b.aggCalls(specs, pre)
	if err != nil {
		return nil, err
	}
	preRel := pre.rel(where)
	win.TimeCol = timeCol
	var cols []Column
	for _, k := range keyCols {
		c := preRel.Columns()[k]
		c.Type.TimeAttr = row.NoTimeAttr
		cols = append(cols, c)
	}
	for _, c := range calls {
		cols = append(cols, Column{Name: c.Name, Type: c.Type})
	}
	cols = append(cols, tvf.Cols[n], tvf.Cols[n+1], tvf.Cols[n+2])
	wa := &WindowAggregate{In: preRel, Window: win, Keys: keyCols, Aggs: calls, Cols: cols, Legacy: legacy}
	eb := &exprBinder{sc: sc, fns: b.Funcs}
	rw := &aggRewrite{in: eb, keyCol: map[string]int{}, aggCol: map[string]int{}, outType: Types(wa), groupingCol: -1}
	for j, i := range plainKeys {
		rw.keyCol[scopeKeys[i].String()] = j
	}
	base := len(keyCols) + len(calls)
	for i, w := range windowKey {
		rw.keyCol[scopeKeys[i].String()] = base + w
	}
	for j, sp := range specs {
		rw.aggCol[sp.keyOf()] = len(keyCols) + j
	}
	rw.aux = map[string]int{"START": base, "END": base + 1, "ROWTIME": base + 2, "PROCTIME": base + 2}
	return b.postAggregate(s, wa, rw, items)
}

func (b *Binder) bindSetOp(n *ast.SetOp) (Rel, error) {
	l, err := b.relQuery(n.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.relQuery(n.Right)
	if err != nil {
		return nil, err
	}
	return b.setOpRels(n, l, r)
}

// setOpRels combines the bound inputs of a set operation.
func (b *Binder) setOpRels(n *ast.SetOp, l, r Rel) (Rel, error) {
	lc, rc := l.Columns(), r.Columns()
	if len(lc) != len(rc) {
		return nil, errAt(n, "%s inputs have %d and %d columns", n.Kind, len(lc), len(rc))
	}
	cols := make([]Column, len(lc))
	for i := range lc {
		t, ok := expr.LeastRestrictive(lc[i].Type, rc[i].Type)
		if !ok {
			return nil, errAt(n, "%s column %d: types %s and %s have no common type", n.Kind, i+1, lc[i].Type, rc[i].Type)
		}
		t.TimeAttr = row.NoTimeAttr
		if lc[i].Type.TimeAttr == rc[i].Type.TimeAttr {
			t.TimeAttr = lc[i].Type.TimeAttr
		}
		cols[i] = Column{Name: lc[i].Name, Type: t}
	}
	l, err := castTo(l, cols)
	if err != nil {
		return nil, errAt(n, "%v", err)
	}
	r, err = castTo(r, cols)
	if err != nil {
		return nil, errAt(n, "%v", err)
	}
	switch {
	case n.Kind != ast.Union && n.All:
		u, err := b.setAll(l, r, n.Kind == ast.Except) // set_ops.go
		if err != nil {
			return nil, errAt(n, "%v", err)
		}
		return u, nil
	case n.Kind != ast.Union:
		return setSemiJoin(l, r, n.Kind == ast.Except), nil
	}
	var u Rel = &Union{Ins: []Rel{l, r}, Cols: cols}
	if !n.All {
		u = distinct(u)
	}
	return u, nil
}

// castTo projects r onto the given columns (names and types), casting
// where a type differs.
func castTo(r Rel, cols []Column) (Rel, error) {
	in := r.Columns()
	same := true
	projs := make([]expr.Expr, len(cols))
	for i, c := range cols {
		var e expr.Expr = expr.Ref(i, in[i].Type)
		if !in[i].Type.WithNullable(true).Equal(c.Type.WithNullable(true)) || in[i].Type.Nullable && !c.Type.Nullable {
			x, err := expr.NewCast(e, c.Type)
			if err != nil {
				return nil, err
			}
			e = x
			same = false
		}
		if in[i].Name != c.Name {
			same = false
		}
		projs[i] = e
	}
	if same {
		return r, nil
	}
	return &Calc{In: r, Projects: projs, Cols: cols}, nil
}

func (b *Binder) bindValues(n *ast.Values) (Rel, error) {
	eb := &exprBinder{sc: &scope{}, fns: b.Funcs}
	var rows [][]expr.Expr
	for _, r := range n.Rows {
		var out []expr.Expr
		for _, e := range r {
			x, err := eb.bind(e)
			if err != nil {
				return nil, err
			}
			if x, err = expr.Fold(x); err != nil {
				return nil, errAt(e, "%v", err)
			}
			out = append(out, x)
		}
		if len(rows) > 0 && len(out) != len(rows[0]) {
			return nil, errAt(n, "VALUES rows have %d and %d columns", len(rows[0]), len(out))
		}
		rows = append(rows, out)
	}
	cols := make([]Column, len(rows[0]))
	for i := range cols {
		types := make([]row.Type, len(rows))
		for j := range rows {
			types[j] = rows[j][i].Type()
		}
		t, ok := expr.LeastRestrictive(types...)
		if !ok {
			return nil, errAt(n, "VALUES column %d has no common type", i+1)
		}
		cols[i] = Column{Name: "EXPR$" + strconv.Itoa(i), Type: t}
		for j := range rows {
			if !rows[j][i].Type().Equal(t) {
				c, err := expr.NewCast(rows[j][i], t)
				if err != nil {
					return nil, errAt(n, "%v", err)
				}
				if rows[j][i], err = expr.Fold(c); err != nil {
					return nil, errAt(n, "%v", err)
				}
			}
		}
	}
	return &Values{Rows: rows, Cols: cols}, nil
}

// isProctime recognises PROCTIME(): as a select item it declares a
// processing-time attribute (Flink's PROCTIME() in a view).
func isProctime(e expr.Expr) bool {
	c, ok := e.(*expr.Call)
	return ok && c.Func.Name == "PROCTIME" && len(c.Args) == 0
}

// relQuery binds q as a relation of the query being bound (relTop).
func (b *Binder) relQuery(q ast.QueryExpr) (Rel, error) {
	saved := b.relTop
	b.relTop = b.depth + 1
	defer func() { b.relTop = saved }()
	return b.Query(q)
}
