package weir

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/internal/statebackend/pebble"
	"github.com/weirstream/weir/state"
)

// KeyedStream is a stream partitioned by key: records with the same key go
// to the same subtask, where functions get per-key state and timers.
type KeyedStream[K comparable, T any] struct {
	s   Stream[T]
	key func(T) K
}

// KeyBy partitions s by key. The key function must be deterministic: it must
// return the same key for the same record every time it is called. Keys are
// strings, numbers, bools, or structs and arrays of them.
func KeyBy[K comparable, T any](s Stream[T], key func(T) K) KeyedStream[K, T] {
	if err := keygroup.CheckKeyType[K](); err != nil {
		panic(fmt.Sprintf("weir: KeyBy: %v", err))
	}
	s.part = runtime.Hash
	s.route = newKeyRoute(key)
	return KeyedStream[K, T]{s: s, key: key}
}

// Stream returns the keyed stream's records as a plain stream (without the
// key partitioning).
func (k KeyedStream[K, T]) Stream() Stream[T] { return k.s.Forward() }

// ByKey returns the keyed stream's records as a plain stream that is
// still partitioned by key into the next operator: every record of a key
// goes to the same subtask, in order. It feeds an operator that is not
// keyed itself but should see each key in one place, such as OrderedWait
// or UnorderedWait after KeyBy (Flink's AsyncDataStream on a KeyedStream);
// that operator's output is not keyed.
func (k KeyedStream[K, T]) ByKey() Stream[T] { return k.s }

// KeySelector returns the key function.
func (k KeyedStream[K, T]) KeySelector() func(T) K { return k.key }

// keyed holds the state and key context of a keyed operator instance.
type keyed[K comparable] struct {
	kc      *statebackend.KeyContext[K]
	backend statebackend.Backend[K]
	store   *state.Store[K]
}

// newKeyed creates the keyed state of an operator instance on the job's
// state backend, primed with the state to restore (applied by AfterOpen,
// once the operator registered its states).
func newKeyed[K comparable](ctx *runtime.OperatorContext) (keyed[K], error) {
	kc := statebackend.NewKeyContext(keygroup.Hasher[K](), ctx.MaxParallelism, ctx.KeyGroups)
	b, err := openBackend(ctx, kc)
	if err != nil {
		return keyed[K]{}, opError(ctx, err)
	}
	return keyed[K]{kc: kc, backend: b, store: state.NewStore(b)}, nil
}

// openBackend creates the backend the job chose and hands it the state to
// restore: canonical key groups, and native snapshots (opened by Pebble,
// converted to canonical form for the heap).
func openBackend[K comparable](ctx *runtime.OperatorContext, kc *statebackend.KeyContext[K]) (statebackend.Backend[K], error) {
	var rs *runtime.RestoreState = ctx.Restore
	switch ctx.StateBackend {
	case "", StateHeap:
		b := heap.New(kc, ctx.Time.Now)
		if ctx.Checkpointing {
			// Fail at start, not at the first checkpoint, on state the
			// codecs cannot encode (Pebble encodes always and checks in
			// Seal too).
			b.RequireCodecs()
		}
		if rs == nil {
			return b, nil
		}
		groups := rs.Keyed
		if len(rs.Native) > 0 {
			groups = make(map[int][]byte, len(rs.Keyed))
			for kg, data := range rs.Keyed {
				groups[kg] = data[:len(data):len(data)] // appends copy
			}
			tmp := ctx.StateDir
			if tmp == "" {
				tmp = os.TempDir()
			}
			if err := os.MkdirAll(tmp, 0o755); err != nil {
				return nil, fmt.Errorf("weir: state directory: %w", err)
			}
			if ctx.StateEngine == nil {
				return nil, errNoPebble("restoring the native state of a Pebble checkpoint into the heap backend")
			}
			err := pebble.ReadNative(context.Background(), ctx.StateEngine, rs.Native, kc.Range.Start, kc.Range.End, tmp, func(kg int, sec []byte) {
				groups[kg] = append(groups[kg], sec...)
			})
			if err != nil {
				return nil, err
			}
		}
		if err := b.SetRestore(groups); err != nil {
			return nil, err
		}
		return b, nil
	case StatePebble:
		if ctx.StateDir == "" {
			return nil, errors.New("weir: the pebble state backend needs a local state directory")
		}
		if ctx.StateEngine == nil {
			return nil, errNoPebble("the pebble state backend")
		}
		b, err := pebble.New(kc, ctx.Time.Now, pebble.Options{Dir: ctx.StateDir, Logger: ctx.Logger, Engine: ctx.StateEngine})
		if err != nil {
			return nil, err
		}
		if rs == nil {
			return b, nil
		}
		if err := b.SetNative(context.Background(), rs.Native); err != nil {
			_ = b.Close()
			return nil, err
		}
		if err := b.SetRestore(rs.Keyed); err != nil {
			_ = b.Close()
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("weir: unknown state backend %q (want %q or %q)", ctx.StateBackend, StateHeap, StatePebble)
}

// KeyedRuntimeContext is given to the Open of keyed functions: it hands out
// keyed state.
type KeyedRuntimeContext[K comparable] struct {
	RuntimeContext
	store *state.Store[K]
}

// State returns the store of the operator's keyed state, for the getters of
// package state (state.GetValue and others).
func (r *KeyedRuntimeContext[K]) State() *state.Store[K] { return r.store }

// KeyedOpener is implemented by keyed functions that register state or
// prepare before the first record.
type KeyedOpener[K comparable] interface {
	Open(ctx *KeyedRuntimeContext[K]) error
}

// TimeDomain tells whether a timer is in event or processing time.
type TimeDomain uint8

// Time domains.
const (
	EventTime TimeDomain = iota
	ProcessingTime
)

// KeyedContext is given to a keyed process function for each record and
// timer: the current key, timestamp, timers and outputs.
type KeyedContext[K comparable, O any] struct {
	kc     *statebackend.KeyContext[K]
	ts     int64
	out    *outputs[O]
	err    error
	timers *runtime.TimerService[K, struct{}]
	pts    runtime.ProcessingTimeService
	domain TimeDomain
	// noTimers, when set, is the error a timer registration fails with:
	// the function has no OnTimer to receive it.
	noTimers error
	// schedule is ScheduleProcessingTimeCallback.
	schedule func(at int64, fn func(ctx *KeyedContext[K, O], now int64) error)
}

// Key returns the current key.
func (c *KeyedContext[K, O]) Key() K { return c.kc.Key }

// Timestamp returns the current record's timestamp, or the firing timer's
// time (NoTimestamp for processing-time timers).
func (c *KeyedContext[K, O]) Timestamp() int64 { return c.ts }

// TimeDomain tells, in OnTimer, which kind of timer fired.
func (c *KeyedContext[K, O]) TimeDomain() TimeDomain { return c.domain }

// CurrentWatermark returns the operator's current event time.
func (c *KeyedContext[K, O]) CurrentWatermark() int64 { return c.timers.CurrentWatermark() }

// CurrentProcessingTime returns processing time in milliseconds.
func (c *KeyedContext[K, O]) CurrentProcessingTime() int64 { return c.pts.Now() }

// RegisterEventTimeTimer asks for OnTimer once the watermark reaches ts.
// One timer per key and time: registering it again does nothing.
func (c *KeyedContext[K, O]) RegisterEventTimeTimer(ts int64) {
	if c.noTimers != nil {
		c.fail(c.noTimers)
		return
	}
	c.timers.RegisterEventTime(runtime.Timer[K, struct{}]{TS: ts, Key: c.kc.Key, KeyGroup: c.kc.KeyGroup})
}

// DeleteEventTimeTimer removes the current key's event-time timer at ts.
func (c *KeyedContext[K, O]) DeleteEventTimeTimer(ts int64) {
	c.timers.DeleteEventTime(runtime.Timer[K, struct{}]{TS: ts, Key: c.kc.Key})
}

// RegisterProcessingTimeTimer asks for OnTimer at processing time ts.
func (c *KeyedContext[K, O]) RegisterProcessingTimeTimer(ts int64) {
	if c.noTimers != nil {
		c.fail(c.noTimers)
		return
	}
	c.timers.RegisterProcessingTime(runtime.Timer[K, struct{}]{TS: ts, Key: c.kc.Key, KeyGroup: c.kc.KeyGroup})
}

// DeleteProcessingTimeTimer removes the current key's processing-time timer.
func (c *KeyedContext[K, O]) DeleteProcessingTimeTimer(ts int64) {
	c.timers.DeleteProcessingTime(runtime.Timer[K, struct{}]{TS: ts, Key: c.kc.Key})
}

// Collect emits a record with the current timestamp.
func (c *KeyedContext[K, O]) Collect(v O) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, c.ts)
	}
}

// CollectWithTimestamp emits a record with timestamp ts.
func (c *KeyedContext[K, O]) CollectWithTimestamp(v O, ts int64) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, ts)
	}
}

func (c *KeyedContext[K, O]) sideOutput(id string) (any, int64) { return c.out.sideOutput(id), c.ts }
func (c *KeyedContext[K, O]) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// KeyedProcessFunction handles each record of a keyed stream with access to
// the key's state and timers. Implement KeyedOpener to register state,
// TimerHandler to receive timers, Closer to clean up.
type KeyedProcessFunction[K comparable, I, O any] interface {
	ProcessElement(ctx *KeyedContext[K, O], in I) error
}

// TimerHandler is implemented by keyed process functions that use timers.
// A function without it that registers a timer fails the job at that
// registration, naming the operator.
type TimerHandler[K comparable, O any] interface {
	OnTimer(ctx *KeyedContext[K, O], ts int64) error
}

// KeyedProcessFunc adapts a function to KeyedProcessFunction.
type KeyedProcessFunc[K comparable, I, O any] func(ctx *KeyedContext[K, O], in I) error

// ProcessElement calls f.
func (f KeyedProcessFunc[K, I, O]) ProcessElement(ctx *KeyedContext[K, O], in I) error {
	return f(ctx, in)
}

var errNoOnTimer = errors.New("a timer fired but the function does not implement OnTimer")

// errTimerWithoutOnTimer fails the first timer registration of a function
// without OnTimer: whether a function registers timers is known only when
// it does, and this is the earliest point, long before the timer would fire
// (hours later, or at the end of the input) and fail with errNoOnTimer.
var errTimerWithoutOnTimer = errors.New("the function registers a timer but does not implement OnTimer, so the timer could never be handled")

type keyedProcessOp[K comparable, I, O any] struct {
	forwardOp[O]
	keyed[K]
	key    func(I) K
	route  *keyRoute[I] // the keyed exchange feeding the operator
	fn     KeyedProcessFunction[K, I, O]
	onTime TimerHandler[K, O]
	bundle BundleFlusher[K, O] // nil if the function holds no records
	hold   wmHold              // watermarks held back for a WatermarkHolder
	kctx   KeyedContext[K, O]
	timers *runtime.TimerService[K, struct{}]
}

func (p *keyedProcessOp[K, I, O]) Open(ctx *runtime.OperatorContext) error {
	p.ctx = ctx
	p.fn = perSubtask(p.fn)
	var err error
	if p.keyed, err = newKeyed[K](ctx); err != nil {
		return err
	}
	p.onTime, _ = p.fn.(TimerHandler[K, O])
	p.timers = keyedTimers[K, struct{}](&p.keyed, ctx, "user",
		func(t runtime.Timer[K, struct{}]) error { return p.fire(t, EventTime, t.TS) },
		func(t runtime.Timer[K, struct{}]) error { return p.fire(t, ProcessingTime, runtime.NoTimestamp) })
	p.bundle, _ = p.fn.(BundleFlusher[K, O])
	if p.bundle != nil {
		p.hold.h, _ = p.fn.(WatermarkHolder)
	}
	p.kctx = KeyedContext[K, O]{kc: p.kc, out: p.out, timers: p.timers, pts: ctx.Time, schedule: p.scheduleCallback}
	if p.onTime == nil {
		p.kctx.noTimers = opError(ctx, errTimerWithoutOnTimer)
	}
	if o, ok := p.fn.(KeyedOpener[K]); ok {
		rc := &KeyedRuntimeContext[K]{RuntimeContext: RuntimeContext{op: ctx}, store: p.store}
		if err := o.Open(rc); err != nil {
			return opError(ctx, err)
		}
	}
	if err := p.store.Err(); err != nil {
		return opError(ctx, err)
	}
	return nil
}

func (p *keyedProcessOp[K, I, O]) Close() error {
	if c, ok := p.fn.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *keyedProcessOp[K, I, O]) ProcessElement(v I, ts int64) error {
	if err := p.kc.Set(p.key(v)); err != nil {
		return opError(p.ctx, err)
	}
	return p.process(v, ts)
}

func (p *keyedProcessOp[K, I, O]) hashedBy() *keyRoute[I] { return p.route }

// ProcessHashedBatch is ProcessElement of each record with the key hash
// the keyed exchange computed.
func (p *keyedProcessOp[K, I, O]) ProcessHashedBatch(recs []runtime.Rec[I], hashes []uint64) (int, error) {
	hashes = hashes[:len(recs)]
	for i := range recs {
		if err := p.kc.SetRouted(p.key(recs[i].V), hashes[i]); err != nil {
			return i + 1, opError(p.ctx, err)
		}
		if err := p.process(recs[i].V, recs[i].TS); err != nil {
			return i + 1, err
		}
	}
	return len(recs), nil
}

// process calls the function for v, whose key is the current key.
func (p *keyedProcessOp[K, I, O]) process(v I, ts int64) error {
	c := &p.kctx
	c.ts, c.err, c.domain = ts, nil, EventTime
	if err := p.fn.ProcessElement(c, v); err != nil {
		return opError(p.ctx, err)
	}
	if c.err != nil || !p.hold.held {
		return c.err
	}
	return p.releaseWatermark()
}

func (p *keyedProcessOp[K, I, O]) fire(t runtime.Timer[K, struct{}], d TimeDomain, ts int64) error {
	if p.onTime == nil {
		return opError(p.ctx, errNoOnTimer)
	}
	p.kc.SetKnown(t.Key, t.KeyGroup)
	c := &p.kctx
	c.ts, c.err, c.domain = ts, nil, d
	if err := p.onTime.OnTimer(c, t.TS); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

func (p *keyedProcessOp[K, I, O]) ProcessWatermark(wm int64) error {
	// The function is asked about the final watermark too (so it can
	// tell it from a barrier), though the bundle is flushed whatever it
	// answers.
	if p.flushesOn(wm) || wm == runtime.MaxWatermark {
		p.hold.held = false
		if err := p.flushBundle(); err != nil {
			return err
		}
	} else if p.hold.hold(wm) {
		return nil
	}
	return p.advance(wm)
}

// advance fires the event-time timers up to wm and forwards wm.
func (p *keyedProcessOp[K, I, O]) advance(wm int64) error {
	p.ctx.Metrics.CurrentWatermark = wm
	if err := p.timers.AdvanceWatermark(wm); err != nil {
		return err
	}
	return p.out.ProcessWatermark(wm)
}

// ProcessKeyed applies a keyed process function.
func ProcessKeyed[K comparable, I, O any](ks KeyedStream[K, I], fn KeyedProcessFunction[K, I, O]) Stream[O] {
	return oneInput(ks.s, "KeyedProcess", func(out *outputs[O]) runtime.OneInput[I] {
		return &keyedProcessOp[K, I, O]{forwardOp: forwardOp[O]{out: out}, key: ks.key, route: ks.s.route, fn: fn}
	})
}

type reduceFn[K comparable, T any] struct {
	reduce func(a, b T) (T, error)
	acc    state.Value[T]
}

func (r *reduceFn[K, T]) Open(ctx *KeyedRuntimeContext[K]) error {
	r.acc = state.GetValue[K, T](ctx.State(), state.Descriptor{Name: "reduce"})
	return nil
}

func (r *reduceFn[K, T]) ProcessElement(ctx *KeyedContext[K, T], in T) error {
	if cur, ok := r.acc.Value(); ok {
		var err error
		if in, err = r.reduce(cur, in); err != nil {
			return err
		}
	}
	r.acc.Update(in)
	ctx.Collect(in)
	return nil
}

// Reduce folds each key's records with reduce and emits the running result
// after every record (Flink's rolling KeyedStream.reduce).
func Reduce[K comparable, T any](ks KeyedStream[K, T], reduce func(a, b T) (T, error)) Stream[T] {
	return ProcessKeyed[K, T, T](ks, &reduceFn[K, T]{reduce: reduce}).DefaultName("Reduce")
}

type aggregateFn[K comparable, IN, ACC, OUT any] struct {
	agg state.AggregateFunction[IN, ACC, OUT]
	acc state.Value[ACC]
}

func (a *aggregateFn[K, IN, ACC, OUT]) Open(ctx *KeyedRuntimeContext[K]) error {
	a.acc = state.GetValue[K, ACC](ctx.State(), state.Descriptor{Name: "aggregate"})
	return nil
}

func (a *aggregateFn[K, IN, ACC, OUT]) ProcessElement(ctx *KeyedContext[K, OUT], in IN) error {
	acc, ok := a.acc.Value()
	if !ok {
		acc = a.agg.CreateAccumulator()
	}
	acc, err := a.agg.Add(acc, in)
	if err != nil {
		return err
	}
	a.acc.Update(acc)
	out, err := a.agg.Result(acc)
	if err != nil {
		return err
	}
	ctx.Collect(out)
	return nil
}

// Aggregate folds each key's records into an accumulator and emits the
// current result after every record.
func Aggregate[K comparable, IN, ACC, OUT any](ks KeyedStream[K, IN], agg state.AggregateFunction[IN, ACC, OUT]) Stream[OUT] {
	return ProcessKeyed[K, IN, OUT](ks, &aggregateFn[K, IN, ACC, OUT]{agg: agg}).DefaultName("Aggregate")
}

// SnapshotState captures the operator's keyed state and timers; they are
// written after the barrier went on, off the task's goroutine (the maps the
// capture sees are copied on write meanwhile).
func (k *keyed[K]) SnapshotState(_ int64, w *runtime.StateWriter) error {
	snap, err := k.backend.Snapshot()
	if err != nil {
		return err
	}
	if snap.Native != nil {
		w.SetNative(snap.Native)
	}
	w.Defer(func(w *runtime.StateWriter) error {
		return snap.Write(func(kg int, sec []byte) { w.AppendKeyed(kg, sec) })
	})
	return nil
}

// CloseState releases the backend (a Pebble database) after the operator
// closed.
func (k *keyed[K]) CloseState() error {
	if k.backend == nil {
		return nil
	}
	return k.backend.Close()
}

// AfterOpen restores the keyed state registered during Open from the
// checkpoint the job started from. Every operator embedding keyed gets it;
// the task calls it once every operator of the chain opened.
func (k *keyed[K]) AfterOpen() error { return k.backend.Seal() }

// keyedTimers creates a timer service whose timers are part of the
// operator's snapshots under name.
func keyedTimers[K, N comparable](k *keyed[K], ctx *runtime.OperatorContext, name string, onEvent, onProc func(runtime.Timer[K, N]) error) *runtime.TimerService[K, N] {
	ts := runtime.NewTimerService[K, N](ctx.Time, onEvent, onProc)
	k.backend.Register(&timerState[K, N]{name: name, k: k, ts: ts})
	return ts
}

// timerState stores a timer service's timers: per timer a domain byte, the
// time, the namespace and the key.
type timerState[K, N comparable] struct {
	name string
	k    *keyed[K]
	ts   *runtime.TimerService[K, N]
	kc   codec.Codec[K]
	nc   codec.Codec[N]
	err  error
}

func (t *timerState[K, N]) codecs() error {
	if t.kc == nil && t.err == nil {
		if t.kc, t.err = codec.For[K](); t.err != nil {
			t.err = fmt.Errorf("timers: key type: %w", t.err)
			return t.err
		}
		if t.nc, t.err = codec.For[N](); t.err != nil {
			t.err = fmt.Errorf("timers: namespace type: %w", t.err)
		}
	}
	return t.err
}

func (t *timerState[K, N]) StateName() string { return "timers:" + t.name }

func (t *timerState[K, N]) StateKind() byte { return heap.KindTimers }

func (t *timerState[K, N]) StateSchema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]()
}

// Freeze encodes every timer at once, grouped by key group (timers are
// few next to state, and the service changes as soon as the task goes on).
func (t *timerState[K, N]) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	if err := t.codecs(); err != nil {
		return nil, err
	}
	groups := map[int][]byte{}
	start := t.k.kc.Range.Start
	t.ts.ForEachRegisteredTimer(func(processing bool, ts int64, key K, ns N) {
		i := t.k.kc.GroupOf(key) - start
		groups[i] = t.append(groups[i], processing, ts, key, ns)
	})
	// Implicit timers (an operator's own index, as many as its state) are
	// captured copy-on-write with the state and encoded with it, off the
	// task's goroutine.
	var implicit func(idx int, fn func(runtime.Timer[K, N]))
	if it := t.ts.Implicit(); it != nil {
		implicit = it.Freeze()
	}
	return func(dst []byte, idx int) ([]byte, error) {
		dst = append(dst, groups[idx]...)
		if implicit != nil {
			implicit(idx, func(tm runtime.Timer[K, N]) { dst = t.append(dst, false, tm.TS, tm.Key, tm.NS) })
		}
		return dst, nil
	}, nil
}

// append encodes a timer: domain byte, time, namespace, key.
func (t *timerState[K, N]) append(b []byte, processing bool, ts int64, key K, ns N) []byte {
	if processing {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, ts)
	b = t.nc.Append(b, ns)
	return t.kc.Append(b, key)
}

func (t *timerState[K, N]) RestoreGroup(idx int, src []byte) error {
	if err := t.codecs(); err != nil {
		return err
	}
	kg := t.k.kc.Range.Start + idx
	for len(src) > 0 {
		if src[0] > 1 {
			return fmt.Errorf("%w: timer domain %d", codec.ErrCorrupt, src[0])
		}
		processing := src[0] == 1
		ts, n := binary.Varint(src[1:])
		if n <= 0 {
			return fmt.Errorf("%w: timer time", codec.ErrCorrupt)
		}
		src = src[1+n:]
		ns, n, err := t.nc.Decode(src)
		if err != nil {
			return err
		}
		src = src[n:]
		key, n, err := t.kc.Decode(src)
		if err != nil {
			return err
		}
		src = src[n:]
		// Freeze files a timer under its key's group: one stored under
		// another would move, or leave the subtask's range and be lost.
		if g := t.k.kc.GroupOf(key); g != kg {
			return fmt.Errorf("%w: a timer of key group %d in key group %d", codec.ErrCorrupt, g, kg)
		}
		tm := runtime.Timer[K, N]{TS: ts, Key: key, NS: ns, KeyGroup: kg}
		if processing {
			t.ts.RegisterProcessingTime(tm)
		} else {
			t.ts.RegisterEventTime(tm)
		}
	}
	return nil
}
