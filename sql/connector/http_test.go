package connector_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestHTTPWebhookToPollSource posts rows with the webhook sink to a
// receiver, then serves what it received to the poll source: both ways
// round trip.
func TestHTTPWebhookToPollSource(t *testing.T) {
	var mu sync.Mutex
	var records []json.RawMessage
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			var batch []json.RawMessage
			if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			records = append(records, batch...)
		case http.MethodGet:
			json.NewEncoder(w).Encode(records)
		}
	}))
	defer srv.Close()
	runInsert(t, genScript+fmt.Sprintf(`CREATE TABLE hook (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'http', 'url' = '%s', 'format' = 'json', 'sink.batch-size' = '6');
INSERT INTO hook SELECT id, name, price FROM gen;`, srv.URL))
	mu.Lock()
	if len(records) != 20 || len(keys) != 4 || keys[0] == "" {
		t.Fatalf("the receiver got %d records in batches with keys %v, want 20 in 4 batches with keys", len(records), keys)
	}
	mu.Unlock()
	runLive(t, fmt.Sprintf(`CREATE TABLE polled (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'http', 'source.mode' = 'poll', 'url' = '%s', 'format' = 'json', 'source.poll.interval' = '1 h');
SELECT * FROM polled;`, srv.URL), func() {}, genRows)
}

// TestHTTPIngestSource posts CSV lines to the ingest source.
func TestHTTPIngestSource(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var body bytes.Buffer
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&body, "%d,n%d,%d.%02d\n", i, i, i/4, i%4*25)
	}
	runLive(t, fmt.Sprintf(`CREATE TABLE ingest (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'http', 'source.address' = '%s', 'source.path' = '/rows', 'format' = 'csv');
SELECT * FROM ingest;`, addr), func() {
		// POST once the endpoint listens (the job opens it as it starts).
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Post("http://"+addr+"/rows", "text/csv", bytes.NewReader(body.Bytes()))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("POST: %d %s", resp.StatusCode, b)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the ingest endpoint did not open: %v", err)
			}
			c, derr := net.DialTimeout("tcp", addr, time.Second)
			if derr == nil {
				c.Close()
			} else {
				<-time.After(20 * time.Millisecond) // backoff between connection attempts
			}
		}
	}, genRows)
}
