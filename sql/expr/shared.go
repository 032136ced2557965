package expr

import "github.com/weirstream/weir/row"

// Shared marks one of the occurrences of a common subexpression of a set
// of expressions evaluated over the same row (a Calc's condition and
// projections): every Shared of the same Slot computes Arg once per row,
// the first time one of them is evaluated, and the others return that
// value (or error). The evaluation order and short-circuits do not
// change: an occurrence that was not reached before is not evaluated
// earlier. The caller starts each row with EvalContext.NextRow. Build
// them with ShareCommon.
type Shared struct {
	Arg  Expr
	Slot int
}

// Type implements Expr.
func (s *Shared) Type() row.Type { return s.Arg.Type() }

// String implements Expr: the shared expression's.
func (s *Shared) String() string { return s.Arg.String() }

type sharedValue struct {
	gen uint64
	v   row.Value
	err error
}

// NextRow starts a new row for the Shared expressions of slots
// 0..slots-1: the values of the previous row are forgotten.
func (c *EvalContext) NextRow(slots int) {
	if len(c.shared) < slots {
		c.shared = make([]sharedValue, slots)
	}
	c.gen++
}

func compileShared(n *Shared) (Evaluator, error) {
	arg, err := Compile(n.Arg)
	if err != nil {
		return nil, err
	}
	slot := n.Slot
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		if slot >= len(ctx.shared) || ctx.gen == 0 {
			return arg(ctx, in) // no NextRow: nothing shared
		}
		m := &ctx.shared[slot]
		if m.gen == ctx.gen {
			return m.v, m.err
		}
		v, err := arg(ctx, in)
		m.gen, m.v, m.err = ctx.gen, v, err
		return v, err
	}, nil
}

// ShareCommon rewrites exprs so that a deterministic call that occurs
// more than once among them (by its printed form and type) is computed
// once per row: its occurrences become Shared nodes of one slot. It
// returns the rewritten expressions and the number of slots (0: nothing
// in common, exprs returned as they are). A call under a shared one is
// shared only if it also occurs elsewhere; =(LOWER(x), 'literal') is
// kept whole (it compiles without lowering x, see compileLowerEquals).
func ShareCommon(exprs []Expr) ([]Expr, int) {
	count := map[string]int{}
	key := func(e Expr) string { return e.String() + "\x00" + e.Type().String() }
	var visit func(e Expr, d int)
	visit = func(e Expr, d int) {
		switch n := e.(type) {
		case *Call:
			if n.Volatile() {
				return // neither it nor what it holds is shared
			}
			count[key(n)] += d
			if lowerEquals(n) {
				return
			}
			for _, a := range n.Args {
				visit(a, d)
			}
		case *Cast:
			visit(n.Arg, d)
		case *FieldAccess:
			visit(n.Arg, d)
		case *Case:
			for i := range n.Whens {
				visit(n.Whens[i], d)
				visit(n.Thens[i], d)
			}
			if n.Else != nil {
				visit(n.Else, d)
			}
		}
	}
	for _, e := range exprs {
		if e != nil {
			visit(e, 1)
		}
	}
	common := false
	for _, c := range count {
		common = common || c > 1
	}
	if !common {
		return exprs, 0
	}
	slots := map[string]int{}
	var rewrite func(e Expr) Expr
	rewrite = func(e Expr) Expr {
		switch n := e.(type) {
		case *Call:
			if n.Volatile() {
				return n
			}
			k := key(n)
			if c := count[k]; c > 1 {
				slot, seen := slots[k]
				if !seen {
					slot = len(slots)
					slots[k] = slot
					// All but one occurrence will not evaluate what
					// it holds.
					if !lowerEquals(n) {
						for _, a := range n.Args {
							visit(a, -(c - 1))
						}
					}
				}
				if lowerEquals(n) {
					return &Shared{Arg: n, Slot: slot}
				}
				return &Shared{Arg: &Call{Func: n.Func, Args: rewriteAll(n.Args, rewrite), T: n.T}, Slot: slot}
			}
			if lowerEquals(n) {
				return n
			}
			return &Call{Func: n.Func, Args: rewriteAll(n.Args, rewrite), T: n.T}
		case *Cast:
			return &Cast{Arg: rewrite(n.Arg), T: n.T, Try: n.Try, Implicit: n.Implicit}
		case *FieldAccess:
			return &FieldAccess{Arg: rewrite(n.Arg), Index: n.Index, T: n.T}
		case *Case:
			c := &Case{Whens: make([]Expr, len(n.Whens)), Thens: make([]Expr, len(n.Thens)), T: n.T}
			for i := range n.Whens {
				c.Whens[i] = rewrite(n.Whens[i])
				c.Thens[i] = rewrite(n.Thens[i])
			}
			if n.Else != nil {
				c.Else = rewrite(n.Else)
			}
			return c
		}
		return e
	}
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		if e != nil {
			out[i] = rewrite(e)
		}
	}
	return out, len(slots)
}

func rewriteAll(args []Expr, f func(Expr) Expr) []Expr {
	out := make([]Expr, len(args))
	for i, a := range args {
		out[i] = f(a)
	}
	return out
}
