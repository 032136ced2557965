package clickhouse_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/clickhouse"
	weirhttp "github.com/weirstream/weir/connector/http"
	"github.com/weirstream/weir/connector/kafka"
	"github.com/weirstream/weir/internal/testnet"
)

const server = "127.0.0.1:8123"

// query runs sql on the test server and returns the answer's text.
func query(t testing.TB, sql string) string {
	t.Helper()
	resp, err := http.Post("http://"+server+"/?query="+url.QueryEscape(sql), "text/plain", nil)
	if err != nil {
		t.Fatalf("ClickHouse on %s is unreachable (%v): run scripts/test-services.sh", server, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("clickhouse: %s: HTTP %d: %s", sql, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}

// table creates a table unique to the test and drops it afterwards.
func table(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_")) + fmt.Sprintf("_%08x", rand.Uint32())
	query(t, "CREATE TABLE default."+name+" (id UInt64, name String) ENGINE = MergeTree ORDER BY id")
	t.Cleanup(func() { query(t, "DROP TABLE IF EXISTS default."+name) })
	return name
}

type row struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
}

func rows(n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = row{ID: uint64(i + 1), Name: fmt.Sprint("r", i+1)}
	}
	return out
}

func run[T any](t *testing.T, values []T, opts clickhouse.Options[T]) error {
	t.Helper()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, values).SinkTo(clickhouse.NewSink(opts)).Name("ch")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return env.Execute(ctx)
}

// checkRows checks that the table holds ids 1..n each once (but the
// skipped ones).
func checkRows(t *testing.T, tbl string, n int, skip ...int) {
	t.Helper()
	want := n*(n+1)/2 - func() int {
		s := 0
		for _, k := range skip {
			s += k
		}
		return s
	}()
	got := query(t, fmt.Sprintf("SELECT count(), uniqExact(id), sum(id) FROM default.%s", tbl))
	if exp := fmt.Sprintf("%d\t%d\t%d", n-len(skip), n-len(skip), want); got != exp {
		t.Fatalf("table holds count, distinct ids, sum = %q, want %q", got, exp)
	}
}

func TestBatchesLand(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gz), func(t *testing.T) {
			tbl := table(t)
			reg := prometheus.NewRegistry()
			if err := run(t, rows(25), clickhouse.Options[row]{Table: tbl, Serializer: kafka.JSONSerde[row]{}, BatchSize: 10, Gzip: gz, Registry: reg}); err != nil {
				t.Fatal(err)
			}
			checkRows(t, tbl, 25)
			if got := metric(t, reg, "weir_clickhouse_sink_inserts_total", "ok"); got != 3 {
				t.Fatalf("%v inserts, want 3 batches", got)
			}
		})
	}
}

func metric(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// While the server is cut off the sink retries; the rows land once when
// it is back.
func TestOutageRetries(t *testing.T) {
	tbl := table(t)
	proxy := testnet.NewProxy(t, server)
	proxy.Cut()
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, rows(30)).SinkTo(clickhouse.NewSink(clickhouse.Options[row]{URL: "http://" + proxy.Addr(), Table: tbl,
		Serializer: kafka.JSONSerde[row]{}, BatchSize: 10, Registry: reg,
		Backoff: weirhttp.Backoff{Initial: time.Millisecond, Max: 20 * time.Millisecond}}))
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer jc.Cancel()
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, reg, "weir_clickhouse_sink_inserts_total", "retried") < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no retries while the server was cut off")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := query(t, "SELECT count() FROM default."+tbl); n != "0" {
		t.Fatalf("%s rows arrived through a cut proxy", n)
	}
	proxy.Restore()
	if err := jc.Wait(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, tbl, 30)
}

// freshRun matches the batch-key epoch of a writer that did not restore
// ("0.<run>", run random to the writer).
var freshRun = regexp.MustCompile(`-0\.[0-9a-f]{8}-`)

// A row the server cannot parse fails the job, naming the batch and row;
// nothing of its batch is inserted.
func TestBadRowFailsNamingIt(t *testing.T) {
	tbl := table(t)
	vals := []map[string]any{{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": "three", "name": "c"}, {"id": 4, "name": "d"}}
	err := run(t, vals, clickhouse.Options[map[string]any]{Table: tbl, Serializer: kafka.JSONSerde[map[string]any]{}, BatchSize: 2})
	var re *clickhouse.RowError
	if err == nil || !strings.Contains(freshRun.ReplaceAllString(err.Error(), "-0-"), "batch ch-0-0-2+2 row 1 refused") || !strings.Contains(err.Error(), `"three"`) {
		t.Fatalf("job ended with %v, want the refused row named", err)
	}
	if !errorsAs(err, &re) || re.Code != 27 {
		t.Fatalf("error %v is not a RowError with code 27", err)
	}
	if got := query(t, "SELECT count() FROM default."+tbl); got != "2" {
		t.Fatalf("%s rows inserted, want the first batch's 2", got)
	}
}

// With DeadLetters, refused rows go there and the rest of their batch is
// inserted once.
func TestBadRowsToDeadLetters(t *testing.T) {
	tbl := table(t)
	var vals []map[string]any
	for i := 1; i <= 20; i++ {
		switch i {
		case 5:
			vals = append(vals, map[string]any{"id": "five", "name": "x"})
		case 6:
			vals = append(vals, map[string]any{"id": 6, "nmae": "typo"})
		case 17:
			vals = append(vals, map[string]any{"id": -17, "name": []int{1}})
		default:
			vals = append(vals, map[string]any{"id": i, "name": fmt.Sprint("r", i)})
		}
	}
	var dead []weir.DeadLetter
	dl := weir.SinkFunc[weir.DeadLetter](func(_ context.Context, d weir.DeadLetter, _ int64) error { dead = append(dead, d); return nil })
	if err := run(t, vals, clickhouse.Options[map[string]any]{Table: tbl, Serializer: kafka.JSONSerde[map[string]any]{}, BatchSize: 10, DeadLetters: dl}); err != nil {
		t.Fatal(err)
	}
	checkRows(t, tbl, 20, 5, 6, 17)
	if len(dead) != 3 {
		t.Fatalf("dead letters %+v, want 3", dead)
	}
	for i, want := range []string{"batch ch-0-0-0+10 row 5", "batch ch-0-0-0+10 row 6", "batch ch-0-0-10+10 row 7"} {
		if !strings.HasSuffix(freshRun.ReplaceAllString(dead[i].Source, "-0-"), want) || !strings.Contains(dead[i].Reason, "Code: ") {
			t.Fatalf("dead letter %d: %+v, want source ending %q", i, dead[i], want)
		}
	}
}

// An unknown table or setting is not retried: the job fails at once.
func TestConfigErrorsFail(t *testing.T) {
	err := run(t, rows(3), clickhouse.Options[row]{Table: "no_such_table_here", Serializer: kafka.JSONSerde[row]{}})
	if err == nil || !strings.Contains(err.Error(), "Code: 60") {
		t.Fatalf("job ended with %v, want Code 60 (unknown table)", err)
	}
	tbl := table(t)
	v := query(t, "SELECT version()")
	err = run(t, rows(3), clickhouse.Options[row]{Table: tbl, Serializer: kafka.JSONSerde[row]{}, DeduplicationToken: true})
	if strings.HasPrefix(v, "18.") {
		// 18.16 does not know insert_deduplication_token.
		if err == nil || !strings.Contains(err.Error(), "insert_deduplication_token") {
			t.Fatalf("server %s: job ended with %v, want the unknown setting named", v, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, tbl, 3)
}

// With FlushInterval a batch that does not fill is inserted while the job
// runs, without a checkpoint.
func TestFlushInterval(t *testing.T) {
	tbl := table(t)
	src := weirhttp.NewIngestSource(weirhttp.IngestOptions[row]{Addr: "127.0.0.1:0", Deserializer: kafka.JSONSerde[row]{}})
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSource(env, src, weir.NoWatermarks[row](), "in").SinkTo(clickhouse.NewSink(clickhouse.Options[row]{
		Table: tbl, Serializer: kafka.JSONSerde[row]{}, FlushInterval: 50 * time.Millisecond}))
	jc, err := env.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { jc.Cancel(); _ = jc.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for src.Addr(0) == "" {
		if time.Now().After(deadline) {
			t.Fatal("no ingest listener")
		}
		time.Sleep(time.Millisecond)
	}
	resp, err := http.Post("http://"+src.Addr(0)+"/", "application/x-ndjson", strings.NewReader("{\"id\":1,\"name\":\"r1\"}\n{\"id\":2,\"name\":\"r2\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for query(t, "SELECT count() FROM default."+tbl) != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the rows were not inserted by the flusher")
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkRows(t, tbl, 2)
}
