package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/internal/testnet"
)

// receiver is a webhook endpoint that keeps the batches it took, by
// idempotency key, and answers with fail(attempt of that key) if set.
type receiver struct {
	mu       sync.Mutex
	batches  map[string][]event
	order    []string
	attempts map[string]int
	fail     func(key string, attempt int) int
}

// freshRun matches the epoch of a writer that did not restore.
var freshRun = regexp.MustCompile(`-0\.[0-9a-f]{8}-`)

func newReceiver() *receiver {
	return &receiver{batches: map[string][]event{}, attempts: map[string]int{}}
}

func (rc *receiver) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	// The run part of a fresh writer's keys is random: "0.<run>" reads "0".
	key := freshRun.ReplaceAllString(r.Header.Get("Idempotency-Key"), "-0-")
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts[key]++
	if rc.fail != nil {
		if code := rc.fail(key, rc.attempts[key]); code != 0 {
			if code == nethttp.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			nethttp.Error(w, "refused", code)
			return
		}
	}
	var evs []event
	if r.Header.Get("Content-Type") == "application/x-ndjson" {
		for _, l := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			var e event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				nethttp.Error(w, err.Error(), 400)
				return
			}
			evs = append(evs, e)
		}
	} else if err := json.Unmarshal(body, &evs); err != nil {
		nethttp.Error(w, err.Error(), 400)
		return
	}
	if _, dup := rc.batches[key]; !dup { // dedup by key, as a receiver should
		rc.order = append(rc.order, key)
		rc.batches[key] = evs
	}
}

func (rc *receiver) ids() []int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var ids []int
	for _, k := range rc.order {
		for _, e := range rc.batches[k] {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func events(n int) []event {
	out := make([]event, n)
	for i := range out {
		out[i] = event{ID: i + 1, Name: fmt.Sprint("e", i+1)}
	}
	return out
}

func runWebhook(t *testing.T, opts weirhttp.WebhookOptions[event], n int) error {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, events(n)).SinkTo(weirhttp.NewWebhookSink(opts)).Name("hook")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return env.Execute(ctx)
}

func checkIDs(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("receiver has %d records, want %d: %v", len(got), n, got)
	}
	for i, id := range got {
		if id != i+1 {
			t.Fatalf("record %d has id %d", i, id)
		}
	}
}

func TestWebhookBatchesAndKeys(t *testing.T) {
	for _, f := range []weirhttp.Format{weirhttp.JSONArray, weirhttp.JSONLines} {
		rc := newReceiver()
		srv := httptest.NewServer(rc)
		err := runWebhook(t, weirhttp.WebhookOptions[event]{URL: srv.URL, Serializer: kafka.JSONSerde[event]{}, Format: f, BatchSize: 3}, 7)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, rc.ids(), 7)
		if want := []string{"hook-0-0-0+3", "hook-0-0-3+3", "hook-0-0-6+1"}; fmt.Sprint(rc.order) != fmt.Sprint(want) {
			t.Fatalf("format %d: keys %v, want %v", f, rc.order, want)
		}
	}
}

// 5xx and 429 answers are retried with the same key until taken.
func TestWebhookRetriesWithSameKey(t *testing.T) {
	rc := newReceiver()
	rc.fail = func(key string, attempt int) int {
		switch {
		case key == "hook-0-0-0+4" && attempt == 1:
			return nethttp.StatusServiceUnavailable
		case key == "hook-0-0-4+4" && attempt <= 2:
			return nethttp.StatusInternalServerError
		case key == "hook-0-0-8+2" && attempt == 1:
			return nethttp.StatusTooManyRequests
		}
		return 0
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	reg := prometheus.NewRegistry()
	err := runWebhook(t, weirhttp.WebhookOptions[event]{URL: srv.URL, Serializer: kafka.JSONSerde[event]{}, BatchSize: 4,
		Backoff: weirhttp.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}, Registry: reg}, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, rc.ids(), 10)
	if rc.attempts["hook-0-0-4+4"] != 3 || rc.attempts["hook-0-0-8+2"] != 2 {
		t.Fatalf("attempts %v", rc.attempts)
	}
	if n := testutil.ToFloat64(collectorOf(t, reg, "weir_http_webhook_batches_total", "retried")); n != 4 {
		t.Fatalf("retried batches metric %v, want 4", n)
	}
}

// collectorOf finds a counter of a vector in reg by name and label value.
func collectorOf(t *testing.T, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("no %s{%s} in the registry", name, label)
	return nil
}

// While the receiver is unreachable the sink retries; once it is back the
// batches land, each once.
func TestWebhookOutage(t *testing.T) {
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	proxy := testnet.NewProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	proxy.Cut()
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, events(9)).SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[event]{
		URL: "http://" + proxy.Addr() + "/hook", Serializer: kafka.JSONSerde[event]{}, BatchSize: 3, Registry: reg,
		Backoff: weirhttp.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}})).Name("hook")
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer jc.Cancel()
	waitFor(t, "failed attempts during the outage", 10*time.Second, func() bool {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "weir_http_webhook_batches_total" {
				for _, m := range mf.GetMetric() {
					if m.GetLabel()[0].GetValue() == "retried" && m.GetCounter().GetValue() >= 3 {
						return true
					}
				}
			}
		}
		return false
	})
	if n := len(rc.ids()); n != 0 {
		t.Fatalf("%d records arrived through a cut proxy", n)
	}
	proxy.Restore()
	if err := jc.Wait(); err != nil {
		t.Fatal(err)
	}
	checkIDs(t, rc.ids(), 9)
}

// A 4xx answer fails the job naming the batch, or sends its records to
// the dead-letter sink.
func TestWebhookRejectedBatch(t *testing.T) {
	rc := newReceiver()
	rc.fail = func(key string, _ int) int {
		if key == "hook-0-0-2+2" {
			return nethttp.StatusUnprocessableEntity
		}
		return 0
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	err := runWebhook(t, weirhttp.WebhookOptions[event]{URL: srv.URL, Serializer: kafka.JSONSerde[event]{}, BatchSize: 2}, 6)
	if err == nil || !strings.Contains(freshRun.ReplaceAllString(err.Error(), "-0-"), "batch hook-0-0-2+2 (2 records) refused: HTTP 422") {
		t.Fatalf("job ended with %v, want the refused batch named", err)
	}

	rc2 := newReceiver()
	rc2.fail = rc.fail
	srv2 := httptest.NewServer(rc2)
	defer srv2.Close()
	dead := &collector[weir.DeadLetter]{}
	err = runWebhook(t, weirhttp.WebhookOptions[event]{URL: srv2.URL, Serializer: kafka.JSONSerde[event]{}, BatchSize: 2, DeadLetters: dead.sink()}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(rc2.ids()); got != "[1 2 5 6]" {
		t.Fatalf("receiver took %s", got)
	}
	d := dead.values()
	if len(d) != 2 || !strings.HasSuffix(freshRun.ReplaceAllString(d[0].Source, "-0-"), "batch hook-0-0-2+2 record 1") || string(d[0].Raw) != `{"id":3,"name":"e3"}` ||
		string(d[1].Raw) != `{"id":4,"name":"e4"}` || !strings.Contains(d[0].Reason, "HTTP 422") {
		t.Fatalf("dead letters %+v", d)
	}
}

// With FlushInterval a batch that does not fill is sent while the job
// runs, without a checkpoint.
func TestWebhookFlushInterval(t *testing.T) {
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[event]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSource(env, src, weir.NoWatermarks[event](), "in").SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[event]{
		URL: srv.URL, Serializer: kafka.JSONSerde[event]{}, BatchSize: 1000, FlushInterval: 50 * time.Millisecond})).Name("hook")
	start(t, env)
	waitFor(t, "the ingest listener", 10*time.Second, func() bool { return src.Addr(0) != "" })
	if code, _, _ := post(t, "http://"+src.Addr(0)+"/", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n"); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	waitFor(t, "the batch sent by the flusher", 10*time.Second, func() bool { return len(rc.ids()) == 3 })
	checkIDs(t, rc.ids(), 3)
}
