package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

// feed is a REST endpoint serving events 1..limit, at most 5 per
// response, after the id in the "after" query parameter.
type feed struct {
	limit  atomic.Int64
	mu     sync.Mutex
	afters []string
}

func (f *feed) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	after := r.URL.Query().Get("after")
	f.mu.Lock()
	f.afters = append(f.afters, after)
	f.mu.Unlock()
	a, _ := strconv.Atoi(after)
	var out []event
	for id := a + 1; id <= int(f.limit.Load()) && len(out) < 5; id++ {
		out = append(out, event{ID: id, Name: "e" + strconv.Itoa(id)})
	}
	if out == nil {
		out = []event{}
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (f *feed) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.afters...)
}

// lastCheckpoint is the highest completed checkpoint number in dir.
func lastCheckpoint(t *testing.T, dir string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*", "_metadata"))
	best := 0
	for _, p := range m {
		name := filepath.Base(filepath.Dir(p))
		n, err := strconv.Atoi(strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyz-_"))
		if err == nil && n > best {
			best = n
		}
	}
	return best
}

func pollJob(t *testing.T, url, dir string, restore string) (*weir.JobClient, *collector[event]) {
	src := weirhttp.NewPollSource(weirhttp.PollOptions[event]{
		URL: url, Interval: 20 * time.Millisecond, Deserializer: kafka.JSONSerde[event]{},
		CursorParam: "after", Cursor: func(e event) string { return strconv.Itoa(e.ID) },
	})
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: dir}, Restore: restore})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "poll").UID("poll").SinkTo(got.sink())
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jc.Cancel(); _ = jc.Wait() })
	return jc, got
}

// The cursor of the last record emitted is restored from the checkpoint:
// the restored job asks for what follows it and reads every later record
// once.
func TestPollCursorRestored(t *testing.T) {
	f := &feed{}
	f.limit.Store(20)
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := t.TempDir()
	jc, got := pollJob(t, srv.URL, dir, "")
	waitFor(t, "20 records", 10*time.Second, func() bool { return got.len() == 20 })
	// Two checkpoints later the stored cursor is 20.
	c := lastCheckpoint(t, dir)
	waitFor(t, "two more checkpoints", 10*time.Second, func() bool { return lastCheckpoint(t, dir) >= c+2 })
	jc.Cancel()
	_ = jc.Wait()
	for i, e := range got.values() {
		if e.ID != i+1 {
			t.Fatalf("first run: record %d is %+v", i, e)
		}
	}
	f.limit.Store(50)
	seen := len(f.requests())
	_, got2 := pollJob(t, srv.URL, dir, "latest")
	waitFor(t, "30 records after the restore", 10*time.Second, func() bool { return got2.len() >= 30 })
	if first := f.requests()[seen]; first != "20" {
		t.Fatalf("the restored job's first poll asked after=%q, want 20", first)
	}
	v := got2.values()
	if len(v) != 30 {
		t.Fatalf("restored run read %d records, want 30", len(v))
	}
	for i, e := range v {
		if e.ID != 21+i {
			t.Fatalf("restored run: record %d is %+v, want id %d", i, e, 21+i)
		}
	}
}

// 503 and 429 answers are retried (honouring Retry-After); bad elements
// become dead letters naming the request and element.
func TestPollRetriesAndDeadLetters(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch n.Add(1) {
		case 1:
			nethttp.Error(w, "warming up", nethttp.StatusServiceUnavailable)
		case 2:
			nethttp.Error(w, "slow down", nethttp.StatusTooManyRequests)
		case 3:
			fmt.Fprint(w, `[{"id":1},{"id":"x"},{"id":3}]`)
		default:
			fmt.Fprint(w, `[]`)
		}
	}))
	defer srv.Close()
	dlq := weir.NewOutputTag[weir.DeadLetter]("bad")
	src := weirhttp.NewPollSource(weirhttp.PollOptions[event]{URL: srv.URL + "/events", Interval: 10 * time.Millisecond,
		Deserializer: kafka.JSONSerde[event]{}, ErrorPolicy: weir.DeadLetterTo(dlq),
		Backoff: weirhttp.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}})
	env := weir.NewEnvironment(weir.Options{})
	s := weir.FromSource(env, src, weir.NoWatermarks[event](), "poll")
	got, dead := &collector[event]{}, &collector[weir.DeadLetter]{}
	s.SinkTo(got.sink())
	weir.SideOutput(s, dlq).SinkTo(dead.sink())
	start(t, env)
	waitFor(t, "2 records and a dead letter", 10*time.Second, func() bool { return got.len() == 2 && dead.len() == 1 })
	d := dead.values()[0]
	if !strings.HasSuffix(d.Source, "/events element 2") || d.Field != "id" {
		t.Fatalf("dead letter %+v", d)
	}
}

// A 404 is not retried: the job fails naming the URL and status.
func TestPoll404FailsTheJob(t *testing.T) {
	srv := httptest.NewServer(nethttp.NotFoundHandler())
	defer srv.Close()
	src := weirhttp.NewPollSource(weirhttp.PollOptions[event]{URL: srv.URL + "/nope", Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSource(env, src, weir.NoWatermarks[event](), "poll").SinkTo(weir.SinkFunc[event](func(context.Context, event, int64) error { return nil }))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := env.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), "/nope: HTTP 404") || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("job ended with %v, want a 404 error naming the URL", err)
	}
}
