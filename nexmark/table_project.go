package nexmark

import (
	"fmt"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// ApplyNestedProjection implements connector.NestedProjectionPushDown:
// the source produces, per path, event_type ([0]), a nested ROW whole
// ([1], [2] or [3]) or one of its fields ([3, 0] is bid.auction), as flat
// columns; the fields of the ROWs an event does not have are NULL. Only
// the values read are copied, and no nested ROW is built unless one is
// read whole.
func (s *tableSource) ApplyNestedProjection(paths [][]int) error {
	want := Schema()
	for _, p := range paths {
		if len(p) == 0 || p[0] < 0 || p[0] >= len(want.Columns) || len(p) > 2 || (p[0] == 0 && len(p) > 1) {
			return fmt.Errorf("nexmark: cannot produce the projected field %v", p)
		}
		if len(p) == 2 && (p[1] < 0 || p[1] >= len(want.Columns[p[0]].Type.Fields)) {
			return fmt.Errorf("nexmark: cannot produce the projected field %v", p)
		}
	}
	s.paths = paths
	return nil
}

// projectArena builds the rows of a pushed-down projection, carving them
// from slabs it never reuses (the job may keep the rows). Fields are
// written only where the event has a value: a field of a ROW the event
// does not have stays as the slab hands it out, NULL.
type projectArena struct {
	paths [][]int
	slab  row.Slab
	// typeOut are the output fields that read event_type.
	typeOut []int
	// copies[col] are the output fields that read one field of column
	// col's ROW (1 person, 2 auction, 3 bid), whole[col] those that read
	// the ROW whole.
	copies [4][]fieldCopy
	whole  [4][]int
	// width is the capacity of a row's fields, at least len(paths)
	// (tableSource.ReserveFields): the fields past the projection stay
	// NULL for the Calc above to write into.
	width int
}

// fieldCopy is one output field out that reads field of its column's ROW.
type fieldCopy struct{ out, field int }

// newProjectArena plans the fields of each event type for paths (checked
// by ApplyNestedProjection).
func newProjectArena(paths [][]int) *projectArena {
	a := &projectArena{paths: paths, width: len(paths)}
	for i, p := range paths {
		switch {
		case p[0] == 0:
			a.typeOut = append(a.typeOut, i)
		case len(p) == 1:
			a.whole[p[0]] = append(a.whole[p[0]], i)
		default:
			a.copies[p[0]] = append(a.copies[p[0]], fieldCopy{out: i, field: p[1]})
		}
	}
	return a
}

// reads reports, per event type (PersonEvent, AuctionEvent, BidEvent),
// whether a path reads a field of its ROW: the events of the other types
// need not be generated, their rows have only event_type.
func (a *projectArena) reads() [3]bool {
	var r [3]bool
	for t := range r {
		r[t] = len(a.copies[t+1]) > 0 || len(a.whole[t+1]) > 0
	}
	return r
}

func (a *projectArena) take(n int) []row.Value {
	return a.slab.Take(n, 128)
}

func (a *projectArena) row(e Event) row.Row {
	var buf [maxEventFields]row.Value
	col, k := eventFields(e, &buf)
	out := a.take(a.width)[:len(a.paths)] // all NULL
	for _, i := range a.typeOut {
		out[i] = row.Int(int64(e.Type))
	}
	if col > 0 {
		for _, c := range a.copies[col] {
			out[c.out] = buf[c.field]
		}
		for _, i := range a.whole[col] {
			n := a.take(k)
			copy(n, buf[:k])
			out[i] = row.Nested(n)
		}
	}
	return row.Row{Fields: out}
}

// ApplyRowtime implements connector.RowtimePushDown: the source attaches
// to every row the dateTime of its event, so it takes over a rowtime that
// is, for each event type the generator makes (0, 1, 2), the dateTime of
// that type's ROW: the reference's
//
//	CASE WHEN event_type = 0 THEN person.dateTime
//	     WHEN event_type = 1 THEN auction.dateTime
//	     ELSE bid.dateTime END
//
// or the same CASE with its branches in another order.
func (s *tableSource) ApplyRowtime(rt expr.Expr) bool {
	c, ok := rt.(*expr.Case)
	if !ok || len(c.Whens) != len(c.Thens) {
		return false
	}
	var decided [3]bool
	for i, w := range c.Whens {
		typ, ok := eventTypeTest(w)
		if !ok {
			return false
		}
		if typ < 0 || typ > 2 || decided[typ] {
			continue // never taken for a generated event, or taken before
		}
		if !isDateTimeOf(c.Thens[i], int(typ)) {
			return false
		}
		decided[typ] = true
	}
	for typ, d := range decided {
		if !d && !isDateTimeOf(c.Else, typ) {
			return false
		}
	}
	return true
}

// eventTypeTest matches =(event_type, k) or =(k, event_type) with an
// integer literal k.
func eventTypeTest(e expr.Expr) (int64, bool) {
	c, ok := e.(*expr.Call)
	if !ok || c.Func.Name != "=" || len(c.Args) != 2 {
		return 0, false
	}
	r, ok := c.Args[0].(*expr.InputRef)
	l, ok2 := c.Args[1].(*expr.Literal)
	if !ok || !ok2 {
		r, ok = c.Args[1].(*expr.InputRef)
		l, ok2 = c.Args[0].(*expr.Literal)
	}
	if !ok || !ok2 || r.Index != 0 || l.Value.IsNull() {
		return 0, false
	}
	switch l.T.Root {
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return l.Value.Int(), true
	}
	return 0, false
}

// isDateTimeOf reports whether e is the dateTime field of the ROW of
// events of type typ (person.dateTime for 0, ...).
func isDateTimeOf(e expr.Expr, typ int) bool {
	f, ok := e.(*expr.FieldAccess)
	if !ok {
		return false
	}
	r, ok := f.Arg.(*expr.InputRef)
	if !ok || r.Index != typ+1 {
		return false
	}
	fields := Schema().Columns[typ+1].Type.Fields
	return f.Index < len(fields) && fields[f.Index].Name == "dateTime" && f.T.Root == row.TypeTimestamp && f.T.Precision == 3
}
