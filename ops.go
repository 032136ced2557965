package weir

import (
	"context"
	"reflect"

	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/operator"
)

// Collector receives the records a function emits.
type Collector[T any] interface {
	Collect(v T)
}

// collector emits with a fixed timestamp and remembers the first error.
type collector[T any] struct {
	out runtime.Output[T]
	ts  int64
	err error
}

func (c *collector[T]) Collect(v T) {
	if c.err == nil {
		c.err = c.out.ProcessElement(v, c.ts)
	}
}

// recBuf is an operator's reused run of output records (the batch path).
type recBuf[T any] struct {
	recs []runtime.Rec[T]
	// scrub is set when T holds pointers: a run is cleared once handed
	// down, so that it keeps no records alive.
	scrub, known bool
}

// take returns the empty run, with room for n records.
func (b *recBuf[T]) take(n int) []runtime.Rec[T] {
	if cap(b.recs) < n {
		b.recs = make([]runtime.Rec[T], 0, n)
	}
	return b.recs[:0]
}

// give takes back the run returned by take, after it was handed down.
func (b *recBuf[T]) give(run []runtime.Rec[T]) {
	if !b.known {
		b.scrub, b.known = holdsPointers(reflect.TypeFor[T]()), true
	}
	if b.scrub {
		clear(run)
	}
	b.recs = run[:0]
}

// holdsPointers reports whether values of t hold pointers the garbage
// collector follows.
func holdsPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && holdsPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true
}

// baseOp implements the lifecycle of stateless operators.
type baseOp struct {
	ctx *runtime.OperatorContext
}

func (b *baseOp) Open(ctx *runtime.OperatorContext) error { b.ctx = ctx; return nil }
func (b *baseOp) Finish() error                           { return nil }
func (b *baseOp) Close() error                            { return nil }

// forwardOp forwards control events unchanged.
type forwardOp[O any] struct {
	baseOp
	out *outputs[O]
}

func (f *forwardOp[O]) ProcessWatermark(wm int64) error {
	f.ctx.Metrics.CurrentWatermark = wm
	return f.out.ProcessWatermark(wm)
}
func (f *forwardOp[O]) ProcessWatermarkStatus(idle bool) error {
	return f.out.ProcessWatermarkStatus(idle)
}

func oneInput[I, O any](s Stream[I], name string, make func(out *outputs[O]) runtime.OneInput[I]) Stream[O] {
	n := newNode[O](s.env, name, 1, func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error) {
		op := make(newOutputs[O](outs))
		return graph.Instance{Op: op, Inputs: []any{runtime.Output[I](op)}, Watermarks: op}, nil
	})
	connect(s, n, 0)
	return Stream[O]{env: s.env, node: n}
}

type mapOp[I, O any] struct {
	forwardOp[O]
	fn  func(I) O
	buf recBuf[O]
	// next is the Filter the map's records go to, if that is its only
	// output in the chain (found on the first run; probed records that
	// the lookup was done): the two then map and filter a run in one
	// pass, without the map's own run.
	next   *filterOp[O]
	probed bool
}

func (m *mapOp[I, O]) ProcessElement(v I, ts int64) error {
	return m.out.main.ProcessElement(m.fn(v), ts)
}

// ProcessBatch maps recs into the operator's reused run and hands that
// down in one call.
func (m *mapOp[I, O]) ProcessBatch(recs []runtime.Rec[I]) (int, error) {
	if !m.probed {
		m.next, _ = m.out.main.(*filterOp[O])
		m.probed = true
	}
	if m.next != nil {
		return filterMapped(m.next, recs, m.fn)
	}
	buf := m.buf.take(len(recs))
	for i := range recs {
		buf = append(buf, runtime.Rec[O]{V: m.fn(recs[i].V), TS: recs[i].TS})
	}
	n, err := m.out.mainBatch().ProcessBatch(buf)
	m.buf.give(buf)
	return n, err
}

// Map applies fn to every record.
func Map[I, O any](s Stream[I], fn func(I) O) Stream[O] {
	return oneInput(s, "Map", func(out *outputs[O]) runtime.OneInput[I] {
		return &mapOp[I, O]{forwardOp: forwardOp[O]{out: out}, fn: fn}
	})
}

type tryMapOp[I, O any] struct {
	forwardOp[O]
	fn  func(I) (O, error)
	buf recBuf[O]
}

func (m *tryMapOp[I, O]) ProcessElement(v I, ts int64) error {
	o, err := m.fn(v)
	if err != nil {
		return opError(m.ctx, err)
	}
	return m.out.main.ProcessElement(o, ts)
}

// ProcessBatch maps recs into the operator's reused run and hands that
// down. If fn fails on a record, the records before it go down first (as
// they would have one by one) and the error names the operator.
func (m *tryMapOp[I, O]) ProcessBatch(recs []runtime.Rec[I]) (int, error) {
	buf := m.buf.take(len(recs))
	for i := range recs {
		o, err := m.fn(recs[i].V)
		if err != nil {
			if len(buf) > 0 {
				n, derr := m.out.mainBatch().ProcessBatch(buf)
				m.buf.give(buf)
				if derr != nil {
					return n, derr
				}
			}
			return i + 1, opError(m.ctx, err)
		}
		buf = append(buf, runtime.Rec[O]{V: o, TS: recs[i].TS})
	}
	n, err := m.out.mainBatch().ProcessBatch(buf)
	m.buf.give(buf)
	return n, err
}

// TryMap applies fn to every record; an error fails the job, naming the
// operator. To route bad records aside instead, use Process with a side
// output.
func TryMap[I, O any](s Stream[I], fn func(I) (O, error)) Stream[O] {
	return oneInput(s, "Map", func(out *outputs[O]) runtime.OneInput[I] {
		return &tryMapOp[I, O]{forwardOp: forwardOp[O]{out: out}, fn: fn}
	})
}

type filterOp[T any] struct {
	forwardOp[T]
	fn   func(T) bool
	kept recBuf[T]
	// idx holds, for each record of kept, its index in the input run: an
	// error downstream is reported as the input records handled.
	idx []int32
}

func (f *filterOp[T]) ProcessElement(v T, ts int64) error {
	if f.fn(v) {
		return f.out.main.ProcessElement(v, ts)
	}
	return nil
}

// ProcessBatch copies the records fn keeps into the operator's reused run
// and hands that down in one call. The copy is branch-free: every record
// is written at the run's end, which advances only past those fn keeps,
// so an unpredictable predicate costs no mispredicted branches.
func (f *filterOp[T]) ProcessBatch(recs []runtime.Rec[T]) (int, error) {
	kept, idx := f.runs(len(recs))
	n := 0
	for i := range recs {
		ok := f.fn(recs[i].V)
		kept[n] = recs[i]
		idx[n] = int32(i)
		n += b2i(ok)
	}
	return f.handDown(kept, n, len(recs))
}

// runs returns the operator's reused run of kept records and the list of
// their input indexes, each n long.
func (f *filterOp[T]) runs(n int) ([]runtime.Rec[T], []int32) {
	if cap(f.idx) < n {
		f.idx = make([]int32, n)
	}
	return f.kept.take(n)[:n], f.idx[:n]
}

// filterMapped is f.ProcessBatch of the run of mapFn(rec.V) for recs: a
// Map whose only output is the Filter f maps and filters in one pass.
// Map is one record out per record in, so the counts on error are the
// same.
func filterMapped[I, T any](f *filterOp[T], recs []runtime.Rec[I], mapFn func(I) T) (int, error) {
	kept, idx := f.runs(len(recs))
	n := 0
	for i := range recs {
		v := mapFn(recs[i].V)
		ok := f.fn(v)
		r := &kept[n]
		r.V, r.TS = v, recs[i].TS
		idx[n] = int32(i)
		n += b2i(ok)
	}
	return f.handDown(kept, n, len(recs))
}

// handDown hands down the first n records of kept, the records kept of an
// input run of in records (f.idx holds their input indexes), and gives
// kept back.
func (f *filterOp[T]) handDown(kept []runtime.Rec[T], n, in int) (int, error) {
	if n == 0 {
		f.kept.give(kept)
		return in, nil
	}
	done, err := f.out.mainBatch().ProcessBatch(kept[:n])
	f.kept.give(kept)
	if err != nil {
		return int(f.idx[min(max(done, 1), n)-1]) + 1, err
	}
	return in, nil
}

// b2i is 1 for true and 0 for false, without a branch.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// Filter keeps the records for which fn returns true.
func (s Stream[T]) Filter(fn func(T) bool) Stream[T] {
	return oneInput(s, "Filter", func(out *outputs[T]) runtime.OneInput[T] {
		return &filterOp[T]{forwardOp: forwardOp[T]{out: out}, fn: fn}
	})
}

type flatMapOp[I, O any] struct {
	forwardOp[O]
	fn func(I, Collector[O]) error
	c  collector[O]
	bc runCollector[O]
}

// runCollector collects what a FlatMap function emits on the batch path
// into a reused run, handed down when full and at the end of the input
// run.
type runCollector[O any] struct {
	run recBuf[O]
	out []runtime.Rec[O]
	// src holds, for each record of out, the index of the input record
	// it came from; cur is the input record being processed.
	src []int32
	cur int32
	ts  int64
	// err is the first error downstream, failed the input record whose
	// output failed.
	err    error
	failed int32
	next   runtime.BatchOutput[O]
}

// flatMapRun is the most records a FlatMap collects before it hands them
// down.
const flatMapRun = 256

func (c *runCollector[O]) Collect(v O) {
	if c.err != nil {
		return
	}
	c.out = append(c.out, runtime.Rec[O]{V: v, TS: c.ts})
	c.src = append(c.src, c.cur)
	if len(c.out) == flatMapRun {
		c.flush()
	}
}

// flush hands the collected records down.
func (c *runCollector[O]) flush() {
	if len(c.out) == 0 {
		return
	}
	if c.err == nil {
		if n, err := c.next.ProcessBatch(c.out); err != nil {
			c.err, c.failed = err, c.src[min(max(n, 1), len(c.src))-1]
		}
	}
	c.run.give(c.out)
	c.out, c.src = c.run.take(flatMapRun), c.src[:0]
}

// ProcessBatch calls fn for every record of recs, collecting what it
// emits into runs. Records emitted before an error go down before it is
// returned, as on the per-record path.
func (f *flatMapOp[I, O]) ProcessBatch(recs []runtime.Rec[I]) (int, error) {
	c := &f.bc
	c.next = f.out.mainBatch()
	c.out, c.src, c.err = c.run.take(flatMapRun), c.src[:0], nil
	for i := range recs {
		c.cur, c.ts = int32(i), recs[i].TS
		if err := f.fn(recs[i].V, c); err != nil {
			c.flush()
			if c.err != nil {
				return int(c.failed) + 1, c.err
			}
			return i + 1, opError(f.ctx, err)
		}
		if c.err != nil {
			return int(c.failed) + 1, c.err
		}
	}
	c.flush()
	if c.err != nil {
		return int(c.failed) + 1, c.err
	}
	return len(recs), nil
}

func (f *flatMapOp[I, O]) ProcessElement(v I, ts int64) error {
	f.c.ts, f.c.err = ts, nil
	if err := f.fn(v, &f.c); err != nil {
		return opError(f.ctx, err)
	}
	return f.c.err
}

// FlatMap calls fn for every record; fn emits zero or more records.
func FlatMap[I, O any](s Stream[I], fn func(I, Collector[O]) error) Stream[O] {
	return oneInput(s, "FlatMap", func(out *outputs[O]) runtime.OneInput[I] {
		op := &flatMapOp[I, O]{forwardOp: forwardOp[O]{out: out}, fn: fn}
		op.c.out = out.main
		return op
	})
}

// Union merges streams of the same type into one.
func Union[T any](first Stream[T], others ...Stream[T]) Stream[T] {
	n := newNode[T](first.env, "Union", 1, func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error) {
		op := &unionOp[T]{forwardOp: forwardOp[T]{out: newOutputs[T](outs)}}
		return graph.Instance{Op: op, Inputs: []any{runtime.Output[T](op)}, Watermarks: op}, nil
	})
	connect(first, n, 0)
	for _, o := range others {
		connect(o, n, 0)
	}
	if len(others) > 0 {
		// A union reads several inputs: it cannot be chained to one of them.
		n.NoChain = true
	}
	return Stream[T]{env: first.env, node: n}
}

type unionOp[T any] struct {
	forwardOp[T]
}

func (u *unionOp[T]) ProcessElement(v T, ts int64) error {
	return u.out.main.ProcessElement(v, ts)
}

// ProcessBatch hands recs down unchanged.
func (u *unionOp[T]) ProcessBatch(recs []runtime.Rec[T]) (int, error) {
	return u.out.mainBatch().ProcessBatch(recs)
}

// Context is given to a ProcessFunction for each record.
type Context[O any] struct {
	ts  int64
	err error
	out *outputs[O]
	wm  int64
	pts runtime.ProcessingTimeService
}

// Timestamp returns the record's event timestamp (NoTimestamp if none).
func (c *Context[O]) Timestamp() int64 { return c.ts }

// CurrentWatermark returns the operator's current watermark.
func (c *Context[O]) CurrentWatermark() int64 { return c.wm }

// CurrentProcessingTime returns processing time in milliseconds.
func (c *Context[O]) CurrentProcessingTime() int64 { return c.pts.Now() }

// Collect emits a record with the current record's timestamp.
func (c *Context[O]) Collect(v O) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, c.ts)
	}
}

// CollectWithTimestamp emits a record with timestamp ts.
func (c *Context[O]) CollectWithTimestamp(v O, ts int64) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, ts)
	}
}

func (c *Context[O]) sideOutput(id string) (any, int64) { return c.out.sideOutput(id), c.ts }
func (c *Context[O]) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// ProcessFunction handles each record of a non-keyed stream; it may emit
// any number of records and side outputs. Implement Opener and Closer for
// set-up and tear-down.
type ProcessFunction[I, O any] interface {
	ProcessElement(ctx *Context[O], in I) error
}

// ProcessFunc adapts a function to ProcessFunction.
type ProcessFunc[I, O any] func(ctx *Context[O], in I) error

// ProcessElement calls f.
func (f ProcessFunc[I, O]) ProcessElement(ctx *Context[O], in I) error { return f(ctx, in) }

// Opener is implemented by functions that need set-up before the first
// record.
type Opener interface {
	Open(ctx *RuntimeContext) error
}

// Closer is implemented by functions that release resources at the end.
type Closer interface {
	Close() error
}

// RuntimeContext tells a function where it runs.
type RuntimeContext struct {
	op *runtime.OperatorContext
}

// OperatorName returns the operator's name.
func (r *RuntimeContext) OperatorName() string { return r.op.Name }

// Metrics returns the operator's counters (LateRecordsDropped, ...),
// which the task publishes as Prometheus metrics. Update them with
// sync/atomic: the task's metrics reporter reads them concurrently.
func (r *RuntimeContext) Metrics() *operator.Metrics { return r.op.Metrics }

// Subtask returns this subtask's index (from 0).
func (r *RuntimeContext) Subtask() int { return r.op.Subtask }

// Parallelism returns the operator's parallelism.
func (r *RuntimeContext) Parallelism() int { return r.op.Parallelism }

// LocalDir returns a local working directory of this operator subtask's
// own, for scratch files (spilled data, not state): it lies under the
// job's state directory (Options.StateDir) and is removed, with whatever
// it holds, when the job ends, fails or restarts. It may not exist yet
// (create it with os.MkdirAll); "" when the job has no state directory
// (an operator built by hand, a test harness).
func (r *RuntimeContext) LocalDir() string { return r.op.StateDir }

// Context returns the task's context: it is done when the job is
// cancelled or fails (context.Background for a function run outside a
// task). A function that computes long inside one call (a batch operator
// working through a large partition at the end of its input) checks its
// Err every so many records and returns it, so that a cancel takes effect
// at once instead of at the end of the call. Do not keep it past the call.
func (r *RuntimeContext) Context() context.Context {
	if r.op == nil || r.op.Context == nil {
		return context.Background()
	}
	return r.op.Context
}

type processOp[I, O any] struct {
	forwardOp[O]
	fn  ProcessFunction[I, O]
	pc  Context[O]
	rc  RuntimeContext
	raw any
}

func (p *processOp[I, O]) Open(ctx *runtime.OperatorContext) error {
	p.ctx = ctx
	p.fn = perSubtask(p.fn)
	p.raw = p.fn
	p.pc = Context[O]{out: p.out, pts: ctx.Time, wm: runtime.MinWatermark}
	p.rc = RuntimeContext{op: ctx}
	if o, ok := p.raw.(Opener); ok {
		if err := o.Open(&p.rc); err != nil {
			return opError(ctx, err)
		}
	}
	return nil
}

func (p *processOp[I, O]) Close() error {
	if c, ok := p.raw.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *processOp[I, O]) ProcessElement(v I, ts int64) error {
	p.pc.ts, p.pc.err = ts, nil
	if err := p.fn.ProcessElement(&p.pc, v); err != nil {
		return opError(p.ctx, err)
	}
	return p.pc.err
}

func (p *processOp[I, O]) ProcessWatermark(wm int64) error {
	p.pc.wm = wm
	return p.forwardOp.ProcessWatermark(wm)
}

// Process applies a ProcessFunction to every record of a non-keyed stream.
func Process[I, O any](s Stream[I], fn ProcessFunction[I, O]) Stream[O] {
	return oneInput(s, "Process", func(out *outputs[O]) runtime.OneInput[I] {
		return &processOp[I, O]{forwardOp: forwardOp[O]{out: out}, fn: fn, raw: fn}
	})
}

// perSubtask returns the copy of a user function that one subtask uses. A
// function given as a pointer to a struct is copied (shallowly) for every
// subtask, as Flink gives each subtask its own deserialised instance: fields
// set in Open, such as state handles, are then private to the subtask. Maps,
// slices and pointers inside the struct stay shared; initialise those in
// Open. Other functions (func values) are shared and must be safe for
// concurrent use when the operator runs with parallelism above 1.
func perSubtask[F any](fn F) F {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fn
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	out, ok := cp.Interface().(F)
	if !ok {
		return fn
	}
	return out
}

// ProcessingTimeService is the processing-time clock and callback scheduler
// of a subtask; callbacks run on the subtask's goroutine.
type ProcessingTimeService = runtime.ProcessingTimeService
