package heap

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/statebackend"
)

// Snapshot format of one key group (see docs/format/checkpoint.md): a
// sequence of sections, one per state,
//
//	uvarint len, name | kind byte | uvarint len, schema | uvarint len, body
//
// where body is the state's entries for that key group. Sections of states
// that were restored but not registered by the new job are carried over
// unchanged, so no state is lost by an operator that stops using it for a
// while.

// Section kinds.
const (
	kindValue = statebackend.KindValue
	kindList  = statebackend.KindList
	kindMap   = statebackend.KindMap
	// KindTimers marks a section written by a timer service.
	KindTimers = statebackend.KindTimers
)

// Snapshottable is a state (or a timer service) whose content is written to
// snapshots key group by key group.
type Snapshottable = statebackend.Snapshottable

type restored struct {
	kind   byte
	schema string
	groups map[int][]byte // absolute key group -> body
}

// register adds s to the backend; states are named by registration order
// until SetName gives a stable name.
func (b *Backend[K]) register(s Snapshottable) {
	b.states = append(b.states, s)
}

// Register adds a snapshottable state that is not one of the heap's own
// (e.g. a timer service).
func (b *Backend[K]) Register(s Snapshottable) { b.register(s) }

func (b *Backend[K]) autoName() string {
	b.seq++
	return fmt.Sprintf("#%d", b.seq)
}

func (b *Backend[K]) keyCodec() (codec.Codec[K], error) {
	if b.kcodec == nil && b.kerr == nil {
		b.kcodec, b.kerr = codec.For[K]()
	}
	return b.kcodec, b.kerr
}

// SetRestore hands the backend the key groups to restore from, before the
// operator registers its states; Seal applies them.
func (b *Backend[K]) SetRestore(groups map[int][]byte) error {
	b.pending = map[string]*restored{}
	for kg, data := range groups {
		if !b.kc.Range.Contains(kg) {
			continue
		}
		for len(data) > 0 {
			name, kind, schema, body, rest, err := readSection(data)
			if err != nil {
				return fmt.Errorf("heap: key group %d: %w", kg, err)
			}
			r := b.pending[name]
			if r == nil {
				r = &restored{kind: kind, schema: schema, groups: map[int][]byte{}}
				b.pending[name] = r
			}
			r.groups[kg] = append(r.groups[kg], body...)
			data = rest
		}
	}
	return nil
}

// RequireCodecs makes Seal fail for a state whose key, namespace or value
// type the codecs cannot encode. A job that takes checkpoints calls it, so
// that such a state fails the job when it starts rather than at its first
// checkpoint; without checkpoints the heap never encodes and needs no codec.
func (b *Backend[K]) RequireCodecs() { b.requireCodecs = true }

// codecChecker is implemented by the heap's own states.
type codecChecker interface{ codecErr() error }

// Seal restores every registered state from the data given to SetRestore,
// once the operator registered its states. Restored state that no
// registered state claims is kept and written to later snapshots.
func (b *Backend[K]) Seal() error {
	names := map[string]bool{}
	for _, s := range b.states {
		if names[s.StateName()] {
			return fmt.Errorf("heap: two states are named %q", s.StateName())
		}
		names[s.StateName()] = true
		if c, ok := s.(codecChecker); ok && b.requireCodecs {
			if err := c.codecErr(); err != nil {
				return fmt.Errorf("heap: state %q cannot be checkpointed: %w", s.StateName(), err)
			}
		}
		r, ok := b.pending[s.StateName()]
		if !ok {
			continue
		}
		delete(b.pending, s.StateName())
		if r.kind != s.StateKind() {
			return fmt.Errorf("heap: state %q was stored as kind %d, now registered as kind %d", s.StateName(), r.kind, s.StateKind())
		}
		if r.schema != s.StateSchema() {
			return fmt.Errorf("heap: state %q was stored with layout %s, now registered with layout %s", s.StateName(), r.schema, s.StateSchema())
		}
		for kg, body := range r.groups {
			if err := s.RestoreGroup(kg-b.kc.Range.Start, body); err != nil {
				return fmt.Errorf("heap: state %q key group %d: %w", s.StateName(), kg, err)
			}
		}
	}
	b.orphans = b.pending
	b.pending = nil
	b.sealed = true
	return nil
}

// claimLate restores the state named name, registered after Seal, from the
// restored state of that name that no state claimed at Seal (Pebble does
// the same on a late state's first use). States have no error path: a
// conflict panics with an error, which fails the task as any panic does.
func (b *Backend[K]) claimLate(name string) {
	if !b.sealed {
		return
	}
	var s Snapshottable
	for _, x := range b.states {
		if x.StateName() != name {
			continue
		}
		if s != nil {
			panic(fmt.Errorf("heap: two states are named %q", name))
		}
		s = x
	}
	r, ok := b.orphans[name]
	if !ok || s == nil {
		return
	}
	if r.kind != s.StateKind() {
		panic(fmt.Errorf("heap: state %q was stored as kind %d, now registered as kind %d", name, r.kind, s.StateKind()))
	}
	if r.schema != s.StateSchema() {
		panic(fmt.Errorf("heap: state %q was stored with layout %s, now registered with layout %s", name, r.schema, s.StateSchema()))
	}
	for kg, body := range r.groups {
		if err := s.RestoreGroup(kg-b.kc.Range.Start, body); err != nil {
			panic(fmt.Errorf("heap: state %q key group %d: %w", name, kg, err))
		}
	}
	// Replaced, not changed: a snapshot being written reads the old map.
	orphans := make(map[string]*restored, len(b.orphans))
	for n, o := range b.orphans {
		if n != name {
			orphans[n] = o
		}
	}
	b.orphans = orphans
}

// SnapshotAsync captures every state for a snapshot and returns the
// function that writes the capture, section by section, to put (absolute
// key group, section bytes). The capture is cheap: the task goes on at once
// and the maps a snapshot sees are cloned only when the task first changes
// them. The returned function may run on another goroutine; it must be
// called exactly once.
func (b *Backend[K]) SnapshotAsync() (func(put func(kg int, section []byte)) error, error) {
	b.epoch++
	type frozen struct {
		name, schema string
		kind         byte
		write        func(dst []byte, idx int) ([]byte, error)
	}
	fz := make([]frozen, 0, len(b.states))
	for _, s := range b.states {
		w, err := s.Freeze()
		if err != nil {
			return nil, fmt.Errorf("heap: state %q: %w", s.StateName(), err)
		}
		fz = append(fz, frozen{s.StateName(), s.StateSchema(), s.StateKind(), w})
	}
	orphans := b.orphans // never changed after Seal
	n, start := b.kc.Range.Len(), b.kc.Range.Start
	b.inflight.Add(1)
	return func(put func(kg int, section []byte)) error {
		defer b.inflight.Add(-1)
		var buf, body []byte
		for idx := 0; idx < n; idx++ {
			for _, s := range fz {
				var err error
				if body, err = s.write(body[:0], idx); err != nil {
					return fmt.Errorf("heap: state %q: %w", s.name, err)
				}
				if len(body) == 0 {
					continue
				}
				buf = appendSection(buf[:0], s.name, s.kind, s.schema, body)
				put(start+idx, buf)
			}
		}
		names := make([]string, 0, len(orphans))
		for name := range orphans {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			r := orphans[name]
			for kg, body := range r.groups {
				put(kg, appendSection(buf[:0], name, r.kind, r.schema, body))
			}
		}
		return nil
	}, nil
}

// Snapshot captures every state (SnapshotAsync) for the
// statebackend.Backend interface.
func (b *Backend[K]) Snapshot() (statebackend.Snapshot, error) {
	write, err := b.SnapshotAsync()
	return statebackend.Snapshot{Write: write}, err
}

// Close releases nothing: the heap's memory goes with the backend.
func (b *Backend[K]) Close() error { return nil }

// WriteSnapshot writes every state's content at once (SnapshotAsync, run
// inline).
func (b *Backend[K]) WriteSnapshot(put func(kg int, section []byte)) error {
	write, err := b.SnapshotAsync()
	if err != nil {
		return err
	}
	return write(put)
}

func appendSection(dst []byte, name string, kind byte, schema string, body []byte) []byte {
	return statebackend.AppendSection(dst, name, kind, schema, body)
}

func readSection(src []byte) (name string, kind byte, schema string, body, rest []byte, err error) {
	return statebackend.ReadSection(src)
}

func mutableOf[V any]() bool { return statebackend.Mutable[V]() }

// eager runs a snapshot writer over every key group now and returns a
// writer handing out the result.
func eager(n int, write func(dst []byte, idx int) ([]byte, error)) (func(dst []byte, idx int) ([]byte, error), error) {
	groups := make([][]byte, n)
	for idx := range groups {
		b, err := write(nil, idx)
		if err != nil {
			return nil, err
		}
		groups[idx] = b
	}
	return func(dst []byte, idx int) ([]byte, error) { return append(dst, groups[idx]...), nil }, nil
}

// stateCodecs are the codecs of one state's namespace and values.
type stateCodecs[K, N comparable, V any] struct {
	k   codec.Codec[K]
	n   codec.Codec[N]
	v   codec.Codec[V]
	err error
}

func newCodecs[K, N comparable, V any](b *Backend[K]) *stateCodecs[K, N, V] {
	c := &stateCodecs[K, N, V]{}
	if c.k, c.err = b.keyCodec(); c.err != nil {
		c.err = fmt.Errorf("key type: %w", c.err)
		return c
	}
	if c.n, c.err = codec.For[N](); c.err != nil {
		c.err = fmt.Errorf("namespace type: %w", c.err)
		return c
	}
	if c.v, c.err = codec.For[V](); c.err != nil {
		c.err = fmt.Errorf("value type: %w", c.err)
	}
	return c
}

func (c *stateCodecs[K, N, V]) schema() string {
	return codec.Schema[K]() + "|" + codec.Schema[N]() + "|" + codec.Schema[V]()
}

func decodeVarint(src []byte) (int64, int, error) {
	x, k := binary.Varint(src)
	if k <= 0 {
		return 0, 0, fmt.Errorf("%w: varint", codec.ErrCorrupt)
	}
	return x, k, nil
}

func decodeUvarint(src []byte) (uint64, int, error) {
	x, k := binary.Uvarint(src)
	if k <= 0 {
		return 0, 0, fmt.Errorf("%w: uvarint", codec.ErrCorrupt)
	}
	return x, k, nil
}

// Value: entries are ns, key, expiry, value.

// StateName returns the state's name.
func (s *base[K, N, E]) StateName() string { return s.name }

// SetName gives the state a stable name for snapshots. A state named after
// Seal (created on first use, as the window operator's per-window states
// are) takes the restored state of that name then.
func (s *base[K, N, E]) SetName(name string) {
	s.name = name
	s.b.claimLate(name)
}

// StateKind returns the section kind.
func (s *Value[K, N, V]) StateKind() byte { return kindValue }

// StateSchema returns the encoding layout.
func (s *Value[K, N, V]) StateSchema() string { return s.codecs().schema() }

func (s *Value[K, N, V]) codecErr() error { return s.codecs().err }

func (s *Value[K, N, V]) codecs() *stateCodecs[K, N, V] {
	if s.c == nil {
		s.c = newCodecs[K, N, V](s.b)
	}
	return s.c
}

// freezeEntries captures s and returns the writer of its entries: per
// entry the namespace, the key, then what body appends. States whose
// values may change in place are encoded at once (see mutable).
func freezeEntries[K, N comparable, E any](s *base[K, N, E], nc codec.Codec[N], kcod codec.Codec[K], eagerly bool, body func(dst []byte, e E) []byte) (func(dst []byte, idx int) ([]byte, error), error) {
	v := s.freeze()
	kc := s.b.kc
	var index map[int][]nsKey[K, N]
	write := func(dst []byte, idx int) ([]byte, error) {
		v.forGroup(kc, idx, &index, func(n N, k K, e E) {
			dst = nc.Append(dst, n)
			dst = kcod.Append(dst, k)
			dst = body(dst, e)
		})
		return dst, nil
	}
	if eagerly {
		return eager(kc.Range.Len(), write)
	}
	return write, nil
}

// restoreEntries reads the entries of key group idx: per entry the
// namespace and key (which must belong to the key group), then body decodes the rest into the entry's map and
// returns how many bytes it used.
func restoreEntries[K, N comparable, E any](s *base[K, N, E], nc codec.Codec[N], kcod codec.Codec[K], idx int, src []byte, body func(src []byte, m map[K]E, k K) (int, error)) error {
	for len(src) > 0 {
		n, a, err := nc.Decode(src)
		if err != nil {
			return err
		}
		k, b, err := kcod.Decode(src[a:])
		if err != nil {
			return err
		}
		// A key stored under another key group would be invisible to its
		// lookups (and a namespaced one moved by the next snapshot).
		if kc := s.b.kc; kc.GroupOf(k) != kc.Range.Start+idx {
			return fmt.Errorf("%w: a key of key group %d in key group %d", codec.ErrCorrupt, kc.GroupOf(k), kc.Range.Start+idx)
		}
		src = src[a+b:]
		used, err := body(src, s.mapFor(n, idx), k)
		if err != nil {
			return err
		}
		src = src[used:]
	}
	return nil
}

// decodeEntry decodes an expiry and a value.
func decodeEntry[V any](src []byte, vc codec.Codec[V]) (entry[V], int, error) {
	exp, a, err := decodeVarint(src)
	if err != nil {
		return entry[V]{}, 0, err
	}
	v, b, err := vc.Decode(src[a:])
	if err != nil {
		return entry[V]{}, 0, err
	}
	return entry[V]{v: v, exp: exp}, a + b, nil
}

// Freeze captures the state; the writer encodes ns, key, expiry, value.
// Values that can change in place are not encoded now either: Value
// copies such a value before handing it out while the snapshot is being
// written (fork), so the writer's objects stay as they were captured.
func (s *Value[K, N, V]) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	c := s.codecs()
	if c.err != nil {
		return nil, c.err
	}
	return freezeEntries(&s.base, c.n, c.k, false, func(dst []byte, e entry[V]) []byte {
		return c.v.Append(binary.AppendVarint(dst, e.exp), e.v)
	})
}

// RestoreGroup reads key group idx.
func (s *Value[K, N, V]) RestoreGroup(idx int, src []byte) error {
	c := s.codecs()
	if c.err != nil {
		return c.err
	}
	return restoreEntries(&s.base, c.n, c.k, idx, src, func(src []byte, m map[K]entry[V], k K) (int, error) {
		e, n, err := decodeEntry(src, c.v)
		m[k] = e
		return n, err
	})
}

// StateKind returns the section kind.
func (s *List[K, N, V]) StateKind() byte { return kindList }

// StateSchema returns the encoding layout.
func (s *List[K, N, V]) StateSchema() string { return s.codecs().schema() }

func (s *List[K, N, V]) codecErr() error { return s.codecs().err }

func (s *List[K, N, V]) codecs() *stateCodecs[K, N, V] {
	if s.c == nil {
		s.c = newCodecs[K, N, V](s.b)
	}
	return s.c
}

// Freeze captures the state; the writer encodes ns, key, count,
// (expiry, value)*.
func (s *List[K, N, V]) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	c := s.codecs()
	if c.err != nil {
		return nil, c.err
	}
	return freezeEntries(&s.base, c.n, c.k, mutableOf[V](), func(dst []byte, es []entry[V]) []byte {
		dst = binary.AppendUvarint(dst, uint64(len(es)))
		for _, e := range es {
			dst = c.v.Append(binary.AppendVarint(dst, e.exp), e.v)
		}
		return dst
	})
}

// RestoreGroup reads key group idx.
func (s *List[K, N, V]) RestoreGroup(idx int, src []byte) error {
	c := s.codecs()
	if c.err != nil {
		return c.err
	}
	return restoreEntries(&s.base, c.n, c.k, idx, src, func(src []byte, m map[K][]entry[V], k K) (int, error) {
		cnt, used, err := decodeUvarint(src)
		if err != nil || cnt > uint64(len(src)) {
			return 0, fmt.Errorf("%w: list length", codec.ErrCorrupt)
		}
		es := make([]entry[V], 0, cnt)
		for i := uint64(0); i < cnt; i++ {
			e, n, err := decodeEntry(src[used:], c.v)
			if err != nil {
				return 0, err
			}
			used += n
			es = append(es, e)
		}
		m[k] = append(m[k], es...)
		return used, nil
	})
}

// StateKind returns the section kind.
func (s *Map[K, N, UK, UV]) StateKind() byte { return kindMap }

// StateSchema returns the encoding layout.
func (s *Map[K, N, UK, UV]) StateSchema() string {
	return s.codecs().schema() + "|" + codec.Schema[UK]()
}

func (s *Map[K, N, UK, UV]) codecErr() error { return s.codecs().err }

func (s *Map[K, N, UK, UV]) codecs() *stateCodecs[K, N, UV] {
	if s.c == nil {
		s.c = newCodecs[K, N, UV](s.b)
		if s.c.err == nil {
			var err error
			if s.uk, err = codec.For[UK](); err != nil {
				s.c.err = fmt.Errorf("map key type: %w", err)
			}
		}
	}
	return s.c
}

// Freeze captures the state; the writer encodes ns, key, count,
// (user key, expiry, value)*.
func (s *Map[K, N, UK, UV]) Freeze() (func(dst []byte, idx int) ([]byte, error), error) {
	c := s.codecs()
	if c.err != nil {
		return nil, c.err
	}
	ukc := s.uk
	return freezeEntries(&s.base, c.n, c.k, mutableOf[UV]() || mutableOf[UK](), func(dst []byte, in inner[UK, UV]) []byte {
		dst = binary.AppendUvarint(dst, uint64(in.size()))
		if in.p != nil {
			// Packed: the same entries, expiry 0 (a packed state has no
			// TTL).
			for _, w := range in.p[1:] {
				if w != 0 {
					dst = c.v.Append(binary.AppendVarint(ukc.Append(dst, keyOf[UK](&s.pk, w)), 0), valueOf[UV](&s.pk, w))
				}
			}
			return dst
		}
		for uk, v := range in.m {
			dst = c.v.Append(binary.AppendVarint(ukc.Append(dst, uk), in.expOf(uk)), v)
		}
		return dst
	})
}

// RestoreGroup reads key group idx.
func (s *Map[K, N, UK, UV]) RestoreGroup(idx int, src []byte) error {
	c := s.codecs()
	if c.err != nil {
		return c.err
	}
	return restoreEntries(&s.base, c.n, c.k, idx, src, func(src []byte, m map[K]inner[UK, UV], k K) (int, error) {
		cnt, used, err := decodeUvarint(src)
		if err != nil || cnt > uint64(len(src)) {
			return 0, fmt.Errorf("%w: map length", codec.ErrCorrupt)
		}
		in := m[k]
		if in.absent() {
			if s.pk.ok {
				in = inner[UK, UV]{p: newPacked(int(cnt)), epoch: s.b.epoch}
			} else {
				in = inner[UK, UV]{m: make(map[UK]UV, cnt), epoch: s.b.epoch}
			}
			m[k] = in
		}
		for i := uint64(0); i < cnt; i++ {
			uk, n, err := s.uk.Decode(src[used:])
			if err != nil {
				return 0, err
			}
			used += n
			e, n, err := decodeEntry(src[used:], c.v)
			if err != nil {
				return 0, err
			}
			used += n
			if in.p != nil {
				if x, ok := keyBits(&s.pk, uk); ok && e.exp == 0 {
					var grown bool
					if in.p, grown = pput(in.p, x, valueBits(&s.pk, e.v), s.pk.sh); grown {
						m[k] = in
					}
					continue
				}
				// A user key that does not fit a slot, or an expiry
				// (written by a job with TTL): a Go map from now on.
				in = s.unpacked(in)
				m[k] = in
			}
			in.m[uk] = e.v
			switch {
			case e.exp != 0 && in.exp == nil:
				in.exp = map[UK]int64{uk: e.exp}
				m[k] = in
			case e.exp != 0:
				in.exp[uk] = e.exp
			case in.exp != nil:
				delete(in.exp, uk)
			}
		}
		return used, nil
	})
}
