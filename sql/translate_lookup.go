package sql

import (
	"context"
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/exec"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
)

// lookupJoin runs a lookup join with Weir's async I/O: a Calc appends the
// lookup key to each input row, then OrderedWait (or UnorderedWait with
// table.exec.async-lookup.output-mode = ALLOW_UNORDERED and an
// append-only input) looks the key up through the table's lookup source,
// table.exec.async-lookup.buffer-capacity rows in flight per subtask, each
// answered within table.exec.async-lookup.timeout.
func (t *translator) lookupJoin(n *plan.LookupJoin) (weir.Stream[row.Row], error) {
	s, _, err := t.lookupJoinProjected(n, nil)
	return s, err
}

// lookupJoinProjected is lookupJoin; with proj (indexes in n's columns)
// a join against a local table emits only those columns, in that order,
// and reports projected: a Calc above that only keeps columns runs in
// the join. Otherwise the rows have all of n's columns.
func (t *translator) lookupJoinProjected(n *plan.LookupJoin, proj []int) (_ weir.Stream[row.Row], projected bool, _ error) {
	src, err := t.reg.CreateSource(t.connectorContext(n.Table))
	if err != nil {
		return weir.Stream[row.Row]{}, false, err
	}
	ls, ok := src.(connector.LookupSource)
	if !ok {
		return weir.Stream[row.Row]{}, false, fmt.Errorf("sql: Processing-time temporal join is not supported yet. Table %s: the '%s' connector is not a lookup source, so the table cannot be looked up in a lookup join (FOR SYSTEM_TIME AS OF a processing-time attribute)", n.Table.Name, n.Table.Options["connector"])
	}
	// Checks the keys now (no I/O): the planner's error, not the job's.
	probe, err := ls.LookupFunction(n.Keys)
	if err != nil {
		return weir.Stream[row.Row]{}, false, err
	}
	_, local := probe.(connector.LocalLookupFunction)
	in, err := t.stream(n.Input)
	if err != nil {
		return in, false, err
	}
	inTypes := plan.Types(n.Input)
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return in, false, err
	}
	uid := t.uid("LookupJoin", describeNode(n))
	if local {
		// A table held in memory is looked up in the operator, as
		// Flink's synchronous lookup functions are: no request in
		// flight, nothing in checkpoints. The operator computes the
		// key itself (no Calc copies each row to append it).
		for _, k := range n.KeyExprs {
			if _, err := expr.Compile(k); err != nil {
				return in, false, fmt.Errorf("sql: %s: %w", k, err)
			}
		}
		fn := &syncLookupJoin{
			lookupJoinFunc: lookupJoinFunc{src: ls, table: n.Table.Name, keys: n.Keys, width: len(inTypes), right: len(n.Table.Columns),
				left: n.Type == plan.LeftJoin, cond: cond},
			keyExprs: n.KeyExprs, loc: t.loc, inTypes: inTypes, proj: proj,
		}
		return weir.Process[row.Row, row.Row](in, fn).UID(uid).Name("LookupJoin"), proj != nil, nil
	}
	projs := make([]expr.Expr, 0, len(inTypes)+len(n.KeyExprs))
	types := append([]row.Type(nil), inTypes...)
	for i, ty := range inTypes {
		projs = append(projs, expr.Ref(i, ty))
	}
	for _, k := range n.KeyExprs {
		projs = append(projs, k)
		types = append(types, k.Type())
	}
	keyed, err := t.calc(in, projs, nil, "Calc", "lookup keys")
	if err != nil {
		return keyed, false, err
	}
	fn := &lookupJoinFunc{src: ls, table: n.Table.Name, keys: n.Keys, width: len(inTypes), right: len(n.Table.Columns),
		left: n.Type == plan.LeftJoin, cond: cond, codec: row.NewCodec(types)}
	opts := weir.AsyncOptions{
		Capacity: t.cfg.Int("table.exec.async-lookup.buffer-capacity"),
		Timeout:  t.cfg.Duration("table.exec.async-lookup.timeout"),
	}
	if opts.Capacity <= 0 {
		return keyed, false, fmt.Errorf("sql: table.exec.async-lookup.buffer-capacity must be positive, not %d", opts.Capacity)
	}
	var out weir.Stream[row.Row]
	if t.cfg.Enum("table.exec.async-lookup.output-mode") == "ALLOW_UNORDERED" && n.Input.Mode() == plan.InsertOnly {
		out = weir.UnorderedWait[row.Row, row.Row](keyed, fn, opts)
	} else {
		// Flink keeps the order of an updating input's changes.
		out = weir.OrderedWait[row.Row, row.Row](keyed, fn, opts)
	}
	return out.UID(uid).Name("LookupJoin"), false, nil
}

// keptColumns returns the input columns a Calc without a condition
// projects, in order, or nil if it computes anything else.
func keptColumns(c *plan.Calc) []int {
	if c.Cond != nil {
		return nil
	}
	cols := make([]int, len(c.Projects))
	for i, p := range c.Projects {
		r, ok := p.(*expr.InputRef)
		if !ok {
			return nil
		}
		cols[i] = r.Index
	}
	return cols
}

// lookupJoinFunc joins an input row (its columns, then the lookup key's
// values) with the rows its key finds. Each subtask opens its own copy
// (weir.Opener), with its own lookup function, connections and cache.
type lookupJoinFunc struct {
	src          connector.LookupSource
	table        string
	keys         []int
	width, right int // input and table columns
	left         bool
	cond         exec.JoinCondition // goroutine-safe
	codec        *row.Codec
	fn           connector.LookupFunction
}

// Open opens the subtask's lookup function.
func (f *lookupJoinFunc) Open(*weir.RuntimeContext) error {
	fn, err := f.src.LookupFunction(f.keys)
	if err != nil {
		return err
	}
	if err := fn.Open(context.Background()); err != nil {
		return fmt.Errorf("sql: lookup table %s: %w", f.table, err)
	}
	f.fn = fn
	return nil
}

// Close closes the lookup function.
func (f *lookupJoinFunc) Close() error {
	if f.fn == nil {
		return nil
	}
	return f.fn.Close()
}

// InputCodec encodes the rows in flight for checkpoints.
func (f *lookupJoinFunc) InputCodec() codec.Codec[row.Row] { return f.codec }

// AsyncInvoke looks the row's key up and joins the rows found.
func (f *lookupJoinFunc) AsyncInvoke(ctx context.Context, in row.Row) ([]row.Row, error) {
	left, key := in.Fields[:f.width], in.Fields[f.width:]
	found, err := f.fn.Lookup(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("sql: lookup join on %s: %w", f.table, err)
	}
	var out []row.Row
	for _, r := range found {
		if len(r.Fields) != f.right {
			return nil, fmt.Errorf("sql: lookup join on %s: the lookup returned %d columns, the table has %d", f.table, len(r.Fields), f.right)
		}
		if f.cond != nil {
			ok, err := f.cond(left, r.Fields)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		o := make([]row.Value, 0, f.width+f.right)
		o = append(append(o, left...), r.Fields...)
		out = append(out, row.Row{Kind: in.Kind, Fields: o})
	}
	if len(out) == 0 && f.left {
		o := make([]row.Value, f.width+f.right)
		copy(o, left)
		out = append(out, row.Row{Kind: in.Kind, Fields: o})
	}
	return out, nil
}

// syncLookupJoin is a lookup join against a table the lookup function
// holds in memory (connector.LocalLookupFunction): each input row (the
// join's input columns alone) is joined in the operator as it comes, its
// key computed into a reused buffer. Each subtask opens its own copy.
type syncLookupJoin struct {
	lookupJoinFunc
	keyExprs []expr.Expr
	loc      *time.Location
	inTypes  []row.Type
	// proj, if set, are the columns (of the input's then the table's)
	// each output row keeps, in order: the Calc above the join.
	proj []int

	keyEvals []expr.Evaluator
	key      []row.Value
	ectx     expr.EvalContext
	// slab is where output rows' fields are carved from, calcSlab rows'
	// worth at a time; never reused, since downstream operators may keep
	// the rows they receive.
	slab row.Slab
}

// Open opens the lookup function and compiles the key (evaluators are
// the subtask's own).
func (f *syncLookupJoin) Open(rc *weir.RuntimeContext) error {
	if err := f.lookupJoinFunc.Open(rc); err != nil {
		return err
	}
	f.keyEvals = make([]expr.Evaluator, len(f.keyExprs))
	for i, k := range f.keyExprs {
		e, err := expr.Compile(k)
		if err != nil {
			return err
		}
		f.keyEvals[i] = e
	}
	f.key = make([]row.Value, len(f.keyExprs))
	f.ectx = expr.EvalContext{Location: f.loc}
	return nil
}

// emit collects the joined row of left and right (nil: NULLs), with
// the kept columns only if proj is set.
func (f *syncLookupJoin) emit(ctx *weir.Context[row.Row], kind row.Kind, left, right []row.Value) {
	if f.proj == nil {
		o := f.slab.Take(f.width+f.right, calcSlab)
		copy(o, left)
		copy(o[f.width:], right)
		ctx.Collect(row.Row{Kind: kind, Fields: o})
		return
	}
	o := f.slab.Take(len(f.proj), calcSlab)
	for i, c := range f.proj {
		if c < f.width {
			o[i] = left[c]
		} else if right != nil {
			o[i] = right[c-f.width]
		}
	}
	ctx.Collect(row.Row{Kind: kind, Fields: o})
}

// ProcessElement joins a row with the rows its key finds, as AsyncInvoke
// does, emitting each joined row as it is made.
func (f *syncLookupJoin) ProcessElement(ctx *weir.Context[row.Row], in row.Row) error {
	left := in.Fields
	for i, e := range f.keyEvals {
		v, err := e(&f.ectx, left)
		if err != nil {
			on := " on row " + in.Kind.String()
			if len(f.inTypes) == len(left) {
				on = " on row " + row.FormatRow(in, f.inTypes)
			}
			return fmt.Errorf("sql: lookup key %s%s: %w", f.keyExprs[i], on, err)
		}
		f.key[i] = v
	}
	found, err := f.fn.Lookup(context.Background(), f.key)
	clear(f.key) // keep no values alive
	if err != nil {
		return fmt.Errorf("sql: lookup join on %s: %w", f.table, err)
	}
	joined := false
	for _, r := range found {
		if len(r.Fields) != f.right {
			return fmt.Errorf("sql: lookup join on %s: the lookup returned %d columns, the table has %d", f.table, len(r.Fields), f.right)
		}
		if f.cond != nil {
			ok, err := f.cond(left, r.Fields)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		f.emit(ctx, in.Kind, left, r.Fields)
		joined = true
	}
	if !joined && f.left {
		f.emit(ctx, in.Kind, left, nil)
	}
	return nil
}
