package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// bindOrderLimit plans a query's ORDER BY and LIMIT/OFFSET as Flink's
// streaming planner does: ORDER BY ... LIMIT n [OFFSET m] is a Top-N over
// the whole result (Flink's SortLimit, run as a Rank without partition:
// updating, on one subtask); ORDER BY a time attribute ASC without LIMIT
// is a temporal sort (TemporalSort); LIMIT n [OFFSET m] without ORDER BY
// is Flink's Limit: the first rows in arrival order, on one subtask (a
// Rank without order keys). Other orders without LIMIT are refused.
func (b *Binder) bindOrderLimit(q *ast.Query) (Rel, error) {
	if len(q.OrderBy) == 0 && q.Limit == nil {
		return nil, errAt(q, "OFFSET without LIMIT is not supported yet in streaming queries")
	}
	body, err := b.Query(q.Body)
	if err != nil {
		return nil, err
	}
	// ORDER BY may name columns of FROM that the select list leaves out
	// (as in Calcite): select them too, sort, then project them away.
	width := len(body.Columns())
	if sel, ok := q.Body.(*ast.Select); ok && !sel.Distinct {
		sc := scopeOf(body, "")
		var extra []*ast.SelectItem
		for i, o := range q.OrderBy {
			if _, ok := o.Expr.(*ast.Literal); ok {
				continue
			}
			if _, err := (&exprBinder{sc: sc}).bind(o.Expr); err != nil {
				extra = append(extra, &ast.SelectItem{Pos: o.Pos, Expr: o.Expr, Alias: &ast.Ident{Pos: o.Pos, Name: fmt.Sprintf("$order%d", i)}})
			}
		}
		if len(extra) > 0 {
			wide := *sel
			wide.Items = append(append([]*ast.SelectItem(nil), sel.Items...), extra...)
			if body, err = b.Query(&wide); err != nil {
				return nil, err
			}
			q2 := *q
			q2.OrderBy = append([]*ast.OrderItem(nil), q.OrderBy...)
			for i, o := range q2.OrderBy {
				for _, e := range extra {
					if e.Expr == o.Expr {
						c := *o
						c.Expr = &ast.ColumnRef{Pos: o.Pos, Parts: []*ast.Ident{e.Alias}}
						q2.OrderBy[i] = &c
					}
				}
			}
			q = &q2
		}
	}
	out, err := b.sortLimit(q, body)
	if err != nil || len(out.Columns()) == width {
		return out, err
	}
	cols := out.Columns()[:width]
	projs := make([]expr.Expr, width)
	for i, c := range cols {
		projs[i] = expr.Ref(i, c.Type)
	}
	return &Calc{In: out, Projects: projs, Cols: cols}, nil
}

// sortLimit plans ORDER BY (over body's columns) and LIMIT/OFFSET.
func (b *Binder) sortLimit(q *ast.Query, body Rel) (Rel, error) {
	sc := scopeOf(body, "")
	eb := &exprBinder{sc: sc}
	cols := body.Columns()
	var keys []SortKey
	for _, o := range q.OrderBy {
		var ref *expr.InputRef
		if l, ok := o.Expr.(*ast.Literal); ok {
			// ORDER BY 2: the second output column.
			x, err := eb.bind(l)
			if err != nil {
				return nil, err
			}
			if k, ok := x.(*expr.Literal); ok && k.T.IsInteger() && !k.Value.IsNull() {
				if i := k.Value.Int(); i >= 1 && int(i) <= len(cols) {
					ref = expr.Ref(int(i-1), cols[i-1].Type)
				}
			}
			if ref == nil {
				return nil, errAt(o, "ORDER BY position %s is not in the select list (1..%d)", l, len(cols))
			}
		} else {
			x, err := eb.bind(o.Expr)
			if err != nil {
				return nil, err
			}
			r, ok := x.(*expr.InputRef)
			if !ok {
				return nil, errAt(o, "ORDER BY must name output columns (select %s and order by its name)", o.Expr)
			}
			ref = r
		}
		if ref.T.Root == row.TypeVariant {
			return nil, errAt(o, "ORDER BY on a VARIANT column is not supported: a VARIANT has no order (cast it to a scalar type)")
		}
		k := SortKey{Col: ref.Index, Desc: o.Desc, NullsLast: o.Desc}
		switch o.Nulls {
		case "FIRST":
			k.NullsLast = false
		case "LAST":
			k.NullsLast = true
		}
		keys = append(keys, k)
	}
	var offset, limit int64 = 0, -1
	for _, v := range []struct {
		e   ast.Expr
		dst *int64
	}{{q.Limit, &limit}, {q.Offset, &offset}} {
		if v.e == nil {
			continue
		}
		x, err := (&exprBinder{sc: &scope{}}).bind(v.e)
		if err == nil {
			x, err = expr.Fold(x)
		}
		if err != nil {
			return nil, errAt(v.e, "%v", err)
		}
		l, ok := x.(*expr.Literal)
		if !ok || !l.T.IsInteger() || l.Value.IsNull() || l.Value.Int() < 0 {
			return nil, errAt(v.e, "LIMIT and OFFSET take a non-negative integer constant, not %s", x)
		}
		*v.dst = l.Value.Int()
	}
	// The batch mode orders the rows of the query's result (its root's
	// ORDER BY, or a view's; one in a subquery orders nothing).
	batchSort := b.Batch && b.atTop() && len(keys) > 0
	if limit < 0 {
		if batchSort {
			return newSort(body, keys, offset), nil
		}
		if q.Offset != nil {
			return nil, errAt(q, "OFFSET without LIMIT is not supported yet in streaming queries")
		}
		return temporalSort(q, body, keys)
	}
	if limit == 0 {
		// Flink's FlinkLimit0RemoveRule: no rows, an empty Values (the
		// job ends at once; its schema is the query's, without time
		// attributes).
		v := &Values{Cols: append([]Column(nil), cols...)}
		for i := range v.Cols {
			v.Cols[i].Type.TimeAttr = row.NoTimeAttr
		}
		return v, nil
	}
	r := &Rank{In: body, OrderBy: keys, Start: offset + 1, End: offset + limit, Strategy: TopN}
	r.Cols = append([]Column(nil), cols...)
	for i := range r.Cols {
		r.Cols[i].Type.TimeAttr = row.NoTimeAttr
	}
	if batchSort {
		return newSort(r, keys, 0), nil
	}
	return r, nil
}

// TemporalSort is ORDER BY time_attr ASC [, keys] on a stream (Flink's
// TemporalSort): rows go out in time order once the watermark passes them
// (rows of one time ordered by the other keys), on one subtask; on
// processing time the rows of one millisecond are ordered by the other
// keys. The input must be append-only.
type TemporalSort struct {
	In   Rel
	Keys []SortKey
}

// Columns implements Rel.
func (s *TemporalSort) Columns() []Column { return s.In.Columns() }

// Inputs implements Rel.
func (s *TemporalSort) Inputs() []Rel { return []Rel{s.In} }

// Mode implements Rel.
func (s *TemporalSort) Mode() Mode { return InsertOnly }

func (s *TemporalSort) describe() (string, []string) {
	return "TemporalSort", []string{orderByAttr(s.In.Columns(), s.Keys)}
}

// orderByAttr prints sort keys as EXPLAIN's orderBy=[a ASC, b DESC].
func orderByAttr(in []Column, keys []SortKey) string {
	order := make([]string, len(keys))
	for i, k := range keys {
		d := " ASC"
		if k.Desc {
			d = " DESC"
		}
		order[i] = in[k.Col].Name + d
	}
	return "orderBy=[" + strings.Join(order, ", ") + "]"
}

// temporalSort checks that an ORDER BY without LIMIT starts with a time
// attribute ascending, as Flink requires, over an append-only input.
func temporalSort(q *ast.Query, in Rel, keys []SortKey) (Rel, error) {
	cols := in.Columns()
	k := keys[0]
	if cols[k.Col].Type.TimeAttr == row.NoTimeAttr || k.Desc {
		return nil, errAt(q.OrderBy[0], "Sort on a non-time-attribute field is not supported. (ORDER BY in a streaming query must start with a time attribute ascending, or have a LIMIT)")
	}
	if in.Mode() != InsertOnly {
		return nil, errAt(q, "%v", ConsumeError("TemporalSort", in))
	}
	return &TemporalSort{In: in, Keys: keys}, nil
}

// Sort is a top-level ORDER BY of a batch query (Flink's batch Sort; with
// LIMIT over the Top-N that keeps the rows, as Weir's batch mode runs the
// streaming operators): the final rows of In in the keys' order when the
// bounded input ends, from Offset on (OFFSET without LIMIT).
type Sort struct {
	In     Rel
	Keys   []SortKey
	Offset int64
	Cols   []Column
}

func newSort(in Rel, keys []SortKey, offset int64) *Sort {
	s := &Sort{In: in, Keys: keys, Offset: offset, Cols: append([]Column(nil), in.Columns()...)}
	for i := range s.Cols {
		s.Cols[i].Type.TimeAttr = row.NoTimeAttr
	}
	return s
}

// Columns implements Rel.
func (s *Sort) Columns() []Column { return s.Cols }

// Inputs implements Rel.
func (s *Sort) Inputs() []Rel { return []Rel{s.In} }

// Mode implements Rel.
func (s *Sort) Mode() Mode { return InsertOnly }

func (s *Sort) describe() (string, []string) {
	attrs := []string{orderByAttr(s.In.Columns(), s.Keys)}
	if s.Offset > 0 {
		attrs = append(attrs, fmt.Sprintf("offset=[%d]", s.Offset))
	}
	return "Sort", attrs
}

// atTop reports whether the query being bound is a top-level query: the
// statement's own or a view's. Flink expands a view by converting its
// query as a query of its own (FlinkPlannerImpl.ToRelContextImpl.expandView
// calls SqlToRelConverter.convertQuery with top = true), so the view's
// ORDER BY stays (a TemporalSort in the streaming mode, a Sort in the
// batch mode), where Calcite drops one of a subquery or WITH item.
func (b *Binder) atTop() bool {
	return b.depth == 1 || b.depth == b.viewTop
}

// atTopSelect reports whether the SELECT being bound is the top-level
// query's own: the statement's bare SELECT, or the body of its top-level
// query (WITH, ORDER BY, LIMIT around it), or that of a view's query, of a
// query bound as a relation (relTop: derived table, WITH item, set
// operation input) or of an uncorrelated subquery (scalarTop: scalar, IN,
// EXISTS); not a correlated subquery's, whose decorrelation reads the
// aggregate itself.
func (b *Binder) atTopSelect() bool {
	return b.depth == 1 || b.depth == b.topSelect || b.depth == b.scalarTop || b.depth == b.relTop || b.depth == b.viewTop
}
