package http_test

import (
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/weirstream/weir"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
)

type order struct {
	ID     string  `json:"id"`
	Amount float64 `json:"amount"`
}

// Take orders POSTed as JSON lines; a bad line refuses the request with
// 400 naming the line and field.
func ExampleIngestSource() {
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[order]{
		Addr: "127.0.0.1:0", Path: "/orders", Deserializer: kafka.JSONSerde[order]{},
	})
	env := weir.NewEnvironment(weir.Options{})
	got := make(chan order, 10)
	weir.FromSource(env, src, weir.NoWatermarks[order](), "orders").
		SinkTo(weir.SinkFunc[order](func(_ context.Context, o order, _ int64) error { got <- o; return nil }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	for src.Addr(0) == "" {
		time.Sleep(time.Millisecond)
	}
	url := "http://" + src.Addr(0) + "/orders"
	for _, body := range []string{
		"{\"id\":\"a\",\"amount\":10.5}\n{\"id\":\"b\",\"amount\":3}\n",
		"{\"id\":\"c\",\"amount\":1}\n{\"id\":\"d\",\"amount\":\"lots\"}\n",
	} {
		resp, err := nethttp.Post(url, "application/x-ndjson", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			break
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(answer))
	}
	fmt.Println(<-got)
	fmt.Println(<-got)
	cancel()
	<-done
	// Output:
	// 200 {"accepted":2,"rejected":0}
	// 400 {"accepted":0,"rejected":0,"error":"line 2: field \"amount\": json: cannot decode a JSON string into float64 (byte 25)"}
	// {a 10.5}
	// {b 3}
}

// Send records to a webhook in batches of two, each with its idempotency
// key.
func ExampleWebhookSink() {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		body, _ := io.ReadAll(r.Body)
		// A writer that did not restore has the epoch "0.<run>", run being
		// random to it.
		key := regexp.MustCompile(`-0\.[0-9a-f]{8}-`).ReplaceAllString(r.Header.Get("Idempotency-Key"), "-0.<run>-")
		fmt.Println(key, string(body))
	}))
	defer srv.Close()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []order{{"a", 1}, {"b", 2}, {"c", 3}}).
		SinkTo(weirhttp.NewWebhookSink(weirhttp.WebhookOptions[order]{
			URL: srv.URL, Serializer: kafka.JSONSerde[order]{}, BatchSize: 2,
		})).Name("orders-hook")
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// orders-hook-0-0.<run>-0+2 [{"id":"a","amount":1},{"id":"b","amount":2}]
	// orders-hook-0-0.<run>-2+1 [{"id":"c","amount":3}]
}

// Poll a REST endpoint for the records after a cursor, which the source
// keeps in its checkpoints.
func ExamplePollSource() {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			fmt.Fprint(w, `[{"id":"a","amount":1},{"id":"b","amount":2}]`)
		case "b":
			fmt.Fprint(w, `[{"id":"c","amount":3}]`)
		default:
			fmt.Fprint(w, `[]`)
		}
	}))
	defer srv.Close()
	src := weirhttp.NewPollSource(weirhttp.PollOptions[order]{
		URL: srv.URL + "/orders", Interval: time.Second, Deserializer: kafka.JSONSerde[order]{},
		CursorParam: "after", Cursor: func(o order) string { return o.ID },
	})
	env := weir.NewEnvironment(weir.Options{})
	got := make(chan order, 10)
	weir.FromSource(env, src, weir.NoWatermarks[order](), "orders").
		SinkTo(weir.SinkFunc[order](func(_ context.Context, o order, _ int64) error { got <- o; return nil }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- env.Execute(ctx) }()
	for range 3 {
		fmt.Println(<-got)
	}
	cancel()
	<-done
	// Output:
	// {a 1}
	// {b 2}
	// {c 3}
}
