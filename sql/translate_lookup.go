package sql

import (
	"context"
	"fmt"

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
	src, err := t.reg.CreateSource(t.connectorContext(n.Table))
	if err != nil {
		return weir.Stream[row.Row]{}, err
	}
	ls, ok := src.(connector.LookupSource)
	if !ok {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql: Processing-time temporal join is not supported yet. Table %s: the '%s' connector is not a lookup source, so the table cannot be looked up in a lookup join (FOR SYSTEM_TIME AS OF a processing-time attribute)", n.Table.Name, n.Table.Options["connector"])
	}
	// Checks the keys now (no I/O): the planner's error, not the job's.
	probe, err := ls.LookupFunction(n.Keys)
	if err != nil {
		return weir.Stream[row.Row]{}, err
	}
	_, local := probe.(connector.LocalLookupFunction)
	in, err := t.stream(n.Input)
	if err != nil {
		return in, err
	}
	inTypes := plan.Types(n.Input)
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
		return keyed, err
	}
	cond, err := t.joinCondition(n.Residual)
	if err != nil {
		return keyed, err
	}
	fn := &lookupJoinFunc{src: ls, table: n.Table.Name, keys: n.Keys, width: len(inTypes), right: len(n.Table.Columns),
		left: n.Type == plan.LeftJoin, cond: cond, codec: row.NewCodec(types)}
	uid := t.uid("LookupJoin", describeNode(n))
	if local {
		// A table held in memory is looked up in the operator, as
		// Flink's synchronous lookup functions are: no request in
		// flight, nothing in checkpoints.
		return weir.Process[row.Row, row.Row](keyed, &syncLookupJoin{lookupJoinFunc: *fn}).UID(uid).Name("LookupJoin"), nil
	}
	opts := weir.AsyncOptions{
		Capacity: t.cfg.Int("table.exec.async-lookup.buffer-capacity"),
		Timeout:  t.cfg.Duration("table.exec.async-lookup.timeout"),
	}
	if opts.Capacity <= 0 {
		return keyed, fmt.Errorf("sql: table.exec.async-lookup.buffer-capacity must be positive, not %d", opts.Capacity)
	}
	var out weir.Stream[row.Row]
	if t.cfg.Enum("table.exec.async-lookup.output-mode") == "ALLOW_UNORDERED" && n.Input.Mode() == plan.InsertOnly {
		out = weir.UnorderedWait[row.Row, row.Row](keyed, fn, opts)
	} else {
		// Flink keeps the order of an updating input's changes.
		out = weir.OrderedWait[row.Row, row.Row](keyed, fn, opts)
	}
	return out.UID(uid).Name("LookupJoin"), nil
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
// holds in memory (connector.LocalLookupFunction): each row is joined in
// the operator as it comes. Each subtask opens its own copy.
type syncLookupJoin struct {
	lookupJoinFunc
	// slab is where output rows' fields are carved from, calcSlab rows'
	// worth at a time; never reused, since downstream operators may keep
	// the rows they receive.
	slab row.Slab
}

// fields returns n fresh fields from the slab.
func (f *syncLookupJoin) fields(n int) []row.Value {
	return f.slab.Take(n, calcSlab)
}

// ProcessElement joins a row with the rows its key finds, as AsyncInvoke
// does, emitting each joined row as it is made.
func (f *syncLookupJoin) ProcessElement(ctx *weir.Context[row.Row], in row.Row) error {
	left, key := in.Fields[:f.width], in.Fields[f.width:]
	found, err := f.fn.Lookup(context.Background(), key)
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
		o := f.fields(f.width + f.right)
		copy(o[copy(o, left):], r.Fields)
		ctx.Collect(row.Row{Kind: in.Kind, Fields: o})
		joined = true
	}
	if !joined && f.left {
		o := f.fields(f.width + f.right)
		copy(o, left)
		ctx.Collect(row.Row{Kind: in.Kind, Fields: o})
	}
	return nil
}
