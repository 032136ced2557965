package weir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/runtime"
	"github.com/weirstream/weir/state"
)

// Broadcast state (Flink's broadcast state pattern).
//
// A low-volume stream (rules, configuration, thresholds) is broadcast: every
// subtask of the operator that reads it receives every one of its records.
// Each subtask keeps a copy of the broadcast state, a set of named maps that
// only the broadcast side may change. The copies stay equal because every
// subtask applies the same updates in the same order, which holds when the
// broadcast stream comes from one subtask (parallelism 1) and the update
// depends only on the broadcast record and the state: never on keyed state,
// the subtask index or processing time. Records of the other input arrive
// interleaved with broadcast records in no particular order, so a record may
// be processed before or after a rule that was emitted "earlier"; functions
// that need a precise answer buffer records and decide in event-time timers.

// BroadcastStateDescriptor names one map of broadcast state;
// MapStateDescriptor implements it.
type BroadcastStateDescriptor interface {
	// Name returns the state's name.
	Name() string
	newState() any
}

// MapStateDescriptor names a map of broadcast state from MK to MV. Declare
// it in Broadcast and access it with GetBroadcastState or
// GetReadOnlyBroadcastState.
type MapStateDescriptor[MK comparable, MV any] struct {
	name string
}

// NewMapStateDescriptor returns a descriptor of a broadcast map named name.
func NewMapStateDescriptor[MK comparable, MV any](name string) MapStateDescriptor[MK, MV] {
	return MapStateDescriptor[MK, MV]{name: name}
}

// Name returns the state's name.
func (d MapStateDescriptor[MK, MV]) Name() string { return d.name }

func (d MapStateDescriptor[MK, MV]) newState() any {
	return &broadcastMap[MK, MV]{m: map[MK]MV{}}
}

// ReadOnlyBroadcastState is the view of a broadcast map that the
// non-broadcast side gets. Values are returned as stored: do not modify what
// they point to.
type ReadOnlyBroadcastState[MK comparable, MV any] interface {
	// Get returns the value under k.
	Get(k MK) (MV, bool)
	// Contains reports whether k has a value.
	Contains(k MK) bool
	// Len returns the number of entries.
	Len() int
	// All iterates the entries in no particular order.
	All() iter.Seq2[MK, MV]
}

// BroadcastState is a broadcast map as the broadcast side sees it: readable
// and writable.
type BroadcastState[MK comparable, MV any] interface {
	ReadOnlyBroadcastState[MK, MV]
	// Put sets k to v.
	Put(k MK, v MV)
	// Remove deletes k.
	Remove(k MK)
	// Clear removes every entry.
	Clear()
}

type broadcastMap[MK comparable, MV any] struct {
	m map[MK]MV
}

func (b *broadcastMap[MK, MV]) Get(k MK) (MV, bool)    { v, ok := b.m[k]; return v, ok }
func (b *broadcastMap[MK, MV]) Contains(k MK) bool     { _, ok := b.m[k]; return ok }
func (b *broadcastMap[MK, MV]) Len() int               { return len(b.m) }
func (b *broadcastMap[MK, MV]) All() iter.Seq2[MK, MV] { return maps.All(b.m) }
func (b *broadcastMap[MK, MV]) Put(k MK, v MV)         { b.m[k] = v }
func (b *broadcastMap[MK, MV]) Remove(k MK)            { delete(b.m, k) }
func (b *broadcastMap[MK, MV]) Clear()                 { clear(b.m) }
func (b *broadcastMap[MK, MV]) describe(name string) string {
	var k MK
	var v MV
	return fmt.Sprintf("broadcast state %q is a map from %T to %T", name, k, v)
}

// readOnlyMap hides the writing methods of a broadcast map.
type readOnlyMap[MK comparable, MV any] struct {
	m *broadcastMap[MK, MV]
}

func (r readOnlyMap[MK, MV]) Get(k MK) (MV, bool)    { return r.m.Get(k) }
func (r readOnlyMap[MK, MV]) Contains(k MK) bool     { return r.m.Contains(k) }
func (r readOnlyMap[MK, MV]) Len() int               { return r.m.Len() }
func (r readOnlyMap[MK, MV]) All() iter.Seq2[MK, MV] { return r.m.All() }

// broadcastStates are one subtask's broadcast maps, by name.
type broadcastStates struct {
	m  map[string]any
	op string // the operator's name, for errors
}

// newBroadcastStates creates the declared maps. With checkpointing, a map
// whose key or value type the codecs cannot encode fails the operator's
// Open, when the job starts, instead of its first checkpoint.
func newBroadcastStates(op string, descs []BroadcastStateDescriptor, checkpointing bool) (*broadcastStates, error) {
	b := &broadcastStates{m: make(map[string]any, len(descs)), op: op}
	for _, d := range descs {
		if d == nil || d.Name() == "" {
			return nil, errors.New("broadcast state descriptor needs a name")
		}
		if _, dup := b.m[d.Name()]; dup {
			return nil, fmt.Errorf("broadcast state %q declared twice", d.Name())
		}
		st := d.newState()
		if c, ok := st.(interface{ codecErr() error }); ok && checkpointing {
			if err := c.codecErr(); err != nil {
				return nil, fmt.Errorf("broadcast state %q cannot be checkpointed: %w", d.Name(), err)
			}
		}
		b.m[d.Name()] = st
	}
	return b, nil
}

func lookupBroadcast[MK comparable, MV any](b *broadcastStates, d MapStateDescriptor[MK, MV]) (*broadcastMap[MK, MV], error) {
	st, ok := b.m[d.name]
	if !ok {
		return nil, fmt.Errorf("operator %q: broadcast state %q was not declared in Broadcast", b.op, d.name)
	}
	m, ok := st.(*broadcastMap[MK, MV])
	if !ok {
		var k MK
		var v MV
		desc := st.(interface{ describe(string) string }).describe(d.name)
		return nil, fmt.Errorf("operator %q: %s, requested as a map from %T to %T", b.op, desc, k, v)
	}
	return m, nil
}

// BroadcastStateReader is implemented by the contexts that may read
// broadcast state.
type BroadcastStateReader interface {
	broadcastStates() *broadcastStates
	fail(err error)
}

// BroadcastStateEditor is implemented by the contexts of the broadcast side,
// which may change broadcast state.
type BroadcastStateEditor interface {
	BroadcastStateReader
	editBroadcastStates()
}

// GetReadOnlyBroadcastState returns the broadcast map d, read-only. If d was
// not declared in Broadcast (or with other types) the function call fails
// with that error once it returns, and an empty map is returned.
func GetReadOnlyBroadcastState[MK comparable, MV any](ctx BroadcastStateReader, d MapStateDescriptor[MK, MV]) ReadOnlyBroadcastState[MK, MV] {
	m, err := lookupBroadcast(ctx.broadcastStates(), d)
	if err != nil {
		ctx.fail(err)
		return readOnlyMap[MK, MV]{&broadcastMap[MK, MV]{}}
	}
	return readOnlyMap[MK, MV]{m}
}

// GetBroadcastState returns the broadcast map d for reading and writing; it
// is available to the broadcast side only. If d was not declared in
// Broadcast (or with other types) the function call fails with that error
// once it returns, and a detached empty map is returned.
func GetBroadcastState[MK comparable, MV any](ctx BroadcastStateEditor, d MapStateDescriptor[MK, MV]) BroadcastState[MK, MV] {
	m, err := lookupBroadcast(ctx.broadcastStates(), d)
	if err != nil {
		ctx.fail(err)
		return &broadcastMap[MK, MV]{m: map[MK]MV{}}
	}
	return m
}

// BroadcastStream is a stream whose every record reaches every subtask of
// the operator that reads it, with the broadcast state it maintains there.
type BroadcastStream[R any] struct {
	s     Stream[R]
	descs []BroadcastStateDescriptor
}

// Broadcast broadcasts s, declaring the broadcast state that the functions
// reading it may use (Flink's DataStream.broadcast(descriptors...)). For
// every subtask to hold the same state, s should have parallelism 1.
func Broadcast[R any](s Stream[R], descs ...BroadcastStateDescriptor) BroadcastStream[R] {
	return BroadcastStream[R]{s: s.Broadcast(), descs: append([]BroadcastStateDescriptor(nil), descs...)}
}

// Stream returns the broadcast stream's records as a plain stream (still
// broadcast to the next operator).
func (b BroadcastStream[R]) Stream() Stream[R] { return b.s }

// KeyedBroadcastConnectedStreams are a keyed stream connected with a
// broadcast stream; process them with ProcessKeyedBroadcast.
type KeyedBroadcastConnectedStreams[K comparable, T, R any] struct {
	ks KeyedStream[K, T]
	b  BroadcastStream[R]
}

// ConnectBroadcast connects a keyed stream with a broadcast stream (Flink's
// keyedStream.connect(broadcastStream)).
func ConnectBroadcast[K comparable, T, R any](ks KeyedStream[K, T], b BroadcastStream[R]) KeyedBroadcastConnectedStreams[K, T, R] {
	return KeyedBroadcastConnectedStreams[K, T, R]{ks: ks, b: b}
}

// KeyedReadOnlyContext is given to a KeyedBroadcastProcessFunction for each
// keyed record and timer: everything a KeyedContext offers (key, timestamp,
// keyed state, timers, outputs) plus read-only broadcast state.
type KeyedReadOnlyContext[K comparable, O any] struct {
	KeyedContext[K, O]
	bs *broadcastStates
}

func (c *KeyedReadOnlyContext[K, O]) broadcastStates() *broadcastStates { return c.bs }

// KeyedBroadcastContext is given to a KeyedBroadcastProcessFunction for each
// broadcast record: timestamp, outputs, writable broadcast state and access
// to the keyed state of all keys (ApplyToKeyedState). There is no current
// key: keyed state may be touched only inside ApplyToKeyedState.
type KeyedBroadcastContext[K comparable, O any] struct {
	Context[O]
	bs   *broadcastStates
	op   *keyedTwoInput[K, O]
	keys []K
}

func (c *KeyedBroadcastContext[K, O]) broadcastStates() *broadcastStates { return c.bs }
func (c *KeyedBroadcastContext[K, O]) editBroadcastStates()              {}

// ApplyToKeyedState calls fn for every key of this subtask that has an entry
// in the keyed state st (a handle the function obtained in Open, such as a
// state.Value), with that key made current: inside fn, st and every other
// keyed state handle read and write that key's entry (Flink's
// Context.applyToKeyedState). fn may update or clear the state. Keys are
// visited in no particular order. Value, List and Map states are supported.
func ApplyToKeyedState[K comparable, O, S any](ctx *KeyedBroadcastContext[K, O], st S, fn func(key K, st S) error) error {
	// Collect first: fn may clear entries while we iterate. The buffer is
	// taken from ctx for the duration, so that a nested call gets its own.
	keys := ctx.keys[:0]
	ctx.keys = nil
	if err := state.KeysOf[K](st, func(k K) { keys = append(keys, k) }); err != nil {
		ctx.keys = keys
		return fmt.Errorf("weir: ApplyToKeyedState: %w", err)
	}
	defer func() {
		clear(keys)
		ctx.keys = keys[:0]
	}()
	kc := ctx.op.kc
	for _, k := range keys {
		kc.SetKnown(k, kc.GroupOf(k))
		if err := fn(k, st); err != nil {
			return err
		}
	}
	return nil
}

// KeyedBroadcastProcessFunction processes a keyed stream together with a
// broadcast stream (Flink's KeyedBroadcastProcessFunction). Keyed records
// see the broadcast state read-only, with their key's state and timers;
// broadcast records may change the broadcast state and reach the keyed state
// of all keys through ApplyToKeyedState. Implement KeyedOpener to register
// keyed state, BroadcastTimerHandler to receive timers, Closer to clean up.
type KeyedBroadcastProcessFunction[K comparable, T, R, O any] interface {
	// ProcessElement handles a record of the keyed stream.
	ProcessElement(ctx *KeyedReadOnlyContext[K, O], in T) error
	// ProcessBroadcastElement handles a record of the broadcast stream.
	ProcessBroadcastElement(ctx *KeyedBroadcastContext[K, O], in R) error
}

// BroadcastTimerHandler is implemented by keyed broadcast process functions
// that use timers.
type BroadcastTimerHandler[K comparable, O any] interface {
	// OnTimer handles a timer of the current key registered at ts; the
	// context tells its time domain.
	OnTimer(ctx *KeyedReadOnlyContext[K, O], ts int64) error
}

type keyedBroadcastOp[K comparable, T, R, O any] struct {
	keyedTwoInput[K, O]
	key   func(T) K
	fn    KeyedBroadcastProcessFunction[K, T, R, O]
	descs []BroadcastStateDescriptor
	ro    KeyedReadOnlyContext[K, O]
	bc    KeyedBroadcastContext[K, O]
}

func (p *keyedBroadcastOp[K, T, R, O]) Open(ctx *runtime.OperatorContext) error {
	p.fn = perSubtask(p.fn)
	bs, err := newBroadcastStates(ctx.Name, p.descs, ctx.Checkpointing)
	if err != nil {
		return opError(ctx, err)
	}
	if err := bs.restore(ctx.Restore); err != nil {
		return opError(ctx, err)
	}
	p.ro.bs = bs
	p.bc = KeyedBroadcastContext[K, O]{
		Context: Context[O]{out: p.out, pts: ctx.Time, wm: runtime.MinWatermark},
		bs:      bs,
		op:      &p.keyedTwoInput,
	}
	if h, ok := p.fn.(BroadcastTimerHandler[K, O]); ok {
		p.onTimer = func(ts int64) error { return h.OnTimer(&p.ro, ts) }
	}
	return p.open(ctx, &p.ro.KeyedContext, p.fn)
}

func (p *keyedBroadcastOp[K, T, R, O]) Close() error {
	if c, ok := p.fn.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *keyedBroadcastOp[K, T, R, O]) ProcessElement1(v T, ts int64) error {
	if err := p.setKey(p.key(v), ts); err != nil {
		return err
	}
	if err := p.fn.ProcessElement(&p.ro, v); err != nil {
		return opError(p.ctx, err)
	}
	return p.ro.err
}

func (p *keyedBroadcastOp[K, T, R, O]) ProcessElement2(v R, ts int64) error {
	c := &p.bc
	c.ts, c.err = ts, nil
	if err := p.fn.ProcessBroadcastElement(c, v); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

func (p *keyedBroadcastOp[K, T, R, O]) ProcessWatermark(wm int64) error {
	p.bc.wm = wm
	return p.keyedTwoInput.ProcessWatermark(wm)
}

// ProcessKeyedBroadcast applies a KeyedBroadcastProcessFunction.
func ProcessKeyedBroadcast[K comparable, T, R, O any](c KeyedBroadcastConnectedStreams[K, T, R], fn KeyedBroadcastProcessFunction[K, T, R, O]) Stream[O] {
	ks, b := c.ks, c.b
	return twoInput(ks.s, b.s, "KeyedBroadcastProcess", func(out *outputs[O]) (runtime.TwoInput[T, R], error) {
		if fn == nil {
			return nil, errors.New("ProcessKeyedBroadcast needs a function")
		}
		op := &keyedBroadcastOp[K, T, R, O]{key: ks.key, fn: fn, descs: b.descs}
		op.out = out
		return op, nil
	})
}

// BroadcastConnectedStreams are a non-keyed stream connected with a
// broadcast stream; process them with ProcessBroadcast.
type BroadcastConnectedStreams[T, R any] struct {
	s Stream[T]
	b BroadcastStream[R]
}

// ConnectBroadcastNonKeyed connects a non-keyed stream with a broadcast
// stream (Flink's dataStream.connect(broadcastStream)).
func ConnectBroadcastNonKeyed[T, R any](s Stream[T], b BroadcastStream[R]) BroadcastConnectedStreams[T, R] {
	return BroadcastConnectedStreams[T, R]{s: s, b: b}
}

// BroadcastReadOnlyContext is given to a BroadcastProcessFunction for each
// record of the non-broadcast stream: a Context plus read-only broadcast
// state.
type BroadcastReadOnlyContext[O any] struct {
	Context[O]
	bs *broadcastStates
}

func (c *BroadcastReadOnlyContext[O]) broadcastStates() *broadcastStates { return c.bs }

// BroadcastContext is given to a BroadcastProcessFunction for each broadcast
// record: a Context plus writable broadcast state.
type BroadcastContext[O any] struct {
	Context[O]
	bs *broadcastStates
}

func (c *BroadcastContext[O]) broadcastStates() *broadcastStates { return c.bs }
func (c *BroadcastContext[O]) editBroadcastStates()              {}

// BroadcastProcessFunction processes a non-keyed stream together with a
// broadcast stream (Flink's BroadcastProcessFunction). Implement Opener and
// Closer for set-up and tear-down.
type BroadcastProcessFunction[T, R, O any] interface {
	// ProcessElement handles a record of the non-broadcast stream.
	ProcessElement(ctx *BroadcastReadOnlyContext[O], in T) error
	// ProcessBroadcastElement handles a broadcast record.
	ProcessBroadcastElement(ctx *BroadcastContext[O], in R) error
}

type broadcastOp[T, R, O any] struct {
	forwardOp[O]
	fn    BroadcastProcessFunction[T, R, O]
	descs []BroadcastStateDescriptor
	ro    BroadcastReadOnlyContext[O]
	bc    BroadcastContext[O]
	rc    RuntimeContext
}

func (p *broadcastOp[T, R, O]) Open(ctx *runtime.OperatorContext) error {
	p.ctx = ctx
	p.fn = perSubtask(p.fn)
	bs, err := newBroadcastStates(ctx.Name, p.descs, ctx.Checkpointing)
	if err != nil {
		return opError(ctx, err)
	}
	if err := bs.restore(ctx.Restore); err != nil {
		return opError(ctx, err)
	}
	base := Context[O]{out: p.out, pts: ctx.Time, wm: runtime.MinWatermark}
	p.ro = BroadcastReadOnlyContext[O]{Context: base, bs: bs}
	p.bc = BroadcastContext[O]{Context: base, bs: bs}
	p.rc = RuntimeContext{op: ctx}
	if o, ok := p.fn.(Opener); ok {
		if err := o.Open(&p.rc); err != nil {
			return opError(ctx, err)
		}
	}
	return nil
}

func (p *broadcastOp[T, R, O]) Close() error {
	if c, ok := p.fn.(Closer); ok {
		return c.Close()
	}
	return nil
}

func (p *broadcastOp[T, R, O]) ProcessElement1(v T, ts int64) error {
	c := &p.ro
	c.ts, c.err = ts, nil
	if err := p.fn.ProcessElement(c, v); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

func (p *broadcastOp[T, R, O]) ProcessElement2(v R, ts int64) error {
	c := &p.bc
	c.ts, c.err = ts, nil
	if err := p.fn.ProcessBroadcastElement(c, v); err != nil {
		return opError(p.ctx, err)
	}
	return c.err
}

func (p *broadcastOp[T, R, O]) ProcessWatermark(wm int64) error {
	p.ro.wm, p.bc.wm = wm, wm
	return p.forwardOp.ProcessWatermark(wm)
}

// ProcessBroadcast applies a BroadcastProcessFunction.
func ProcessBroadcast[T, R, O any](c BroadcastConnectedStreams[T, R], fn BroadcastProcessFunction[T, R, O]) Stream[O] {
	s, b := c.s, c.b
	return twoInput(s, b.s, "BroadcastProcess", func(out *outputs[O]) (runtime.TwoInput[T, R], error) {
		if fn == nil {
			return nil, errors.New("ProcessBroadcast needs a function")
		}
		return &broadcastOp[T, R, O]{forwardOp: forwardOp[O]{out: out}, fn: fn, descs: b.descs}, nil
	})
}

// Broadcast state in checkpoints: every subtask holds the same maps, so
// only subtask 0 stores them, one operator-state item per map (name, then
// the entries); after a restore, at any parallelism, every subtask reads
// that copy.

// codecErr reports why the map's types cannot be encoded, if they cannot.
func (b *broadcastMap[MK, MV]) codecErr() error {
	if _, err := codec.For[MK](); err != nil {
		return fmt.Errorf("key type: %w", err)
	}
	if _, err := codec.For[MV](); err != nil {
		return fmt.Errorf("value type: %w", err)
	}
	return nil
}

func (b *broadcastMap[MK, MV]) encode(dst []byte) ([]byte, error) {
	kc, err := codec.For[MK]()
	if err != nil {
		return nil, fmt.Errorf("key type: %w", err)
	}
	vc, err := codec.For[MV]()
	if err != nil {
		return nil, fmt.Errorf("value type: %w", err)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.m)))
	for k, v := range b.m {
		dst = vc.Append(kc.Append(dst, k), v)
	}
	return dst, nil
}

func (b *broadcastMap[MK, MV]) decode(src []byte) error {
	kc, err := codec.For[MK]()
	if err != nil {
		return err
	}
	vc, err := codec.For[MV]()
	if err != nil {
		return err
	}
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)) {
		return fmt.Errorf("%w: broadcast state length", codec.ErrCorrupt)
	}
	src = src[k:]
	for i := uint64(0); i < n; i++ {
		key, a, err := kc.Decode(src)
		if err != nil {
			return err
		}
		val, c, err := vc.Decode(src[a:])
		if err != nil {
			return err
		}
		src = src[a+c:]
		b.m[key] = val
	}
	if len(src) != 0 {
		return fmt.Errorf("%w: %d bytes after broadcast state", codec.ErrCorrupt, len(src))
	}
	return nil
}

type codedState interface {
	encode(dst []byte) ([]byte, error)
	decode(src []byte) error
}

func (b *broadcastStates) snapshot(ctx *runtime.OperatorContext, w *runtime.StateWriter) error {
	if ctx.Subtask != 0 {
		return nil
	}
	names := make([]string, 0, len(b.m))
	for n := range b.m {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		item := binary.AppendUvarint(nil, uint64(len(n)))
		item, err := b.m[n].(codedState).encode(append(item, n...))
		if err != nil {
			return fmt.Errorf("broadcast state %q: %w", n, err)
		}
		w.AddItem(item)
	}
	return nil
}

func (b *broadcastStates) restore(rs *runtime.RestoreState) error {
	if rs == nil {
		return nil
	}
	for _, it := range rs.Items {
		l, k := binary.Uvarint(it)
		if k <= 0 || uint64(len(it)-k) < l {
			return fmt.Errorf("%w: broadcast state name", codec.ErrCorrupt)
		}
		name := string(it[k : k+int(l)])
		st, ok := b.m[name]
		if !ok {
			return fmt.Errorf("the checkpoint has broadcast state %q that the job no longer declares", name)
		}
		if err := st.(codedState).decode(it[k+int(l):]); err != nil {
			return fmt.Errorf("broadcast state %q: %w", name, err)
		}
	}
	return nil
}

// SnapshotState stores keyed state, timers and broadcast state.
func (p *keyedBroadcastOp[K, T, R, O]) SnapshotState(id int64, w *runtime.StateWriter) error {
	if err := p.keyed.SnapshotState(id, w); err != nil {
		return err
	}
	return p.ro.bs.snapshot(p.ctx, w)
}

// SnapshotState stores broadcast state.
func (p *broadcastOp[T, R, O]) SnapshotState(_ int64, w *runtime.StateWriter) error {
	return p.ro.bs.snapshot(p.ctx, w)
}
