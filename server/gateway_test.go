package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
	"github.com/weirstream/weir/sql/result"
	"github.com/weirstream/weir/sql/udf"
)

// leakCheck verifies, after the test's server is closed, that no
// goroutine it started is left.
func leakCheck(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		goleak.VerifyNone(t, opt)
	})
}

// fetched is a decoded fetch response.
type fetched struct {
	ResultType    string  `json:"resultType"`
	IsQueryResult bool    `json:"isQueryResult"`
	JobID         string  `json:"jobID"`
	ResultKind    string  `json:"resultKind"`
	NextResultURI *string `json:"nextResultUri"`
	Results       struct {
		Columns []struct {
			Name        string         `json:"name"`
			LogicalType map[string]any `json:"logicalType"`
			Comment     *string        `json:"comment"`
		} `json:"columns"`
		RowFormat string `json:"rowFormat"`
		Data      []struct {
			Kind   string `json:"kind"`
			Fields []any  `json:"fields"`
		} `json:"data"`
	} `json:"results"`
}

// raw sends a request and returns the status and the body. A string
// body is sent as it is (bad JSON for the error tests), any other as JSON.
func (ts *testServer) raw(method, path string, body any, token string) (int, []byte) {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (ts *testServer) openSession(props map[string]string) string {
	ts.t.Helper()
	code, body := ts.do("POST", "/sessions", map[string]any{"sessionName": ts.t.Name(), "properties": props})
	if code != 200 {
		ts.t.Fatalf("open session: %d %v", code, body)
	}
	return body["sessionHandle"].(string)
}

// exec posts a statement and returns its operation handle.
func (ts *testServer) exec(sh, stmt string) string {
	ts.t.Helper()
	code, body := ts.do("POST", "/sessions/"+sh+"/statements", map[string]any{"statement": stmt})
	if code != 200 {
		ts.t.Fatalf("statement %q: %d %v", stmt, code, body)
	}
	return body["operationHandle"].(string)
}

func (ts *testServer) fetch(sh, oh string, token int64) (int, fetched, []byte) {
	ts.t.Helper()
	code, b := ts.raw("GET", fmt.Sprintf("/sessions/%s/operations/%s/result/%d?rowFormat=JSON", sh, oh, token), nil, "")
	var f fetched
	if code == 200 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&f); err != nil {
			ts.t.Fatalf("fetch: %v\n%s", err, b)
		}
	}
	return code, f, b
}

// runStatic runs a statement that runs no job and returns its one page.
func (ts *testServer) runStatic(sh, stmt string) fetched {
	ts.t.Helper()
	oh := ts.exec(sh, stmt)
	code, f, b := ts.fetch(sh, oh, 0)
	if code != 200 || f.ResultType != "PAYLOAD" {
		ts.t.Fatalf("%s: %d %s", stmt, code, b)
	}
	code, eos, b := ts.fetch(sh, oh, 1)
	if code != 200 || eos.ResultType != "EOS" || eos.NextResultURI != nil || len(eos.Results.Data) != 0 {
		ts.t.Fatalf("%s: token 1: %d %s, want EOS without data", stmt, code, b)
	}
	return f
}

var rowKinds = map[string]row.Kind{"INSERT": row.Insert, "UPDATE_BEFORE": row.UpdateBefore, "UPDATE_AFTER": row.UpdateAfter, "DELETE": row.Delete}

// bigintRows turns fetched rows of BIGINT columns into rows.
func bigintRows(t *testing.T, f fetched) []row.Row {
	t.Helper()
	var out []row.Row
	for _, d := range f.Results.Data {
		r := row.New(len(d.Fields))
		k, ok := rowKinds[d.Kind]
		if !ok {
			t.Fatalf("row kind %q", d.Kind)
		}
		r.Kind = k
		for i, v := range d.Fields {
			if v == nil {
				continue
			}
			n, err := v.(json.Number).Int64()
			if err != nil {
				t.Fatalf("field %v: %v", v, err)
			}
			r.Fields[i] = row.Int(n)
		}
		out = append(out, r)
	}
	return out
}

func TestSQLGatewayGroupByChangelog(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	sh := ts.openSession(map[string]string{"parallelism.default": "2"})
	const n = 3000
	ddl := fmt.Sprintf(`CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '%d', 'rows-per-second' = '20000')`, n)
	f := ts.runStatic(sh, ddl)
	if f.ResultKind != "SUCCESS" || f.IsQueryResult || len(f.Results.Data) != 1 || f.Results.Data[0].Fields[0] != "OK" ||
		f.Results.Columns[0].Name != "result" || f.Results.Columns[0].LogicalType["type"] != "VARCHAR" {
		t.Errorf("CREATE TABLE result: %+v", f)
	}
	if f := ts.runStatic(sh, "SHOW TABLES"); f.ResultKind != "SUCCESS_WITH_CONTENT" || len(f.Results.Data) != 1 || f.Results.Data[0].Fields[0] != "src" {
		t.Errorf("SHOW TABLES: %+v", f)
	}

	oh := ts.exec(sh, "SELECT MOD(id, 7) AS k, COUNT(*) AS c, SUM(id) AS s FROM src GROUP BY MOD(id, 7)")
	types := []row.Type{row.IntType(), row.BigInt(), row.BigInt()}
	var tbl *result.Table
	updates := 0
	token := int64(0)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("no EOS within 30s")
		}
		code, f, b := ts.fetch(sh, oh, token)
		if code != 200 {
			t.Fatalf("fetch %d: %d %s", token, code, b)
		}
		if f.ResultType == "NOT_READY" {
			continue
		}
		if token == 0 {
			var names []string
			// MOD's type is its second argument's, as in Flink.
			wantTypes := map[string]string{"k": "INTEGER", "c": "BIGINT", "s": "BIGINT"}
			for _, c := range f.Results.Columns {
				names = append(names, c.Name)
				if c.LogicalType["type"] != wantTypes[c.Name] {
					t.Errorf("column %s: logicalType %v, want %s", c.Name, c.LogicalType, wantTypes[c.Name])
				}
			}
			if f.Results.Columns[1].LogicalType["nullable"] != false {
				t.Errorf("COUNT(*) is nullable: %v", f.Results.Columns[1].LogicalType)
			}
			if !slices.Equal(names, []string{"k", "c", "s"}) || !f.IsQueryResult || f.JobID == "" || f.ResultKind != "SUCCESS_WITH_CONTENT" || f.Results.RowFormat != "JSON" {
				t.Fatalf("first page: %s", b)
			}
			tbl = result.NewTable(types, nil)
		}
		// A retry of the same token gets the same page.
		if code2, _, b2 := ts.fetch(sh, oh, token); code2 != 200 || !bytes.Equal(b, b2) {
			t.Fatalf("fetch %d again: %d, a different page:\n%s\n%s", token, code2, b, b2)
		}
		if f.ResultType == "EOS" {
			if f.NextResultURI != nil || len(f.Results.Data) != 0 {
				t.Errorf("EOS page: %s", b)
			}
			break
		}
		want := fmt.Sprintf("/sessions/%s/operations/%s/result/%d?rowFormat=JSON", sh, oh, token+1)
		if f.NextResultURI == nil || *f.NextResultURI != want {
			t.Fatalf("nextResultUri %v, want %s", f.NextResultURI, want)
		}
		for _, r := range bigintRows(t, f) {
			if r.Kind == row.UpdateBefore || r.Kind == row.UpdateAfter {
				updates++
			}
			if err := tbl.Apply(r); err != nil {
				t.Fatal(err)
			}
		}
		token++
	}
	// The answer, computed here.
	cnt, sum := map[int64]int64{}, map[int64]int64{}
	for id := int64(1); id <= n; id++ {
		cnt[id%7]++
		sum[id%7] += id
	}
	want := result.NewTable(types, nil)
	for k := range cnt {
		_ = want.Apply(row.Of(row.Int(k), row.Int(cnt[k]), row.Int(sum[k])))
	}
	if got, w := tbl.String(), want.String(); got != w {
		t.Errorf("materialised result:\n%s\nwant:\n%s", got, w)
	}
	if updates == 0 {
		t.Error("the changelog has no updates: the test does not exercise them")
	}
	if code, _, b := ts.fetch(sh, oh, token+1); code != 400 {
		t.Errorf("fetch after EOS: %d %s, want 400", code, b)
	}
	if code, body := ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/status", nil); code != 200 || body["status"] != "FINISHED" {
		t.Errorf("status: %d %v", code, body)
	}
	waitFor(t, "the preview job's end", func() bool { return ts.s.gw.runningQueries() == 0 })
	// Under /v2 as well; nextResultUri keeps the prefix.
	oh2 := ts.exec(sh, "SELECT 1 AS one")
	code, b := ts.raw("GET", "/v2/sessions/"+sh+"/operations/"+oh2+"/result/0?rowFormat=JSON", nil, "")
	if code != 200 || !bytes.Contains(b, []byte(`"nextResultUri": "/v2/sessions/`)) {
		t.Errorf("/v2 fetch: %d %s", code, b)
	}
	if code, body := ts.do("DELETE", "/sessions/"+sh, nil); code != 200 || body["status"] != "CLOSED" {
		t.Errorf("close session: %d %v", code, body)
	}
}

func TestSQLGatewayUnboundedQueryClosed(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	sh := ts.openSession(nil)
	ts.runStatic(sh, `CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000000', 'rows-per-second' = '2000')`)
	oh := ts.exec(sh, "SELECT id FROM gen")
	var ids []int64
	token := int64(0)
	waitFor(t, "rows of the unbounded query", func() bool {
		code, f, b := ts.fetch(sh, oh, token)
		if code != 200 || f.ResultType == "EOS" {
			t.Fatalf("fetch %d: %d %s", token, code, b)
		}
		for _, r := range bigintRows(t, f) {
			ids = append(ids, r.Fields[0].Int())
		}
		token++
		return len(ids) >= 50
	})
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("row %d is %d: rows lost or reordered", i, id)
		}
	}
	if n := ts.s.gw.runningQueries(); n != 1 {
		t.Errorf("running queries %d, want 1", n)
	}
	_, jobs := ts.do("GET", "/jobs", nil)
	if l, _ := jobs["jobs"].([]any); len(l) != 0 {
		t.Errorf("a preview is listed in /jobs: %v", jobs)
	}
	if code, body := ts.do("DELETE", "/sessions/"+sh+"/operations/"+oh+"/close", nil); code != 200 || body["status"] != "CLOSED" {
		t.Errorf("close: %d %v", code, body)
	}
	waitFor(t, "the preview job's end", func() bool { return ts.s.gw.runningQueries() == 0 })
	code, body := ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/status", nil)
	wantError(t, "status of a closed operation", code, body, 404, "Can not find the submitted operation")

	// Cancel keeps the operation, CANCELED, and its fetches are refused.
	oh = ts.exec(sh, "SELECT id FROM gen")
	if code, body := ts.do("POST", "/sessions/"+sh+"/operations/"+oh+"/cancel", nil); code != 200 || body["status"] != "CANCELED" {
		t.Errorf("cancel: %d %v", code, body)
	}
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/status", nil)
	if code != 200 || body["status"] != "CANCELED" {
		t.Errorf("status after cancel: %d %v", code, body)
	}
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/result/0", nil)
	wantError(t, "fetch of a canceled operation", code, body, 409, "CANCELED")
	waitFor(t, "the canceled preview's end", func() bool { return ts.s.gw.runningQueries() == 0 })
}

func TestSQLGatewayInsertSubmitsJob(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{})
	sh := ts.openSession(map[string]string{"execution.checkpointing.interval": "100ms"})
	ts.runStatic(sh, `CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '100000000', 'rows-per-second' = '100')`)
	ts.runStatic(sh, `CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole')`)
	code, body := ts.do("POST", "/sessions/"+sh+"/statements", map[string]any{
		"statement": "INSERT INTO dst SELECT id FROM src", "executionConfig": map[string]string{"parallelism.default": "2"}})
	if code != 200 {
		t.Fatalf("insert: %d %v", code, body)
	}
	oh := body["operationHandle"].(string)
	code, f, b := ts.fetch(sh, oh, 0)
	if code != 200 || f.ResultType != "PAYLOAD" || f.IsQueryResult || f.JobID == "" || f.ResultKind != "SUCCESS_WITH_CONTENT" ||
		len(f.Results.Columns) != 1 || f.Results.Columns[0].Name != "job id" || len(f.Results.Data) != 1 || f.Results.Data[0].Fields[0] != f.JobID {
		t.Fatalf("insert result: %d %s", code, b)
	}
	id := f.JobID
	waitFor(t, "the job running", func() bool { return ts.state(id) == "RUNNING" })
	_, list := ts.do("GET", "/jobs", nil)
	if l, _ := list["jobs"].([]any); len(l) != 1 || l[0].(map[string]any)["id"] != id {
		t.Errorf("GET /jobs: %v, want the job %s", list, id)
	}
	_, ov := ts.do("GET", "/jobs/"+id, nil)
	if ov["parallelism"] != float64(2) || ov["name"] != "insert-into_default_catalog.default_database.dst" {
		t.Errorf("job: parallelism %v name %v", ov["parallelism"], ov["name"])
	}
	// The record's script holds the session's statements, so the job
	// resumes alone.
	rec := ts.s.job(id).record()
	for _, want := range []string{"SET 'execution.checkpointing.interval' = '100ms'", "CREATE TABLE src", "CREATE TABLE dst", "SET 'parallelism.default' = '2'", "INSERT INTO dst"} {
		if !strings.Contains(rec.SQL, want) {
			t.Errorf("script lacks %q:\n%s", want, rec.SQL)
		}
	}
	if _, err := ts.s.prepare(&rec); err != nil {
		t.Errorf("the recorded script does not plan: %v", err)
	}
	// executionConfig was for that statement only.
	_, sess := ts.do("GET", "/sessions/"+sh, nil)
	if p, _ := sess["properties"].(map[string]any); p["parallelism.default"] != "1" || p["execution.checkpointing.interval"] != "100ms" {
		t.Errorf("session properties after the statement: %v", p["parallelism.default"])
	}
	// Closing the session leaves the durable job running.
	ts.do("DELETE", "/sessions/"+sh, nil)
	if st := ts.state(id); st != "RUNNING" {
		t.Errorf("job after the session closed: %s", st)
	}
}

func TestSQLGatewayErrors(t *testing.T) {
	leakCheck(t)
	ts := newTestServer(t, Options{Token: "s3cret", SQL: SQLGatewayOptions{MaxSessions: 2, MaxQueries: 1}})
	code, body := ts.doAuth("POST", "/sessions", map[string]any{}, "")
	wantError(t, "open without token", code, body, 401, "missing bearer token")
	sh := ts.openSession(nil)

	code, body = ts.do("GET", "/sessions/00000000-0000-4000-8000-000000000000", nil)
	wantError(t, "unknown session", code, body, 404, "does not exist")
	code, body = ts.do("POST", "/sessions/nope/statements", map[string]any{"statement": "SHOW TABLES"})
	wantError(t, "statement in unknown session", code, body, 404, "does not exist")
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/nope/status", nil)
	wantError(t, "unknown operation", code, body, 404, "Can not find the submitted operation")
	code, body = ts.do("POST", "/sessions/"+sh+"/statements", map[string]any{"statement": "  "})
	wantError(t, "empty statement", code, body, 400, "empty")
	code, body = ts.do("POST", "/sessions/"+sh+"/statements", map[string]any{"statement": "SHOW TABLES", "bogus": 1})
	wantError(t, "unknown field", code, body, 400, "bogus")
	code, body = ts.do("POST", "/sessions", map[string]any{"properties": map[string]string{"no.such.option": "1"}})
	wantError(t, "bad property", code, body, 400, "no.such.option")

	// Bad SQL: the operation fails, its fetch says why (the parser's words).
	const bad = "SELEC 1"
	_, perr := parser.Parse(bad)
	if perr == nil {
		t.Fatal("the parser takes " + bad)
	}
	oh := ts.exec(sh, bad)
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/status", nil)
	if code != 200 || body["status"] != "ERROR" {
		t.Errorf("status of bad SQL: %d %v", code, body)
	}
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/result/0", nil)
	wantError(t, "fetch of bad SQL", code, body, 500, perr.Error())
	oh = ts.exec(sh, "SELECT * FROM missing")
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/result/0", nil)
	wantError(t, "unknown table", code, body, 500, "missing")
	oh = ts.exec(sh, "SHOW TABLES; SHOW TABLES")
	code, body = ts.do("GET", "/sessions/"+sh+"/operations/"+oh+"/result/0", nil)
	wantError(t, "two statements", code, body, 500, "one statement per call")

	// Tokens: 0 first, then the same again or the next.
	oh = ts.exec(sh, "SHOW CURRENT CATALOG")
	for _, tc := range []struct {
		path string
		code int
	}{{"/result/1", 400}, {"/result/x", 400}, {"/result/-1", 400}, {"/result/0?rowFormat=CSV", 400},
		{"/result/0", 200}, {"/result/0", 200}, {"/result/2", 400}, {"/result/1?rowFormat=PLAIN_TEXT", 200}, {"/result/0", 400}} {
		code, body := ts.do("GET", "/sessions/"+sh+"/operations/"+oh+tc.path, nil)
		if code != tc.code {
			t.Errorf("GET %s: %d %v, want %d", tc.path, code, body, tc.code)
		}
	}

	// Limits: sessions, running queries.
	ts.openSession(nil)
	code, body = ts.do("POST", "/sessions", map[string]any{})
	wantError(t, "third session", code, body, 503, "open SQL sessions")
	ts.runStatic(sh, `CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10')`)
	q := ts.exec(sh, "SELECT id FROM gen")
	code, body = ts.do("POST", "/sessions/"+sh+"/statements", map[string]any{"statement": "SELECT id FROM gen"})
	wantError(t, "second query", code, body, 503, "SELECT queries are running")
	ts.do("DELETE", "/sessions/"+sh+"/operations/"+q+"/close", nil)
	waitFor(t, "the query's end", func() bool { return ts.s.gw.runningQueries() == 0 })
	q = ts.exec(sh, "SELECT id FROM gen")
	if st, _ := ts.do("GET", "/sessions/"+sh+"/operations/"+q+"/status", nil); st != 200 {
		t.Errorf("a query after the first ended: %d", st)
	}
	// configure-session takes DDL only.
	code, body = ts.do("POST", "/sessions/"+sh+"/configure-session", map[string]any{"statement": "SELECT 1"})
	wantError(t, "configure-session with a query", code, body, 400, "configure-session takes")
	if code, body = ts.do("POST", "/sessions/"+sh+"/configure-session", map[string]any{"statement": "SET 'parallelism.default' = '3'"}); code != 200 {
		t.Errorf("configure-session: %d %v", code, body)
	}
}

func TestSQLGatewaySessionExpiry(t *testing.T) {
	leakCheck(t)
	// The timeout bounds the gap between two calls naming a session that
	// must stay open: a few HTTP round trips and a job start under -race on
	// a loaded CI machine took up to half of a 300 ms timeout.
	ts := newTestServer(t, Options{SQL: SQLGatewayOptions{SessionIdleTimeout: 2 * time.Second}})
	idle := ts.openSession(nil)
	ts.runStatic(idle, `CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10')`)
	ts.exec(idle, "SELECT id FROM gen")
	if ts.s.gw.runningQueries() != 1 {
		t.Fatal("the query does not run")
	}
	// Opened after the idle session's setup, so that no statement of the
	// idle session runs between its opening and its first heartbeat.
	kept := ts.openSession(nil)
	// The idle session expires while the other is kept by heartbeats
	// (polled through the server, which does not touch sessions).
	waitFor(t, "the idle session's expiry", func() bool {
		if code, body := ts.do("POST", "/sessions/"+kept+"/heartbeat", nil); code != 200 {
			t.Fatalf("heartbeat: %d %v", code, body)
		}
		return ts.s.gw.sessionCount() == 1
	})
	waitFor(t, "the expired session's query to end", func() bool { return ts.s.gw.runningQueries() == 0 })
	code, body := ts.do("GET", "/sessions/"+idle, nil)
	wantError(t, "expired session", code, body, 404, "does not exist")
	if code, _ := ts.do("GET", "/sessions/"+kept, nil); code != 200 {
		t.Errorf("kept session: %d", code)
	}
}

func TestSQLGatewayBackpressure(t *testing.T) {
	leakCheck(t)
	const limit = 40
	ts := newTestServer(t, Options{SQL: SQLGatewayOptions{ResultBuffer: limit}})
	sh := ts.openSession(nil)
	ts.runStatic(sh, `CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000000', 'rows-per-second' = '1000000')`)
	oh := ts.exec(sh, "SELECT id FROM gen")
	ss, err := ts.s.gw.session(sh)
	if err != nil {
		t.Fatal(err)
	}
	ss.mu.Lock()
	op := ss.mu.ops[oh]
	ss.mu.Unlock()
	waitFor(t, "a full buffer", func() bool { return op.buf.buffered() >= limit })
	// Nobody fetches: the job waits, the buffer does not grow.
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
		if n := op.buf.buffered(); n > limit {
			t.Fatalf("%d rows buffered, above the bound %d", n, limit)
		}
		time.Sleep(5 * time.Millisecond) // sampling the bound, not waiting for it
	}
	if st := op.client.Status(); st.State != "RUNNING" {
		t.Fatalf("the job is %s, want RUNNING (blocked)", st.State)
	}
	// Fetching resumes it, and no row was dropped.
	var ids []int64
	token := int64(0)
	waitFor(t, "rows after the backpressure", func() bool {
		_, f, _ := ts.fetch(sh, oh, token)
		if len(f.Results.Data) > limit {
			t.Fatalf("a page of %d rows, above the bound %d", len(f.Results.Data), limit)
		}
		for _, r := range bigintRows(t, f) {
			ids = append(ids, r.Fields[0].Int())
		}
		token++
		return len(ids) >= 5*limit
	})
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("row %d is %d: rows dropped", i, id)
		}
	}
	ts.do("DELETE", "/sessions/"+sh, nil)
	waitFor(t, "the query's end", func() bool { return ts.s.gw.runningQueries() == 0 })
}

// TestSQLSessionFunctions: Options.NewSQLSession makes the sessions of the
// SQL Gateway and of submitted SQL jobs, so functions registered there can
// be bound with CREATE FUNCTION; without it they are unknown.
func TestSQLSessionFunctions(t *testing.T) {
	leakCheck(t)
	twice, err := udf.Func1(func(x int64) (int64, error) { return 2 * x, nil })
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, Options{NewSQLSession: func(o sql.SessionOptions) (*sql.Session, error) {
		s := sql.NewSession(o)
		return s, s.RegisterFunction("com.example.Twice", twice)
	}})
	sh := ts.openSession(nil)
	ts.runStatic(sh, `CREATE FUNCTION twice AS 'com.example.Twice'`)
	f := ts.runStatic(sh, `SHOW FUNCTIONS`)
	found := false
	for _, d := range f.Results.Data {
		found = found || d.Fields[0] == "twice"
	}
	if !found {
		t.Errorf("SHOW FUNCTIONS lacks twice: %v", f.Results.Data)
	}
	id := ts.submit(`CREATE FUNCTION twice AS 'com.example.Twice';
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '10');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO dst SELECT twice(id) FROM src;`, 1)
	waitFor(t, "FINISHED", func() bool { return ts.state(id) == stateFinished })

	plain := newTestServer(t, Options{})
	code, body := plain.do("POST", "/jobs", map[string]any{"sql": `CREATE FUNCTION twice AS 'com.example.Twice';`})
	wantError(t, "an unregistered function", code, body, http.StatusBadRequest, "com.example.Twice")
}
