package sql

import (
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
	"github.com/weirstream/weir/sql/udf"
)

// correlate runs a plan.Correlate: each input row joined with the rows
// its generator (UNNEST or a user-defined table function) produces.
func (t *translator) correlate(n *plan.Correlate) (weir.Stream[row.Row], error) {
	in, err := t.stream(n.In)
	if err != nil {
		return in, err
	}
	for _, a := range n.Gen.Args {
		if _, err := expr.Compile(a); err != nil {
			return in, fmt.Errorf("sql: %s: %w", a, err)
		}
	}
	spec := &correlateSpec{gen: n.Gen, left: n.Left, inTypes: plan.Types(n.In), loc: t.loc}
	return weir.Transform(in, "Correlate", func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return &correlateOp{spec: spec, out: out}
	}), nil
}

type correlateSpec struct {
	gen     *plan.Generator
	left    bool
	inTypes []row.Type
	loc     *time.Location
}

// correlateOp runs a Correlate in one subtask.
type correlateOp struct {
	spec     *correlateSpec
	out      operator.Output[row.Row]
	ctx      *operator.Context
	args     []expr.Evaluator
	argTypes []row.Type
	ectx     expr.EvalContext
	ncols    int
	// rows collects the generated rows of one input row.
	rows [][]row.Value
}

func (c *correlateOp) Open(ctx *operator.Context) error {
	c.ctx = ctx
	for _, a := range c.spec.gen.Args {
		ev, err := expr.Compile(a)
		if err != nil {
			return fmt.Errorf("operator Correlate: %w", err)
		}
		c.args = append(c.args, ev)
		c.argTypes = append(c.argTypes, a.Type())
	}
	c.ncols = len(c.spec.gen.Cols)
	c.ectx = expr.EvalContext{Location: c.spec.loc}
	return nil
}

func (c *correlateOp) Finish() error { return nil }
func (c *correlateOp) Close() error  { return nil }

// expandMultiset returns the elements of a multiset as an array, each as
// many times as its count.
func expandMultiset(m row.Value) row.Value {
	md := m.MapOf()
	var elems []row.Value
	for i, k := range md.Keys {
		for range md.Values[i].Int() {
			elems = append(elems, k)
		}
	}
	return row.Array(elems)
}

// generate fills c.rows with the rows of one input row.
func (c *correlateOp) generate(in row.Row) error {
	c.rows = c.rows[:0]
	args := make([]row.Value, len(c.args))
	for i, ev := range c.args {
		v, err := ev(&c.ectx, in.Fields)
		if err != nil {
			return fmt.Errorf("sql: %s: %w", c.spec.gen.Args[i], err)
		}
		args[i] = v
	}
	g := c.spec.gen
	if !g.IsUnnest() {
		return udf.Guard(g.Name, args, c.argTypes, func() error {
			return g.Table.Eval(args, func(fields ...row.Value) {
				r := make([]row.Value, c.ncols)
				copy(r, fields)
				c.rows = append(c.rows, r)
			})
		})
	}
	// UNNEST: arrays (and maps as key, value pairs) side by side, padded
	// with NULLs to the longest; NULL unnests to nothing. A multiset
	// unnests as the array of its elements, each repeated as often as it
	// counts (Flink's MultisetUnnestFunction; a count below 1 gives none).
	n := 0
	for i, a := range args {
		if a.IsNull() {
			continue
		}
		if c.argTypes[i].Root == row.TypeMultiset {
			a = expandMultiset(a)
			args[i] = a
		}
		if c.argTypes[i].Root == row.TypeMap {
			n = max(n, len(a.MapOf().Keys))
		} else {
			n = max(n, len(a.Elems()))
		}
	}
	for k := range n {
		r := make([]row.Value, 0, c.ncols)
		for i, a := range args {
			t := c.argTypes[i]
			switch {
			case t.Root == row.TypeMap:
				var kv, vv row.Value
				if !a.IsNull() && k < len(a.MapOf().Keys) {
					kv, vv = a.MapOf().Keys[k], a.MapOf().Values[k]
				}
				r = append(r, kv, vv)
			case t.Elem.Root == row.TypeRow:
				nf := len(t.Elem.Fields)
				var e row.Value
				if !a.IsNull() && k < len(a.Elems()) {
					e = a.Elems()[k]
				}
				if e.IsNull() {
					r = append(r, make([]row.Value, nf)...)
				} else {
					r = append(r, e.Elems()[:nf]...)
				}
			default:
				var e row.Value
				if !a.IsNull() && k < len(a.Elems()) {
					e = a.Elems()[k]
				}
				r = append(r, e)
			}
		}
		if g.Ordinality {
			r = append(r, row.Int(int64(k+1)))
		}
		c.rows = append(c.rows, r)
	}
	return nil
}

func (c *correlateOp) ProcessElement(in row.Row, ts int64) error {
	if err := c.generate(in); err != nil {
		return fmt.Errorf("operator Correlate: on row %s: %w", row.FormatRow(in, c.spec.inTypes), err)
	}
	if len(c.rows) == 0 && c.spec.left {
		c.rows = append(c.rows, make([]row.Value, c.ncols))
	}
	for _, g := range c.rows {
		fields := make([]row.Value, 0, len(in.Fields)+c.ncols)
		fields = append(append(fields, in.Fields...), g...)
		if err := c.out.ProcessElement(row.Row{Kind: in.Kind, Fields: fields}, ts); err != nil {
			return err
		}
	}
	clear(c.rows)
	return nil
}

func (c *correlateOp) ProcessWatermark(wm int64) error {
	c.ctx.Metrics.CurrentWatermark = wm
	return c.out.ProcessWatermark(wm)
}

func (c *correlateOp) ProcessWatermarkStatus(idle bool) error {
	return c.out.ProcessWatermarkStatus(idle)
}

// calcNamed runs a plan.Calc whose errors name the input row (its column
// types known from the plan).
func (t *translator) calcNamed(in weir.Stream[row.Row], n *plan.Calc, check *rowtimeCheck) (weir.Stream[row.Row], error) {
	return t.calcOver(in, n, check, false)
}

// calcOver is calcNamed; with owned, the input rows are the Calc's alone
// and it writes its output rows over their fields (calcSpec.inPlace).
func (t *translator) calcOver(in weir.Stream[row.Row], n *plan.Calc, check *rowtimeCheck, owned bool) (weir.Stream[row.Row], error) {
	return t.calcWith(in, n, check, owned, false)
}

// calcSpared is calcOver for rows the Calc owns whose Fields have room
// for its output (the source took connector.SpareFields): it writes its
// output over them even when it is wider than its input.
func (t *translator) calcSpared(in weir.Stream[row.Row], n *plan.Calc, check *rowtimeCheck) (weir.Stream[row.Row], error) {
	return t.calcWith(in, n, check, true, true)
}

func (t *translator) calcWith(in weir.Stream[row.Row], n *plan.Calc, check *rowtimeCheck, owned, spare bool) (weir.Stream[row.Row], error) {
	for _, p := range n.Projects {
		if _, err := expr.Compile(p); err != nil {
			return in, fmt.Errorf("sql: %s: %w", p, err)
		}
	}
	// An unread PROCTIME() column is not computed (translate_proctime.go).
	spec := &calcSpec{projs: t.unreadProctime(n), cond: n.Cond, loc: t.loc, rowtime: check, inTypes: plan.Types(n.In),
		inPlace: owned && (spare || len(n.Projects) <= len(n.In.Columns())), spare: spare}
	return weir.Transform(in, "Calc", func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return newCalcOp(spec, "Calc", out)
	}), nil
}
