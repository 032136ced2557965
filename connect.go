package weir

import (
	"errors"

	"github.com/weirstream/weir/internal/graph"
	"github.com/weirstream/weir/internal/runtime"
)

// Two-input operators.
//
// A two-input operator reads two streams of different types. The task that
// runs it combines the watermarks of all its input channels (the minimum over
// the channels that are not idle) and hands the operator one watermark, as
// Flink's two-input operators do; the operator never sees the watermark of
// one input alone. Records of the two inputs arrive interleaved in no
// particular order: Flink gives no ordering guarantee between the inputs, and
// neither does Weir. Functions whose answer must not depend on that order
// should decide by event time (buffer in state, act in timers).

// twoInput adds an operator reading s1 on input 1 and s2 on input 2. make
// may fail (a misconfigured operator): the job then fails when it is built,
// naming the operator.
func twoInput[A, B, O any](s1 Stream[A], s2 Stream[B], name string, make func(out *outputs[O]) (runtime.TwoInput[A, B], error)) Stream[O] {
	sameEnv := s1.env == s2.env
	n := newNode[O](s1.env, name, 2, func(ctx *runtime.OperatorContext, outs graph.Outputs) (graph.Instance, error) {
		if !sameEnv {
			return graph.Instance{}, errors.New("the two inputs belong to different environments")
		}
		op, err := make(newOutputs[O](outs))
		if err != nil {
			return graph.Instance{}, err
		}
		return graph.Instance{
			Op:         op,
			Inputs:     []any{runtime.Output[A](input1[A, B]{op}), runtime.Output[B](input2[A, B]{op})},
			Watermarks: op,
		}, nil
	})
	// A node with two inputs is never chained to either of them.
	n.NoChain = true
	connect(s1, n, 0)
	if sameEnv {
		// Otherwise the factory reports the error when the job is built.
		connect(s2, n, 1)
	}
	return Stream[O]{env: s1.env, node: n}
}

// input1 and input2 adapt the inputs of a two-input operator to
// runtime.Output. Watermarks and status are combined by the task and given
// to the operator itself, so the adapters ignore them.
type input1[A, B any] struct{ op runtime.TwoInput[A, B] }

func (i input1[A, B]) ProcessElement(v A, ts int64) error { return i.op.ProcessElement1(v, ts) }
func (input1[A, B]) ProcessWatermark(int64) error         { return nil }
func (input1[A, B]) ProcessWatermarkStatus(bool) error    { return nil }

type input2[A, B any] struct{ op runtime.TwoInput[A, B] }

func (i input2[A, B]) ProcessElement(v B, ts int64) error { return i.op.ProcessElement2(v, ts) }
func (input2[A, B]) ProcessWatermark(int64) error         { return nil }
func (input2[A, B]) ProcessWatermarkStatus(bool) error    { return nil }

// ConnectedStreams are two streams, possibly of different types, processed
// together by one operator that may share state between them (Flink's
// ConnectedStreams). Create them with Connect and process them with
// CoProcess, CoMap or CoFlatMap.
type ConnectedStreams[A, B any] struct {
	s1 Stream[A]
	s2 Stream[B]
}

// Connect connects two streams. The operator that processes them runs with
// the environment's parallelism; records reach its subtasks as the streams'
// partitioning says (a forward stream of a different parallelism is
// rebalanced). Use ConnectKeyed to process two keyed streams by key.
func Connect[A, B any](s1 Stream[A], s2 Stream[B]) ConnectedStreams[A, B] {
	return ConnectedStreams[A, B]{s1: s1, s2: s2}
}

// First returns the first input.
func (c ConnectedStreams[A, B]) First() Stream[A] { return c.s1 }

// Second returns the second input.
func (c ConnectedStreams[A, B]) Second() Stream[B] { return c.s2 }

// CoProcessFunction handles the records of two connected streams. Both
// methods of one subtask run on the same goroutine, never concurrently, so
// they may share the function's fields. Implement Opener and Closer for
// set-up and tear-down.
type CoProcessFunction[A, B, O any] interface {
	// ProcessElement1 handles a record of the first input.
	ProcessElement1(ctx *Context[O], in A) error
	// ProcessElement2 handles a record of the second input.
	ProcessElement2(ctx *Context[O], in B) error
}

type coProcessOp[A, B, O any] struct {
	forwardOp[O]
	fn  CoProcessFunction[A, B, O]
	pc  Context[O]
	rc  RuntimeContext
	raw any
}

func (p *coProcessOp[A, B, O]) Open(ctx *runtime.OperatorContext) error {
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

func (p *coProcessOp[A, B, O]) Close() error {
	if c, ok := p.raw.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *coProcessOp[A, B, O]) ProcessElement1(v A, ts int64) error {
	p.pc.ts, p.pc.err = ts, nil
	if err := p.fn.ProcessElement1(&p.pc, v); err != nil {
		return opError(p.ctx, err)
	}
	return p.pc.err
}

func (p *coProcessOp[A, B, O]) ProcessElement2(v B, ts int64) error {
	p.pc.ts, p.pc.err = ts, nil
	if err := p.fn.ProcessElement2(&p.pc, v); err != nil {
		return opError(p.ctx, err)
	}
	return p.pc.err
}

func (p *coProcessOp[A, B, O]) ProcessWatermark(wm int64) error {
	p.pc.wm = wm
	return p.forwardOp.ProcessWatermark(wm)
}

// CoProcess applies a CoProcessFunction to two connected streams.
func CoProcess[A, B, O any](c ConnectedStreams[A, B], fn CoProcessFunction[A, B, O]) Stream[O] {
	return twoInput(c.s1, c.s2, "CoProcess", func(out *outputs[O]) (runtime.TwoInput[A, B], error) {
		if fn == nil {
			return nil, errors.New("CoProcess needs a function")
		}
		return &coProcessOp[A, B, O]{forwardOp: forwardOp[O]{out: out}, fn: fn, raw: fn}, nil
	})
}

type coMapOp[A, B, O any] struct {
	forwardOp[O]
	f1 func(A) O
	f2 func(B) O
}

func (m *coMapOp[A, B, O]) ProcessElement1(v A, ts int64) error {
	return m.out.main.ProcessElement(m.f1(v), ts)
}

func (m *coMapOp[A, B, O]) ProcessElement2(v B, ts int64) error {
	return m.out.main.ProcessElement(m.f2(v), ts)
}

// CoMap maps the records of the first input with f1 and those of the second
// with f2 into one stream, keeping their timestamps.
func CoMap[A, B, O any](c ConnectedStreams[A, B], f1 func(A) O, f2 func(B) O) Stream[O] {
	return twoInput(c.s1, c.s2, "CoMap", func(out *outputs[O]) (runtime.TwoInput[A, B], error) {
		if f1 == nil || f2 == nil {
			return nil, errors.New("CoMap needs two functions")
		}
		return &coMapOp[A, B, O]{forwardOp: forwardOp[O]{out: out}, f1: f1, f2: f2}, nil
	})
}

type coFlatMapOp[A, B, O any] struct {
	forwardOp[O]
	f1 func(A, Collector[O]) error
	f2 func(B, Collector[O]) error
	c  collector[O]
}

func (f *coFlatMapOp[A, B, O]) ProcessElement1(v A, ts int64) error {
	f.c.ts, f.c.err = ts, nil
	if err := f.f1(v, &f.c); err != nil {
		return opError(f.ctx, err)
	}
	return f.c.err
}

func (f *coFlatMapOp[A, B, O]) ProcessElement2(v B, ts int64) error {
	f.c.ts, f.c.err = ts, nil
	if err := f.f2(v, &f.c); err != nil {
		return opError(f.ctx, err)
	}
	return f.c.err
}

// CoFlatMap calls f1 for every record of the first input and f2 for every
// record of the second; each emits zero or more records with the input
// record's timestamp.
func CoFlatMap[A, B, O any](c ConnectedStreams[A, B], f1 func(A, Collector[O]) error, f2 func(B, Collector[O]) error) Stream[O] {
	return twoInput(c.s1, c.s2, "CoFlatMap", func(out *outputs[O]) (runtime.TwoInput[A, B], error) {
		if f1 == nil || f2 == nil {
			return nil, errors.New("CoFlatMap needs two functions")
		}
		op := &coFlatMapOp[A, B, O]{forwardOp: forwardOp[O]{out: out}, f1: f1, f2: f2}
		op.c.out = out.main
		return op, nil
	})
}

// KeyedConnectedStreams are two keyed streams with the same key type,
// processed together by key: records of both inputs with the same key reach
// the same subtask and share that key's state and timers.
type KeyedConnectedStreams[K comparable, A, B any] struct {
	k1 KeyedStream[K, A]
	k2 KeyedStream[K, B]
}

// ConnectKeyed connects two keyed streams (Flink's
// keyedStream1.connect(keyedStream2)). Both key selectors must produce keys
// of type K that mean the same thing: a record of either input with key k
// is processed with k's state.
func ConnectKeyed[K comparable, A, B any](k1 KeyedStream[K, A], k2 KeyedStream[K, B]) KeyedConnectedStreams[K, A, B] {
	return KeyedConnectedStreams[K, A, B]{k1: k1, k2: k2}
}

// KeyedCoProcessFunction handles the records of two keyed streams with the
// current key's state and timers. Implement KeyedOpener to register state,
// TimerHandler to receive timers, Closer to clean up.
type KeyedCoProcessFunction[K comparable, A, B, O any] interface {
	// ProcessElement1 handles a record of the first input.
	ProcessElement1(ctx *KeyedContext[K, O], in A) error
	// ProcessElement2 handles a record of the second input.
	ProcessElement2(ctx *KeyedContext[K, O], in B) error
}

// keyedTwoInput is what keyed two-input operators share: keyed state, a
// timer service and the context their functions see.
type keyedTwoInput[K comparable, O any] struct {
	forwardOp[O]
	keyed[K]
	kctx   *KeyedContext[K, O]
	timers *runtime.TimerService[K, struct{}]
	// onTimer calls the function's OnTimer with the key and kctx set; nil
	// if the function has none.
	onTimer func(ts int64) error
	// afterCallback, if not nil, runs after each callback of
	// ScheduleProcessingTimeCallback (a held watermark is released).
	afterCallback func() error
}

// open prepares state, timers and kctx, then calls the function's Open if
// it implements KeyedOpener.
func (b *keyedTwoInput[K, O]) open(ctx *runtime.OperatorContext, kctx *KeyedContext[K, O], fn any) error {
	b.ctx = ctx
	var err error
	if b.keyed, err = newKeyed[K](ctx); err != nil {
		return err
	}
	b.timers = keyedTimers[K, struct{}](&b.keyed, ctx, "user",
		func(t runtime.Timer[K, struct{}]) error { return b.fire(t, EventTime, t.TS) },
		func(t runtime.Timer[K, struct{}]) error { return b.fire(t, ProcessingTime, runtime.NoTimestamp) })
	*kctx = KeyedContext[K, O]{kc: b.kc, out: b.out, timers: b.timers, pts: ctx.Time}
	kctx.schedule = func(at int64, fn func(*KeyedContext[K, O], int64) error) {
		scheduleOn(ctx, kctx, at, fn, b.afterCallback)
	}
	if b.onTimer == nil {
		kctx.noTimers = opError(ctx, errTimerWithoutOnTimer)
	}
	b.kctx = kctx
	if o, ok := fn.(KeyedOpener[K]); ok {
		rc := &KeyedRuntimeContext[K]{RuntimeContext: RuntimeContext{op: ctx}, store: b.store}
		if err := o.Open(rc); err != nil {
			return opError(ctx, err)
		}
	}
	if err := b.store.Err(); err != nil {
		return opError(ctx, err)
	}
	return nil
}

// setKey makes k current and prepares kctx for a record at ts.
func (b *keyedTwoInput[K, O]) setKey(k K, ts int64) error {
	if err := b.kc.Set(k); err != nil {
		return opError(b.ctx, err)
	}
	c := b.kctx
	c.ts, c.err, c.domain = ts, nil, EventTime
	return nil
}

func (b *keyedTwoInput[K, O]) fire(t runtime.Timer[K, struct{}], d TimeDomain, ts int64) error {
	if b.onTimer == nil {
		return opError(b.ctx, errNoOnTimer)
	}
	b.kc.SetKnown(t.Key, t.KeyGroup)
	c := b.kctx
	c.ts, c.err, c.domain = ts, nil, d
	if err := b.onTimer(t.TS); err != nil {
		return opError(b.ctx, err)
	}
	return c.err
}

func (b *keyedTwoInput[K, O]) ProcessWatermark(wm int64) error {
	b.ctx.Metrics.CurrentWatermark = wm
	if err := b.timers.AdvanceWatermark(wm); err != nil {
		return err
	}
	return b.out.ProcessWatermark(wm)
}

type keyedCoProcessOp[K comparable, A, B, O any] struct {
	keyedTwoInput[K, O]
	key1 func(A) K
	key2 func(B) K
	fn   KeyedCoProcessFunction[K, A, B, O]
	c    KeyedContext[K, O]
	// bundle is the function as a BundleFlusher, nil if it holds no
	// records (keyed_bundle_co.go).
	bundle BundleFlusher[K, O]
	hold   wmHold // watermarks held back for a WatermarkHolder
}

func (p *keyedCoProcessOp[K, A, B, O]) Open(ctx *runtime.OperatorContext) error {
	p.fn = perSubtask(p.fn)
	if h, ok := p.fn.(TimerHandler[K, O]); ok {
		p.onTimer = func(ts int64) error { return h.OnTimer(&p.c, ts) }
	}
	p.bundle, _ = p.fn.(BundleFlusher[K, O])
	if p.bundle != nil {
		if p.hold.h, _ = p.fn.(WatermarkHolder); p.hold.h != nil {
			p.afterCallback = p.releaseWatermark
		}
	}
	return p.open(ctx, &p.c, p.fn)
}

func (p *keyedCoProcessOp[K, A, B, O]) Close() error {
	if c, ok := p.fn.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *keyedCoProcessOp[K, A, B, O]) ProcessElement1(v A, ts int64) error {
	if err := p.setKey(p.key1(v), ts); err != nil {
		return err
	}
	if err := p.fn.ProcessElement1(&p.c, v); err != nil {
		return opError(p.ctx, err)
	}
	if p.c.err != nil || !p.hold.held {
		return p.c.err
	}
	return p.releaseWatermark()
}

func (p *keyedCoProcessOp[K, A, B, O]) ProcessElement2(v B, ts int64) error {
	if err := p.setKey(p.key2(v), ts); err != nil {
		return err
	}
	if err := p.fn.ProcessElement2(&p.c, v); err != nil {
		return opError(p.ctx, err)
	}
	if p.c.err != nil || !p.hold.held {
		return p.c.err
	}
	return p.releaseWatermark()
}

// CoProcessKeyed applies a KeyedCoProcessFunction to two keyed streams
// (Flink's KeyedCoProcessFunction).
func CoProcessKeyed[K comparable, A, B, O any](c KeyedConnectedStreams[K, A, B], fn KeyedCoProcessFunction[K, A, B, O]) Stream[O] {
	k1, k2 := c.k1, c.k2
	return twoInput(k1.s, k2.s, "KeyedCoProcess", func(out *outputs[O]) (runtime.TwoInput[A, B], error) {
		if fn == nil {
			return nil, errors.New("CoProcessKeyed needs a function")
		}
		op := &keyedCoProcessOp[K, A, B, O]{key1: k1.key, key2: k2.key, fn: fn}
		op.out = out
		return op, nil
	})
}
