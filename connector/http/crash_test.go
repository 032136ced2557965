package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
	"github.com/weirstream/weir/connector/file"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/internal/crashtest"
)

// crashChildEnv, when set ("addr dir"), makes TestIngestCrashChild run the
// child job of TestIngestAckOnCheckpointSurvivesKills.
const crashChildEnv = "WEIR_HTTP_CRASH_CHILD"

// TestIngestCrashChild is the child process of
// TestIngestAckOnCheckpointSurvivesKills: an ingest source (AckOnCheckpoint)
// feeding the exactly-once file sink, with 50ms checkpoints, restoring the
// latest. It runs until killed.
func TestIngestCrashChild(t *testing.T) {
	cfg := os.Getenv(crashChildEnv)
	if cfg == "" {
		t.Skip("the child process of TestIngestAckOnCheckpointSurvivesKills")
	}
	addr, dir, _ := strings.Cut(cfg, " ")
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: filepath.Join(dir, "chk"), Retained: 2},
		Restore:     "latest",
	})
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: addr, Deserializer: kafka.JSONSerde[event]{},
		Ack: weirhttp.AckOnCheckpoint, AckTimeout: 5 * time.Second})
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").UID("ingest").
		SinkTo(file.ExactlyOnceJSONSink[event](filepath.Join(dir, "out"), file.ExactlyOnceOptions{})).UID("out")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Clients post records to an AckOnCheckpoint ingest source, retrying every
// request until it is answered 200, while the job's process is SIGKILLed
// and restarted several times. Every record acknowledged must be in the
// committed output of the exactly-once file sink behind the source: a 200
// means a completed checkpoint covers it (at-least-once end to end;
// repeats from retries are allowed and counted).
func TestIngestAckOnCheckpointSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "child.log")
	t.Setenv(crashChildEnv, addr+" "+dir)
	startChild := func() *crashtest.Child {
		return crashtest.Start(t, bin, logPath, "-test.run=^TestIngestCrashChild$", "-test.count=1")
	}
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("child log:\n%s", b)
		}
	}()

	const clients, requests, perRequest = 4, 40, 10
	var acked atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl := &nethttp.Client{Timeout: 10 * time.Second}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				var body strings.Builder
				for i := range perRequest {
					id := (c*requests+r)*perRequest + i + 1
					fmt.Fprintf(&body, "{\"id\":%d}\n", id)
				}
				for ctx.Err() == nil { // until answered 200
					resp, err := cl.Post("http://"+addr+"/", "application/x-ndjson", strings.NewReader(body.String()))
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == 200 {
							acked.Add(1)
							break
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	total := int64(clients * requests)
	for kill := range 3 {
		child := startChild()
		from := acked.Load()
		child.WaitUntil(t, "acknowledged requests", 60*time.Second, func() bool { return acked.Load() >= from+total/5 || acked.Load() == total })
		if exited, err := child.Kill(); exited {
			t.Fatalf("child exited by itself before kill %d: %v", kill+1, err)
		}
	}
	child := startChild()
	want := int(total * perRequest)
	child.WaitUntil(t, "every request acknowledged", 60*time.Second, func() bool { return acked.Load() == total })
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("clients gave up")
	}
	// Every acknowledged record is committed already (or is committed
	// again by the restored run); wait for the sink's files.
	var seen map[int]int
	child.WaitUntil(t, "every record in the committed output", 30*time.Second, func() bool {
		seen = committed(t, filepath.Join(dir, "out"))
		return len(seen) == want
	})
	if exited, err := child.Kill(); exited {
		t.Fatalf("child exited by itself: %v", err)
	}
	for id := 1; id <= want; id++ {
		if seen[id] == 0 {
			t.Fatalf("record %d was acknowledged but is not in the committed output", id)
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("%d records, %d repeats from retried requests, over 3 kills", want, dups)
}

// committed counts the ids in the committed part files of dir.
func committed(t *testing.T, dir string) map[int]int {
	seen := map[int]int{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var ev event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				seen[ev.ID]++
			}
		}
		f.Close()
	}
	return seen
}

// webhookChildEnv, when set ("url dir"), makes TestWebhookCrashChild run
// the child job of TestWebhookKeysSurviveKills.
const webhookChildEnv = "WEIR_HTTP_WEBHOOK_CHILD"

// TestWebhookCrashChild is the child process of
// TestWebhookKeysSurviveKills: 3000 generated records (1500/s) into the
// webhook sink in batches of 7, with 40ms checkpoints, restoring the
// latest.
func TestWebhookCrashChild(t *testing.T) {
	cfg := os.Getenv(webhookChildEnv)
	if cfg == "" {
		t.Skip("the child process of TestWebhookKeysSurviveKills")
	}
	url, dir, _ := strings.Cut(cfg, " ")
	env := weir.NewEnvironment(weir.Options{
		Checkpoints: weir.CheckpointOptions{Interval: 40 * time.Millisecond, Dir: dir, Retained: 2},
		Restore:     "latest",
	})
	weir.FromSource(env, datagen.New(func(seq int64) event { return event{ID: int(seq)} }, datagen.Options{Count: 3000, RecordsPerSecond: 1500}),
		weir.NoWatermarks[event](), "gen").UID("gen").
		SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[event]{URL: url, Serializer: kafka.JSONSerde[event]{}, BatchSize: 7})).UID("hook").Name("hook")
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The webhook job is SIGKILLed three times and restored from its latest
// checkpoint; a receiver that keeps the first body of every
// Idempotency-Key must end with every record (a key never came back with
// other records, which it would have dropped), and the repeats it dropped
// show the keys at work.
func TestWebhookKeysSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	bodies := map[string]string{}
	var conflicts []string
	dropped := 0
	taken := map[int]int{}
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		defer mu.Unlock()
		if old, ok := bodies[key]; ok {
			if old != string(b) {
				conflicts = append(conflicts, key)
			}
			dropped++
			return
		}
		bodies[key] = string(b)
		var evs []event
		_ = json.Unmarshal(b, &evs)
		for _, e := range evs {
			taken[e.ID]++
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "child.log")
	t.Setenv(webhookChildEnv, srv.URL+" "+filepath.Join(dir, "chk"))
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("child log:\n%s", b)
		}
	}()
	distinct := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(taken)
	}
	for kill := range 3 {
		child := crashtest.Start(t, bin, logPath, "-test.run=^TestWebhookCrashChild$", "-test.count=1")
		from := distinct()
		child.WaitUntil(t, "records at the receiver", 30*time.Second, func() bool { return distinct() >= from+400 })
		if exited, err := child.Kill(); exited {
			t.Fatalf("child exited by itself before kill %d: %v", kill+1, err)
		}
	}
	child := crashtest.Start(t, bin, logPath, "-test.run=^TestWebhookCrashChild$", "-test.count=1")
	if exited, err := child.WaitFor(60 * time.Second); !exited || err != nil {
		t.Fatalf("the last run did not finish (exited %v): %v", exited, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conflicts) > 0 {
		t.Fatalf("keys came back with other records: %v", conflicts)
	}
	repeats := 0
	for id := range 3000 {
		if taken[id] == 0 {
			t.Fatalf("record %d never reached the receiver", id)
		}
		repeats += taken[id] - 1
	}
	t.Logf("3000 records over 3 kills: %d repeated batches dropped by key, %d records repeated under new keys", dropped, repeats)
}
