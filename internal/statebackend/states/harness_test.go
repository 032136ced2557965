package states_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/internal/statebackend/pebble"
	engine "github.com/weirstream/weir/statebackend/pebble"
)

// The harness: a backend of either kind over a key-group range, snapshots
// taken to a stand-in for checkpoint storage, and restores from it.

const maxPar = 128

// kinds are the backends every conformance test runs over: the heap, and
// Pebble with its default entry cache, with a cache of 3 entries (writes
// applied on almost every access) and with none.
var kinds = []string{"heap", "pebble", "pebble-cache3", "pebble-nocache"}

// full is the key-group range of a subtask at parallelism 1.
var full = keygroup.Range{Start: 0, End: maxPar}

// clock is a fake processing-time clock for TTL.
type clock struct{ now int64 }

func (c *clock) fn() func() int64 { return func() int64 { return c.now } }

// env is one backend instance under test.
type env[K comparable] struct {
	t     *testing.T
	kind  string
	kc    *statebackend.KeyContext[K]
	b     statebackend.Backend[K]
	clock *clock
}

// newEnv creates a backend of the given kind owning r. It is closed when the
// test ends.
func newEnv[K comparable](t *testing.T, kind string, r keygroup.Range, c *clock) *env[K] {
	t.Helper()
	if c == nil {
		c = &clock{}
	}
	kc := statebackend.NewKeyContext(keygroup.Hasher[K](), maxPar, r)
	var b statebackend.Backend[K]
	switch kind {
	case "heap":
		b = heap.New(kc, c.fn())
	case "pebble", "pebble-cache3", "pebble-nocache":
		entries := map[string]int{"pebble": 0, "pebble-cache3": 3, "pebble-nocache": -1}[kind]
		pb, err := pebble.New(kc, c.fn(), pebble.Options{Engine: engine.New(), Dir: t.TempDir(), MemTableSize: 1 << 20, CacheSize: 1 << 20, EntryCache: entries})
		if err != nil {
			t.Fatal(err)
		}
		b = pb
	default:
		t.Fatalf("unknown backend kind %q", kind)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close %s backend: %v", kind, err)
		}
	})
	return &env[K]{t: t, kind: kind, kc: kc, b: b, clock: c}
}

// set makes k the current key; it fails the test if k is not in range.
func (e *env[K]) set(k K) {
	e.t.Helper()
	if err := e.kc.Set(k); err != nil {
		e.t.Fatal(err)
	}
}

// owns reports whether k belongs to this backend's range.
func (e *env[K]) owns(k K) bool { return e.kc.Range.Contains(e.kc.GroupOf(k)) }

func (e *env[K]) seal() {
	e.t.Helper()
	if err := e.b.Seal(); err != nil {
		e.t.Fatalf("Seal: %v", err)
	}
}

// image is a snapshot as storage keeps it: canonical sections by key group
// and, for Pebble checkpoints, native snapshots.
type image struct {
	groups map[int][]byte
	native []statebackend.NativeRestore
}

// merge returns the images of several subtasks as one (a restore after a
// change of parallelism reads all of them).
func merge(imgs ...image) image {
	out := image{groups: map[int][]byte{}}
	for _, img := range imgs {
		for kg, b := range img.groups {
			out.groups[kg] = append(out.groups[kg], b...)
		}
		out.native = append(out.native, img.native...)
	}
	return out
}

// restore hands img to the backend before Seal: SetRestore for the
// canonical sections, SetNative for Pebble's native snapshots (a heap
// backend converts those with pebble.ReadNative).
func (e *env[K]) restore(img image) {
	e.t.Helper()
	groups := map[int][]byte{}
	for kg, b := range img.groups {
		groups[kg] = append([]byte(nil), b...)
	}
	if len(img.native) > 0 {
		if pb, ok := e.b.(*pebble.Backend[K]); ok {
			if err := pb.SetNative(context.Background(), img.native); err != nil {
				e.t.Fatalf("SetNative: %v", err)
			}
		} else {
			r := e.kc.Range
			err := pebble.ReadNative(context.Background(), engine.New(), img.native, r.Start, r.End, e.t.TempDir(), func(kg int, sec []byte) {
				groups[kg] = append(groups[kg], sec...)
			})
			if err != nil {
				e.t.Fatalf("ReadNative: %v", err)
			}
		}
	}
	if err := e.b.SetRestore(groups); err != nil {
		e.t.Fatalf("SetRestore: %v", err)
	}
}

// stored is a finished snapshot in both the forms a restore may read.
type stored struct {
	// checkpoint is what a checkpoint keeps: Write's sections and the
	// native files (none for the heap).
	checkpoint image
	// savepoint is everything in canonical form: Write's sections plus
	// Native.Canonical.
	savepoint image
}

// form returns the image of the named form ("checkpoint" or "savepoint").
func (s stored) form(name string) image {
	if name == "savepoint" {
		return s.savepoint
	}
	return s.checkpoint
}

// capture takes the synchronous part of a snapshot.
func (e *env[K]) capture() statebackend.Snapshot {
	e.t.Helper()
	s, err := e.b.Snapshot()
	if err != nil {
		e.t.Fatalf("Snapshot: %v", err)
	}
	return s
}

// finish runs the asynchronous part of a captured snapshot as a checkpoint
// would: writes the canonical sections, converts the native files to
// canonical form (savepoint), copies them to storage, and releases the
// local snapshot directory.
func finish(t *testing.T, s statebackend.Snapshot) stored {
	t.Helper()
	st, err := finishTo(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// finishTo is finish with storage in dir; it may run on another goroutine.
func finishTo(storage string, s statebackend.Snapshot) (stored, error) {
	groups := map[int][]byte{}
	if err := s.Write(func(kg int, sec []byte) { groups[kg] = append(groups[kg], sec...) }); err != nil {
		return stored{}, fmt.Errorf("Snapshot.Write: %w", err)
	}
	sp := map[int][]byte{}
	for kg, b := range groups {
		sp[kg] = append([]byte(nil), b...)
	}
	out := stored{checkpoint: image{groups: groups}, savepoint: image{groups: sp}}
	n := s.Native
	if n == nil {
		return out, nil
	}
	if err := n.Canonical(func(kg int, sec []byte) { sp[kg] = append(sp[kg], sec...) }); err != nil {
		return stored{}, fmt.Errorf("NativeSnapshot.Canonical: %w", err)
	}
	h := statebackend.NativeRestore{Kind: n.Kind, Start: n.Start, End: n.End}
	for _, f := range n.Files {
		keep := filepath.Join(storage, f.Name)
		if err := copyFile(filepath.Join(n.Dir, f.Name), keep); err != nil {
			return stored{}, err
		}
		h.Files = append(h.Files, statebackend.NativeRestoreFile{
			Name:   f.Name,
			Shared: f.Shared,
			Fetch:  func(_ context.Context, dst string) error { return copyFile(keep, dst) },
		})
	}
	if err := n.Release(); err != nil {
		return stored{}, fmt.Errorf("Release: %w", err)
	}
	out.checkpoint.native = []statebackend.NativeRestore{h}
	return out, nil
}

// snapshot captures and finishes a snapshot at once.
func (e *env[K]) snapshot() stored {
	e.t.Helper()
	return finish(e.t, e.capture())
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

// path is a way from a snapshot of one backend kind to a restore into one.
type path struct {
	from, to, form string
}

func (p path) String() string { return fmt.Sprintf("%s-%s-to-%s", p.from, p.form, p.to) }

// paths are all the snapshot → restore round trips: heap→heap, heap→pebble
// (canonical), pebble→pebble (native files), pebble→heap (native files read
// with ReadNative), and pebble savepoints (Native.Canonical) into both.
var paths = []path{
	{"heap", "heap", "checkpoint"},
	{"heap", "pebble", "checkpoint"},
	{"pebble", "pebble", "checkpoint"},
	{"pebble", "heap", "checkpoint"},
	{"pebble", "heap", "savepoint"},
	{"pebble", "pebble", "savepoint"},
}
