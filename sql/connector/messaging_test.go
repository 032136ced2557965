package connector_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weirstream/weir"
	weirsql "github.com/weirstream/weir/sql"
)

// runInsert runs a script whose last statement is an INSERT of a bounded
// query to its end.
func runInsert(t *testing.T, script string) {
	t.Helper()
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(script)
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(jobs[0].Options())
	if err := jobs[0].Build(env, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.Execute(ctx); err != nil {
		t.Fatal(err)
	}
}

func serverUp(t *testing.T, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("%s is not reachable at %s (%v): run scripts/test-services.sh", what, addr, err)
	}
	c.Close()
}

// genScript is a bounded table of ids 1..20 with a name and a price.
const genScript = `CREATE TABLE gen (id BIGINT, name AS CONCAT('n', CAST(id AS STRING)), price AS CAST(id AS DECIMAL(10, 2)) / 4)
WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '20');
`

// genRows are gen's rows as a query over a table (id, name, price) prints them.
func genRows() []string {
	var out []string
	for i := 1; i <= 20; i++ {
		out = append(out, fmt.Sprintf("+I[%d, n%d, %d.%02d]", i, i, i/4, i%4*25))
	}
	return out
}

// TestNATSRoundTrip writes rows to a JetStream stream with the nats sink
// and reads them back with the nats source.
func TestNATSRoundTrip(t *testing.T) {
	serverUp(t, "NATS with JetStream", "127.0.0.1:4222")
	name := uniqueName("sqlnats")
	t.Cleanup(func() {
		nc, err := natsgo.Connect("nats://127.0.0.1:4222")
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		js.DeleteStream(context.Background(), name)
	})
	table := fmt.Sprintf(`CREATE TABLE q (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'nats', 'stream' = '%s', 'subjects' = '%s.>', 'subject' = '%s.rows', 'consumer' = 'c1',
      'format' = 'json');
`, name, name, name)
	runInsert(t, genScript+table+"INSERT INTO q SELECT id, name, price FROM gen;")
	runLive(t, table+"SELECT * FROM q;", func() {}, genRows)
}

// TestClickHouseSink inserts rows into a ClickHouse table and reads them
// back over the HTTP interface; an updating query is refused.
func TestClickHouseSink(t *testing.T) {
	serverUp(t, "ClickHouse", "127.0.0.1:8123")
	name := uniqueName("sqlch")
	query := func(q string) string {
		resp, err := http.Post("http://127.0.0.1:8123/?query="+url.QueryEscape(q), "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", q, b)
		}
		return strings.TrimSpace(string(b))
	}
	query(fmt.Sprintf("CREATE TABLE default.%s (id Int64, name String, price Decimal(10, 2)) ENGINE = MergeTree() ORDER BY id", name))
	t.Cleanup(func() { query("DROP TABLE IF EXISTS default." + name) })
	table := fmt.Sprintf(`CREATE TABLE ch (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'clickhouse', 'table-name' = '%s', 'sink.batch-size' = '7');
`, name)
	runInsert(t, genScript+table+"INSERT INTO ch SELECT id, name, price FROM gen;")
	got := query(fmt.Sprintf("SELECT id, name, price FROM default.%s ORDER BY id FORMAT CSV", name))
	var want []string
	for i := 1; i <= 20; i++ {
		want = append(want, fmt.Sprintf(`%d,"n%d",%d.%02d`, i, i, i/4, i%4*25))
	}
	if got != strings.Join(want, "\n") {
		t.Fatalf("table holds\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, _, err := sess.ExecuteScript(genScript + table + "INSERT INTO ch SELECT MAX(id), name, SUM(price) FROM gen GROUP BY name;")
	if err == nil || !strings.Contains(err.Error(), "doesn't support consuming update and delete changes which is produced by node GroupAggregate") {
		t.Fatalf("an updating query into clickhouse: error %v", err)
	}
}
