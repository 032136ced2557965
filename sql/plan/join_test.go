package plan

import (
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// Columns of the tests' join: left (0: l.ts rowtime, 1: l.k BIGINT,
// 2: l.p proctime), right (3: r.ts rowtime, 4: r.k BIGINT, 5: r.t a plain
// TIMESTAMP(3)).
func joinRefs() []expr.Expr {
	rt := row.TimestampType(3).NotNull()
	rt.TimeAttr = row.Rowtime
	pt := row.TimestampLTZType(3).NotNull()
	pt.TimeAttr = row.Proctime
	return []expr.Expr{
		expr.Ref(0, rt), expr.Ref(1, row.BigInt()), expr.Ref(2, pt),
		expr.Ref(3, rt), expr.Ref(4, row.BigInt()), expr.Ref(5, row.TimestampType(3)),
	}
}

func iv(t *testing.T, ms int64) expr.Expr {
	t.Helper()
	return expr.Lit(row.Int(ms), row.Type{Root: row.TypeIntervalDayTime})
}

func TestIntervalBounds(t *testing.T) {
	c := joinRefs()
	call := func(name string, args ...expr.Expr) expr.Expr { return expr.MustCall(name, args...) }
	lts, rts := c[0], c[3]
	for _, tc := range []struct {
		name         string
		conds        []expr.Expr
		ok           bool
		lower, upper int64
		rest         int
	}{
		{"between", []expr.Expr{call(">=", lts, call("-", rts, iv(t, 4000))), call("<=", lts, rts)}, true, 4000, 0, 0},
		{"strict", []expr.Expr{call(">", lts, call("-", rts, iv(t, 4000))), call("<", lts, call("+", rts, iv(t, 1000)))}, true, 3999, 999, 0},
		{"right on the left", []expr.Expr{call("<=", rts, call("+", lts, iv(t, 2000))), call(">=", rts, lts)}, true, 2000, 0, 0},
		{"tightest bound", []expr.Expr{call(">=", lts, call("-", rts, iv(t, 4000))), call(">=", lts, call("-", rts, iv(t, 1000))), call("<=", lts, rts)}, true, 1000, 0, 0},
		{"one side only", []expr.Expr{call(">=", lts, rts)}, false, 0, 0, 0},
		{"plain timestamp", []expr.Expr{call(">=", c[5], lts), call("<=", c[5], lts)}, false, 0, 0, 2},
		{"one input's times", []expr.Expr{call(">=", lts, call("-", lts, iv(t, 1000))), call("<=", lts, rts)}, false, 0, 0, 1},
		{"empty interval", []expr.Expr{call(">=", lts, call("+", rts, iv(t, 1000))), call("<=", lts, rts)}, false, 0, 0, 0},
		{"other conditions stay", []expr.Expr{call(">=", lts, rts), call("<=", lts, rts), call("=", c[1], c[4])}, true, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conds []expr.Expr
			for _, x := range tc.conds {
				if x != nil {
					conds = append(conds, x)
				}
			}
			lt, rt, _, lower, upper, rest, ok := intervalBounds(conds, 3)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if lt != 0 || rt != 0 || lower != tc.lower || upper != tc.upper || len(rest) != tc.rest {
				t.Errorf("got times %d, %d, bounds %d, %d, %d other conditions; want 0, 0, %d, %d, %d", lt, rt, lower, upper, len(rest), tc.lower, tc.upper, tc.rest)
			}
		})
	}
}

func TestRowNumberBound(t *testing.T) {
	rn := expr.Ref(2, row.BigInt().NotNull())
	other := expr.Ref(1, row.BigInt())
	n := func(v int64) expr.Expr { return expr.Lit(row.Int(v), row.IntType().NotNull()) }
	for _, tc := range []struct {
		e  expr.Expr
		op string
		n  int64
		ok bool
	}{
		{expr.MustCall("<=", rn, n(3)), "<=", 3, true},
		{expr.MustCall("<", rn, n(3)), "<", 3, true},
		{expr.MustCall("=", rn, n(1)), "=", 1, true},
		{expr.MustCall(">=", n(5), rn), "<=", 5, true},
		{expr.MustCall(">", rn, n(2)), ">", 2, true},
		{expr.MustCall("<=", other, n(3)), "", 0, false},
		{expr.MustCall("<=", rn, other), "", 0, false},
		{expr.MustCall("<>", rn, n(3)), "", 0, false},
	} {
		op, v, ok := rowNumberBound(tc.e, 2)
		if ok != tc.ok || ok && (op != tc.op || v != tc.n) {
			t.Errorf("%s: got %q %d %v, want %q %d %v", tc.e, op, v, ok, tc.op, tc.n, tc.ok)
		}
	}
}
