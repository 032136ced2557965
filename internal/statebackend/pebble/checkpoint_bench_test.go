package pebble_test

// Fault-tolerance benchmarks of the Pebble state backend (issue 3): an
// incremental checkpoint of a large state, recovery from a checkpoint
// (natively, rescaled, into the heap backend), the synchronous pause at a
// barrier, and the throughput of state accesses against the heap backend
// and a plain Go map. Snapshots are stored in a checkpoint.Storage the way
// the checkpoint driver stores them (internal/graph, writeNative) and
// restored the way keyed.go restores them. Results and commands are in
// docs/benchmarks.md, "Pebble state backend".
//
// The large states are built inside the benchmark functions, so nothing
// is built unless -bench selects them. WEIR_PEBBLE_BENCH_SCALE (a factor,
// default 1) scales every key count for a quick trial run, and
// WEIR_PEBBLE_BENCH_COPY_DIR (default /dev/shm) is a directory on another
// filesystem than the temporary directory, where checkpoint storage must
// copy files instead of hard-linking them.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	pdb "github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/keygroup"
	"github.com/weirstream/weir/internal/statebackend"
	"github.com/weirstream/weir/internal/statebackend/heap"
	"github.com/weirstream/weir/internal/statebackend/pebble"
	"github.com/weirstream/weir/internal/statebackend/states"
	engine "github.com/weirstream/weir/statebackend/pebble"
)

const (
	maxPar = 128
	// valueSize is the length of the []byte values of the large states.
	valueSize = 100
)

var full = keygroup.Range{Start: 0, End: maxPar}

// scaled returns n times WEIR_PEBBLE_BENCH_SCALE.
func scaled(b *testing.B, n int) int {
	s := os.Getenv("WEIR_PEBBLE_BENCH_SCALE")
	if s == "" {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		b.Fatalf("WEIR_PEBBLE_BENCH_SCALE=%q: want a positive number", s)
	}
	return max(1, int(float64(n)*f))
}

// valueOf returns the value of key i at version ver: valueSize
// pseudo-random (incompressible) bytes in buf.
func valueOf(buf *[valueSize + 8]byte, i int64, ver uint64) []byte {
	r := rand.NewPCG(uint64(i), ver)
	for j := 0; j+8 <= len(buf); j += 8 {
		binary.LittleEndian.PutUint64(buf[j:], r.Uint64())
	}
	return buf[:valueSize]
}

// newPebble returns a Pebble backend (default options) owning r in dir.
func newPebble[K comparable](b *testing.B, dir string, r keygroup.Range) (*statebackend.KeyContext[K], *pebble.Backend[K]) {
	b.Helper()
	kc := statebackend.NewKeyContext(keygroup.Hasher[K](), maxPar, r)
	be, err := pebble.New(kc, func() int64 { return 0 }, pebble.Options{Engine: engine.New(), Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	return kc, be
}

// bigState is a Pebble backend with one value state of n int64 keys and
// valueSize-byte values, built through the state API.
type bigState struct {
	kc  *statebackend.KeyContext[int64]
	be  *pebble.Backend[int64]
	v   statebackend.Value[struct{}, []byte]
	n   int
	ver map[int64]uint64 // keys updated since the build: their version
}

func buildBig(b *testing.B, dir string, n int) *bigState {
	b.Helper()
	kc, be := newPebble[int64](b, dir, full)
	v := states.NewValue[int64, struct{}, []byte](be, statebackend.TTL{})
	v.SetName("v")
	if err := be.Seal(); err != nil {
		b.Fatal(err)
	}
	s := &bigState{kc: kc, be: be, v: v, n: n, ver: map[int64]uint64{}}
	var buf [valueSize + 8]byte
	t0 := time.Now()
	for i := int64(0); i < int64(n); i++ {
		s.set(b, i)
		v.Update(valueOf(&buf, i, 0))
	}
	b.Logf("built %d keys x %d-byte values through the state API in %v (%.0f keys/s)",
		n, valueSize, time.Since(t0).Round(time.Millisecond), float64(n)/time.Since(t0).Seconds())
	return s
}

func (s *bigState) set(b *testing.B, k int64) {
	if err := s.kc.Set(k); err != nil {
		b.Fatal(err)
	}
}

// update gives count random keys a new value (version ver).
func (s *bigState) update(b *testing.B, rng *rand.Rand, count int, ver uint64) {
	var buf [valueSize + 8]byte
	for range count {
		k := rng.Int64N(int64(s.n))
		s.set(b, k)
		s.v.Update(valueOf(&buf, k, ver))
		s.ver[k] = ver
	}
}

// check reads key k and compares it with what was written.
func (s *bigState) check(b *testing.B, kc *statebackend.KeyContext[int64], v statebackend.Value[struct{}, []byte], k int64) {
	b.Helper()
	if err := kc.Set(k); err != nil {
		b.Fatal(err)
	}
	var buf [valueSize + 8]byte
	got, ok := v.Value()
	if want := valueOf(&buf, k, s.ver[k]); !ok || string(got) != string(want) {
		b.Fatalf("key %d: value %x (%v), want %x", k, got, ok, want)
	}
}

// storage is a checkpoint storage and the shared objects stored into it,
// to count what a checkpoint stores anew.
type storage struct {
	st     *checkpoint.Storage
	shared map[string]bool
}

// stored is what storing one checkpoint did.
type stored struct {
	files, newFiles   int
	bytes, newBytes   int64
	syncDur, asyncDur time.Duration
}

// store persists snapshot snap as checkpoint id of one subtask, as the
// checkpoint driver does: the snapshot's canonical sections (timers; none
// here) in a data file, shared native files with PutShared (stored once),
// private ones (MANIFEST, OPTIONS, markers) as data files of the
// checkpoint, then the metadata. It releases the snapshot's local files.
func (s *storage) store(ctx context.Context, id int64, snap statebackend.Snapshot) (stored, error) {
	var out stored
	m := &checkpoint.Metadata{ID: id, Timestamp: time.Now(), MaxParallelism: maxPar, Files: map[string]uint32{}}
	var data []byte
	if err := snap.Write(func(kg int, sec []byte) { data = append(data, sec...) }); err != nil {
		return out, err
	}
	n := snap.Native
	nm := &checkpoint.NativeMeta{Kind: n.Kind, KeyGroupStart: n.Start, KeyGroupEnd: n.End}
	for _, f := range n.Files {
		path := filepath.Join(n.Dir, f.Name)
		if f.Shared != "" {
			crc, size, err := s.st.PutShared(ctx, f.Shared, path)
			if err != nil {
				return out, err
			}
			nm.Files = append(nm.Files, checkpoint.FileRef{Name: f.Name, Shared: f.Shared, CRC: crc, Size: size})
			out.files++
			out.bytes += size
			if !s.shared[f.Shared] {
				s.shared[f.Shared] = true
				out.newFiles++
				out.newBytes += size
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return out, err
		}
		name := "task-0-op0-" + f.Name
		sum, err := s.st.WriteFile(ctx, id, name, b)
		if err != nil {
			return out, err
		}
		m.Files[name] = sum
		nm.Files = append(nm.Files, checkpoint.FileRef{Name: f.Name, File: name, CRC: sum, Size: int64(len(b))})
		out.files++
		out.newFiles++
		out.bytes += int64(len(b))
		out.newBytes += int64(len(b))
	}
	sum, err := s.st.WriteFile(ctx, id, "task-0", data)
	if err != nil {
		return out, err
	}
	m.Files["task-0"] = sum
	m.Operators = []checkpoint.OperatorMeta{{UID: "sum", Name: "running sum", Parallelism: 1,
		Subtasks: []checkpoint.SubtaskMeta{{Subtask: 0, File: "task-0", Native: nm}}}}
	if err := s.st.WriteMetadata(ctx, m); err != nil {
		return out, err
	}
	return out, nil
}

// nativeRestore describes native state to restore, as the driver does:
// shared files are fetched from storage (hard links where possible),
// private ones written from the checkpoint's data files.
func nativeRestore(st *checkpoint.Storage, m *checkpoint.Metadata, files map[string][]byte) ([]statebackend.NativeRestore, error) {
	var out []statebackend.NativeRestore
	for _, op := range m.Operators {
		for _, s := range op.Subtasks {
			nm := s.Native
			if nm == nil {
				continue
			}
			nr := statebackend.NativeRestore{Kind: nm.Kind, Start: nm.KeyGroupStart, End: nm.KeyGroupEnd}
			for _, ref := range nm.Files {
				f := statebackend.NativeRestoreFile{Name: ref.Name, Shared: ref.Shared}
				if ref.Shared != "" {
					f.Fetch = func(ctx context.Context, dst string) error { return st.FetchShared(ctx, ref, dst) }
				} else {
					data, ok := files[ref.File]
					if !ok {
						return nil, fmt.Errorf("checkpoint %d lacks file %s", m.ID, ref.File)
					}
					f.Fetch = func(_ context.Context, dst string) error { return os.WriteFile(dst, data, 0o644) }
				}
				nr.Files = append(nr.Files, f)
			}
			out = append(out, nr)
		}
	}
	return out, nil
}

// copyStorageDir returns a fresh directory on another filesystem than
// near, or "" if there is none.
func copyStorageDir(b *testing.B, near string) string {
	base := os.Getenv("WEIR_PEBBLE_BENCH_COPY_DIR")
	if base == "" {
		base = "/dev/shm"
	}
	var a, c syscall.Stat_t
	if syscall.Stat(near, &a) != nil || syscall.Stat(base, &c) != nil || a.Dev == c.Dev {
		return ""
	}
	dir, err := os.MkdirTemp(base, "weir-pebble-bench-")
	if err != nil {
		b.Logf("no copy storage: %v", err)
		return ""
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

const mb = 1 << 20

// BenchmarkIncrementalCheckpoint1GB is issue 3's "incremental checkpoint of
// a 1 GB Pebble state after 1% of keys changed" (target < 2 s). It builds
// 9M keys of ~100-byte values (about 1 GB of SSTs) through the state API,
// stores a first, full checkpoint, then per op changes 1% of the keys at
// random (untimed) and takes and stores the next checkpoint. The timer
// covers the synchronous part (Snapshot: memtable flush and Pebble
// checkpoint) and the asynchronous part into storage on the same
// filesystem (shared SSTs hard-linked). The same checkpoint is also stored,
// untimed, into storage on another filesystem (WEIR_PEBBLE_BENCH_COPY_DIR),
// which must copy every new SST. Every checkpoint's LSM shape is logged
// (-test.v shows all lines). Run with -benchtime 8x or so.
func BenchmarkIncrementalCheckpoint1GB(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	n := scaled(b, 9_000_000)
	s := buildBig(b, filepath.Join(root, "state"), n)
	defer s.be.Close()

	link := &storage{st: &checkpoint.Storage{Dir: filepath.Join(root, "chk")}, shared: map[string]bool{}}
	stores := []*storage{link}
	var cp *storage
	if dir := copyStorageDir(b, root); dir != "" {
		cp = &storage{st: &checkpoint.Storage{Dir: dir}, shared: map[string]bool{}}
		stores = append(stores, cp)
	} else {
		b.Logf("no directory on another filesystem than %s: the copy path is not measured", root)
	}
	id := int64(1)
	first := func() {
		t0 := time.Now()
		snap, err := s.be.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		syncDur := time.Since(t0)
		for i, st := range stores {
			t1 := time.Now()
			r, err := st.store(ctx, id, snap)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("full checkpoint %d into %s: %d files, %.1f MB, sync %v, async %v",
				id, st.st.Dir, r.files, float64(r.bytes)/mb, syncDur.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
			if i == 0 {
				b.ReportMetric(float64(r.bytes)/mb, "state-MB")
			}
		}
		logLevels(b, snap.Native.Dir)
		if err := snap.Native.Release(); err != nil {
			b.Fatal(err)
		}
		id++
	}
	first()

	rng := rand.New(rand.NewPCG(1, 2))
	changed := max(1, n/100)
	var all []stored
	var copyAsync time.Duration
	for b.Loop() {
		b.StopTimer()
		s.update(b, rng, changed, uint64(id))
		b.StartTimer()
		t0 := time.Now()
		snap, err := s.be.Snapshot()
		if err != nil {
			b.Fatal(err)
		}
		syncDur := time.Since(t0)
		t1 := time.Now()
		r, err := link.store(ctx, id, snap)
		if err != nil {
			b.Fatal(err)
		}
		r.syncDur, r.asyncDur = syncDur, time.Since(t1)
		b.StopTimer()
		var ca time.Duration
		if cp != nil {
			t2 := time.Now()
			if _, err := cp.store(ctx, id, snap); err != nil {
				b.Fatal(err)
			}
			ca = time.Since(t2)
			copyAsync += ca
		}
		logLevels(b, snap.Native.Dir)
		if err := snap.Native.Release(); err != nil {
			b.Fatal(err)
		}
		b.Logf("checkpoint %d after %d updates: sync %v, async %v (copying: %v), new %d of %d files, %.1f of %.1f MB",
			id, changed, syncDur.Round(time.Microsecond), r.asyncDur.Round(time.Microsecond), ca.Round(time.Microsecond),
			r.newFiles, r.files, float64(r.newBytes)/mb, float64(r.bytes)/mb)
		all = append(all, r)
		id++
		b.StartTimer()
	}
	b.StopTimer()
	var syncSum, asyncSum time.Duration
	var newBytes, bytes int64
	for _, r := range all {
		syncSum += r.syncDur
		asyncSum += r.asyncDur
		newBytes += r.newBytes
		bytes += r.bytes
	}
	k := float64(len(all))
	b.ReportMetric(ms(syncSum)/k, "sync-ms")
	b.ReportMetric(ms(asyncSum)/k, "async-ms")
	b.ReportMetric(float64(newBytes)/mb/k, "new-MB")
	b.ReportMetric(float64(newBytes)/float64(bytes), "new/total")
	if cp != nil {
		b.ReportMetric(ms(copyAsync)/k, "async-copy-ms")
	}
	// The last checkpoint reads back, and an updated key has its value.
	if _, _, err := (&checkpoint.Storage{Dir: link.st.Dir}).Read(ctx, id-1); err != nil {
		b.Fatal(err)
	}
	for k := range s.ver {
		s.check(b, s.kc, s.v, k)
		break
	}
}

// BenchmarkRecovery100MB is issue 3's "recovery time from a 100 MB
// checkpoint" (target < 1 s). It builds 900k keys of ~100-byte values
// (about 100 MB of SSTs), stores a checkpoint and closes the backend; an
// op is a restore from nothing: read the latest checkpoint's metadata and
// data files, fetch the native files (hard links: same filesystem), open
// the backend and serve a first read. Sub-benchmarks: same parallelism
// (the database opens on the restored files), two subtasks (each copies
// its half of the key groups into a fresh database; they restore
// concurrently, as subtasks do), the heap backend (the native files
// converted to canonical form and decoded into maps), and open-only, a
// diagnostic of the open time (see there).
func BenchmarkRecovery100MB(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	n := scaled(b, 900_000)
	s := buildBig(b, filepath.Join(root, "state"), n)
	chk := &storage{st: &checkpoint.Storage{Dir: filepath.Join(root, "chk")}, shared: map[string]bool{}}
	snap, err := s.be.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	r, err := chk.store(ctx, 1, snap)
	if err != nil {
		b.Fatal(err)
	}
	l0 := logLevels(b, snap.Native.Dir)
	if err := snap.Native.Release(); err != nil {
		b.Fatal(err)
	}
	if err := s.be.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("checkpoint: %d files, %.1f MB", r.files, float64(r.bytes)/mb)
	probe := int64(n / 2)

	// latest reads the newest checkpoint with a fresh Storage, as a
	// restarted process does.
	latest := func() (*checkpoint.Storage, []statebackend.NativeRestore) {
		st := &checkpoint.Storage{Dir: chk.st.Dir}
		m, files, err := st.Latest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		nrs, err := nativeRestore(st, m, files)
		if err != nil {
			b.Fatal(err)
		}
		return st, nrs
	}
	work := filepath.Join(root, "work")
	b.Run("pebble", func(b *testing.B) {
		var fetch, seal, read time.Duration
		runs := 0
		for b.Loop() {
			runs++
			t0 := time.Now()
			_, nrs := latest()
			kc, be := newPebble[int64](b, work, full)
			if err := be.SetNative(ctx, nrs); err != nil {
				b.Fatal(err)
			}
			v := states.NewValue[int64, struct{}, []byte](be, statebackend.TTL{})
			v.SetName("v")
			t1 := time.Now()
			if err := be.Seal(); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			s.check(b, kc, v, probe)
			t3 := time.Now()
			fetch, seal, read = fetch+t1.Sub(t0), seal+t2.Sub(t1), read+t3.Sub(t2)
			b.StopTimer()
			if err := be.Close(); err != nil {
				b.Fatal(err)
			}
			if err := os.RemoveAll(work); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		k := float64(runs)
		b.ReportMetric(ms(fetch)/k, "fetch-ms")
		b.ReportMetric(ms(seal)/k, "open-ms")
		b.ReportMetric(ms(read)/k, "read-ms")
		b.ReportMetric(float64(r.bytes)/mb, "chk-MB")
		b.ReportMetric(float64(l0), "chk-L0-files")
	})
	b.Run("pebble-rescale-2", func(b *testing.B) {
		halves := []keygroup.Range{{Start: 0, End: maxPar / 2}, {Start: maxPar / 2, End: maxPar}}
		for b.Loop() {
			_, nrs := latest()
			var wg sync.WaitGroup
			errs := make([]error, len(halves))
			bes := make([]*pebble.Backend[int64], len(halves))
			for i, h := range halves {
				kc, be := newPebble[int64](b, filepath.Join(work, strconv.Itoa(i)), h)
				bes[i] = be
				wg.Go(func() {
					errs[i] = restoreHalf(ctx, kc, be, nrs, s, probe)
				})
			}
			wg.Wait()
			b.StopTimer()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(err)
			}
			for _, be := range bes {
				if err := be.Close(); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.RemoveAll(work); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
	// A diagnostic of the open time above: Pebble opening the same files
	// directly, with the options the backend sets that matter here, once
	// as the backend does and once with automatic compactions off. Pebble
	// v2.1.7's Open waits for the compactions it starts while opening (in
	// scanObsoleteFiles), which with many files in L0 is most of the
	// restore.
	b.Run("open-only", func(b *testing.B) {
		var with, without time.Duration
		runs := 0
		for b.Loop() {
			runs++
			b.StopTimer()
			_, nrs := latest()
			dirs := []string{filepath.Join(work, "a"), filepath.Join(work, "b")}
			for _, d := range dirs {
				if err := os.MkdirAll(d, 0o755); err != nil {
					b.Fatal(err)
				}
				for _, f := range nrs[0].Files {
					if err := f.Fetch(ctx, filepath.Join(d, f.Name)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StartTimer()
			for i, d := range dirs {
				o := &pdb.Options{DisableWAL: true, MemTableSize: 64 << 20, Merger: pdb.DefaultMerger, Logger: quiet{}, DisableAutomaticCompactions: i == 1}
				t0 := time.Now()
				db, err := pdb.Open(d, o)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					with += time.Since(t0)
				} else {
					without += time.Since(t0)
				}
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			if err := os.RemoveAll(work); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(ms(with)/float64(runs), "open-ms")
		b.ReportMetric(ms(without)/float64(runs), "open-no-compactions-ms")
	})
	b.Run("heap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, nrs := latest()
			if err := os.MkdirAll(work, 0o755); err != nil {
				b.Fatal(err)
			}
			groups := map[int][]byte{}
			err := pebble.ReadNative(ctx, engine.New(), nrs, full.Start, full.End, work, func(kg int, sec []byte) {
				groups[kg] = append(groups[kg], sec...)
			})
			if err != nil {
				b.Fatal(err)
			}
			kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), maxPar, full)
			be := heap.New(kc, func() int64 { return 0 })
			if err := be.SetRestore(groups); err != nil {
				b.Fatal(err)
			}
			v := states.NewValue[int64, struct{}, []byte](be, statebackend.TTL{})
			v.SetName("v")
			if err := be.Seal(); err != nil {
				b.Fatal(err)
			}
			s.check(b, kc, v, probe)
			b.StopTimer()
			if err := os.RemoveAll(work); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}

// quiet discards Pebble's log lines.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// logLevels logs the LSM shape of the Pebble database in dir (a snapshot
// directory, opened read-only) and returns its number of L0 files.
func logLevels(b *testing.B, dir string) int64 {
	b.Helper()
	db, err := pdb.Open(dir, &pdb.Options{ReadOnly: true, Merger: pdb.DefaultMerger, Logger: quiet{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m := db.Metrics()
	var desc string
	for i, l := range m.Levels {
		if l.TablesCount > 0 {
			desc += fmt.Sprintf(" L%d: %d files %.1f MB;", i, l.TablesCount, float64(l.TablesSize)/mb)
		}
	}
	b.Logf("snapshot LSM:%s", desc)
	return m.Levels[0].TablesCount
}

// restoreHalf restores a subtask owning part of the key groups and reads a
// key it owns (the first key from probe on that it owns).
func restoreHalf(ctx context.Context, kc *statebackend.KeyContext[int64], be *pebble.Backend[int64], nrs []statebackend.NativeRestore, s *bigState, probe int64) error {
	if err := be.SetNative(ctx, nrs); err != nil {
		return err
	}
	v := states.NewValue[int64, struct{}, []byte](be, statebackend.TTL{})
	v.SetName("v")
	if err := be.Seal(); err != nil {
		return err
	}
	k := probe
	for !kc.Range.Contains(kc.GroupOf(k)) {
		k++
	}
	if err := kc.Set(k); err != nil {
		return err
	}
	var buf [valueSize + 8]byte
	if got, ok := v.Value(); !ok || string(got) != string(valueOf(&buf, k, s.ver[k])) {
		return fmt.Errorf("key %d: wrong value after a rescaled restore (%v)", k, ok)
	}
	return nil
}

// BenchmarkSnapshotPause1MKeys measures the synchronous part of a Pebble
// snapshot — what the task pauses for at a barrier: memtable flush and
// Pebble checkpoint — with one million keys of value state (int64 ->
// int64, as the heap backend's BenchmarkCapture1MKeys), after the given
// number of updates since the previous snapshot. The asynchronous part
// (here only removing the snapshot's directory) is untimed. It reports
// the median, 99th percentile and maximum pause over the ops; run with
// -benchtime 100x or so.
func BenchmarkSnapshotPause1MKeys(b *testing.B) {
	root := b.TempDir()
	n := scaled(b, 1_000_000)
	kc, be := newPebble[int64](b, filepath.Join(root, "state"), full)
	defer be.Close()
	v := states.NewValue[int64, struct{}, int64](be, statebackend.TTL{})
	v.SetName("v")
	if err := be.Seal(); err != nil {
		b.Fatal(err)
	}
	set := func(k int64) {
		if err := kc.Set(k); err != nil {
			b.Fatal(err)
		}
	}
	for i := int64(0); i < int64(n); i++ {
		set(i)
		v.Update(i)
	}
	snapshot := func() time.Duration {
		t0 := time.Now()
		snap, err := be.Snapshot()
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := snap.Write(func(int, []byte) {}); err != nil {
			b.Fatal(err)
		}
		if err := snap.Native.Release(); err != nil {
			b.Fatal(err)
		}
		return d
	}
	snapshot()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, updates := range []int{0, 1_000, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("updates=%d", updates), func(b *testing.B) {
			var pauses []time.Duration
			for b.Loop() {
				b.StopTimer()
				for range updates {
					k := rng.Int64N(int64(n))
					set(k)
					v.Update(k + 1)
				}
				b.StartTimer()
				pauses = append(pauses, snapshot())
			}
			slices.Sort(pauses)
			b.ReportMetric(ms(pauses[len(pauses)/2]), "p50-ms")
			b.ReportMetric(ms(pauses[(len(pauses)*99)/100]), "p99-ms")
			b.ReportMetric(ms(pauses[len(pauses)-1]), "max-ms")
		})
	}
}

// cpuTime returns the process's user + system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn and returns records per second of process CPU time and
// allocations per record.
func measure(b *testing.B, records int, fn func()) (perCore, allocs float64) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := cpuTime(b)
	fn()
	c1 := cpuTime(b)
	runtime.ReadMemStats(&m1)
	return float64(records) / (c1 - c0).Seconds(), float64(m1.Mallocs-m0.Mallocs) / float64(records)
}

// BenchmarkRunningSum is a keyed running sum (per record: set the key, get
// the value state, update it) over 100k int64 keys drawn at random, one op
// per record, through the Pebble backend and the heap backend, each against
// a hand-written loop over a Go map on the same records. It reports records
// per second of CPU time (rec/s/core: Pebble's background flushes and
// compactions count), the loop's, their ratio, and allocations per record.
// Run with -benchtime 2000000x.
func BenchmarkRunningSum(b *testing.B) {
	for _, kind := range []string{"pebble", "heap"} {
		b.Run(kind, func(b *testing.B) {
			const keys = 100_000
			rng := rand.New(rand.NewPCG(5, 6))
			ks := make([]int64, b.N)
			for i := range ks {
				ks[i] = rng.Int64N(keys) * 7919
			}
			var want map[int64]int64
			loop, _ := measure(b, b.N, func() {
				want = make(map[int64]int64)
				for i, k := range ks {
					want[k] += int64(i & 1023)
				}
			})
			kc := statebackend.NewKeyContext(keygroup.Hasher[int64](), maxPar, full)
			var be statebackend.Backend[int64]
			switch kind {
			case "heap":
				be = heap.New(kc, func() int64 { return 0 })
			case "pebble":
				pb, err := pebble.New(kc, func() int64 { return 0 }, pebble.Options{Engine: engine.New(), Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				be = pb
			}
			defer be.Close()
			v := states.NewValue[int64, struct{}, int64](be, statebackend.TTL{})
			v.SetName("sum")
			if err := be.Seal(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			perCore, allocs := measure(b, b.N, func() {
				for i, k := range ks {
					if err := kc.Set(k); err != nil {
						b.Fatal(err)
					}
					s, _ := v.Value()
					v.Update(s + int64(i&1023))
				}
			})
			b.StopTimer()
			for k, w := range want {
				if err := kc.Set(k); err != nil {
					b.Fatal(err)
				}
				if got, _ := v.Value(); got != w {
					b.Fatalf("key %d: sum %d, want %d", k, got, w)
				}
			}
			b.ReportMetric(perCore, "rec/s/core")
			b.ReportMetric(allocs, "allocs/rec")
			b.ReportMetric(loop, "loop-rec/s/core")
			b.ReportMetric(perCore/loop, "ratio")
		})
	}
}
