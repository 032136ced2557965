package redis

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
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

	goredis "github.com/redis/go-redis/v9"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// crashChild, when set, makes TestCrashChild run the crash test's job:
// "prefix,checkpointDir,parallelism".
var crashChild = flag.String("redis-crash-child", "", "run the crash test's job (set by TestCrashExactlyOnce)")

// TestCrashChild is the job of TestCrashExactlyOnce, run in a child
// process: Redis stream prefix+"in" → running count and sum per key → SET
// prefix+"out:<seq>" and prefix+"total:<key>", checkpoints every 50 ms,
// restoring the latest one. It is skipped unless -redis-crash-child is
// given.
func TestCrashChild(t *testing.T) {
	if *crashChild == "" {
		t.Skip("the job of TestCrashExactlyOnce, run in a child process")
	}
	f := strings.Split(*crashChild, ",")
	p, dir := f[0], f[1]
	par, _ := strconv.Atoi(f[2])
	env := weir.NewEnvironment(weir.Options{
		Parallelism: par,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: dir, Retained: 2},
		Restore:     "latest",
		Restart:     &weir.ExponentialDelayRestart{Initial: 100 * time.Millisecond, Max: time.Second},
	})
	s, err := NewSource(SourceOptions[inRec]{Redis: goredis.Options{Addr: redisAddr}, Streams: []string{p + "in"},
		Group: "g", Deserializer: decodeIn, Count: 50, Block: 20 * time.Millisecond})
	must(t, err)
	src := weir.FromSource[inRec](env, s, weir.NoWatermarks[inRec](), "in").UID("in")
	sums := weir.ProcessKeyed[string, inRec, outRec](weir.KeyBy(src, func(v inRec) string { return v.Key }), &runningSum{}).UID("sums")
	out, err := NewSink(SinkOptions[outRec]{Redis: goredis.Options{Addr: redisAddr}, BatchSize: 100,
		Map: func(o outRec) (Command, error) {
			return Command{Op: OpSet, Key: p + "out:" + strconv.FormatInt(o.Seq, 10), Value: []byte(o.Key)}, nil
		}})
	must(t, err)
	totals, err := NewSink(SinkOptions[outRec]{Redis: goredis.Options{Addr: redisAddr}, BatchSize: 100,
		Map: func(o outRec) (Command, error) {
			return Command{Op: OpSet, Key: p + "total:" + o.Key, Value: fmt.Appendf(nil, "%d %d", o.Count, o.Sum)}, nil
		}})
	must(t, err)
	sums.SinkTo(out).UID("out")
	sums.SinkTo(totals).UID("totals")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := env.Execute(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestCrashExactlyOnce runs Redis stream → keyed running count and sum →
// Redis SET in child processes SIGKILLed at random instants (after a
// checkpoint completed, or while the job starts and restores), restarted
// at parallelism 1, 3 and 2, while entries arrive. Then every entry has its
// output key, and each key's final count and sum are those of the input:
// an entry that entered Weir's state twice (an XACK lost in a kill, a
// pending entry re-read) or never would change them. This is the
// exactly-once claim of the streams source, with an idempotent sink.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the job in child processes killed many times")
	}
	c := client(t)
	p := prefix(t, c)
	ctx := context.Background()
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
	const n, keys = 6000, 8
	// Entries arrive at about 1000 per second during the kills.
	var gen sync.WaitGroup
	gen.Add(1)
	go func() {
		defer gen.Done()
		for i := int64(0); i < n; i += 50 {
			pipe := c.Pipeline()
			for j := i; j < i+50; j++ {
				pipe.XAdd(ctx, &goredis.XAddArgs{Stream: p + "in", Values: []string{"k", fmt.Sprint("k", j%keys),
					"seq", strconv.FormatInt(j, 10), "v", strconv.FormatInt(j, 10)}})
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Errorf("XADD: %v", err)
				return
			}
			time.Sleep(50 * time.Millisecond) // the input's pace, not a wait for a condition
		}
	}()
	args := func(par int) []string {
		return []string{"-test.run=^TestCrashChild$", "-redis-crash-child=" + strings.Join([]string{p, chk, strconv.Itoa(par)}, ",")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	pars := []int{1, 3, 2}
	const wantKills = 12
	start := time.Now()
	early := crashtest.KillRuns(t, bin, logPath, chk, wantKills, rng, func(run int) []string { return args(pars[run%len(pars)]) })
	kills := wantKills
	gen.Wait()
	t.Logf("%d kills (%d while starting) in %v", kills, early, time.Since(start).Round(time.Millisecond))
	final := crashtest.Start(t, bin, logPath, args(2)...)
	stopped := false
	defer func() {
		if !stopped {
			final.Kill()
		}
	}()

	want := map[string]string{}
	sums := map[string]int64{}
	for i := range int64(n) {
		sums[fmt.Sprint("k", i%keys)] += i
	}
	for k, sum := range sums {
		want[k] = fmt.Sprintf("%d %d", n/keys, sum)
	}
	totals := func() map[string]string {
		got := map[string]string{}
		for k := range want {
			got[k] = c.Get(ctx, p+"total:"+k).Val()
		}
		return got
	}
	// A run replaying from its checkpoint writes older totals first: wait
	// for the final ones, then stop the job and check again.
	final.WaitUntil(t, "the final totals", 60*time.Second, func() bool { return maps.Equal(totals(), want) })
	before := crashtest.LatestCheckpoint(t, chk)
	final.WaitUntil(t, "a checkpoint after the totals", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
	stopped = true
	if exited, err := final.Signal(syscall.SIGTERM); exited {
		t.Fatalf("the final run exited by itself: %v", err)
	}
	if got := totals(); !maps.Equal(got, want) {
		t.Fatalf("count and sum per key %v, want %v", got, want)
	}
	pipe := c.Pipeline()
	cmds := make([]*goredis.IntCmd, n)
	for i := range cmds {
		cmds[i] = pipe.Exists(ctx, p+"out:"+strconv.Itoa(i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if cmd.Val() != 1 {
			t.Fatalf("entry %d has no output", i)
		}
	}
}
