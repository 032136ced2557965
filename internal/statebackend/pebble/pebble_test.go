package pebble

// Tests of what is particular to the Pebble backend: the list frame
// encoding, map Clear by range deletion, the concatenating merge across
// flushes and compactions, panics with *Error, shared file names across
// restores and the state-id remapping of rescaled restores. The behaviour
// both backends share is tested by the conformance suite in package
// states.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir/codec"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	engine "github.com/weirstream/weir/statebackend/pebble"
)

var full = keygroup.Range{Start: 0, End: 128}

func newBackend[K comparable](t *testing.T, r keygroup.Range, now func() int64) *Backend[K] {
	t.Helper()
	kc := statebackend.NewKeyContext(keygroup.Hasher[K](), 128, r)
	if now == nil {
		now = func() int64 { return 0 }
	}
	b, err := New(kc, now, Options{Engine: engine.New(), Dir: t.TempDir(), MemTableSize: 1 << 20, CacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func set[K comparable](t *testing.T, b *Backend[K], k K) {
	t.Helper()
	if err := b.kc.Set(k); err != nil {
		t.Fatal(err)
	}
}

func seal[K comparable](t *testing.T, b *Backend[K]) {
	t.Helper()
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
}

// catch runs fn and returns the *Error it panicked with; it fails the test
// if fn did not panic or panicked with something else.
func catch(t *testing.T, fn func()) (e *Error) {
	t.Helper()
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.As(err, &e) {
			t.Fatalf("panicked with %T %v; want a *pebble.Error", r, r)
		}
	}()
	fn()
	return nil
}

// TestListFrames checks the list frame encoding at the lengths where the
// uvarint length prefix grows (the fix-up in appendFrame), with and without
// expiries, through Add, AddAll, Update, Get and a canonical snapshot.
func TestListFrames(t *testing.T) {
	b := newBackend[string](t, full, func() int64 { return 1 << 40 })
	l := NewList[string, struct{}, string](b, statebackend.TTL{})
	l.SetName("l")
	seal(t, b)

	// Lengths around where the frame's uvarint length (and the string's
	// own) grows from 1 to 2, 2 to 3 and 3 to 4 bytes.
	var lengths []int
	for _, n := range []int{0, 1, 100, 120, 128, 16370, 16384, 1 << 21} {
		lo, hi := n-8, n+8
		if n == 1<<21 {
			lo, hi = n-6, n // a few: these are big
		}
		for x := max(lo, 0); x <= hi; x++ {
			lengths = append(lengths, x)
		}
	}
	slices.Sort(lengths)
	lengths = slices.Compact(lengths)
	alphabet := strings.Repeat("abcdefghijklmnopqrstuvwxyz", (1<<21)/26+2)
	elem := func(n int) string { return alphabet[:n] }

	// The frame encoding itself, after other bytes and with expiries of
	// several widths.
	for _, n := range lengths {
		for _, exp := range []int64{0, 1, -1, 1 << 40, -1 << 62} {
			v := elem(n)
			pre := []byte("prefix")
			got := l.appendFrame(slices.Clone(pre), v, exp)
			if !slices.Equal(got[:len(pre)], pre) {
				t.Fatalf("len %d: appendFrame changed the bytes before the frame", n)
			}
			f := got[len(pre):]
			fl, m := binary.Uvarint(f)
			if m <= 0 || int(fl) != len(f)-m {
				t.Fatalf("len %d exp %d: frame length %d, frame holds %d bytes", n, exp, fl, len(f)-m)
			}
			e, a := binary.Varint(f[m:])
			if e != exp {
				t.Fatalf("len %d: expiry %d, want %d", n, e, exp)
			}
			dv, _, err := l.vc.Decode(f[m+a:])
			if err != nil || dv != v {
				t.Fatalf("len %d exp %d: element decodes to %d bytes, %v", n, exp, len(dv), err)
			}
		}
	}

	// Through the state: one key per length, built with Add, AddAll and
	// Update.
	var keys []string
	want := map[string][]string{}
	for i, n := range lengths {
		if n > 20000 && n != 1<<21 {
			continue
		}
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, k)
		set(t, b, k)
		vs := []string{elem(n), "small", elem(n + 1)}
		switch i % 3 {
		case 0:
			for _, v := range vs {
				l.Add(v)
			}
		case 1:
			l.AddAll(vs)
		case 2:
			l.Update(vs[:1])
			l.AddAll(vs[1:])
		}
		want[k] = vs
	}
	check := func(what string, l *List[string, struct{}, string], b *Backend[string]) {
		t.Helper()
		for _, k := range keys {
			set(t, b, k)
			if got := l.Get(); !slices.Equal(got, want[k]) {
				t.Fatalf("%s: key %s: got %d elements of lengths %v, want lengths %v", what, k, len(got), lens(got), lens(want[k]))
			}
		}
	}
	check("live", l, b)

	// A canonical snapshot (unframe) restored into another backend
	// (importGroup reframes).
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	put := func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }
	if err := snap.Write(put); err != nil {
		t.Fatal(err)
	}
	if err := snap.Native.Canonical(put); err != nil {
		t.Fatal(err)
	}
	if err := snap.Native.Release(); err != nil {
		t.Fatal(err)
	}
	b2 := newBackend[string](t, full, nil)
	l2 := NewList[string, struct{}, string](b2, statebackend.TTL{})
	l2.SetName("l")
	if err := b2.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	seal(t, b2)
	check("restored from canonical", l2, b2)
}

func lens(vs []string) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = len(v)
	}
	return out
}

// TestListTTLLongElements rewrites lists of long elements on Get (expired
// elements dropped, the rest refreshed).
func TestListTTLLongElements(t *testing.T) {
	now := int64(0)
	b := newBackend[string](t, full, func() int64 { return now })
	l := NewList[string, struct{}, string](b, statebackend.TTL{TTLMillis: 100, Update: statebackend.OnReadAndWrite})
	l.SetName("l")
	seal(t, b)
	set(t, b, "k")
	long := strings.Repeat("x", 300)
	l.Add(long)
	now = 50
	l.AddAll([]string{long + "y", "short", long + "z"})
	now = 120 // the first expired; Get rewrites the others
	if got := l.Get(); !slices.Equal(got, []string{long + "y", "short", long + "z"}) {
		t.Fatalf("Get = lengths %v", lens(got))
	}
	now = 200 // refreshed at 120: live until 220
	l.Add("last")
	if got := l.Get(); !slices.Equal(got, []string{long + "y", "short", long + "z", "last"}) {
		t.Fatalf("Get after refresh = lengths %v", lens(got))
	}
}

// TestMapClearRange checks that Map.Clear (a range deletion) removes the
// current key's entries in the current namespace only, for keys whose
// encodings share prefixes, end in 0xFF bytes or straddle the one- to
// two-byte length prefix.
func TestMapClearRange(t *testing.T) {
	b := newBackend[string](t, full, nil)
	m := NewMap[string, int64, string, int64](b, statebackend.TTL{})
	m.SetName("m")
	v := NewValue[string, int64, int64](b, statebackend.TTL{})
	v.SetName("v")
	seal(t, b)
	keys := []string{"", "a", "ab", "a\x00", "a\xff", "\xff", "\xff\xff", "\xff\xff\xff",
		strings.Repeat("p", 125), strings.Repeat("p", 126), strings.Repeat("p", 127), strings.Repeat("p", 128)}
	spaces := []int64{0, -1, 1, 63, -64, 64, 1 << 40}
	uks := []string{"", "\x00", "u", "\xff"}
	type entry struct {
		k  string
		ns int64
	}
	present := map[entry]bool{}
	for _, k := range keys {
		set(t, b, k)
		for _, ns := range spaces {
			m.SetNamespace(ns)
			v.SetNamespace(ns)
			for i, uk := range uks {
				m.Put(uk, int64(i))
			}
			v.Update(ns)
			present[entry{k, ns}] = true
		}
	}
	verify := func() {
		t.Helper()
		for _, k := range keys {
			set(t, b, k)
			for _, ns := range spaces {
				m.SetNamespace(ns)
				v.SetNamespace(ns)
				n := 0
				for uk, x := range m.All() {
					if uks[x] != uk {
						t.Fatalf("key %q ns %d: entry %q=%d", k, ns, uk, x)
					}
					n++
				}
				want := 0
				if present[entry{k, ns}] {
					want = len(uks)
				}
				if n != want {
					t.Fatalf("key %q ns %d: %d entries, want %d", k, ns, n, want)
				}
				if got, ok := v.Value(); !ok || got != ns {
					t.Fatalf("key %q ns %d: value state = %d, %v (Map.Clear must not touch it)", k, ns, got, ok)
				}
			}
		}
	}
	for i, k := range keys {
		set(t, b, k)
		ns := spaces[i%len(spaces)]
		m.SetNamespace(ns)
		m.Clear()
		delete(present, entry{k, ns})
		verify()
	}
	// Also after a flush (the range deletion in an SST).
	if err := b.db.Flush(); err != nil {
		t.Fatal(err)
	}
	verify()
}

// TestListMergeAcrossFlushes checks that lists built by merges keep their
// order when the operands are spread over the memtable and SSTs and after
// compaction, also over an Update (Set) or Clear (Delete) in between.
func TestListMergeAcrossFlushes(t *testing.T) {
	b := newBackend[string](t, full, nil)
	l := NewList[string, struct{}, int](b, statebackend.TTL{})
	l.SetName("l")
	seal(t, b)
	flush := func() {
		t.Helper()
		if err := b.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	set(t, b, "a")
	l.Add(1)
	flush()
	l.Add(2)
	flush()
	l.AddAll([]int{3, 4})
	set(t, b, "b")
	l.Update([]int{10})
	flush()
	l.Add(11)
	set(t, b, "c")
	l.Add(20)
	flush()
	l.Clear()
	flush()
	l.Add(21)
	set(t, b, "a")
	l.Add(5)
	want := map[string][]int{"a": {1, 2, 3, 4, 5}, "b": {10, 11}, "c": {21}}
	check := func(what string) {
		t.Helper()
		for k, w := range want {
			set(t, b, k)
			if got := l.Get(); !slices.Equal(got, w) {
				t.Fatalf("%s: list of %s = %v, want %v", what, k, got, w)
			}
		}
	}
	check("memtable and SSTs")
	if err := engine.DB(b.db).Compact(context.Background(), []byte{0}, []byte{0xFF, 0xFF}, true); err != nil {
		t.Fatal(err)
	}
	check("after compaction")
	flush()
	set(t, b, "a")
	l.Add(6)
	want["a"] = append(want["a"], 6)
	check("after compaction and another add")
}

// TestAccessorErrorsPanic checks that failures under state accessors panic
// with *Error naming the state: corrupt values, use after Close.
func TestAccessorErrorsPanic(t *testing.T) {
	b := newBackend[string](t, full, nil)
	v := NewValue[string, struct{}, string](b, statebackend.TTL{})
	v.SetName("val")
	l := NewList[string, struct{}, string](b, statebackend.TTL{})
	l.SetName("lst")
	m := NewMap[string, struct{}, string, string](b, statebackend.TTL{})
	m.SetName("map")
	seal(t, b)
	set(t, b, "k")
	raw := func(key []byte, val []byte) {
		t.Helper()
		if err := b.db.Set(append([]byte(nil), key...), val); err != nil {
			t.Fatal(err)
		}
	}
	raw(v.key(), []byte{0x02, 0x09}) // expiry 1, then a string longer than the rest
	if e := catch(t, func() { v.Value() }); e.State != "val" || !errors.Is(e, codec.ErrCorrupt) {
		t.Fatalf("Value on a corrupt entry panicked with %v", e)
	}
	raw(l.key(), []byte{0x05, 0x00})
	if e := catch(t, func() { l.Get() }); e.State != "lst" {
		t.Fatalf("Get on a corrupt list panicked with %v", e)
	}
	raw(m.ukey("x"), []byte{0x00, 0x05, 'a'})
	if e := catch(t, func() { m.Get("x") }); e.State != "map" {
		t.Fatalf("Map.Get on a corrupt entry panicked with %v", e)
	}
	if e := catch(t, func() { m.IsEmpty() }); e.State != "map" {
		t.Fatalf("Map.IsEmpty on a corrupt entry panicked with %v", e)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if e := catch(t, func() { v.Update("x") }); e.Op == "" {
		t.Fatalf("use after Close panicked with %v", e)
	}
}

// TestFailedSealPanicsOnUse: states of a backend whose Seal failed panic
// with *Error instead of dereferencing a nil database.
func TestFailedSealPanicsOnUse(t *testing.T) {
	b := newBackend[string](t, full, nil)
	v := NewValue[string, struct{}, chan int](b, statebackend.TTL{}) // no codec
	v.SetName("v")
	if err := b.Seal(); err == nil || !strings.Contains(err.Error(), `"v"`) {
		t.Fatalf("Seal = %v; want an error naming the state", err)
	}
	set(t, b, "k")
	catch(t, func() { v.Update(nil) })
}

// TestRegisterAfterSeal: a state registered after Seal gets its own id
// instead of sharing another state's.
func TestRegisterAfterSeal(t *testing.T) {
	b := newBackend[string](t, full, nil)
	a := NewValue[string, struct{}, int64](b, statebackend.TTL{})
	a.SetName("a")
	seal(t, b)
	late := NewValue[string, struct{}, int64](b, statebackend.TTL{})
	late.SetName("late")
	set(t, b, "k")
	a.Update(1)
	late.Update(2)
	if got, _ := a.Value(); got != 1 {
		t.Fatalf("a = %d after writing the late state", got)
	}
	if got, _ := late.Value(); got != 2 {
		t.Fatalf("late = %d", got)
	}
	dup := NewValue[string, struct{}, int64](b, statebackend.TTL{})
	dup.SetName("a")
	if e := catch(t, func() { dup.Value() }); !strings.Contains(e.Error(), "two states") {
		t.Fatalf("a late state named like another panicked with %v", e)
	}
}

// nativeOf persists a snapshot's native files to storage (copies) and
// returns how to restore from them.
func nativeOf(t *testing.T, n *statebackend.NativeSnapshot) statebackend.NativeRestore {
	t.Helper()
	storage := t.TempDir()
	h := statebackend.NativeRestore{Kind: n.Kind, Start: n.Start, End: n.End}
	for _, f := range n.Files {
		keep := filepath.Join(storage, f.Name)
		if err := copyFile(filepath.Join(n.Dir, f.Name), keep); err != nil {
			t.Fatal(err)
		}
		h.Files = append(h.Files, statebackend.NativeRestoreFile{Name: f.Name, Shared: f.Shared,
			Fetch: func(_ context.Context, dst string) error { return copyFile(keep, dst) }})
	}
	if err := n.Release(); err != nil {
		t.Fatal(err)
	}
	return h
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestSharedNamesSurviveRestore: a database restored from its own
// snapshot's files keeps their shared names, so the next checkpoint does
// not store them again; its new files get names of their own.
func TestSharedNamesSurviveRestore(t *testing.T) {
	b := newBackend[string](t, full, nil)
	v := NewValue[string, struct{}, int64](b, statebackend.TTL{})
	v.SetName("v")
	seal(t, b)
	for i := 0; i < 100; i++ {
		set(t, b, fmt.Sprint(i))
		v.Update(int64(i))
	}
	s1, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	shared1 := map[string]string{}
	for _, f := range s1.Native.Files {
		if f.Shared != "" {
			shared1[f.Name] = f.Shared
		}
	}
	if len(shared1) == 0 {
		t.Fatal("no shared files in a snapshot")
	}
	h := nativeOf(t, s1.Native)

	b2 := newBackend[string](t, full, nil)
	v2 := NewValue[string, struct{}, int64](b2, statebackend.TTL{})
	v2.SetName("v")
	if err := b2.SetNative(context.Background(), []statebackend.NativeRestore{h}); err != nil {
		t.Fatal(err)
	}
	seal(t, b2)
	set(t, b2, "1000")
	v2.Update(1000)
	s2, err := b2.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Native.Release()
	kept, fresh := 0, 0
	for _, f := range s2.Native.Files {
		if f.Shared == "" {
			continue
		}
		if old, ok := shared1[f.Name]; ok {
			if f.Shared != old {
				t.Fatalf("restored file %s shared as %s, was %s", f.Name, f.Shared, old)
			}
			kept++
			continue
		}
		for _, old := range shared1 {
			if f.Shared == old {
				t.Fatalf("new file %s reuses the shared name %s", f.Name, old)
			}
		}
		fresh++
	}
	if kept == 0 || fresh == 0 {
		t.Fatalf("second snapshot: %d restored and %d new shared files; want both", kept, fresh)
	}
	set(t, b2, "7")
	if got, ok := v2.Value(); !ok || got != 7 {
		t.Fatalf("restored value = %d, %v", got, ok)
	}
}

// TestMergeRemapsStateIDs restores two databases that gave the same
// states different ids into one (copyFrom), and one into a subtask that
// registers only some of them.
func TestMergeRemapsStateIDs(t *testing.T) {
	names := []string{"a", "b", "c"}
	type sub struct {
		b  *Backend[string]
		vs map[string]*Value[string, struct{}, string]
	}
	mk := func(r keygroup.Range, order []string) sub {
		s := sub{b: newBackend[string](t, r, nil), vs: map[string]*Value[string, struct{}, string]{}}
		for _, n := range order {
			s.vs[n] = NewValue[string, struct{}, string](s.b, statebackend.TTL{})
			s.vs[n].SetName(n)
		}
		return s
	}
	halves := []sub{
		mk(keygroup.RangeFor(128, 2, 0), []string{"a", "b", "c"}),
		mk(keygroup.RangeFor(128, 2, 1), []string{"c", "a", "b"}),
	}
	want := map[string]string{}
	var hs []statebackend.NativeRestore
	for i, h := range halves {
		seal(t, h.b)
		for j := 0; j < 200; j++ {
			k := fmt.Sprint(j)
			if !h.b.kc.Range.Contains(h.b.kc.GroupOf(k)) {
				continue
			}
			set(t, h.b, k)
			for _, n := range names {
				h.vs[n].Update(n + k)
				want[n+"/"+k] = n + k
			}
		}
		snap, err := h.b.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, nativeOf(t, snap.Native))
		if i == 1 {
			for _, n := range names {
				if h.b.reg[n].sid == halves[0].b.reg[n].sid {
					t.Fatalf("state %s has id %d in both databases; the test needs different ids", n, h.b.reg[n].sid)
				}
			}
		}
	}
	one := mk(full, []string{"b", "c", "a"})
	if err := one.b.SetNative(context.Background(), hs); err != nil {
		t.Fatal(err)
	}
	seal(t, one.b)
	got := map[string]string{}
	for j := 0; j < 200; j++ {
		k := fmt.Sprint(j)
		set(t, one.b, k)
		for _, n := range names {
			if x, ok := one.vs[n].Value(); ok {
				got[n+"/"+k] = x
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("merged: %d entries, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("merged: %s = %q, want %q", k, got[k], w)
		}
	}
}

// TestNativeSnapshotOtherKind refuses native state of another backend.
func TestNativeSnapshotOtherKind(t *testing.T) {
	b := newBackend[string](t, full, nil)
	err := b.SetNative(context.Background(), []statebackend.NativeRestore{{Kind: "rocksdb", Start: 0, End: 128}})
	if err == nil {
		t.Fatal("SetNative accepted a native snapshot of another backend")
	}
	err = ReadNative(context.Background(), engine.New(), []statebackend.NativeRestore{{Kind: "rocksdb", Start: 0, End: 128}}, 0, 128, t.TempDir(), func(int, []byte) {})
	if err == nil {
		t.Fatal("ReadNative accepted a native snapshot of another backend")
	}
}

// TestRegisterAfterSealClaimsRestoredState: a state registered after Seal
// gets the canonical state restored under its name (not left an orphan to
// be written again next to it).
func TestRegisterAfterSealClaimsRestoredState(t *testing.T) {
	src := newBackend[string](t, full, nil)
	sv := NewValue[string, struct{}, int64](src, statebackend.TTL{})
	sv.SetName("late")
	seal(t, src)
	set(t, src, "k")
	sv.Update(1)
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	put := func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }
	if err := snap.Write(put); err != nil {
		t.Fatal(err)
	}
	if err := snap.Native.Canonical(put); err != nil {
		t.Fatal(err)
	}
	_ = snap.Native.Release()

	b := newBackend[string](t, full, nil)
	if err := b.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	seal(t, b)
	late := NewValue[string, struct{}, int64](b, statebackend.TTL{})
	late.SetName("late")
	set(t, b, "k")
	if got, ok := late.Value(); !ok || got != 1 {
		t.Fatalf("late state = %d, %v; want the restored 1", got, ok)
	}
	late.Update(2)
	s2, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Native.Release()
	n := 0
	if err := s2.Write(func(int, []byte) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the claimed state is still written as an orphan (%d sections)", n)
	}
}

// TestRegistryNames: state names of any bytes survive a native round trip.
func TestRegistryNames(t *testing.T) {
	names := []string{"\xff\xff\xff\xff", "\xff", "", "a"}
	b := newBackend[string](t, full, nil)
	var vs []*Value[string, struct{}, string]
	for _, n := range names {
		v := NewValue[string, struct{}, string](b, statebackend.TTL{})
		v.SetName(n)
		vs = append(vs, v)
	}
	seal(t, b)
	set(t, b, "k")
	for i, v := range vs {
		v.Update(names[i])
	}
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h := nativeOf(t, snap.Native)
	for _, r := range []keygroup.Range{full, keygroup.RangeFor(128, 2, b.kc.KeyGroup*2/128)} {
		b2 := newBackend[string](t, r, nil)
		var vs2 []*Value[string, struct{}, string]
		for _, n := range names {
			v := NewValue[string, struct{}, string](b2, statebackend.TTL{})
			v.SetName(n)
			vs2 = append(vs2, v)
		}
		if err := b2.SetNative(context.Background(), []statebackend.NativeRestore{h}); err != nil {
			t.Fatal(err)
		}
		seal(t, b2)
		set(t, b2, "k")
		for i, v := range vs2 {
			if got, ok := v.Value(); !ok || got != names[i] {
				t.Fatalf("range %v: state %q = %q, %v", r, names[i], got, ok)
			}
		}
	}
}

// TestFailedFetchLeavesNoFiles: a native restore whose fetch fails
// returns the error and leaves no partial files behind.
func TestFailedFetchLeavesNoFiles(t *testing.T) {
	boom := errors.New("storage down")
	h := statebackend.NativeRestore{Kind: Kind, Start: 0, End: 128, Files: []statebackend.NativeRestoreFile{
		{Name: "000001.sst", Fetch: func(_ context.Context, dst string) error { return os.WriteFile(dst, []byte("partial"), 0o644) }},
		{Name: "MANIFEST-000001", Fetch: func(context.Context, string) error { return boom }},
	}}
	dir := t.TempDir()
	kc := statebackend.NewKeyContext(keygroup.Hasher[string](), 128, full)
	b, err := New(kc, func() int64 { return 0 }, Options{Engine: engine.New(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetNative(context.Background(), []statebackend.NativeRestore{h}); !errors.Is(err, boom) {
		t.Fatalf("SetNative = %v; want the fetch error", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := ReadNative(context.Background(), engine.New(), []statebackend.NativeRestore{h}, 0, 128, tmp, func(int, []byte) {}); !errors.Is(err, boom) {
		t.Fatalf("ReadNative = %v; want the fetch error", err)
	}
	for _, d := range []string{dir, tmp} {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 0 {
			t.Fatalf("%s holds %d entries after a failed fetch (first %s)", d, len(ents), ents[0].Name())
		}
	}
}

// TestLargeRestore restores more state than one write batch holds (4 MiB)
// and than the memtable holds, natively at another parallelism (copyFrom)
// and from canonical sections (Seal's import).
func TestLargeRestore(t *testing.T) {
	const n, size = 1200, 10 << 10
	val := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), size-i%7) }
	src := newBackend[int64](t, full, nil)
	sv := NewValue[int64, struct{}, string](src, statebackend.TTL{})
	sv.SetName("v")
	sl := NewList[int64, struct{}, string](src, statebackend.TTL{})
	sl.SetName("l")
	seal(t, src)
	for i := 0; i < n; i++ {
		set(t, src, int64(i))
		sv.Update(val(i))
		if i%10 == 0 {
			sl.AddAll([]string{val(i), val(i + 1)})
		}
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	groups := map[int][]byte{}
	put := func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }
	if err := snap.Write(put); err != nil {
		t.Fatal(err)
	}
	if err := snap.Native.Canonical(put); err != nil {
		t.Fatal(err)
	}
	h := nativeOf(t, snap.Native)
	check := func(what string, b *Backend[int64], v *Value[int64, struct{}, string], l *List[int64, struct{}, string]) {
		t.Helper()
		for i := 0; i < n; i++ {
			if !b.kc.Range.Contains(b.kc.GroupOf(int64(i))) {
				continue
			}
			set(t, b, int64(i))
			if got, ok := v.Value(); !ok || got != val(i) {
				t.Fatalf("%s: key %d: value of %d bytes, %v", what, i, len(got), ok)
			}
			want := 0
			if i%10 == 0 {
				want = 2
			}
			if got := l.Get(); len(got) != want || (want > 0 && got[1] != val(i+1)) {
				t.Fatalf("%s: key %d: list of %d elements", what, i, len(got))
			}
		}
	}
	for sub := 0; sub < 2; sub++ {
		b := newBackend[int64](t, keygroup.RangeFor(128, 2, sub), nil)
		l := NewList[int64, struct{}, string](b, statebackend.TTL{})
		l.SetName("l")
		v := NewValue[int64, struct{}, string](b, statebackend.TTL{})
		v.SetName("v")
		if err := b.SetNative(context.Background(), []statebackend.NativeRestore{h}); err != nil {
			t.Fatal(err)
		}
		seal(t, b)
		check(fmt.Sprintf("native, subtask %d of 2", sub), b, v, l)
	}
	b := newBackend[int64](t, full, nil)
	l := NewList[int64, struct{}, string](b, statebackend.TTL{})
	l.SetName("l")
	v2 := NewValue[int64, struct{}, string](b, statebackend.TTL{})
	v2.SetName("v")
	if err := b.SetRestore(groups); err != nil {
		t.Fatal(err)
	}
	seal(t, b)
	check("canonical", b, v2, l)
}

// TestStoredBufferReused: Pebble encodes what it is given, so a caller may
// reuse a buffer after Update, or change a value it read (as with Flink's
// RocksDB backend); the entry cache must not change that. Values that can
// be changed in place are cached encoded, plain values decoded, with every
// write visible to a snapshot.
func TestStoredBufferReused(t *testing.T) {
	b := newBackend[int64](t, full, nil)
	v := NewValue[int64, struct{}, []byte](b, statebackend.TTL{})
	v.SetName("bytes")
	n := NewValue[int64, struct{}, int64](b, statebackend.TTL{})
	n.SetName("n")
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
	if v.cache == nil || !v.cache.encoded {
		t.Fatal("a []byte value state has no encoded entry cache")
	}
	if n.cache == nil || n.cache.encoded {
		t.Fatal("an int64 value state has no decoded entry cache")
	}
	buf := make([]byte, 8)
	for k := int64(0); k < 100; k++ {
		set(t, b, k)
		binary.BigEndian.PutUint64(buf, uint64(k))
		v.Update(buf)
		n.Update(k * 10)
	}
	for k := int64(0); k < 100; k++ {
		set(t, b, k)
		got, ok := v.Value()
		if !ok || binary.BigEndian.Uint64(got) != uint64(k) {
			t.Fatalf("key %d: got %x, %v", k, got, ok)
		}
		got[0] ^= 0xFF // changing a value read changes nothing stored
		if again, _ := v.Value(); binary.BigEndian.Uint64(again) != uint64(k) {
			t.Fatalf("key %d: a change to a value read reached the state: %x", k, again)
		}
	}
	// Cached writes reach the snapshot.
	snap, err := b.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Native.Release()
	got := map[int]int{}
	if err := snap.Native.Canonical(func(kg int, sec []byte) { got[kg]++ }); err != nil {
		t.Fatal(err)
	}
	sections := 0
	for _, c := range got {
		sections += c
	}
	if sections == 0 {
		t.Fatal("the snapshot holds no sections")
	}
	// Restore into a fresh backend and read the cached state's values.
	dir := snap.Native.Dir
	var files []statebackend.NativeRestoreFile
	for _, f := range snap.Native.Files {
		src := filepath.Join(dir, f.Name)
		files = append(files, statebackend.NativeRestoreFile{Name: f.Name, Fetch: func(_ context.Context, dst string) error {
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}})
	}
	r := newBackend[int64](t, full, nil)
	if err := r.SetNative(context.Background(), []statebackend.NativeRestore{{Kind: Kind, Start: 0, End: 128, Files: files}}); err != nil {
		t.Fatal(err)
	}
	rn := NewValue[int64, struct{}, int64](r, statebackend.TTL{})
	rn.SetName("n")
	if err := r.Seal(); err != nil {
		t.Fatal(err)
	}
	for k := int64(0); k < 100; k++ {
		set(t, r, k)
		if got, ok := rn.Value(); !ok || got != k*10 {
			t.Fatalf("restored key %d: got %d, %v; want %d", k, got, ok, k*10)
		}
	}
}
