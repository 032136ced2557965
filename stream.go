package weir

import (
	"fmt"

	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
)

// Stream is a stream of records of type T: the main output of an operator,
// or one of its side outputs. Methods that configure the operator (Name,
// UID, SetParallelism, DisableChaining) apply to the operator that produces
// the stream; on a side output they fail the job (see SideOutput).
type Stream[T any] struct {
	env  *Environment
	node *graph.Node
	tag  string
	part runtime.Partitioning
	// route, for hash partitioning, is the key the records are
	// partitioned by.
	route *keyRoute[T]
}

// Env returns the stream's environment.
func (s Stream[T]) Env() *Environment { return s.env }

// Name sets the operator's name, shown in plans, errors and metrics.
func (s Stream[T]) Name(name string) Stream[T] {
	if s.configurable("Name") {
		s.node.SetName(name)
	}
	return s
}

// DefaultName names the operator unless Name named it: the name a library
// built on Weir (such as package cep) gives the operators it creates.
// Operators that share a default name are numbered in plans, errors and
// metrics ("CEP", "CEP-2"); a name set with Name is shown as given. State
// ids do not include the number, so numbering keeps savepoints compatible.
func (s Stream[T]) DefaultName(name string) Stream[T] {
	if s.configurable("DefaultName") && s.node.DefaultName {
		s.node.Name = name
	}
	return s
}

// UID sets the operator's stable identifier, which names its state in
// savepoints; it must be unique in the job.
func (s Stream[T]) UID(uid string) Stream[T] {
	if s.configurable("UID") {
		s.node.UID = uid
	}
	return s
}

// SetParallelism sets the operator's number of subtasks.
func (s Stream[T]) SetParallelism(p int) Stream[T] {
	if s.configurable("SetParallelism") {
		s.node.Parallelism = p
	}
	return s
}

// Parallelism returns the operator's number of subtasks as set with
// SetParallelism, or 0 when it runs at the job's default.
func (s Stream[T]) Parallelism() int { return s.node.Parallelism }

// DisableChaining keeps the operator out of its input's chain, in its own
// subtasks.
func (s Stream[T]) DisableChaining() Stream[T] {
	if s.configurable("DisableChaining") {
		s.node.NoChain = true
	}
	return s
}

// configurable reports whether the operator settings may be changed
// through s. A side output is not an operator of its own: it is emitted by
// its operator's subtasks. Changing the operator through it silently
// reconfigured the main output's operator (a side output's SetParallelism
// changed the parallelism of the operator feeding the main output), so it
// fails the job instead, at Execute, as Flink offers no such methods on a
// side output's DataStream.
func (s Stream[T]) configurable(method string) bool {
	if s.tag == "" {
		return true
	}
	s.env.g.Fail(fmt.Errorf("weir: %s on side output %q of operator %q: a side output runs in the subtasks of the operator that emits it and has no settings of its own; "+
		"configure that operator on its main stream, or give the side output an operator of its own (a map function, say) and configure that", method, s.tag, s.node.Name))
	return false
}

// Rebalance sends records round-robin to the next operator's subtasks.
func (s Stream[T]) Rebalance() Stream[T] {
	s.part, s.route = runtime.Rebalance, nil
	return s
}

// Broadcast sends every record to every subtask of the next operator.
func (s Stream[T]) Broadcast() Stream[T] {
	s.part, s.route = runtime.Broadcast, nil
	return s
}

// Forward sends records one-to-one to the next operator (the default; it
// becomes a rebalance when the parallelisms differ).
func (s Stream[T]) Forward() Stream[T] {
	s.part, s.route = runtime.Forward, nil
	return s
}

// connect adds an edge from s to input idx of to.
func connect[T any](s Stream[T], to *graph.Node, idx int) {
	// A forward edge between different parallelisms becomes a rebalance
	// when the writer is built (the parallelisms are known only then).
	part := s.part
	batch := s.env.opts.BatchSize
	pool := runtime.NewBatchPool[T](batch)
	route := s.route
	e := &graph.Edge{From: s.node, To: to, Tag: s.tag, Input: idx, Partitioning: part}
	e.NewWriter = func(chans []*runtime.Channel, done <-chan struct{}, maxPar int) (any, runtime.Writer) {
		mode := part
		if mode == runtime.Forward && len(chans) != 1 {
			mode = runtime.Rebalance
		}
		w := newWriter(mode, route, chans, maxPar, pool, done)
		return runtime.Output[T](w), w
	}
	e.NewDeliver = func(target any) runtime.Deliver {
		out := target.(runtime.Output[T])
		if ho, ok := out.(hashedInput[T]); ok && route != nil && ho.hashedBy() == route {
			// A keyed operator of this very KeyBy takes the hashes the
			// writer computed; a batch without them (one channel) goes
			// the ordinary way.
			bo := runtime.BatchOf(out)
			return func(data any) (int, error) {
				b := data.(*runtime.Batch[T])
				var n int
				var err error
				if len(b.Hashes) == len(b.Recs) {
					n, err = ho.ProcessHashedBatch(b.Recs, b.Hashes)
				} else {
					n, err = bo.ProcessBatch(b.Recs)
				}
				if err != nil {
					return n, err
				}
				pool.Put(b)
				return n, nil
			}
		}
		if bo, ok := out.(runtime.BatchOutput[T]); ok {
			// A head operator with a batch path takes the whole batch.
			return func(data any) (int, error) {
				b := data.(*runtime.Batch[T])
				n, err := bo.ProcessBatch(b.Recs)
				if err != nil {
					return n, err
				}
				pool.Put(b)
				return n, nil
			}
		}
		return func(data any) (int, error) {
			b := data.(*runtime.Batch[T])
			for i := range b.Recs {
				r := &b.Recs[i]
				if err := out.ProcessElement(r.V, r.TS); err != nil {
					return i + 1, err
				}
			}
			n := len(b.Recs)
			pool.Put(b)
			return n, nil
		}
	}
	e.NewFanout = func(outs []any) any {
		f := &fanout[T]{outs: make([]runtime.Output[T], len(outs)), batch: make([]runtime.BatchOutput[T], len(outs))}
		for i, o := range outs {
			f.outs[i] = o.(runtime.Output[T])
			f.batch[i] = runtime.BatchOf(f.outs[i])
		}
		return runtime.Output[T](f)
	}
	s.env.g.Connect(e)
}

// keyRoute is the key of a key-partitioned exchange (one per KeyBy).
// Its writers route each record by the hash of its key and send the hash
// with it; a keyed operator made from the same KeyBy (hashedBy returns
// the same keyRoute) takes that hash instead of hashing the key again.
type keyRoute[T any] struct {
	// hash is the stable hash (keygroup.Hasher) of a record's key.
	hash func(T) uint64
}

// newWriter returns the writer of an edge of partitioning mode (route is
// the key of a Hash edge).
func newWriter[T any](mode runtime.Partitioning, route *keyRoute[T], chans []*runtime.Channel, maxPar int, pool *runtime.BatchPool[T], done <-chan struct{}) *runtime.RecordWriter[T] {
	switch {
	case mode == runtime.Hash && len(chans) == 1:
		// One channel: every key goes to it. The key is not computed
		// (for SQL, one string allocated per record that the keyed
		// operator computes again anyway); the operator hashes it.
		return runtime.NewRecordWriter[T](mode, chans, func(T) int { return 0 }, pool, done)
	case mode == runtime.Hash:
		return runtime.NewHashWriter[T](chans, route.hash, maxPar, pool, done)
	}
	return runtime.NewRecordWriter[T](mode, chans, nil, pool, done)
}

func newKeyRoute[K comparable, T any](key func(T) K) *keyRoute[T] {
	hash := keygroup.Hasher[K]()
	return &keyRoute[T]{hash: func(v T) uint64 { return hash(key(v)) }}
}

// hashedInput is a keyed operator that takes the key hashes of a keyed
// exchange: those of the keyRoute that hashedBy returns (nil: none).
type hashedInput[T any] interface {
	runtime.HashedBatchOutput[T]
	hashedBy() *keyRoute[T]
}

// fanout sends every record to several outputs.
type fanout[T any] struct {
	outs  []runtime.Output[T]
	batch []runtime.BatchOutput[T] // outs' batch paths (runtime.BatchOf)
}

func (f *fanout[T]) ProcessElement(v T, ts int64) error {
	for _, o := range f.outs {
		if err := o.ProcessElement(v, ts); err != nil {
			return err
		}
	}
	return nil
}

// ProcessBatch hands recs to every output in turn.
func (f *fanout[T]) ProcessBatch(recs []runtime.Rec[T]) (int, error) {
	for _, o := range f.batch {
		if n, err := o.ProcessBatch(recs); err != nil {
			return n, err
		}
	}
	return len(recs), nil
}

func (f *fanout[T]) ProcessWatermark(wm int64) error {
	for _, o := range f.outs {
		if err := o.ProcessWatermark(wm); err != nil {
			return err
		}
	}
	return nil
}

func (f *fanout[T]) ProcessWatermarkStatus(idle bool) error {
	for _, o := range f.outs {
		if err := o.ProcessWatermarkStatus(idle); err != nil {
			return err
		}
	}
	return nil
}

// discard drops everything.
type discard[T any] struct{}

func (discard[T]) ProcessElement(T, int64) error { return nil }
func (discard[T]) ProcessBatch(recs []runtime.Rec[T]) (int, error) {
	return len(recs), nil
}
func (discard[T]) ProcessWatermark(int64) error      { return nil }
func (discard[T]) ProcessWatermarkStatus(bool) error { return nil }

// newNode adds an operator node whose main output has type O.
func newNode[O any](env *Environment, name string, inputs int, build func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error)) *graph.Node {
	n := &graph.Node{Name: name, DefaultName: true, NumInputs: inputs, New: build}
	n.NewDiscard = func() any { return runtime.Output[O](discard[O]{}) }
	return env.g.AddNode(n)
}

// OutputTag names a side output of type T. Create it once with
// NewOutputTag and use it both to emit (Output) and to read (SideOutput).
type OutputTag[T any] struct {
	id string
}

// NewOutputTag returns a tag; id must be unique per operator.
func NewOutputTag[T any](id string) OutputTag[T] { return OutputTag[T]{id: id} }

// ID returns the tag's id.
func (t OutputTag[T]) ID() string { return t.id }

// SideOutput returns the records that the operator producing s emitted to
// tag. The side output is part of that operator: it has no name, uid,
// parallelism or chaining of its own, and calling Name, UID, SetParallelism
// or DisableChaining on it fails the job. Its partitioning (Rebalance,
// Broadcast, KeyBy) is chosen per stream as usual.
func SideOutput[T, X any](s Stream[T], tag OutputTag[X]) Stream[X] {
	if tag.id == "" {
		panic("weir: SideOutput with a zero OutputTag")
	}
	return Stream[X]{env: s.env, node: s.node, tag: tag.id}
}

// outputs are an operator instance's main and side outputs.
type outputs[O any] struct {
	main runtime.Output[O]
	side map[string]any
	ctrl []runtime.WatermarkHandler
	// batch is main's batch path (runtime.BatchOf), set on first use.
	batch runtime.BatchOutput[O]
}

// mainBatch returns the batch path of the main output.
func (o *outputs[O]) mainBatch() runtime.BatchOutput[O] {
	if o.batch == nil {
		o.batch = runtime.BatchOf(o.main)
	}
	return o.batch
}

func newOutputs[O any](g graph.Outputs) *outputs[O] {
	o := &outputs[O]{main: g.Main.(runtime.Output[O]), side: g.Side}
	for _, s := range g.Side {
		o.ctrl = append(o.ctrl, s.(runtime.WatermarkHandler))
	}
	return o
}

// ProcessWatermark forwards a watermark to the main and every side output.
func (o *outputs[O]) ProcessWatermark(wm int64) error {
	if err := o.main.ProcessWatermark(wm); err != nil {
		return err
	}
	for _, c := range o.ctrl {
		if err := c.ProcessWatermark(wm); err != nil {
			return err
		}
	}
	return nil
}

// ProcessWatermarkStatus forwards a status to the main and side outputs.
func (o *outputs[O]) ProcessWatermarkStatus(idle bool) error {
	if err := o.main.ProcessWatermarkStatus(idle); err != nil {
		return err
	}
	for _, c := range o.ctrl {
		if err := c.ProcessWatermarkStatus(idle); err != nil {
			return err
		}
	}
	return nil
}

func (o *outputs[O]) sideOutput(id string) any {
	if s, ok := o.side[id]; ok {
		return s
	}
	return nil
}

// SideOutputContext is implemented by the contexts of user functions that
// may emit to side outputs with Output and Reject: *Context,
// *KeyedContext, *WindowContext, the join, co-process and broadcast
// contexts. Its methods are unexported; only Weir's contexts implement it.
type SideOutputContext interface {
	sideOutput(id string) (any, int64)
	fail(err error)
}

// Output emits v to the side output tag, with the current record's
// timestamp. Nothing happens if no stream reads that side output.
func Output[X any](ctx SideOutputContext, tag OutputTag[X], v X) {
	o, ts := ctx.sideOutput(tag.id)
	if o == nil {
		return
	}
	if err := o.(runtime.Output[X]).ProcessElement(v, ts); err != nil {
		ctx.fail(err)
	}
}

// opError names the operator in an error from user code.
func opError(ctx *runtime.OperatorContext, err error) error {
	return fmt.Errorf("operator %q: %w", ctx.Name, err)
}
