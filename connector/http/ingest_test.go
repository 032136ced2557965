package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

type reply struct {
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
	Error    string `json:"error"`
}

func post(t testing.TB, url, body string) (int, reply, nethttp.Header) {
	t.Helper()
	resp, err := nethttp.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return resp.StatusCode, r, resp.Header
}

// ingestJob starts a job reading src into a collector (and its dead
// letters into another) and returns the subtask-0 URL.
func ingestJob(t *testing.T, opts weirhttp.IngestOptions[event], envOpts weir.Options) (*weirhttp.IngestSource[event], *collector[event], *collector[weir.DeadLetter]) {
	t.Helper()
	src := weirhttp.NewIngestSource(opts)
	env := weir.NewEnvironment(envOpts)
	s := weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest")
	got := &collector[event]{}
	s.SinkTo(got.sink())
	dead := &collector[weir.DeadLetter]{}
	if tag, ok := opts.ErrorPolicy.DeadLetters(); ok {
		weir.SideOutput(s, tag).SinkTo(dead.sink())
	}
	start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	return src, got, dead
}

func TestIngestJSONLinesArrayAndObject(t *testing.T) {
	src, got, _ := ingestJob(t, weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Path: "/in", Deserializer: kafka.JSONSerde[event]{}}, weir.Options{})
	url := "http://" + src.Addr(0) + "/in"
	if code, r, _ := post(t, url, "{\"id\":1,\"name\":\"a\"}\n\n{\"id\":2,\"name\":\"b\"}\r\n"); code != 200 || r.Accepted != 2 {
		t.Fatalf("JSON lines: %d %+v", code, r)
	}
	if code, r, _ := post(t, url, `[{"id":3},{"id":4}]`); code != 200 || r.Accepted != 2 {
		t.Fatalf("array: %d %+v", code, r)
	}
	if code, r, _ := post(t, url, "{\n  \"id\": 5,\n  \"name\": \"multi-line\"\n}\n"); code != 200 || r.Accepted != 1 {
		t.Fatalf("one object over lines: %d %+v", code, r)
	}
	waitFor(t, "5 records", 10*time.Second, func() bool { return got.len() == 5 })
	ids := map[int]bool{}
	for _, e := range got.values() {
		ids[e.ID] = true
	}
	for i := 1; i <= 5; i++ {
		if !ids[i] {
			t.Fatalf("record %d missing from %v", i, got.values())
		}
	}
	resp, err := nethttp.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != nethttp.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d, want 405", resp.StatusCode)
	}
}

func TestIngestBadLineIs400NamingLineAndField(t *testing.T) {
	src, got, _ := ingestJob(t, weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}}, weir.Options{})
	url := "http://" + src.Addr(0) + "/"
	code, r, _ := post(t, url, "{\"id\":1}\n{\"id\":\"two\"}\n{\"id\":3}\n")
	if code != 400 || !strings.Contains(r.Error, "line 2") || !strings.Contains(r.Error, `field "id"`) {
		t.Fatalf("bad line: %d %+v", code, r)
	}
	// Nothing of the refused request is taken: the next one arrives alone.
	if code, _, _ := post(t, url, `{"id":9}`); code != 200 {
		t.Fatalf("good request: %d", code)
	}
	waitFor(t, "the good record", 10*time.Second, func() bool { return got.len() == 1 })
	if v := got.values(); v[0].ID != 9 {
		t.Fatalf("got %v, want only id 9", v)
	}
}

func TestIngestDeadLetters(t *testing.T) {
	dlq := weir.NewOutputTag[weir.DeadLetter]("bad")
	src, got, dead := ingestJob(t, weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}, ErrorPolicy: weir.DeadLetterTo(dlq)}, weir.Options{})
	code, r, _ := post(t, "http://"+src.Addr(0)+"/", "{\"id\":1}\n{\"id\":\"two\"}\nnot json\n{\"id\":4}\n")
	if code != 200 || r.Accepted != 2 || r.Rejected != 2 {
		t.Fatalf("answer %d %+v", code, r)
	}
	waitFor(t, "2 records and 2 dead letters", 10*time.Second, func() bool { return got.len() == 2 && dead.len() == 2 })
	d := dead.values()
	if !strings.HasSuffix(d[0].Source, "line 2") || d[0].Field != "id" || string(d[0].Raw) != `{"id":"two"}` {
		t.Fatalf("dead letter 1: %+v", d[0])
	}
	if !strings.HasSuffix(d[1].Source, "line 3") || string(d[1].Raw) != "not json" {
		t.Fatalf("dead letter 2: %+v", d[1])
	}
}

func TestIngestBodyLimit(t *testing.T) {
	src, _, _ := ingestJob(t, weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}, MaxBodyBytes: 100}, weir.Options{})
	code, r, _ := post(t, "http://"+src.Addr(0)+"/", strings.Repeat("{\"id\":1}\n", 20))
	if code != nethttp.StatusRequestEntityTooLarge || !strings.Contains(r.Error, "100 bytes") {
		t.Fatalf("answer %d %+v, want 413", code, r)
	}
}

// A full buffer makes requests wait, then answer 429 with Retry-After;
// once the task drains the buffer, requests are taken again.
func TestIngestBackpressure429(t *testing.T) {
	gate := make(chan struct{})
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{},
		BufferSize: 4, AcceptTimeout: 100 * time.Millisecond})
	env := weir.NewEnvironment(weir.Options{})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SinkTo(weir.SinkFunc[event](func(ctx context.Context, v event, ts int64) error {
		select { // the sink stalls until the gate opens
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return got.sink()(ctx, v, ts)
	}))
	start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	url := "http://" + src.Addr(0) + "/"
	four := strings.Repeat("{\"id\":1}\n", 4)
	// The stalled sink holds the task; the records taken fill what lies
	// between the buffer and the sink, then the buffer.
	accepted := 0
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("no 429 after 1000 requests into a stalled job")
		}
		code, r, h := post(t, url, four)
		if code == 200 {
			accepted += r.Accepted
			continue
		}
		if code != nethttp.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(r.Error, "buffer full") {
			t.Fatalf("request %d: %d %+v %v, want 429 with Retry-After: 1", i, code, r, h)
		}
		break
	}
	close(gate)
	waitFor(t, "the records taken", 10*time.Second, func() bool { return got.len() == accepted })
	if code, _, _ := post(t, url, four); code != 200 {
		t.Fatalf("request after draining: %d", code)
	}
	waitFor(t, "4 more records", 10*time.Second, func() bool { return got.len() == accepted+4 })
}

// Under AckOnCheckpoint a request is answered only when a checkpoint
// covering its records completed.
func TestIngestAckOnCheckpoint(t *testing.T) {
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}, Ack: weirhttp.AckOnCheckpoint})
	dir := t.TempDir()
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 300 * time.Millisecond, Dir: dir}})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SinkTo(got.sink())
	start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	before := completedCheckpoints(t, dir)
	code, r, _ := post(t, "http://"+src.Addr(0)+"/", `[{"id":1},{"id":2}]`)
	if code != 200 || r.Accepted != 2 || got.len() != 2 {
		t.Fatalf("answer %d %+v with %d records emitted", code, r, got.len())
	}
	if after := completedCheckpoints(t, dir); after <= before {
		t.Fatalf("answered with %d completed checkpoints, %d before the request", after, before)
	}
}

// Without checkpoints an AckOnCheckpoint request times out with 504.
func TestIngestAckOnCheckpointTimeout(t *testing.T) {
	src, got, _ := ingestJob(t, weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{},
		Ack: weirhttp.AckOnCheckpoint, AckTimeout: 200 * time.Millisecond}, weir.Options{})
	code, r, _ := post(t, "http://"+src.Addr(0)+"/", `{"id":1}`)
	if code != nethttp.StatusGatewayTimeout || !strings.Contains(r.Error, "may duplicate") {
		t.Fatalf("answer %d %+v, want 504", code, r)
	}
	waitFor(t, "the record", 10*time.Second, func() bool { return got.len() == 1 })
}

// completedCheckpoints counts the checkpoints in dir that have metadata.
func completedCheckpoints(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// With parallelism 2 each subtask listens on its own port: Addr's + i.
func TestIngestParallelismPortPerSubtask(t *testing.T) {
	port := freePortPair(t)
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: fmt.Sprintf("127.0.0.1:%d", port), Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{Parallelism: 2})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SetParallelism(2).SinkTo(got.sink())
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jc.Cancel(); _ = jc.Wait() })
	waitFor(t, "both listeners", 10*time.Second, func() bool { return src.Addr(0) != "" && src.Addr(1) != "" })
	if want := fmt.Sprintf("127.0.0.1:%d", port+1); src.Addr(1) != want {
		t.Fatalf("subtask 1 listens on %s, want %s", src.Addr(1), want)
	}
	for i := range 2 {
		if code, _, _ := post(t, "http://"+src.Addr(i)+"/", fmt.Sprintf(`{"id":%d}`, i)); code != 200 {
			t.Fatalf("subtask %d: %d", i, code)
		}
	}
	waitFor(t, "a record through each subtask", 10*time.Second, func() bool { return got.len() == 2 })
	// Closing (cancel) shuts the listeners down.
	jc.Cancel()
	_ = jc.Wait()
	if _, err := nethttp.Post("http://127.0.0.1:"+fmt.Sprint(port)+"/", "application/json", bytes.NewReader([]byte(`{}`))); err == nil {
		t.Fatal("the listener still answers after the job ended")
	}
}

// A job that fails and restarts in the same process listens again on the
// same port: the failed run's listener is closed first.
func TestIngestRestartRebindsPort(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: addr, Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{Restart: &weir.FixedDelayRestart{Attempts: 1, Delay: 10 * time.Millisecond}})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SinkTo(weir.SinkFunc[event](func(ctx context.Context, e event, ts int64) error {
		if e.ID == 666 {
			return fmt.Errorf("injected failure")
		}
		return got.sink()(ctx, e, ts)
	}))
	jc := start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	if code, _, _ := post(t, "http://"+addr+"/", `{"id":666}`); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	waitFor(t, "the restart", 10*time.Second, func() bool { return jc.Status().Attempts == 2 })
	// The new listener may take a moment: retry refused connections.
	waitFor(t, "a POST taken after the restart", 10*time.Second, func() bool {
		resp, err := nethttp.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"id":7}`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	waitFor(t, "the record after the restart", 10*time.Second, func() bool { return got.len() == 1 })
}

// Shutting down answers requests still waiting for a checkpoint 503, with
// a reason, rather than leave them hanging.
func TestIngestShutdownAnswersWaitingRequests(t *testing.T) {
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{},
		Ack: weirhttp.AckOnCheckpoint, AckTimeout: time.Minute})
	env := weir.NewEnvironment(weir.Options{})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ingest").SinkTo(got.sink())
	jc := start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	type answer struct {
		code int
		r    reply
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := nethttp.Post("http://"+src.Addr(0)+"/", "application/json", strings.NewReader(`{"id":1}`))
		if err != nil {
			done <- answer{code: -1}
			return
		}
		defer resp.Body.Close()
		var r reply
		_ = json.NewDecoder(resp.Body).Decode(&r)
		done <- answer{resp.StatusCode, r}
	}()
	waitFor(t, "the record", 10*time.Second, func() bool { return got.len() == 1 })
	jc.Cancel()
	select {
	case a := <-done:
		if a.code != nethttp.StatusServiceUnavailable || !strings.Contains(a.r.Error, "shut down") {
			t.Fatalf("answer %d %+v, want 503", a.code, a.r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request got no answer at shutdown")
	}
}

// freePortPair returns a port p such that p and p+1 were both free (the
// subtasks listen on p and p+1): probing p alone let another process hold
// p+1, and subtask 1 then failed to listen.
func freePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		a, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err == nil {
			b.Close()
			return port
		}
	}
	t.Fatal("no two consecutive free ports in 50 tries")
	return 0
}
