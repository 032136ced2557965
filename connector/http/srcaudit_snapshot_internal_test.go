package http

import (
	"bytes"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/kafka"
)

// A restored poll reader asks for what follows the restored cursor, and
// its snapshot before the first poll, even with a page fetched and not yet
// emitted, is the restored cursor (subtask 0 stores it, others nothing).
func TestPollSnapshotBeforeFirstPoll(t *testing.T) {
	type ev struct {
		ID int `json:"id"`
	}
	restored := append([]byte{cursorVersion}, "5"...)
	for _, p := range []int{1, 2} {
		for sub := range p {
			// The first request each reader sends (a server per reader).
			asked := make(chan string, 1)
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, req *nethttp.Request) {
				after := req.URL.Query().Get("after")
				select {
				case asked <- after:
				default:
				}
				n, _ := strconv.Atoi(after)
				fmt.Fprintf(w, `[{"id":%d},{"id":%d}]`, n+1, n+2)
			}))
			src := NewPollSource(PollOptions[ev]{URL: srv.URL, Interval: time.Hour, Deserializer: kafka.JSONSerde[ev]{},
				CursorParam: "after", Cursor: func(e ev) string { return strconv.Itoa(e.ID) }, InitialCursor: "0"})
			r, err := src.CreateReader(weir.SourceContext{Subtask: sub, Parallelism: p, Restored: [][]byte{restored}, RestoredFrom: 2})
			if err != nil {
				t.Fatal(err)
			}
			if sub == 0 {
				select {
				case got := <-asked:
					if got != "5" {
						t.Fatalf("restored reader asked after %q, want 5", got)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("no request in 30s")
				}
				select {
				case <-r.(weir.Availability).Available():
				case <-time.After(30 * time.Second):
					t.Fatal("no page handed over in 30s")
				}
			}
			items, err := r.(weir.CheckpointedReader).SnapshotState(3)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case sub == 0 && (len(items) != 1 || !bytes.Equal(items[0], restored)):
				t.Fatalf("parallelism %d subtask 0: snapshot %q, want [%q]", p, items, restored)
			case sub > 0 && len(items) != 0:
				t.Fatalf("parallelism %d subtask %d: snapshot %q, want none", p, sub, items)
			}
			r.Close()
			srv.Close()
		}
	}
}
