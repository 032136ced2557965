package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServerOneSignalIsOneStop: a SIGTERM reaches weir server twice, as
// the cancel of the command's context (main's signal.NotifyContext) and
// on its own signal channel. Seen first as the context, it must still be
// one signal: the jobs stop with a savepoint, not canceled as by a
// second signal.
func TestServerOneSignalIsOneStop(t *testing.T) {
	sigs := make(chan os.Signal, 4)
	cmd := newServerCmd(func() (<-chan os.Signal, func()) { return sigs, func() {} })
	var errb syncBuffer
	cmd.SetOut(io.Discard)
	cmd.SetErr(&errb)
	cmd.SetArgs([]string{"--dir", t.TempDir(), "--addr", "127.0.0.1:0", "--checkpoint-interval", "50ms"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("no %s within 30 s; server output:\n%s", what, errb.String())
			}
			time.Sleep(10 * time.Millisecond) // polling a condition
		}
	}
	var url string
	waitFor("listening address", func() bool {
		_, rest, ok := strings.Cut(errb.String(), "listening on ")
		if ok {
			url, _, _ = strings.Cut(rest, " ")
		}
		return ok
	})
	body, _ := json.Marshal(map[string]any{"sql": `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT id FROM src;`})
	resp, err := http.Post(url+"/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var sub struct{ JobID string }
	err = json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if err != nil || sub.JobID == "" {
		t.Fatalf("submit: %v %+v", err, sub)
	}
	waitFor("the job RUNNING", func() bool {
		r, err := http.Get(url + "/jobs/" + sub.JobID)
		if err != nil {
			return false
		}
		defer r.Body.Close()
		var j struct{ State string }
		return json.NewDecoder(r.Body).Decode(&j) == nil && j.State == "RUNNING"
	})

	cancel() // the SIGTERM, as main's NotifyContext sees it
	waitFor("the stop to begin", func() bool { return strings.Contains(errb.String(), "stopping every job with a savepoint") })
	sigs <- syscall.SIGTERM // the same SIGTERM on the server's channel
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("weir server: %v\n%s", err, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("weir server did not stop; output:\n%s", errb.String())
	}
	if !strings.Contains(errb.String(), "stopped; the jobs resume from their savepoints") {
		t.Errorf("the jobs were not stopped with a savepoint:\n%s", errb.String())
	}
}
