package sql

import (
	"fmt"
	"slices"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/operator"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/expr"
)

// calcSlab is the number of output rows whose fields a Calc allocates at
// once: rows are carved from a slab that is never reused (downstream
// operators may keep the rows they receive), which makes one allocation
// per calcSlab rows; a row kept alone keeps its slab alive.
const calcSlab = 64

// calcSpec is what a Calc computes: a condition (nil: keep every row),
// then the projections of each kept row.
type calcSpec struct {
	projs []expr.Expr
	cond  expr.Expr
	loc   *time.Location
	// rowtime, if set, fails the job on a row the source gave no
	// timestamp: its rowtime was NULL.
	rowtime *rowtimeCheck
	// inTypes, if set, are the input's column types: errors then name
	// the row (see calcNamed).
	inTypes []row.Type
	// inPlace: the input rows are this Calc's alone (fresh from a source
	// that keeps no reference to them) and at least as wide as the
	// output, so an output row is written over its input row's fields
	// instead of taking new ones.
	inPlace bool
	// spare (with inPlace): the input rows' Fields have room for the
	// output past their length (connector.SpareFields), NULL and theirs
	// alone, so an output wider than its input is written over it too.
	spare bool
}

// onRow describes the input row for an error: " on row +I[..]", or its
// kind alone when the input types are unknown.
func (s *calcSpec) onRow(in row.Row) string {
	if s.inTypes != nil && len(s.inTypes) == len(in.Fields) {
		return " on row " + row.FormatRow(in, s.inTypes)
	}
	return " on row " + in.Kind.String()
}

// rowtimeCheck names the table and rowtime column of a source scan whose
// rowtime is nullable, and the types of its rows, for the error.
type rowtimeCheck struct {
	table, column string
	types         []row.Type
}

func (c *rowtimeCheck) err(r row.Row) error {
	return fmt.Errorf("sql: table %s: the rowtime column %s of row %s is NULL; a rowtime must not be NULL (Flink: RowTime field should not be null)", c.table, c.column, row.FormatRow(r, c.types))
}

// conjuncts splits a condition at its top-level ANDs.
func conjuncts(e expr.Expr, out []expr.Expr) []expr.Expr {
	if c, ok := e.(*expr.Call); ok && c.Func.Name == "AND" {
		for _, a := range c.Args {
			out = conjuncts(a, out)
		}
		return out
	}
	return append(out, e)
}

// calcOp runs a Calc in one subtask, on the per-record and the batch path
// (operator.BatchOutput): a run of input rows becomes one run of output
// rows handed down in one call. Compiled evaluators are private to the
// subtask.
type calcOp struct {
	spec  *calcSpec
	name  string
	out   operator.Output[row.Row]
	batch operator.BatchOutput[row.Row]
	ctx   *operator.Context

	evals []expr.Evaluator
	// conds are the conjuncts of the condition, evaluated in order: a
	// row whose conjunct is not TRUE is dropped without evaluating the
	// next ones (so a merged Calc fails on no row its lower Calc drops).
	conds []expr.Expr
	preds []expr.Evaluator
	ectx  expr.EvalContext
	// identity: the projections are the input columns in order, so a
	// kept row goes down as it came (a filter: WHERE without SELECT list).
	identity bool
	// runStart, if >= 0, says the projections are the input columns
	// runStart, runStart+1, ... in order (a view over a shared scan picking
	// its event type's fields): a kept row's output is that run of its
	// input fields (see apply). -1 otherwise.
	runStart int
	// slots is the number of shared subexpressions (expr.ShareCommon).
	slots int
	slab  row.Slab
	// scratch holds an in-place row's outputs until all are computed.
	scratch []row.Value
	// moves, if set, is an in-place Calc whose outputs are all input
	// columns or literals, with output i reading a column at or after i:
	// moves[i] is that column, or -1 for the literal lits[i]. Written in
	// order, output i overwrites only fields no later output reads, and
	// such outputs cannot fail, so the row is rewritten without scratch.
	moves []int
	lits  []row.Value
	// width is the number of input fields the moves need (one past the
	// last column read); a shorter row takes the general path, which
	// reports the reference out of range.
	width int
	// run is the reused run of output records; idx holds the input index
	// of each.
	run []operator.Rec[row.Row]
	idx []int32
}

func newCalcOp(spec *calcSpec, name string, out operator.Output[row.Row]) *calcOp {
	op := &calcOp{spec: spec, name: name, out: out}
	op.batch, _ = out.(operator.BatchOutput[row.Row])
	return op
}

func (c *calcOp) Open(ctx *operator.Context) error {
	c.ctx = ctx
	if c.spec.cond != nil {
		c.conds = conjuncts(c.spec.cond, nil)
	}
	// Common subexpressions of the conjuncts and projections are
	// computed once per row (expr.ShareCommon), in the order they are
	// first reached.
	all, slots := expr.ShareCommon(append(slices.Clone(c.conds), c.spec.projs...))
	c.slots = slots
	c.preds = make([]expr.Evaluator, len(c.conds))
	for i, x := range all[:len(c.conds)] {
		e, err := expr.Compile(x)
		if err != nil {
			return c.fail(err)
		}
		c.preds[i] = e
	}
	c.evals = make([]expr.Evaluator, len(c.spec.projs))
	for i, p := range all[len(c.conds):] {
		e, err := expr.Compile(p)
		if err != nil {
			return c.fail(err)
		}
		c.evals[i] = e
	}
	c.ectx = expr.EvalContext{Location: c.spec.loc}
	c.identity = true
	for i, p := range c.spec.projs {
		r, ok := p.(*expr.InputRef)
		c.identity = c.identity && ok && r.Index == i
	}
	c.runStart = -1
	if !c.spec.inPlace {
		c.runStart = projectedRun(c.spec.projs)
	}
	if c.spec.inPlace && !c.identity {
		c.moves, c.lits = inPlaceMoves(c.spec.projs)
		c.width = len(c.moves)
		for _, m := range c.moves {
			c.width = max(c.width, m+1)
		}
	}
	return nil
}

// projectedRun returns b if projs are the input columns b, b+1, ...,
// b+len(projs)-1 in order, or -1.
func projectedRun(projs []expr.Expr) int {
	if len(projs) == 0 {
		return -1
	}
	first, ok := projs[0].(*expr.InputRef)
	if !ok {
		return -1
	}
	for i, p := range projs {
		r, ok := p.(*expr.InputRef)
		if !ok || r.Index != first.Index+i {
			return -1
		}
	}
	return first.Index
}

// inPlaceMoves returns calcOp.moves and lits for projs, or nils if some
// output is neither an input column at or after its own position nor a
// literal.
func inPlaceMoves(projs []expr.Expr) ([]int, []row.Value) {
	moves := make([]int, len(projs))
	lits := make([]row.Value, len(projs))
	for i, p := range projs {
		switch p := p.(type) {
		case *expr.InputRef:
			if p.Index < i {
				return nil, nil
			}
			moves[i] = p.Index
		case *expr.Literal:
			moves[i], lits[i] = -1, p.Value
		default:
			return nil, nil
		}
	}
	return moves, lits
}

func (c *calcOp) Finish() error { return nil }
func (c *calcOp) Close() error  { return nil }

func (c *calcOp) fail(err error) error { return fmt.Errorf("operator %q: %w", c.name, err) }

// apply computes the output row of in, or reports that in is dropped.
func (c *calcOp) apply(in row.Row, ts int64) (row.Row, bool, error) {
	if c.spec.rowtime != nil && ts == weir.NoTimestamp {
		return row.Row{}, false, c.spec.rowtime.err(in)
	}
	if c.slots > 0 {
		c.ectx.NextRow(c.slots)
	}
	for i, p := range c.preds {
		v, err := p(&c.ectx, in.Fields)
		if err != nil {
			return row.Row{}, false, fmt.Errorf("sql: WHERE %s%s: %w", c.conds[i], c.spec.onRow(in), err)
		}
		if v.IsNull() || !v.Bool() {
			return row.Row{}, false, nil
		}
	}
	n := len(c.evals)
	if c.identity && len(in.Fields) == n {
		return in, true, nil
	}
	if b := c.runStart; b >= 0 && b+n <= len(in.Fields) {
		// The output is a run of the input's fields: it shares them, as
		// an identity Calc hands its input down. Emitted rows are never
		// written again by the operator that emitted them (slabs are
		// never reused) and this Calc does not own its input (not
		// inPlace), so nothing writes over the shared fields; the
		// capacity ends at the run, so an append by a later operator
		// cannot reach the fields behind it. (A view over a shared scan,
		// Nexmark's auction and bid views, copied 5 to 10 fields of every
		// event into new memory here.)
		return row.Row{Kind: in.Kind, Fields: in.Fields[b : b+n : b+n]}, true, nil
	}
	if c.moves != nil && c.width <= len(in.Fields) {
		f := in.Fields
		for i, src := range c.moves {
			if src >= 0 {
				f[i] = f[src]
			} else {
				f[i] = c.lits[i]
			}
		}
		clear(f[n:])
		return row.Row{Kind: in.Kind, Fields: f[:n:n]}, true, nil
	}
	if c.spec.inPlace && (n <= len(in.Fields) || c.spec.spare && n <= cap(in.Fields)) {
		// Compute every output before overwriting an input field.
		if len(c.scratch) < n {
			c.scratch = make([]row.Value, n)
		}
		for i, e := range c.evals {
			v, err := e(&c.ectx, in.Fields)
			if err != nil {
				return row.Row{}, false, fmt.Errorf("sql: %s%s: %w", c.spec.projs[i], c.spec.onRow(in), err)
			}
			c.scratch[i] = v
		}
		f := in.Fields[:max(n, len(in.Fields))]
		copy(f, c.scratch[:n])
		clear(c.scratch[:n]) // keep no values alive
		clear(f[n:])
		return row.Row{Kind: in.Kind, Fields: f[:n:n]}, true, nil
	}
	out := row.Row{Kind: in.Kind, Fields: c.slab.Take(n, calcSlab)}
	for i, e := range c.evals {
		v, err := e(&c.ectx, in.Fields)
		if err != nil {
			return row.Row{}, false, fmt.Errorf("sql: %s%s: %w", c.spec.projs[i], c.spec.onRow(in), err)
		}
		out.Fields[i] = v
	}
	return out, true, nil
}

func (c *calcOp) ProcessElement(in row.Row, ts int64) error {
	out, ok, err := c.apply(in, ts)
	if err != nil {
		return c.fail(err)
	}
	if !ok {
		return nil
	}
	return c.out.ProcessElement(out, ts)
}

// ProcessBatch computes the output rows of recs into the reused run and
// hands that down in one call. If a row fails, the rows before it go down
// first, as they would have one by one.
func (c *calcOp) ProcessBatch(recs []operator.Rec[row.Row]) (int, error) {
	if c.batch == nil {
		for i := range recs {
			if err := c.ProcessElement(recs[i].V, recs[i].TS); err != nil {
				return i + 1, err
			}
		}
		return len(recs), nil
	}
	run, idx := c.run[:0], c.idx[:0]
	for i := range recs {
		out, ok, err := c.apply(recs[i].V, recs[i].TS)
		if err != nil {
			if n, derr := c.handDown(run, idx); derr != nil {
				return n, derr
			}
			return i + 1, c.fail(err)
		}
		if ok {
			run = append(run, operator.Rec[row.Row]{V: out, TS: recs[i].TS})
			idx = append(idx, int32(i))
		}
	}
	if n, err := c.handDown(run, idx); err != nil {
		return n, err
	}
	return len(recs), nil
}

// handDown hands run down and keeps it for reuse; on error it returns the
// number of input records handled, the failing one's included.
func (c *calcOp) handDown(run []operator.Rec[row.Row], idx []int32) (int, error) {
	var (
		done int
		err  error
	)
	if len(run) > 0 {
		done, err = c.batch.ProcessBatch(run)
	}
	if err != nil {
		done = int(idx[min(max(done, 1), len(idx))-1]) + 1
	}
	clear(run) // keep no rows alive
	c.run, c.idx = run[:0], idx[:0]
	return done, err
}

func (c *calcOp) ProcessWatermark(wm int64) error {
	c.ctx.Metrics.CurrentWatermark = wm
	if wm > weir.MinWatermark {
		c.ectx.SetWatermark(wm) // CURRENT_WATERMARK
	}
	return c.out.ProcessWatermark(wm)
}

func (c *calcOp) ProcessWatermarkStatus(idle bool) error {
	return c.out.ProcessWatermarkStatus(idle)
}

func (t *translator) calc(in weir.Stream[row.Row], projs []expr.Expr, cond expr.Expr, name, _ string) (weir.Stream[row.Row], error) {
	return t.calcChecked(in, projs, cond, nil, name)
}

// calcChecked is calc with a rowtime check (nil: none).
func (t *translator) calcChecked(in weir.Stream[row.Row], projs []expr.Expr, cond expr.Expr, check *rowtimeCheck, name string) (weir.Stream[row.Row], error) {
	for _, p := range projs {
		if _, err := expr.Compile(p); err != nil {
			return in, fmt.Errorf("sql: %s: %w", p, err)
		}
	}
	spec := &calcSpec{projs: projs, cond: cond, loc: t.loc, rowtime: check}
	return weir.Transform(in, name, func(out operator.Output[row.Row]) operator.OneInput[row.Row] {
		return newCalcOp(spec, name, out)
	}), nil
}
