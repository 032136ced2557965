package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

// The source subscribes after connecting, emits every message, sends
// malformed ones to dead letters, and reconnects and subscribes again
// when the server drops the connection.
func TestWebSocketReconnectAndResubscribe(t *testing.T) {
	var conns atomic.Int64
	var mu sync.Mutex
	var subs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		_, sub, err := c.Read(ctx)
		if err != nil {
			return
		}
		mu.Lock()
		subs = append(subs, string(sub))
		mu.Unlock()
		var msgs []string
		if conns.Add(1) == 1 {
			msgs = []string{`{"id":1}`, `{"id":2}`, `not json`}
		} else {
			msgs = []string{`{"id":3}`}
		}
		for _, m := range msgs {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
		if conns.Load() == 1 {
			c.Close(websocket.StatusGoingAway, "restarting") // the feed drops us
			return
		}
		<-ctx.Done()
	}))
	defer srv.Close()
	dlq := weir.NewOutputTag[weir.DeadLetter]("bad")
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/feed"
	src := weirhttp.NewWebSocketSource(weirhttp.WebSocketOptions[event]{URL: url, Subscribe: []byte(`{"subscribe":"trades"}`),
		Deserializer: kafka.JSONSerde[event]{}, ErrorPolicy: weir.DeadLetterTo(dlq),
		Backoff: weirhttp.Backoff{Initial: time.Millisecond, Max: 10 * time.Millisecond}})
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: 50 * time.Millisecond, Dir: t.TempDir()}})
	s := weir.FromSource(env, src, weir.NoWatermarks[event](), "ws")
	got, dead := &collector[event]{}, &collector[weir.DeadLetter]{}
	s.SinkTo(got.sink())
	weir.SideOutput(s, dlq).SinkTo(dead.sink())
	start(t, env)
	waitFor(t, "3 records and a dead letter", 10*time.Second, func() bool { return got.len() == 3 && dead.len() == 1 })
	for i, e := range got.values() {
		if e.ID != i+1 {
			t.Fatalf("record %d is %+v", i, e)
		}
	}
	if d := dead.values()[0]; d.Source != "websocket "+url+" connection 1 message 3" || string(d.Raw) != "not json" {
		t.Fatalf("dead letter %+v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(subs) != 2 || subs[0] != `{"subscribe":"trades"}` || subs[1] != subs[0] {
		t.Fatalf("subscriptions %q, want the message on both connections", subs)
	}
}

// Close ends a connection the server keeps open.
func TestWebSocketCloseStopsReading(t *testing.T) {
	closed := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer close(closed)
		_ = c.Write(r.Context(), websocket.MessageText, []byte(`{"id":1}`))
		_, _, _ = c.Read(context.Background()) // until the client goes
	}))
	defer srv.Close()
	src := weirhttp.NewWebSocketSource(weirhttp.WebSocketOptions[event]{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Deserializer: kafka.JSONSerde[event]{}})
	env := weir.NewEnvironment(weir.Options{})
	got := &collector[event]{}
	weir.FromSource(env, src, weir.NoWatermarks[event](), "ws").SinkTo(got.sink())
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the record", 10*time.Second, func() bool { return got.len() == 1 })
	jc.Cancel()
	_ = jc.Wait()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection is still open after the job ended")
	}
}
