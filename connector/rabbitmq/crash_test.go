package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
	"github.com/weirstream/weir/state"
)

// crashChild, when set, makes TestCrashChild run the crash test's job:
// "url,in,out,checkpointDir,parallelism".
var crashChild = flag.String("rabbitmq-crash-child", "", "run the crash test's job (set by TestCrashExactlyOnce)")

type crashOut struct {
	Key   string `json:"key"`
	Seq   int    `json:"seq"`
	Count int    `json:"count"`
	Sum   int    `json:"sum"`
}

// crashKeys is the number of keys of the crash test's input.
const crashKeys = 8

type crashSum struct{ count, sum state.Value[int] }

func (r *crashSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.count = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "count"})
	r.sum = state.GetValue[string, int](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *crashSum) ProcessElement(ctx *weir.KeyedContext[string, crashOut], seq int) error {
	c, _ := r.count.Value()
	s, _ := r.sum.Value()
	c++
	s += seq
	r.count.Update(c)
	r.sum.Update(s)
	ctx.Collect(crashOut{Key: ctx.Key(), Seq: seq, Count: c, Sum: s})
	return nil
}

// TestCrashChild is the job of TestCrashExactlyOnce, run in a child
// process: queue in (bodies are decimal numbers, message ids "id-<n>") →
// running count and sum per key (n mod 8) → queue out, checkpoints every
// 50 ms, restoring the latest one. It is skipped unless
// -rabbitmq-crash-child is given.
func TestCrashChild(t *testing.T) {
	if *crashChild == "" {
		t.Skip("the job of TestCrashExactlyOnce, run in a child process")
	}
	f := strings.Split(*crashChild, ",")
	url, in, out, dir := f[0], f[1], f[2], f[3]
	p, _ := strconv.Atoi(f[4])
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: dir, Retained: 2},
		Restore:     "latest",
		Restart:     &weir.ExponentialDelayRestart{Initial: 100 * time.Millisecond, Max: time.Second},
	})
	src := weir.FromSource(env, NewSource(SourceOptions[int]{URL: url, Queue: in, Prefetch: 100,
		Deserializer: ValueDeserializer(func(b []byte) (int, error) { return strconv.Atoi(string(b)) })}),
		weir.NoWatermarks[int](), "in").UID("in")
	sums := weir.ProcessKeyed[string, int, crashOut](weir.KeyBy(src, func(n int) string { return fmt.Sprint("k", n%crashKeys) }), &crashSum{}).UID("sums")
	sums.SinkTo(NewSink(SinkOptions[crashOut]{URL: url, RoutingKey: out, Serializer: JSONSerde[crashOut]{},
		MessageID: func(o crashOut) string { return "o-" + strconv.Itoa(o.Seq) }})).UID("out")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := env.Execute(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestCrashExactlyOnce runs queue → keyed running count and sum → queue in
// child processes SIGKILLed at random instants (after a checkpoint
// completed, or while the job starts and restores), restarted at
// parallelism 1, 3 and 2, while input arrives. The source's claim is
// exactly-once into Weir's state for messages with ids redelivered within
// DedupRetention; the sink's is at-least-once. So: every input has an
// output (none lost); no output counts more than the key's number of
// inputs (a message that entered the state twice would push a count past
// it); and each key reaches that count with the sum of its inputs.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the job in child processes killed many times")
	}
	url := broker(t)
	in, out := queue(t, url), queue(t, url)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	chk := filepath.Join(dir, "chk")
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	const n = 6000
	var gen sync.WaitGroup
	gen.Add(1)
	go func() {
		defer gen.Done()
		for i := 0; i < n; i += 50 {
			publish(t, url, in, false, ints(i, i+50)...)
			time.Sleep(50 * time.Millisecond) // the input's pace, not a wait for a condition
		}
	}()
	args := func(p int) []string {
		return []string{"-test.run=^TestCrashChild$", "-rabbitmq-crash-child=" + strings.Join([]string{url, in, out, chk, strconv.Itoa(p)}, ",")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	pars := []int{1, 3, 2}
	const wantKills = 12
	start := time.Now()
	early := crashtest.KillRuns(t, bin, logPath, chk, wantKills, rng, func(run int) []string { return args(pars[run%len(pars)]) })
	kills := wantKills
	gen.Wait()
	t.Logf("%d kills (%d while starting) in %v", kills, early, time.Since(start).Round(time.Millisecond))

	wantSum := map[string]int{}
	for i := range n {
		wantSum[fmt.Sprint("k", i%crashKeys)] += i
	}
	final := crashtest.Start(t, bin, logPath, args(2)...)
	stopped := false
	defer func() {
		if !stopped {
			final.Kill()
		}
	}()
	seen := map[int]bool{}
	done := map[string]bool{}
	check := func(b []byte) {
		var o crashOut
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatalf("output %q: %v", b, err)
		}
		seen[o.Seq] = true
		if o.Count > n/crashKeys {
			t.Fatalf("key %s counted %d inputs, it has %d: a message entered the state twice", o.Key, o.Count, n/crashKeys)
		}
		if o.Count == n/crashKeys {
			if o.Sum != wantSum[o.Key] {
				t.Fatalf("key %s: sum %d after all %d inputs, want %d", o.Key, o.Sum, o.Count, wantSum[o.Key])
			}
			done[o.Key] = true
		}
	}
	drainUntil(t, url, out, 90*time.Second, func(bodies [][]byte, _ []string) bool {
		if len(bodies) > 0 {
			check(bodies[len(bodies)-1])
		}
		return len(done) == crashKeys && len(seen) == n
	})
	stopped = true
	if exited, err := final.Signal(syscall.SIGTERM); exited {
		t.Fatalf("the final run exited by itself: %v", err)
	}
	// What the stopped run published after that is in the queue now.
	ch := channel(t, url)
	for {
		d, ok, err := ch.Get(out, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		check(d.Body)
	}
}
