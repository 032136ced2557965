package fraud

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

type paymentID struct {
	ID uint64 `json:"id"`
}

// TestGeneratorRestoresAtAnyParallelism stops a generator job with a
// savepoint part-way, restores it at other parallelisms (3, then 2 after a
// second savepoint), and requires every payment exactly once overall:
// the positions stored in checkpoints are exact and redistribute.
func TestGeneratorRestoresAtAnyParallelism(t *testing.T) {
	const n = 30000
	out := t.TempDir()
	run := func(p int, restore string, stopAfter int64) string {
		t.Helper()
		gen := NewGenerator(GeneratorConfig{Events: n, Rate: 40000, Seed: 3}, nil)
		env := weir.NewEnvironment(weir.Options{Parallelism: p, Restore: restore,
			Checkpoints: weir.CheckpointOptions{Interval: 10 * time.Millisecond, Dir: t.TempDir()}})
		src := weir.FromSource[Payment](env, gen, gen.Watermarks(), "payments").UID("payments")
		var got atomic.Int64
		ids := weir.Map(src, func(v Payment) paymentID { got.Add(1); return paymentID{v.ID} })
		ids.SinkTo(file.ExactlyOnceJSONSink[paymentID](out, file.ExactlyOnceOptions{})).UID("sink")
		job, err := env.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if stopAfter == 0 {
			if err := job.Wait(); err != nil {
				t.Fatal(err)
			}
			return ""
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			g := got.Load()
			if g >= stopAfter {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d payments within 20 s", g)
			}
			select {
			case <-job.Done():
				t.Fatalf("job ended before its savepoint: %v", job.Wait())
			case <-time.After(2 * time.Millisecond):
			}
		}
		path, err := job.StopWithSavepoint(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Wait(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	sp := run(2, "", 5000)
	sp = run(3, sp, 3000)
	run(2, sp, 0)
	seen := map[uint64]int{}
	parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
	for _, part := range parts {
		f, err := os.Open(part)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var id paymentID
			if err := json.Unmarshal(sc.Bytes(), &id); err != nil {
				t.Fatalf("%s: %v", part, err)
			}
			seen[id.ID]++
		}
		f.Close()
	}
	for i := uint64(0); i < n; i++ {
		if seen[i] != 1 {
			t.Fatalf("payment %d seen %d times", i, seen[i])
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct payments, want %d", len(seen), n)
	}
}

// A rate that is NaN or infinite is refused when the source starts (NaN
// gave every payment the timestamp MinInt64, an extreme CEP looped on).
func TestGeneratorRejectsBadRates(t *testing.T) {
	for _, cfg := range []GeneratorConfig{
		{Rate: math.NaN(), Events: 10},
		{Rate: math.Inf(1), Events: 10},
		{EventRate: math.NaN(), Events: 10},
		{EventRate: math.Inf(1), Events: 10},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v: Validate passed", cfg)
		}
		env := weir.NewEnvironment(weir.Options{Parallelism: 1})
		g := NewGenerator(cfg, nil)
		weir.Collect(weir.FromSource[Payment](env, g, g.Watermarks(), "payments"))
		if err := env.Execute(context.Background()); err == nil {
			t.Errorf("%+v: the job ran", cfg)
		}
	}
}
