package nats

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
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
var crashChild = flag.String("nats-crash-child", "", "run the crash test's job (set by TestCrashExactlyOnce)")

type crashIn struct {
	Key   string `json:"key"`
	Seq   int64  `json:"seq"`
	Value int64  `json:"value"`
}

type crashOut struct {
	Key string `json:"key"`
	Seq int64  `json:"seq"`
	Sum int64  `json:"sum"`
}

type crashSum struct{ sum state.Value[int64] }

func (r *crashSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *crashSum) ProcessElement(ctx *weir.KeyedContext[string, crashOut], v crashIn) error {
	s, _ := r.sum.Value()
	s += v.Value
	r.sum.Update(s)
	ctx.Collect(crashOut{Key: v.Key, Seq: v.Seq, Sum: s})
	return nil
}

// TestCrashChild is the job of TestCrashExactlyOnce, run in a child
// process: JetStream stream in → running sum per key → JetStream stream
// out, checkpoints every 50ms, restoring the latest one. It is skipped
// unless -nats-crash-child is given.
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
	src := weir.FromSource(env, NewSource(SourceOptions[crashIn]{URL: url, Stream: in, Consumer: "job",
		Deserializer: JSONSerde[crashIn]{}, AckWait: 2 * time.Second, FetchBatch: 64}), weir.NoWatermarks[crashIn](), "in").UID("in")
	sums := weir.ProcessKeyed[string, crashIn, crashOut](weir.KeyBy(src, func(v crashIn) string { return v.Key }), &crashSum{}).UID("sums")
	sums.SinkTo(NewSink(SinkOptions[crashOut]{URL: url, Subject: out + ".o", Serializer: JSONSerde[crashOut]{},
		MsgID: func(v crashOut) string { return "o-" + strconv.FormatInt(v.Seq, 10) }})).UID("out")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := env.Execute(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestCrashExactlyOnce runs JetStream → keyed running sum → JetStream in
// child processes SIGKILLed at random instants (after a checkpoint
// completed, or while the job starts and restores), restarted at varying
// parallelism, while input arrives; the last killed run fetches the last
// input messages and is killed at once, before a checkpoint covers them
// (what the final check must wait for, below). Then every input message
// is in the output stream exactly once, and a final message per key,
// published once the consumer's ack floor passed every input message,
// carries the sum of every value of its key: no message entered Weir's
// state twice or never (a duplicate the sink's message ids would hide
// still shows in the sums).
//
// The final messages wait for the ack floor, not just for the last run's
// first checkpoint: the messages a killed run fetched and did not ack
// come back only after AckWait, so a message published as soon as the
// last run is up can overtake them and see a sum without them (they enter
// the state after it). An acked message is in the state of a completed
// checkpoint of the last run (acks follow completed checkpoints), so once
// the floor passed them all, a sum that misses one is a loss. Probes of
// value 0 published as soon as the last run is up show how far the state
// was behind then (logged, not checked).
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the job in child processes killed many times")
	}
	url := server(t)
	in, out := uniq(t), uniq(t)+"_out"
	createStream(t, url, in)
	createStream(t, url, out)
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
	payloadV := func(i, v int64) []byte {
		b, _ := json.Marshal(crashIn{Key: fmt.Sprint("k", i%keys), Seq: i, Value: v})
		return b
	}
	payload := func(i int64) []byte { return payloadV(i, i) }
	// Input arrives at about 1000 messages per second during the kills,
	// but for the last ones.
	const last = 150
	var gen sync.WaitGroup
	gen.Add(1)
	go func() {
		defer gen.Done()
		for i := int64(0); i < n-last; i += 50 {
			var batch [][]byte
			for j := i; j < i+50; j++ {
				batch = append(batch, payload(j))
			}
			publish(t, url, in+".i", batch...)
			time.Sleep(50 * time.Millisecond) // the input's pace, not a wait for a condition
		}
	}()
	args := func(p int) []string {
		return []string{"-test.run=^TestCrashChild$", "-nats-crash-child=" + strings.Join([]string{url, in, out, chk, strconv.Itoa(p)}, ",")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	pars := []int{1, 3, 2}
	const wantKills = 12
	start := time.Now()
	early := crashtest.KillRuns(t, bin, logPath, chk, wantKills, rng, func(run int) []string { return args(pars[run%len(pars)]) })
	kills := wantKills
	gen.Wait()
	t.Logf("%d kills (%d while starting) in %v", kills, early, time.Since(start).Round(time.Millisecond))
	// The last input, fetched by a run killed as soon as the server
	// delivered it: in no checkpoint, not acked, back only after AckWait.
	late := crashtest.Start(t, bin, logPath, args(2)...)
	var rest [][]byte
	for i := int64(n - last); i < n; i++ {
		rest = append(rest, payload(i))
	}
	publish(t, url, in+".i", rest...)
	late.WaitUntil(t, "the last run fetching the last input", 30*time.Second, func() bool {
		return consumerInfo(t, url, in, "job").Delivered.Stream >= n
	})
	if exited, err := late.Kill(); exited {
		t.Fatalf("the last run exited by itself: %v", err)
	}
	final := crashtest.Start(t, bin, logPath, args(2)...)
	defer final.Kill()
	before := crashtest.LatestCheckpoint(t, chk)
	final.WaitUntil(t, "checkpoint of the final run", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
	// Probes (seq n..n+keys-1, value 0): where the state was when the
	// final run was up.
	var probes [][]byte
	for k := int64(0); k < keys; k++ {
		probes = append(probes, payloadV(n+k, 0))
	}
	upAt, up := time.Now(), consumerInfo(t, url, in, "job")
	publish(t, url, in+".i", probes...)
	waitAcked(t, url, in, "job", n+keys, 60*time.Second)
	t.Logf("final run up: ack floor %d of %d inputs, %d fetched and not acked; every input and probe acked %v later",
		up.AckFloor.Stream, n, up.NumAckPending, time.Since(upAt).Round(time.Millisecond))
	// Markers (seq n+keys..n+2*keys-1): the sums of every input.
	var markers [][]byte
	for k := int64(0); k < keys; k++ {
		markers = append(markers, payload(n+keys+k))
	}
	publish(t, url, in+".i", markers...)
	const total = n + 2*keys
	data, ids := readStream(t, url, out, total, 90*time.Second)
	want := map[string]int64{}
	for i := int64(0); i < n; i++ {
		want[fmt.Sprint("k", i%keys)] += i
	}
	inputs := maps.Clone(want)
	for i := int64(n + keys); i < total; i++ {
		want[fmt.Sprint("k", i%keys)] += i
	}
	seen := map[int64]bool{}
	var short []string
	for i, d := range data {
		var o crashOut
		if err := json.Unmarshal(d, &o); err != nil {
			t.Fatalf("output %q: %v", d, err)
		}
		if seen[o.Seq] {
			t.Fatalf("input %d twice in the output (id %s)", o.Seq, ids[i])
		}
		seen[o.Seq] = true
		switch {
		case o.Seq >= n+keys && o.Sum != want[o.Key]:
			t.Fatalf("final sum of %s is %d, want %d: a message entered the state twice or never", o.Key, o.Sum, want[o.Key])
		case o.Seq >= n && o.Seq < n+keys && o.Sum != inputs[o.Key]:
			short = append(short, fmt.Sprintf("%s by %d", o.Key, inputs[o.Key]-o.Sum))
		}
	}
	if len(short) > 0 {
		slices.Sort(short)
		t.Logf("probes sent when the final run was up short of their key's inputs (which entered the state later): %s; markers sent then would have failed",
			strings.Join(short, ", "))
	}
	if len(data) != total || len(seen) != total {
		t.Fatalf("%d output messages (%d distinct inputs), want %d", len(data), len(seen), total)
	}
}
