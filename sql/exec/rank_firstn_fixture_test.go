package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/statebackend/pebble"
	"github.com/weirstream/weir/weirtest"
)

// firstNFixture is a snapshot (parallelism 1, heap) of LIMIT 4 OFFSET 1
// without ORDER BY (a Rank without order keys, rn 2..5, with the row
// number) after three rows, written by main at 43c9e9b (ea5ca14^, the
// commit before the first-n count), when such a Rank ran the append-only
// Top-N: value state "rank-top" holding the three rows. Rewrite it only on
// purpose (it is the old layout later code must keep restoring): check
// out that commit, drop the line setting topN below, and run
// WEIR_WRITE_FIRSTN_FIXTURE=1 go test ./sql/exec/ -run TestFirstNFixture.
const firstNFixture = "testdata/fixtures/rank-firstn-topn-43c9e9b"

func firstNFixtureSpec() RankSpec {
	types := []row.Type{row.BigInt(), row.String()}
	return RankSpec{Types: types, RankStart: 2, RankEnd: 5, OutputRankNumber: true, GenerateUpdateBefore: true}
}

func firstNFixtureRow(i int64) row.Row { return row.Of(row.Int(i), row.Str(fmt.Sprintf("r%d", i))) }

// firstNHarness starts the fixture's Rank, restored from path if set.
func firstNHarness(t *testing.T, p int, backend, path string, spec RankSpec) (*weirtest.Harness, *weirtest.Input[row.Row], *weirtest.Output[row.Row]) {
	t.Helper()
	opts := weir.Options{Parallelism: p, StateBackend: backend, Pebble: pebble.New(), StateDir: t.TempDir(),
		Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}}
	h := weirtest.New(opts)
	if path != "" {
		h = weirtest.Restore(opts, weirtest.Snapshot{Path: path})
	}
	in := weirtest.NewInput[row.Row](h)
	out, err := Rank(in.Stream(), spec)
	if err != nil {
		t.Fatal(err)
	}
	o := weirtest.Capture(h, out.UID("op"))
	if err := h.StartErr(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if st := h.Stepper(); st != nil {
			_ = st.Close()
		}
	})
	return h, in, o
}

// TestFirstNFixture writes firstNFixture when asked to, and otherwise
// checks that it is there.
func TestFirstNFixture(t *testing.T) {
	if os.Getenv("WEIR_WRITE_FIRSTN_FIXTURE") == "" {
		if m, _ := filepath.Glob(filepath.Join(firstNFixture, "*")); len(m) == 0 {
			t.Fatalf("fixture %s missing", firstNFixture)
		}
		return
	}
	spec := firstNFixtureSpec()
	spec.topN = true // the old layout (drop this line at 43c9e9b, where it is the only one)
	h, in, _ := firstNHarness(t, 1, weir.StateHeap, "", spec)
	for i := range int64(3) {
		if err := in.Push(firstNFixtureRow(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := h.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(firstNFixture); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(firstNFixture, os.DirFS(snap.Path)); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s from %s", firstNFixture, snap.Path)
}

// TestFirstNRestoresTopNFixture restores firstNFixture (three rows in the
// Top-N's "rank-top") into the first-n count at parallelism 1 and 3 on
// both backends: the next two rows take ranks 4 and 5, later ones none.
// A snapshot of the restored job restores again (the count's own layout)
// and keeps the top full.
func TestFirstNRestoresTopNFixture(t *testing.T) {
	fixture, err := filepath.Abs(firstNFixture)
	if err != nil {
		t.Fatal(err)
	}
	spec := firstNFixtureSpec()
	types := append(append([]row.Type{}, spec.Types...), row.BigInt())
	format := func(rs []row.Row) string {
		var b strings.Builder
		for _, r := range rs {
			b.WriteString(row.FormatRow(r, types))
			b.WriteByte('\n')
		}
		return b.String()
	}
	for _, backend := range []string{weir.StateHeap, weir.StatePebble} {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p%d", backend, p), func(t *testing.T) {
				h, in, out := firstNHarness(t, p, backend, fixture, spec)
				for i := int64(3); i < 6; i++ {
					if err := in.Push(firstNFixtureRow(i), 0); err != nil {
						t.Fatal(err)
					}
				}
				if err := h.Err(); err != nil {
					t.Fatal(err)
				}
				want := "+I[3, r3, 4]\n+I[4, r4, 5]\n"
				if got := format(out.Take()); got != want {
					t.Fatalf("after the restore:\n%s\nwant:\n%s", got, want)
				}
				snap, err := h.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				h2, in2, out2 := firstNHarness(t, 2, weir.StateHeap, snap.Path, spec)
				if err := in2.Push(firstNFixtureRow(6), 0); err != nil {
					t.Fatal(err)
				}
				if err := h2.Err(); err != nil {
					t.Fatal(err)
				}
				if got := format(out2.Take()); got != "" {
					t.Fatalf("after the second restore, the full top took:\n%s", got)
				}
			})
		}
	}
}
