package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// stallFunc is a scalar function that, once armed, blocks every call
// until released: a job using it cannot take a savepoint (its barrier
// waits behind the blocked record), so a stop with savepoint stalls.
type stallFunc struct {
	armed   atomic.Bool
	entered chan struct{} // closed when a call blocked
	release chan struct{}
	once    sync.Once
	freed   sync.Once
}

// free releases the blocked calls.
func (st *stallFunc) free() { st.freed.Do(func() { close(st.release) }) }

func newStall() *stallFunc {
	return &stallFunc{entered: make(chan struct{}), release: make(chan struct{})}
}

func (st *stallFunc) options(t *testing.T) func(sql.SessionOptions) (*sql.Session, error) {
	f, err := udf.Func1(func(x int64) (int64, error) {
		if st.armed.Load() {
			st.once.Do(func() { close(st.entered) })
			<-st.release
		}
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return func(o sql.SessionOptions) (*sql.Session, error) {
		s := sql.NewSession(o)
		return s, s.RegisterFunction("com.example.Stall", f)
	}
}

// stalledStop starts a job whose savepoints stall, then STOP JOB ... WITH
// SAVEPOINT in session sh on another goroutine; it returns when the stop
// is under way, and a channel with the statement's HTTP status.
func stalledStop(t *testing.T, ts *testServer, st *stallFunc) (sh string, j *hostedJob, stmtDone chan int) {
	t.Helper()
	sh = ts.openSession(map[string]string{"execution.checkpointing.interval": "1h"})
	ts.runStatic(sh, `CREATE FUNCTION stall AS 'com.example.Stall'`)
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000', 'rows-per-second' = '100')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole')`)
	f := ts.runStatic(sh, "INSERT INTO dst SELECT stall(id) FROM src")
	id := f.JobID
	waitFor(t, "the job running", func() bool { return ts.state(id) == "RUNNING" })
	st.armed.Store(true)
	select {
	case <-st.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the function was not called within 30s")
	}
	stmtDone = make(chan int, 1)
	body, _ := json.Marshal(map[string]any{"statement": "STOP JOB '" + id + "' WITH SAVEPOINT"})
	go func() {
		resp, err := http.Post(ts.url+"/sessions/"+sh+"/statements", "application/json", bytes.NewReader(body))
		if err != nil {
			stmtDone <- -1
			return
		}
		resp.Body.Close()
		stmtDone <- resp.StatusCode
	}()
	j = ts.s.job(id)
	waitFor(t, "the stop under way", func() bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.mu.run != nil && j.mu.run.intent == intentStop
	})
	return sh, j, stmtDone
}

// stopInProgress reports whether j's stop with savepoint has not
// returned yet.
func stopInProgress(j *hostedJob) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, op := range j.mu.ops {
		if op.Status == "IN_PROGRESS" {
			return true
		}
	}
	return false
}

// TestSQLGatewayStopJobSessionClose: closing a session while its STOP JOB
// waits for a savepoint that does not come returns at once (the stop goes
// on), instead of waiting for the savepoint's timeout with the session
// locked.
func TestSQLGatewayStopJobSessionClose(t *testing.T) {
	leakCheck(t)
	st := newStall()
	ts := newTestServer(t, Options{SavepointTimeout: 2 * time.Minute, NewSQLSession: st.options(t)})
	t.Cleanup(st.free) // before the server closes
	sh, j, stmtDone := stalledStop(t, ts, st)

	closed := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("DELETE", ts.url+"/sessions/"+sh, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			closed <- -1
			return
		}
		resp.Body.Close()
		closed <- resp.StatusCode
	}()
	for _, c := range []struct {
		what string
		ch   chan int
	}{{"DELETE /sessions", closed}, {"the STOP JOB statement", stmtDone}} {
		select {
		case code := <-c.ch:
			if code != 200 {
				t.Errorf("%s: status %d", c.what, code)
			}
		case <-time.After(20 * time.Second): // far below the savepoint timeout
			t.Fatalf("%s still waits for the stalled savepoint", c.what)
		}
	}
	if !stopInProgress(j) {
		t.Error("the savepoint did not stall: the test proves nothing")
	}
}

// TestSQLGatewayStopJobShutdown: a server shutdown while a STOP JOB waits
// for a stalled savepoint closes the session at once (the statement gives
// up waiting), instead of waiting for the savepoint's timeout before its
// context is even looked at.
func TestSQLGatewayStopJobShutdown(t *testing.T) {
	leakCheck(t)
	st := newStall()
	ts := newTestServer(t, Options{SavepointTimeout: 2 * time.Minute, NewSQLSession: st.options(t)})
	t.Cleanup(st.free) // before the server closes
	sh, j, stmtDone := stalledStop(t, ts, st)
	ss, err := ts.s.gw.session(sh)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.s.Shutdown(context.Background()) }()
	waitFor(t, "the session closed by the shutdown", func() bool {
		if !ss.mu.TryLock() { // held while the statement runs
			return false
		}
		defer ss.mu.Unlock()
		return ss.mu.closed
	})
	if code := <-stmtDone; code != 200 {
		t.Errorf("the STOP JOB statement: status %d", code)
	}
	if !stopInProgress(j) {
		t.Error("the savepoint did not stall: the test proves nothing")
	}
	st.free()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
