package mqtt

import (
	"context"
	"errors"
	"flag"
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

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// crashChild, when set, makes TestCrashChild run the crash test's job:
// "topic,clientID,checkpointDir,parallelism,protocolVersion".
var crashChild = flag.String("mqtt-crash-child", "", "run the crash test's job (set by TestCrashAtLeastOnce)")

// TestCrashChild is the job of TestCrashAtLeastOnce, run in a child
// process: topic+"in" (QoS 1, persistent session) → a map at the
// given parallelism → topic+"out" (QoS 1), checkpoints every 50 ms,
// restoring the latest one. It is skipped unless -mqtt-crash-child is
// given.
func TestCrashChild(t *testing.T) {
	if *crashChild == "" {
		t.Skip("the job of TestCrashAtLeastOnce, run in a child process")
	}
	f := strings.Split(*crashChild, ",")
	topic, id, dir := f[0], f[1], f[2]
	p, _ := strconv.Atoi(f[3])
	version, _ := strconv.Atoi(f[4])
	env := weir.NewEnvironment(weir.Options{
		Parallelism: p,
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: dir, Retained: 2},
		Restore:     "latest",
		Restart:     &weir.ExponentialDelayRestart{Initial: 100 * time.Millisecond, Max: time.Second},
	})
	src, err := NewSource(SourceOptions[string]{Connection: Connection{Broker: broker, ClientID: id, ProtocolVersion: version},
		Topics: []string{topic + "in"}, Deserializer: payloadString})
	must(t, err)
	in := weir.FromSource[string](env, src, weir.NoWatermarks[string](), "in").UID("in").SetParallelism(1)
	tagged := weir.Map(in.Rebalance(), func(s string) string { return "out-" + s }).UID("tag")
	sink, err := NewSink(SinkOptions[string]{Connection: Connection{Broker: broker, ClientID: id + "-sink", ProtocolVersion: version},
		Topic: topic + "out", Serialize: func(s string) ([]byte, error) { return []byte(s), nil }})
	must(t, err)
	tagged.SinkTo(sink).UID("out")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := env.Execute(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestCrashAtLeastOnce runs MQTT → rebalance → map → MQTT in child
// processes SIGKILLed at random instants (after a checkpoint completed, or
// while the job starts and restores), the map at parallelism 1, 3
// and 2, while messages arrive. The connectors' claim is at-least-once:
// every published message reaches the output topic, possibly more than
// once (the source acknowledges only after a checkpoint, the broker keeps
// the rest in the persistent session and redelivers it). It runs with
// MQTT 3.1.1 and with MQTT 5 (whose source resumes the session the test
// opens with 3.1.1: Mosquitto keeps one session per client id).
func TestCrashAtLeastOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the job in child processes killed many times")
	}
	t.Run("3.1.1", func(t *testing.T) { crashAtLeastOnce(t, 4) })
	t.Run("5", func(t *testing.T) { crashAtLeastOnce(t, 5) })
}

func crashAtLeastOnce(t *testing.T, version int) {
	topic, id := names(t)
	if version == 5 {
		topic, id = names5(t)
	}
	session(t, id+"-0", topic+"in")
	dropSessions(t, id+"-sink-0", id+"-sink-1", id+"-sink-2")
	var mu sync.Mutex
	got := map[string]int{}
	sub := connect(t, id+"-check", true)
	defer sub.Disconnect(100)
	tok := sub.Subscribe(topic+"out", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		got[string(m.Payload())]++
		mu.Unlock()
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribing: %v", tok.Error())
	}
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
	// Mosquitto queues at most 1000 messages for a session whose client
	// is away or behind (max_queued_messages; it drops the newer ones
	// beyond that, which no client can notice), and lets 20 be
	// unacknowledged in flight, which the source acknowledges once per
	// checkpoint. So the test sends fewer than 1000 messages in all, at
	// about 150 per second.
	const n = 900
	pub := connect(t, id+"-pub", true)
	defer pub.Disconnect(100)
	var gen sync.WaitGroup
	gen.Add(1)
	go func() {
		defer gen.Done()
		for i := 0; i < n; i += 15 {
			for _, v := range vals(i, i+15) {
				if tok := pub.Publish(topic+"in", 1, false, v); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					t.Errorf("publishing: %v", tok.Error())
					return
				}
			}
			time.Sleep(100 * time.Millisecond) // the input's pace, not a wait for a condition
		}
	}()
	args := func(p int) []string {
		return []string{"-test.run=^TestCrashChild$", "-mqtt-crash-child=" + strings.Join([]string{topic, id, chk, strconv.Itoa(p), strconv.Itoa(version)}, ",")}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	pars := []int{1, 3, 2}
	const wantKills = 10
	start := time.Now()
	early := crashtest.KillRuns(t, bin, logPath, chk, wantKills, rng, func(run int) []string { return args(pars[run%len(pars)]) })
	kills := wantKills
	gen.Wait()
	t.Logf("%d kills (%d while starting) in %v", kills, early, time.Since(start).Round(time.Millisecond))
	final := crashtest.Start(t, bin, logPath, args(2)...)
	defer final.Kill()
	missing := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var m []string
		for _, v := range vals(0, n) {
			if got["out-"+v] == 0 {
				m = append(m, v)
			}
		}
		return m
	}
	deadline := time.Now().Add(60 * time.Second)
	final.WaitUntil(t, "every message in the output", 90*time.Second, func() bool {
		return len(missing()) == 0 || time.Now().After(deadline)
	})
	if m := missing(); len(m) > 0 {
		t.Fatalf("%d messages never reached the output: %v", len(m), m)
	}
	mu.Lock()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	mu.Unlock()
	t.Logf("%d messages, %d duplicates in the output (at-least-once)", n, dups)
}
