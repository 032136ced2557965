package weir

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/internal/cacheline"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/states"
	"github.com/weirstream/weir/state"
	"github.com/weirstream/weir/window"
)

// WindowedStream is a keyed stream cut into windows by an assigner, with an
// optional trigger, evictor, allowed lateness and late-data side output. It
// becomes a stream again through one of the window functions: WindowReduce,
// WindowAggregate, WindowProcess, WindowReduceProcess or
// WindowAggregateProcess. Semantics follow Flink's WindowOperator.
type WindowedStream[K comparable, T any, W window.Window] struct {
	ks       KeyedStream[K, T]
	assigner window.Assigner[T, W]
	trigger  window.Trigger[T, W]
	evictor  window.Evictor[T, W]
	lateness int64
	lateTag  string
	err      error
}

// Window groups the records of each key into windows given by assigner,
// for example window.TumblingEventTime[T](time.Minute).
func Window[K comparable, T any, W window.Window](ks KeyedStream[K, T], assigner window.Assigner[T, W]) WindowedStream[K, T, W] {
	return WindowedStream[K, T, W]{ks: ks, assigner: assigner}
}

// CountWindow groups each key's records into tumbling windows of size
// records: a global window with a purging count trigger, as Flink builds
// it. Results carry the timestamp math.MaxInt64 (the global window's end).
func CountWindow[K comparable, T any](ks KeyedStream[K, T], size int64) WindowedStream[K, T, window.GlobalWindow] {
	return Window(ks, window.Global[T]{}).
		Trigger(window.Purging(window.Trigger[T, window.GlobalWindow](window.Count[T, window.GlobalWindow](size))))
}

// SlidingCountWindow emits, every slide records of a key, a window of that
// key's last size records: a global window with a count trigger and a count
// evictor, as Flink builds it.
func SlidingCountWindow[K comparable, T any](ks KeyedStream[K, T], size, slide int64) WindowedStream[K, T, window.GlobalWindow] {
	return Window(ks, window.Global[T]{}).
		Evictor(window.CountEvict[T, window.GlobalWindow](size)).
		Trigger(window.Count[T, window.GlobalWindow](slide))
}

// Trigger replaces the assigner's default trigger.
func (ws WindowedStream[K, T, W]) Trigger(t window.Trigger[T, W]) WindowedStream[K, T, W] {
	ws.trigger = t
	return ws
}

// Evictor sets an evictor. With an evictor every element of a window is
// kept until the window is purged, even for reduce and aggregate.
func (ws WindowedStream[K, T, W]) Evictor(e window.Evictor[T, W]) WindowedStream[K, T, W] {
	ws.evictor = e
	return ws
}

// AllowedLateness keeps event-time windows for d after their end: records
// that arrive within it are added and, with the default trigger, make the
// window fire again with the updated result. The window's state is dropped
// when the watermark reaches end-1+d. Negative values are an error.
func (ws WindowedStream[K, T, W]) AllowedLateness(d time.Duration) WindowedStream[K, T, W] {
	if d < 0 {
		ws.err = fmt.Errorf("weir: allowed lateness must not be negative, got %v", d)
	}
	ws.lateness = d.Milliseconds()
	return ws
}

// SideOutputLateData sends records that arrive after their windows were
// dropped (beyond the allowed lateness) to tag instead of only counting
// them; read them with SideOutput on the window function's stream.
func (ws WindowedStream[K, T, W]) SideOutputLateData(tag OutputTag[T]) WindowedStream[K, T, W] {
	ws.lateTag = tag.id
	return ws
}

// WindowContext is given to a ProcessWindowFunction: the key, the window,
// the clocks, per-window and global keyed state, and the output. Records
// emitted carry the window's MaxTimestamp.
type WindowContext[K comparable, O any, W window.Window] struct {
	key    K
	win    W
	out    *outputs[O]
	err    error
	wm     func() int64
	pts    runtime.ProcessingTimeService
	global *state.Store[K]
	ws     *WindowStore[K, W]
}

// Key returns the current key.
func (c *WindowContext[K, O, W]) Key() K { return c.key }

// Window returns the window being evaluated.
func (c *WindowContext[K, O, W]) Window() W { return c.win }

// CurrentWatermark returns the operator's current event time.
func (c *WindowContext[K, O, W]) CurrentWatermark() int64 { return c.wm() }

// CurrentProcessingTime returns processing time in milliseconds.
func (c *WindowContext[K, O, W]) CurrentProcessingTime() int64 { return c.pts.Now() }

// GlobalState returns the key's state shared by all its windows.
func (c *WindowContext[K, O, W]) GlobalState() *state.Store[K] { return c.global }

// WindowState returns the state scoped to the key and the current window;
// get handles with WindowValue and WindowList. It is dropped with the
// window. Merging (session) windows do not support it, as in Flink.
func (c *WindowContext[K, O, W]) WindowState() *WindowStore[K, W] { return c.ws }

// Collect emits v with the window's MaxTimestamp.
func (c *WindowContext[K, O, W]) Collect(v O) {
	if c.err == nil {
		c.err = c.out.main.ProcessElement(v, c.win.MaxTimestamp())
	}
}

func (c *WindowContext[K, O, W]) sideOutput(id string) (any, int64) {
	return c.out.sideOutput(id), c.win.MaxTimestamp()
}

func (c *WindowContext[K, O, W]) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// ProcessWindowFunction evaluates a window: it gets the key, a context and
// the window's elements (for WindowReduceProcess and WindowAggregateProcess,
// the single pre-aggregated result). Implement KeyedOpener to register
// global state, WindowClearer to clean up when a window is dropped, Closer
// to release resources.
type ProcessWindowFunction[K comparable, IN, OUT any, W window.Window] interface {
	Process(ctx *WindowContext[K, OUT, W], key K, elements []IN) error
}

// ProcessWindowFunc adapts a function to ProcessWindowFunction.
type ProcessWindowFunc[K comparable, IN, OUT any, W window.Window] func(ctx *WindowContext[K, OUT, W], key K, elements []IN) error

// Process calls f.
func (f ProcessWindowFunc[K, IN, OUT, W]) Process(ctx *WindowContext[K, OUT, W], key K, elements []IN) error {
	return f(ctx, key, elements)
}

// WindowClearer is implemented by process window functions that keep
// per-window state of their own: Clear is called when a window is dropped
// (after its cleanup time). Per-window state obtained through WindowState
// is cleared by the operator in any case.
type WindowClearer[K comparable, OUT any, W window.Window] interface {
	Clear(ctx *WindowContext[K, OUT, W]) error
}

// WindowStore hands out keyed state scoped to the current window.
//
// It is padded (see package cacheline): a process window function's call
// writes cur and err once per key and window fired, and the stores of the
// operator's other subtasks, allocated next to this one, are written on
// other cores.
type WindowStore[K comparable, W window.Window] struct {
	_        cacheline.Pad
	b        statebackend.Backend[K]
	cur      W
	states   map[string]any
	clearers []func(W)
	err      error
	noMerge  bool
	_        cacheline.Pad
}

var errWindowStateMerging = errors.New("weir: per-window state is not supported with merging (session) windows")

func windowStateLookup[S any, K comparable, W window.Window](s *WindowStore[K, W], name string, make func() (S, func(W))) S {
	if s.noMerge && s.err == nil {
		s.err = errWindowStateMerging
	}
	if name == "" && s.err == nil {
		s.err = errors.New("weir: window state needs a name")
	}
	if st, ok := s.states[name]; ok {
		if typed, ok := st.(S); ok {
			return typed
		}
		if s.err == nil {
			s.err = fmt.Errorf("weir: window state %q was registered as %T, now requested as another type", name, st)
		}
	}
	st, clear := make()
	s.states[name] = st
	s.clearers = append(s.clearers, clear)
	return st
}

// WindowValue returns the value state called name of the current key and
// window.
func WindowValue[V any, K comparable, W window.Window](s *WindowStore[K, W], name string) state.Value[V] {
	return windowStateLookup(s, name, func() (*windowValue[K, W, V], func(W)) {
		v := &windowValue[K, W, V]{v: states.NewValue[K, W, V](s.b, noTTL), s: s}
		return v, func(w W) { v.v.SetNamespace(w); v.v.Clear() }
	})
}

// WindowList returns the list state called name of the current key and
// window.
func WindowList[V any, K comparable, W window.Window](s *WindowStore[K, W], name string) state.List[V] {
	return windowStateLookup(s, name, func() (*windowList[K, W, V], func(W)) {
		l := &windowList[K, W, V]{l: states.NewList[K, W, V](s.b, noTTL), s: s}
		return l, func(w W) { l.l.SetNamespace(w); l.l.Clear() }
	})
}

type windowValue[K comparable, W window.Window, V any] struct {
	v statebackend.Value[W, V]
	s *WindowStore[K, W]
}

func (w *windowValue[K, W, V]) Value() (V, bool) { w.v.SetNamespace(w.s.cur); return w.v.Value() }
func (w *windowValue[K, W, V]) Update(v V)       { w.v.SetNamespace(w.s.cur); w.v.Update(v) }
func (w *windowValue[K, W, V]) Clear()           { w.v.SetNamespace(w.s.cur); w.v.Clear() }

type windowList[K comparable, W window.Window, V any] struct {
	l statebackend.List[W, V]
	s *WindowStore[K, W]
}

func (w *windowList[K, W, V]) Get() []V      { w.l.SetNamespace(w.s.cur); return w.l.Get() }
func (w *windowList[K, W, V]) Add(v V)       { w.l.SetNamespace(w.s.cur); w.l.Add(v) }
func (w *windowList[K, W, V]) AddAll(vs []V) { w.l.SetNamespace(w.s.cur); w.l.AddAll(vs) }
func (w *windowList[K, W, V]) Update(vs []V) { w.l.SetNamespace(w.s.cur); w.l.Update(vs) }
func (w *windowList[K, W, V]) Clear()        { w.l.SetNamespace(w.s.cur); w.l.Clear() }
func (s *WindowStore[K, W]) clearWindow(win W) {
	for _, c := range s.clearers {
		c(win)
	}
}
func (s *WindowStore[K, W]) setWindow(win W)    { s.cur = win }
func (s *WindowStore[K, W]) takeErr() (e error) { e, s.err = s.err, nil; return e }

// WindowReduce folds each window's records with reduce, incrementally: the
// window state is one value per key and window. The result carries the
// window's MaxTimestamp.
func WindowReduce[K comparable, T any, W window.Window](ws WindowedStream[K, T, W], reduce func(a, b T) (T, error)) Stream[T] {
	return windowStream(ws, "WindowReduce", func(op *windowOp[K, T, W, T]) (windowContents[T, W], error) {
		emit := func(w W, v T) error { return op.out.main.ProcessElement(v, w.MaxTimestamp()) }
		return reduceContents(op, reduce, emit), nil
	})
}

// WindowAggregate aggregates each window's records incrementally with agg:
// one accumulator per key and window; session windows merge accumulators
// with agg.Merge.
func WindowAggregate[K comparable, T any, W window.Window, ACC, O any](ws WindowedStream[K, T, W], agg state.AggregateFunction[T, ACC, O]) Stream[O] {
	return windowStream(ws, "WindowAggregate", func(op *windowOp[K, T, W, O]) (windowContents[T, W], error) {
		emit := func(w W, v O) error { return op.out.main.ProcessElement(v, w.MaxTimestamp()) }
		return aggregateContents(op, agg, emit), nil
	})
}

// WindowProcess evaluates each window with fn over all its records: the
// window state keeps every record until the window is purged.
func WindowProcess[K comparable, T any, W window.Window, O any](ws WindowedStream[K, T, W], fn ProcessWindowFunction[K, T, O, W]) Stream[O] {
	return windowStream(ws, "WindowProcess", func(op *windowOp[K, T, W, O]) (windowContents[T, W], error) {
		call, err := openProcess(op, fn)
		if err != nil {
			return nil, err
		}
		var buf []T
		return op.listContents(func(w W, elems []window.Element[T]) error {
			buf = buf[:0]
			for _, e := range elems {
				buf = append(buf, e.Value)
			}
			err := call(w, buf)
			clear(buf)
			return err
		}), nil
	})
}

// WindowReduceProcess reduces each window incrementally and, when it fires,
// gives the single result to fn with the window's context.
func WindowReduceProcess[K comparable, T any, W window.Window, O any](ws WindowedStream[K, T, W], reduce func(a, b T) (T, error), fn ProcessWindowFunction[K, T, O, W]) Stream[O] {
	return windowStream(ws, "WindowReduceProcess", func(op *windowOp[K, T, W, O]) (windowContents[T, W], error) {
		call, err := openProcess(op, fn)
		if err != nil {
			return nil, err
		}
		one := cacheline.Slice[T](1) // written per key and window fired
		return reduceContents(op, reduce, func(w W, v T) error { one[0] = v; return call(w, one) }), nil
	})
}

// WindowAggregateProcess aggregates each window incrementally with agg and,
// when it fires, gives the single result to fn with the window's context.
func WindowAggregateProcess[K comparable, T any, W window.Window, ACC, A, O any](ws WindowedStream[K, T, W], agg state.AggregateFunction[T, ACC, A], fn ProcessWindowFunction[K, A, O, W]) Stream[O] {
	return windowStream(ws, "WindowAggregateProcess", func(op *windowOp[K, T, W, O]) (windowContents[T, W], error) {
		call, err := openProcess(op, fn)
		if err != nil {
			return nil, err
		}
		one := cacheline.Slice[A](1) // written per key and window fired
		return aggregateContents(op, agg, func(w W, v A) error { one[0] = v; return call(w, one) }), nil
	})
}

// WindowAggregateResult is WindowAggregateProcess for a function of the
// single aggregate: fn gets the window's context, the key and the result
// of agg for the window (Flink's aggregate(aggFunction, windowFunction)).
// Its type parameters are inferred from its arguments:
//
//	weir.WindowAggregateResult(ws, avg{}, func(ctx *weir.WindowContext[string, Alert, window.TimeWindow], sensor string, mean float64) error {
//		ctx.Collect(Alert{Sensor: sensor, Window: ctx.Window(), Mean: mean})
//		return nil
//	})
func WindowAggregateResult[K comparable, T any, W window.Window, ACC, A, O any](ws WindowedStream[K, T, W], agg state.AggregateFunction[T, ACC, A], fn func(ctx *WindowContext[K, O, W], key K, result A) error) Stream[O] {
	return WindowAggregateProcess(ws, agg, ProcessWindowFunc[K, A, O, W](func(ctx *WindowContext[K, O, W], key K, results []A) error {
		return fn(ctx, key, results[0])
	}))
}

// WindowReduceResult is WindowReduceProcess for a function of the single
// reduced value: fn gets the window's context, the key and the window's
// reduced value. Its type parameters are inferred from its arguments.
func WindowReduceResult[K comparable, T any, W window.Window, O any](ws WindowedStream[K, T, W], reduce func(a, b T) (T, error), fn func(ctx *WindowContext[K, O, W], key K, result T) error) Stream[O] {
	return WindowReduceProcess(ws, reduce, ProcessWindowFunc[K, T, O, W](func(ctx *WindowContext[K, O, W], key K, results []T) error {
		return fn(ctx, key, results[0])
	}))
}

// openProcess prepares the subtask's copy of a process window function and
// returns how to call it for a window.
func openProcess[K comparable, T any, W window.Window, IN, O any](op *windowOp[K, T, W, O], fn ProcessWindowFunction[K, IN, O, W]) (func(w W, elems []IN) error, error) {
	if fn == nil {
		return nil, errors.New("weir: nil process window function")
	}
	fn = perSubtask(fn)
	if o, ok := fn.(KeyedOpener[K]); ok {
		rc := &KeyedRuntimeContext[K]{RuntimeContext: RuntimeContext{op: op.ctx}, store: op.store}
		if err := o.Open(rc); err != nil {
			return nil, err
		}
		if err := op.store.Err(); err != nil {
			return nil, err
		}
	}
	if c, ok := fn.(Closer); ok {
		op.closer = c
	}
	c := &op.wctx
	if cl, ok := fn.(WindowClearer[K, O, W]); ok {
		op.clearFn = func(w W) error {
			c.key, c.win, c.err = op.kc.Key, w, nil
			op.winStore.setWindow(w)
			if err := cl.Clear(c); err != nil {
				return err
			}
			if err := op.winStore.takeErr(); err != nil {
				return err
			}
			return c.err
		}
	}
	return func(w W, elems []IN) error {
		c.key, c.win, c.err = op.kc.Key, w, nil
		op.winStore.setWindow(w)
		if err := fn.Process(c, c.key, elems); err != nil {
			return err
		}
		if err := op.winStore.takeErr(); err != nil {
			return err
		}
		return c.err
	}, nil
}

// reduceContents keeps one reduced value per key and window, or every
// element when there is an evictor.
func reduceContents[K comparable, T any, W window.Window, O any](op *windowOp[K, T, W, O], reduce func(a, b T) (T, error), emit func(w W, v T) error) windowContents[T, W] {
	if op.evictor != nil {
		return op.listContents(func(w W, elems []window.Element[T]) error {
			if len(elems) == 0 {
				return nil
			}
			acc := elems[0].Value
			for _, e := range elems[1:] {
				var err error
				if acc, err = reduce(acc, e.Value); err != nil {
					return err
				}
			}
			return emit(w, acc)
		})
	}
	return &incContents[K, T, W, T]{
		v: states.NewValue[K, W, T](op.backend, noTTL),
		addFn: func(acc T, have bool, v T) (T, error) {
			if !have {
				return v, nil
			}
			return reduce(acc, v)
		},
		mergeFn: reduce,
		emitFn:  emit,
	}
}

// aggregateContents keeps one accumulator per key and window, or every
// element when there is an evictor.
func aggregateContents[K comparable, T any, W window.Window, ACC, A, O any](op *windowOp[K, T, W, O], agg state.AggregateFunction[T, ACC, A], emit func(w W, v A) error) windowContents[T, W] {
	result := func(w W, acc ACC) error {
		r, err := agg.Result(acc)
		if err != nil {
			return err
		}
		return emit(w, r)
	}
	if op.evictor != nil {
		return op.listContents(func(w W, elems []window.Element[T]) error {
			acc := agg.CreateAccumulator()
			for _, e := range elems {
				var err error
				if acc, err = agg.Add(acc, e.Value); err != nil {
					return err
				}
			}
			return result(w, acc)
		})
	}
	return &incContents[K, T, W, ACC]{
		v: states.NewValue[K, W, ACC](op.backend, noTTL),
		addFn: func(acc ACC, have bool, v T) (ACC, error) {
			if !have {
				acc = agg.CreateAccumulator()
			}
			return agg.Add(acc, v)
		},
		mergeFn: agg.Merge,
		emitFn:  result,
	}
}

// windowContents is the state of windows' contents, for the key and
// namespace (state window) last selected.
type windowContents[T any, W window.Window] interface {
	setNamespace(w W)
	// add adds v; fresh tells whether the window had no contents before.
	add(v T, ts int64) (fresh bool, err error)
	// fire evaluates the function over the contents (if any) for window w.
	fire(w W) error
	clear()
	// merge moves the contents of sources into target.
	merge(target W, sources []W) error
	// incremental tells whether add reports fresh windows.
	incremental() bool
}

type incContents[K comparable, T any, W window.Window, ACC any] struct {
	v       statebackend.Value[W, ACC]
	addFn   func(acc ACC, have bool, v T) (ACC, error)
	mergeFn func(a, b ACC) (ACC, error)
	emitFn  func(w W, acc ACC) error
}

func (c *incContents[K, T, W, ACC]) setNamespace(w W) { c.v.SetNamespace(w) }

// windowSpaces returns the contents' namespaces and keys, when the backend
// lists them cheaply (the heap).
func (c *incContents[K, T, W, ACC]) windowSpaces() (windowSpaces[K, W], bool) {
	ws, ok := c.v.(windowSpaces[K, W])
	return ws, ok
}

// keyLister lists the (key, window) pairs with contents.
func (c *incContents[K, T, W, ACC]) keyLister() (statebackend.KeyLister[K, W], bool) {
	kl, ok := c.v.(statebackend.KeyLister[K, W])
	return kl, ok
}

func (c *incContents[K, T, W, ACC]) add(v T, _ int64) (bool, error) {
	acc, ok := c.v.Value()
	acc, err := c.addFn(acc, ok, v)
	if err != nil {
		return false, err
	}
	c.v.Update(acc)
	return !ok, nil
}

func (c *incContents[K, T, W, ACC]) fire(w W) error {
	acc, ok := c.v.Value()
	if !ok {
		return nil
	}
	return c.emitFn(w, acc)
}

func (c *incContents[K, T, W, ACC]) clear() { c.v.Clear() }

// has tells whether the selected window has contents.
func (c *incContents[K, T, W, ACC]) has() bool {
	_, ok := c.v.Value()
	return ok
}

func (c *incContents[K, T, W, ACC]) incremental() bool { return true }

func (c *incContents[K, T, W, ACC]) merge(target W, sources []W) error {
	var acc ACC
	have := false
	for _, s := range sources {
		c.v.SetNamespace(s)
		a, ok := c.v.Value()
		if !ok {
			continue
		}
		c.v.Clear()
		if !have {
			acc, have = a, true
			continue
		}
		var err error
		if acc, err = c.mergeFn(acc, a); err != nil {
			return err
		}
	}
	c.v.SetNamespace(target)
	if cur, ok := c.v.Value(); ok {
		if !have {
			return nil
		}
		var err error
		if acc, err = c.mergeFn(cur, acc); err != nil {
			return err
		}
	}
	if have {
		c.v.Update(acc)
	}
	return nil
}

type listContents[K comparable, T any, W window.Window] struct {
	l       statebackend.List[W, window.Element[T]]
	evictor window.Evictor[T, W]
	ectx    window.EvictorContext
	emit    func(w W, elems []window.Element[T]) error
}

func (op *windowOp[K, T, W, O]) listContents(emit func(w W, elems []window.Element[T]) error) windowContents[T, W] {
	return &listContents[K, T, W]{
		l:       states.NewList[K, W, window.Element[T]](op.backend, noTTL),
		evictor: op.evictor,
		ectx:    op,
		emit:    emit,
	}
}

func (c *listContents[K, T, W]) setNamespace(w W) { c.l.SetNamespace(w) }

func (c *listContents[K, T, W]) add(v T, ts int64) (bool, error) {
	c.l.Add(window.Element[T]{Value: v, TS: ts})
	return false, nil // not tracked: the operator takes the trigger's path
}

func (c *listContents[K, T, W]) fire(w W) error {
	elems := c.l.Get()
	if len(elems) == 0 {
		return nil
	}
	if c.evictor == nil {
		return c.emit(w, elems)
	}
	n := len(elems)
	elems = c.evictor.EvictBefore(elems, w, c.ectx)
	if err := c.emit(w, elems); err != nil {
		return err
	}
	elems = c.evictor.EvictAfter(elems, w, c.ectx)
	if len(elems) != n {
		c.l.Update(elems)
	}
	return nil
}

func (c *listContents[K, T, W]) clear() { c.l.Clear() }

func (c *listContents[K, T, W]) incremental() bool { return false }

func (c *listContents[K, T, W]) merge(target W, sources []W) error {
	c.l.SetNamespace(target)
	all := c.l.Get()
	for _, s := range sources {
		c.l.SetNamespace(s)
		all = append(all, c.l.Get()...)
		c.l.Clear()
	}
	c.l.SetNamespace(target)
	c.l.Update(all)
	return nil
}

var noTTL = statebackend.TTL{}

// mergePair maps a (merged) window to the window that names its state.
type mergePair[W window.Window] struct {
	// Win is the window as the trigger and the output see it, State the
	// window whose namespace holds its contents (fields exported: this is
	// checkpointed keyed state).
	Win, State W
}

// windowOp is Flink's WindowOperator (and EvictingWindowOperator): it
// assigns records to windows, keeps their contents in namespaced keyed
// state, asks the trigger when to fire and purge, and drops windows at
// their cleanup time (end-1 + allowed lateness).
type windowOp[K comparable, T any, W window.Window, O any] struct {
	forwardOp[O]
	keyed[K]
	cfg       WindowedStream[K, T, W]
	key       func(T) K
	route     *keyRoute[T] // the keyed exchange feeding the operator
	assigner  window.Assigner[T, W]
	merging   window.MergingAssigner[T, W]
	trigger   window.Trigger[T, W]
	evictor   window.Evictor[T, W]
	eventTime bool
	lateness  int64
	// fastEvent: the trigger is the default EventTimeTrigger and windows do
	// not merge, so the operator applies the trigger inline and registers
	// a window's timers only when its contents are created.
	fastEvent bool
	// implicit is the heap fast path of one timer model. With the inline
	// event-time trigger, event time, no allowed lateness and incremental
	// contents, a (key, window) has exactly one timer, at the window's
	// end, from its first record until it fires, and it has contents for
	// exactly that time. On the heap the contents' namespaces are then an
	// index of those timers by window: the operator registers none, fires
	// the windows whose end the watermark passed straight from the index
	// (in the order of their end, as the timer service would), and lists
	// them to the timer service as implicit timers, so snapshots hold the
	// same timers as on any other backend (and restore into registered
	// timers there, or back into the index here).
	implicit bool
	// table is the implicit model's contents kept in a window table (see
	// window_table.go); nil on the general path. It is contents as well.
	table    windowTable[K, T, W]
	spaces   windowSpaces[K, W]
	spaceBuf []W
	keyBuf   []K
	late     runtime.Output[T]
	timers   *runtime.TimerService[K, W]
	contents windowContents[T, W]
	make     func(op *windowOp[K, T, W, O]) (windowContents[T, W], error)
	// buf receives each record's windows: padded (see package cacheline),
	// as the assigner writes it per record and the buffers of the
	// operator's other subtasks, allocated next to it, are written on
	// other cores.
	buf       []W
	tctx      triggerCtx[K, T, W, O]
	mergeSets statebackend.Value[struct{}, []mergePair[W]]
	pairs     []mergePair[W] // the current key's merging window set
	mergeBuf  []W
	results   []mergeResult[W]
	// mergedFlat holds the windows of every merge group of one addWindow.
	mergedFlat   []W
	stateBuf     []W
	collectMerge func(result W, merged []W)
	wctx         WindowContext[K, O, W]
	winStore     *WindowStore[K, W]
	clearFn      func(w W) error
	closer       Closer
}

// assignedWindows is the capacity of the operator's padded window buffer:
// a tumbling window, or up to this many sliding windows, per record (more
// move the buffer to an unpadded array).
const assignedWindows = 8

// mergeResult is one group of windows that merge into result; the group
// is mergedFlat[from:to].
type mergeResult[W window.Window] struct {
	result   W
	from, to int
}

// collectMerge is the callback of MergingAssigner.MergeWindows.
func (op *windowOp[K, T, W, O]) collectMergeFn(result W, merged []W) {
	from := len(op.mergedFlat)
	op.mergedFlat = append(op.mergedFlat, merged...)
	op.results = append(op.results, mergeResult[W]{result: result, from: from, to: len(op.mergedFlat)})
}

func windowStream[K comparable, T any, W window.Window, O any](ws WindowedStream[K, T, W], name string, make func(op *windowOp[K, T, W, O]) (windowContents[T, W], error)) Stream[O] {
	return oneInput(ws.ks.s, name, func(out *outputs[O]) runtime.OneInput[T] {
		return &windowOp[K, T, W, O]{forwardOp: forwardOp[O]{out: out}, cfg: ws, key: ws.ks.key, route: ws.ks.s.route, make: make}
	})
}

func validate(x any) error {
	if v, ok := x.(window.Validator); ok {
		return v.Validate()
	}
	return nil
}

func (op *windowOp[K, T, W, O]) Open(ctx *runtime.OperatorContext) error {
	op.ctx = ctx
	if err := op.open(); err != nil {
		return opError(ctx, err)
	}
	return nil
}

func (op *windowOp[K, T, W, O]) open() error {
	cfg := op.cfg
	if cfg.err != nil {
		return cfg.err
	}
	if cfg.assigner == nil {
		return errors.New("weir: window without an assigner")
	}
	op.assigner = cfg.assigner
	op.trigger = cfg.trigger
	if op.trigger == nil {
		op.trigger = op.assigner.DefaultTrigger()
	}
	op.evictor = cfg.evictor
	for _, x := range []any{op.assigner, op.trigger, op.evictor} {
		if err := validate(x); err != nil {
			return err
		}
	}
	op.eventTime = op.assigner.IsEventTime()
	if op.eventTime {
		op.lateness = cfg.lateness
	}
	op.merging, _ = op.assigner.(window.MergingAssigner[T, W])
	if op.merging != nil && !op.trigger.CanMerge() {
		return fmt.Errorf("weir: the window assigner merges windows but trigger %T does not support merging", op.trigger)
	}
	_, isET := op.trigger.(window.EventTimeTrigger[T, W])
	op.fastEvent = isET && op.merging == nil && op.evictor == nil
	if cfg.lateTag != "" {
		if o, ok := op.out.sideOutput(cfg.lateTag).(runtime.Output[T]); ok {
			op.late = o
		}
	}
	var kerr error
	if op.keyed, kerr = newKeyed[K](op.ctx); kerr != nil {
		return kerr
	}
	op.timers = keyedTimers[K, W](&op.keyed, op.ctx, "window",
		func(t runtime.Timer[K, W]) error { return op.onTimer(t, true) },
		func(t runtime.Timer[K, W]) error { return op.onTimer(t, false) })
	op.tctx = triggerCtx[K, T, W, O]{op: op}
	op.buf = cacheline.Slice[W](assignedWindows)[:0]
	op.winStore = &WindowStore[K, W]{b: op.backend, states: map[string]any{}, noMerge: op.merging != nil}
	op.wctx = WindowContext[K, O, W]{out: op.out, wm: op.timers.CurrentWatermark, pts: op.ctx.Time, global: op.store, ws: op.winStore}
	if op.merging != nil {
		op.mergeSets = states.NewValue[K, struct{}, []mergePair[W]](op.backend, noTTL)
		op.collectMerge = op.collectMergeFn
	}
	c, err := op.make(op)
	if err != nil {
		return err
	}
	op.contents = c
	op.fastEvent = op.fastEvent && c.incremental()
	if !op.fastEvent {
		// The trigger's state, created here (not on the trigger's first
		// use) so that a restore, which happens once Open returned, finds
		// it registered: one value per key, window and state name.
		op.tctx.vals = states.NewValue[K, triggerNS[W], int64](op.backend, noTTL)
		op.tctx.vals.SetName(triggerStateName)
	}
	if ic, ok := c.(interface {
		windowSpaces() (windowSpaces[K, W], bool)
	}); ok && op.fastEvent && op.eventTime && op.lateness == 0 {
		op.spaces, op.implicit = ic.windowSpaces()
	}
	if tc, ok := c.(interface {
		table(kc *statebackend.KeyContext[K]) windowTable[K, T, W]
	}); ok && op.implicit {
		op.table = tc.table(op.kc)
		op.contents = op.table
		op.timers.SetImplicitEventTimers(tableTimers[K, T, W]{op.table, implicitTimers[K, W]{op.spaces, op.kc}})
	} else if op.implicit {
		op.timers.SetImplicitEventTimers(implicitTimers[K, W]{op.spaces, op.kc})
	}
	return nil
}

// implicitTimers is the implicit index as runtime.ImplicitTimers: one
// end-of-window timer per (key, window) with contents.
type implicitTimers[K comparable, W window.Window] struct {
	spaces windowSpaces[K, W]
	kc     *statebackend.KeyContext[K]
}

func (x implicitTimers[K, W]) Each(fn func(runtime.Timer[K, W])) {
	var keys []K
	for _, w := range x.spaces.Namespaces(nil) {
		keys = x.spaces.KeysIn(w, keys[:0])
		for _, k := range keys {
			fn(runtime.Timer[K, W]{TS: w.MaxTimestamp(), Key: k, NS: w, KeyGroup: x.kc.GroupOf(k)})
		}
	}
}

func (x implicitTimers[K, W]) Freeze() func(idx int, fn func(runtime.Timer[K, W])) {
	keys, start := x.spaces.FreezeKeys(), x.kc.Range.Start
	return func(idx int, fn func(runtime.Timer[K, W])) {
		keys(idx, func(k K, w W) {
			fn(runtime.Timer[K, W]{TS: w.MaxTimestamp(), Key: k, NS: w, KeyGroup: start + idx})
		})
	}
}

// AfterOpen restores the operator's state: contents and timers, in the
// keyed timer service, whatever backend wrote them.
//
// The implicit index (the heap fast path) takes the restored end-of-window
// timers of windows with contents out of the service: the contents stand
// for them. A restored timer without contents stays registered and fires
// as any timer would.
//
// A snapshot written before implicit timers were listed to snapshots (on
// the heap, without allowed lateness) holds no window timers at all: the
// windows with contents then get their end timers back, as the timer
// model says they have one (a (key, window) with contents has a pending
// end timer in that configuration). With allowed lateness a fired window
// keeps its contents but not its end timer, so nothing is re-registered
// there (that produced duplicate firings).
func (op *windowOp[K, T, W, O]) AfterOpen() error {
	if err := op.keyed.AfterOpen(); err != nil {
		return err
	}
	if op.ctx.Restore == nil || !op.fastEvent || !op.eventTime || op.lateness != 0 {
		return nil
	}
	if op.table != nil {
		if err := op.table.absorb(); err != nil {
			return err
		}
	}
	if op.implicit {
		ic, ok := op.contents.(interface{ has() bool })
		if !ok {
			return nil
		}
		op.timers.DeleteEventTimersIf(func(t runtime.Timer[K, W]) bool {
			if t.TS != t.NS.MaxTimestamp() {
				return false
			}
			op.kc.SetKnown(t.Key, t.KeyGroup)
			op.contents.setNamespace(t.NS)
			return ic.has()
		})
		return nil
	}
	if op.timers.NumEventTimers() != 0 {
		return nil
	}
	ic, ok := op.contents.(interface {
		keyLister() (statebackend.KeyLister[K, W], bool)
	})
	if !ok {
		return nil
	}
	kl, ok := ic.keyLister()
	if !ok {
		return nil
	}
	return kl.ForEachKey(func(k K, w W) {
		op.timers.RegisterEventTime(runtime.Timer[K, W]{TS: w.MaxTimestamp(), Key: k, NS: w, KeyGroup: op.kc.GroupOf(k)})
	})
}

func (op *windowOp[K, T, W, O]) Close() error {
	if op.closer != nil {
		return op.closer.Close()
	}
	return nil
}

// CurrentProcessingTime implements window.AssignerContext and
// window.EvictorContext.
func (op *windowOp[K, T, W, O]) CurrentProcessingTime() int64 { return op.ctx.Time.Now() }

// CurrentWatermark implements window.EvictorContext.
func (op *windowOp[K, T, W, O]) CurrentWatermark() int64 { return op.timers.CurrentWatermark() }

func (op *windowOp[K, T, W, O]) cleanupTime(w W) int64 {
	m := w.MaxTimestamp()
	if !op.eventTime {
		return m
	}
	c := m + op.lateness
	if c < m {
		return math.MaxInt64
	}
	return c
}

func (op *windowOp[K, T, W, O]) isWindowLate(w W, wm int64) bool {
	return op.eventTime && op.cleanupTime(w) <= wm
}

func (op *windowOp[K, T, W, O]) timer(ts int64, w W) runtime.Timer[K, W] {
	return runtime.Timer[K, W]{TS: ts, Key: op.kc.Key, NS: w, KeyGroup: op.kc.KeyGroup}
}

func (op *windowOp[K, T, W, O]) registerCleanupTimer(w W) {
	c := op.cleanupTime(w)
	if c == math.MaxInt64 {
		return
	}
	if op.eventTime {
		op.timers.RegisterEventTime(op.timer(c, w))
	} else {
		op.timers.RegisterProcessingTime(op.timer(c, w))
	}
}

func (op *windowOp[K, T, W, O]) deleteCleanupTimer(w W) {
	c := op.cleanupTime(w)
	if c == math.MaxInt64 {
		return
	}
	if op.eventTime {
		op.timers.DeleteEventTime(op.timer(c, w))
	} else {
		op.timers.DeleteProcessingTime(op.timer(c, w))
	}
}

func (op *windowOp[K, T, W, O]) ProcessElement(v T, ts int64) error {
	if err := op.processElement(v, ts); err != nil {
		return opError(op.ctx, err)
	}
	return nil
}

// SnapshotState captures the keyed state and timers. The window table
// writes its contents into the heap state during the capture (see
// tableTimers.Freeze) and drops them from it afterwards (the capture keeps
// them).
func (op *windowOp[K, T, W, O]) SnapshotState(id int64, w *runtime.StateWriter) error {
	if op.table == nil {
		return op.keyed.SnapshotState(id, w)
	}
	err := op.keyed.SnapshotState(id, w)
	op.table.dropState()
	return err
}

func (op *windowOp[K, T, W, O]) hashedBy() *keyRoute[T] { return op.route }

// ProcessHashedBatch is ProcessElement of each record with the key hash
// the keyed exchange computed.
func (op *windowOp[K, T, W, O]) ProcessHashedBatch(recs []runtime.Rec[T], hashes []uint64) (int, error) {
	hashes = hashes[:len(recs)]
	for i := range recs {
		var err error
		if op.table != nil {
			err = op.processTable(recs[i].V, recs[i].TS, hashes[i], true)
		} else {
			err = op.processGeneral(recs[i].V, recs[i].TS, hashes[i], true)
		}
		if err != nil {
			return i + 1, opError(op.ctx, err)
		}
	}
	return len(recs), nil
}

// processTable is processElement on the window table: the key is hashed
// once, for its key group and its slot (by the keyed exchange if routed,
// with h its hash).
func (op *windowOp[K, T, W, O]) processTable(v T, ts int64, h uint64, routed bool) error {
	ws, err := op.assigner.AssignWindows(v, ts, op, op.buf)
	op.buf = ws
	if err != nil {
		return err
	}
	k := op.key(v)
	if routed {
		err = op.kc.SetRouted(k, h)
	} else {
		h = op.kc.Hash(k)
		err = op.kc.SetHashed(k, h)
	}
	if err != nil {
		return err
	}
	wm := op.timers.CurrentWatermark()
	skipped := true
	for _, w := range ws {
		if w.MaxTimestamp() <= wm {
			continue // late: the implicit model has no allowed lateness
		}
		skipped = false
		if err := op.table.addHashed(w, h, v); err != nil {
			return err
		}
	}
	if skipped && ts <= wm {
		if op.late != nil {
			return op.late.ProcessElement(v, ts)
		}
		atomic.AddInt64(&op.ctx.Metrics.LateRecordsDropped, 1)
	}
	return nil
}

// fireTable fires, in order of their end, the windows of the table that
// the watermark passed, for every key with contents in them, and drops
// them.
func (op *windowOp[K, T, W, O]) fireTable(wm int64) error {
	ws := op.table.due(wm, op.spaceBuf[:0])
	op.spaceBuf = ws
	for _, w := range ws {
		var after func(W) error
		if op.clearFn != nil || len(op.winStore.clearers) != 0 {
			after = op.clearWindowState
		}
		if err := op.table.fireAll(w, after); err != nil {
			return err
		}
	}
	return nil
}

// clearWindowState is clearAllState for a window of the table, whose
// contents go with the whole window.
func (op *windowOp[K, T, W, O]) clearWindowState(w W) error {
	if op.clearFn != nil {
		if err := op.clearFn(w); err != nil {
			return err
		}
	}
	op.winStore.clearWindow(w)
	return nil
}

func (op *windowOp[K, T, W, O]) processElement(v T, ts int64) error {
	if op.table != nil {
		return op.processTable(v, ts, 0, false)
	}
	return op.processGeneral(v, ts, 0, false)
}

// processGeneral is processElement off the window table; routed tells
// that h is the key's hash, computed by the keyed exchange.
func (op *windowOp[K, T, W, O]) processGeneral(v T, ts int64, h uint64, routed bool) error {
	ws, err := op.assigner.AssignWindows(v, ts, op, op.buf)
	op.buf = ws
	if err != nil {
		return err
	}
	if routed {
		err = op.kc.SetRouted(op.key(v), h)
	} else {
		err = op.kc.Set(op.key(v))
	}
	if err != nil {
		return err
	}
	wm := op.timers.CurrentWatermark()
	skipped := true
	if op.merging != nil {
		if skipped, err = op.processMerging(v, ts, ws, wm); err != nil {
			return err
		}
	} else {
		for _, w := range ws {
			if op.isWindowLate(w, wm) {
				continue
			}
			skipped = false
			op.contents.setNamespace(w)
			fresh, err := op.contents.add(v, ts)
			if err != nil {
				return err
			}
			if op.fastEvent {
				// EventTimeTrigger.OnElement and registerCleanupTimer, with
				// the timers registered once per window: they live as long
				// as the window's contents.
				m := w.MaxTimestamp()
				if m <= wm {
					if err := op.contents.fire(w); err != nil {
						return err
					}
				} else if fresh && !op.implicit {
					op.timers.RegisterEventTime(op.timer(m, w))
				}
				if fresh && op.lateness != 0 {
					op.registerCleanupTimer(w)
				}
				continue
			}
			op.tctx.w = w
			if err := op.act(op.trigger.OnElement(v, ts, w, &op.tctx), w); err != nil {
				return err
			}
			op.registerCleanupTimer(w)
		}
	}
	if skipped && op.eventTime && ts+op.lateness <= wm {
		if op.late != nil {
			return op.late.ProcessElement(v, ts)
		}
		atomic.AddInt64(&op.ctx.Metrics.LateRecordsDropped, 1)
	}
	return nil
}

// act carries out a trigger result for window w, whose contents are the
// selected namespace.
func (op *windowOp[K, T, W, O]) act(r window.Result, w W) error {
	if r.IsFire() {
		if err := op.contents.fire(w); err != nil {
			return err
		}
	}
	if r.IsPurge() {
		op.contents.clear()
	}
	return nil
}

func (op *windowOp[K, T, W, O]) processMerging(v T, ts int64, ws []W, wm int64) (bool, error) {
	op.loadPairs()
	skipped := true
	for _, w := range ws {
		actual, err := op.addWindow(w, wm)
		if err != nil {
			return false, err
		}
		if op.isWindowLate(actual, wm) {
			op.retireWindow(actual)
			continue
		}
		skipped = false
		stateW, _ := op.stateWindow(actual)
		op.contents.setNamespace(stateW)
		if _, err := op.contents.add(v, ts); err != nil {
			return false, err
		}
		op.tctx.w = actual
		if err := op.act(op.trigger.OnElement(v, ts, actual, &op.tctx), actual); err != nil {
			return false, err
		}
		op.registerCleanupTimer(actual)
	}
	op.persistPairs()
	return skipped, nil
}

// loadPairs makes op.pairs the current key's merging window set. The
// operator changes it in place and stores it back: while a snapshot is
// being written, the heap's value state hands out a copy of a slice the
// snapshot reads (heap state's rule for mutable values), so no snapshot
// sees the change.
func (op *windowOp[K, T, W, O]) loadPairs() {
	op.pairs, _ = op.mergeSets.Value()
}

// persistPairs stores op.pairs as the current key's merging window set.
func (op *windowOp[K, T, W, O]) persistPairs() {
	if len(op.pairs) == 0 {
		op.mergeSets.Clear()
		return
	}
	op.mergeSets.Update(op.pairs)
}

func (op *windowOp[K, T, W, O]) stateWindow(w W) (W, bool) {
	for _, p := range op.pairs {
		if p.Win == w {
			return p.State, true
		}
	}
	var zero W
	return zero, false
}

func (op *windowOp[K, T, W, O]) retireWindow(w W) (W, bool) {
	for i, p := range op.pairs {
		if p.Win == w {
			op.pairs = slices.Delete(op.pairs, i, i+1)
			return p.State, true
		}
	}
	var zero W
	return zero, false
}

// addWindow adds a new window to the key's merging window set, merging it
// with existing windows (Flink's MergingWindowSet.addWindow), and returns
// the window the new one ended up in.
func (op *windowOp[K, T, W, O]) addWindow(nw W, wm int64) (W, error) {
	all := op.mergeBuf[:0]
	for _, p := range op.pairs {
		all = append(all, p.Win)
	}
	all = append(all, nw)
	op.mergeBuf = all
	op.results, op.mergedFlat = op.results[:0], op.mergedFlat[:0]
	op.merging.MergeWindows(all, op.collectMerge)
	resultWindow, mergedNew := nw, false
	for _, r := range op.results {
		merged := op.mergedFlat[r.from:r.to]
		if i := slices.Index(merged, nw); i >= 0 {
			merged = slices.Delete(merged, i, i+1)
			mergedNew, resultWindow = true, r.result
		}
		if len(merged) == 0 {
			continue
		}
		target, _ := op.stateWindow(merged[0])
		states := op.stateBuf[:0]
		for _, m := range merged {
			if s, ok := op.retireWindow(m); ok && s != target {
				states = append(states, s)
			}
		}
		op.stateBuf = states
		op.pairs = append(op.pairs, mergePair[W]{Win: r.result, State: target})
		if len(merged) == 1 && merged[0] == r.result {
			continue // a window merged into itself: nothing moves
		}
		if err := op.mergeWindows(r.result, merged, target, states, wm); err != nil {
			return resultWindow, err
		}
	}
	if len(op.results) == 0 || (resultWindow == nw && !mergedNew) {
		op.pairs = append(op.pairs, mergePair[W]{Win: resultWindow, State: resultWindow})
	}
	return resultWindow, nil
}

// mergeWindows is Flink's merge function: re-arm the trigger on the result,
// drop the merged windows' trigger state and cleanup timers, and merge
// their contents into the result's state window.
func (op *windowOp[K, T, W, O]) mergeWindows(result W, merged []W, target W, states []W, wm int64) error {
	if op.eventTime && op.cleanupTime(result) <= wm {
		return fmt.Errorf("weir: the end of event-time window %v cannot become earlier than the watermark %d by merging", result, wm)
	}
	if !op.eventTime && result.MaxTimestamp() <= op.ctx.Time.Now() {
		return fmt.Errorf("weir: the end of processing-time window %v cannot become earlier than the current processing time by merging", result)
	}
	tc := &op.tctx
	tc.w, tc.sources = result, merged
	op.trigger.OnMerge(result, tc)
	tc.sources = nil
	for _, m := range merged {
		tc.w = m
		op.trigger.Clear(m, tc)
		op.deleteCleanupTimer(m)
	}
	return op.contents.merge(target, states)
}

func (op *windowOp[K, T, W, O]) onTimer(t runtime.Timer[K, W], event bool) error {
	if err := op.fireTimer(t, event); err != nil {
		return opError(op.ctx, err)
	}
	return nil
}

func (op *windowOp[K, T, W, O]) fireTimer(t runtime.Timer[K, W], event bool) error {
	op.kc.SetKnown(t.Key, t.KeyGroup)
	w := t.NS
	stateW := w
	if op.merging != nil {
		op.loadPairs()
		s, ok := op.stateWindow(w)
		if !ok {
			return nil // the window was merged into another one
		}
		stateW = s
	}
	op.contents.setNamespace(stateW)
	var r window.Result
	switch {
	case op.fastEvent:
		if event && t.TS == w.MaxTimestamp() {
			r = window.Fire
		}
	case event:
		op.tctx.w = w
		r = op.trigger.OnEventTime(t.TS, w, &op.tctx)
	default:
		op.tctx.w = w
		r = op.trigger.OnProcessingTime(t.TS, w, &op.tctx)
	}
	if err := op.act(r, w); err != nil {
		return err
	}
	if event == op.eventTime && t.TS == op.cleanupTime(w) {
		if err := op.clearAllState(w); err != nil {
			return err
		}
	}
	if op.merging != nil {
		op.persistPairs()
	}
	return nil
}

// clearAllState drops window w for good: its contents, its trigger's timers
// and state, the function's per-window state, and its merging-set entry.
func (op *windowOp[K, T, W, O]) clearAllState(w W) error {
	op.contents.clear()
	if !op.fastEvent {
		// (With the inline event-time trigger, the window's only timer
		// has fired by now.)
		op.tctx.w = w
		op.trigger.Clear(w, &op.tctx)
	}
	if op.clearFn != nil {
		if err := op.clearFn(w); err != nil {
			return err
		}
	}
	op.winStore.clearWindow(w)
	if op.merging != nil {
		op.retireWindow(w)
	}
	return nil
}

func (op *windowOp[K, T, W, O]) ProcessWatermark(wm int64) error {
	op.ctx.Metrics.CurrentWatermark = wm
	if err := op.timers.AdvanceWatermark(wm); err != nil {
		return err
	}
	switch {
	case op.table != nil:
		if err := op.fireTable(wm); err != nil {
			return opError(op.ctx, err)
		}
	case op.implicit:
		if err := op.fireImplicit(wm); err != nil {
			return err
		}
	}
	return op.out.ProcessWatermark(wm)
}

// windowSpaces lists the windows and keys that hold contents.
type windowSpaces[K comparable, W window.Window] interface {
	Namespaces(dst []W) []W
	KeysIn(w W, dst []K) []K
	// FreezeKeys captures the (key, window) pairs for a snapshot (see
	// heap's base.FreezeKeys).
	FreezeKeys() func(idx int, fn func(k K, w W))
}

// fireImplicit fires, in order of their end, the windows the watermark
// passed, for every key that has contents in them, and drops them.
func (op *windowOp[K, T, W, O]) fireImplicit(wm int64) error {
	ws := op.spaceBuf[:0]
	for _, w := range op.spaces.Namespaces(op.spaceBuf[:0]) {
		if w.MaxTimestamp() <= wm {
			ws = append(ws, w)
		}
	}
	op.spaceBuf = ws
	slices.SortFunc(ws, func(a, b W) int { return cmpInt64(a.MaxTimestamp(), b.MaxTimestamp()) })
	for _, w := range ws {
		op.keyBuf = op.spaces.KeysIn(w, op.keyBuf[:0])
		for _, k := range op.keyBuf {
			op.kc.SetKnown(k, op.kc.GroupOf(k))
			op.contents.setNamespace(w)
			if err := op.contents.fire(w); err != nil {
				return err
			}
			if err := op.clearAllState(w); err != nil {
				return err
			}
		}
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// triggerStateName names the state holding the triggers' Int64States.
const triggerStateName = "weir.window.trigger"

// triggerCtx is the window.TriggerContext of the current key and window.
type triggerCtx[K comparable, T any, W window.Window, O any] struct {
	op      *windowOp[K, T, W, O]
	w       W
	sources []W // the windows being merged, during OnMerge
	states  []*int64State[K, T, W, O]
	// vals holds every Int64State of the trigger, in namespaces (window,
	// state name).
	vals statebackend.Value[triggerNS[W], int64]
	// ns is vals' namespace when nsSet (SetNamespace hashes it: skipped
	// when it does not change, as on count windows).
	ns    triggerNS[W]
	nsSet bool
}

// use makes vals refer to the current window's state called name.
func (c *triggerCtx[K, T, W, O]) use(name string) { c.useIn(c.w, name) }

// useIn makes vals refer to window w's state called name.
func (c *triggerCtx[K, T, W, O]) useIn(w W, name string) {
	if ns := (triggerNS[W]{w, name}); !c.nsSet || ns != c.ns {
		c.vals.SetNamespace(ns)
		c.ns, c.nsSet = ns, true
	}
}

// triggerNS is the namespace of a trigger's Int64State: the window and
// the state's name (fields exported: this is checkpointed keyed state).
type triggerNS[W window.Window] struct {
	Win  W
	Name string
}

func (c *triggerCtx[K, T, W, O]) CurrentWatermark() int64 { return c.op.timers.CurrentWatermark() }
func (c *triggerCtx[K, T, W, O]) CurrentProcessingTime() int64 {
	return c.op.ctx.Time.Now()
}
func (c *triggerCtx[K, T, W, O]) RegisterEventTimeTimer(ts int64) {
	c.op.timers.RegisterEventTime(c.op.timer(ts, c.w))
}
func (c *triggerCtx[K, T, W, O]) DeleteEventTimeTimer(ts int64) {
	c.op.timers.DeleteEventTime(c.op.timer(ts, c.w))
}
func (c *triggerCtx[K, T, W, O]) RegisterProcessingTimeTimer(ts int64) {
	c.op.timers.RegisterProcessingTime(c.op.timer(ts, c.w))
}
func (c *triggerCtx[K, T, W, O]) DeleteProcessingTimeTimer(ts int64) {
	c.op.timers.DeleteProcessingTime(c.op.timer(ts, c.w))
}

func (c *triggerCtx[K, T, W, O]) Int64State(name string) window.Int64State {
	for _, s := range c.states {
		if s.name == name {
			return s
		}
	}
	s := &int64State[K, T, W, O]{name: name, c: c}
	c.states = append(c.states, s)
	return s
}

func (c *triggerCtx[K, T, W, O]) MergeInt64State(name string, merge func(a, b int64) int64) {
	var acc int64
	have := false
	for _, src := range c.sources {
		c.useIn(src, name)
		if x, ok := c.vals.Value(); ok {
			c.vals.Clear()
			if have {
				acc = merge(acc, x)
			} else {
				acc, have = x, true
			}
		}
	}
	c.use(name)
	if x, ok := c.vals.Value(); ok && have {
		acc = merge(x, acc)
	}
	if have {
		c.vals.Update(acc)
	}
}

// int64State is a trigger's Int64State: the value of the current key in
// namespace (current window, name).
type int64State[K comparable, T any, W window.Window, O any] struct {
	name string
	c    *triggerCtx[K, T, W, O]
}

func (s *int64State[K, T, W, O]) Get() (int64, bool) {
	s.c.use(s.name)
	return s.c.vals.Value()
}

func (s *int64State[K, T, W, O]) Set(v int64) {
	s.c.use(s.name)
	s.c.vals.Update(v)
}

func (s *int64State[K, T, W, O]) Clear() {
	s.c.use(s.name)
	s.c.vals.Clear()
}
