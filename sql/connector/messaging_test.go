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

	paho "github.com/eclipse/paho.mqtt.golang"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rabbitmq/amqp091-go"

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
	if err == nil || !strings.Contains(err.Error(), "doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[name], select=[name, MAX(id) AS EXPR$0, SUM(price) AS EXPR$1])") {
		t.Fatalf("an updating query into clickhouse: error %v", err)
	}
}

// TestRabbitMQRoundTrip writes rows to a queue with the rabbitmq sink
// (which declares it) and reads them back with the rabbitmq source.
func TestRabbitMQRoundTrip(t *testing.T) {
	serverUp(t, "RabbitMQ", "127.0.0.1:5672")
	name := uniqueName("sqlrmq")
	t.Cleanup(func() {
		conn, err := amqp091.Dial("amqp://guest:guest@127.0.0.1:5672/")
		if err != nil {
			return
		}
		defer conn.Close()
		if ch, err := conn.Channel(); err == nil {
			ch.QueueDelete(name, false, false, false)
		}
	})
	sink := fmt.Sprintf(`CREATE TABLE out (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'rabbitmq', 'queue' = '%s', 'format' = 'csv');
`, name)
	runInsert(t, genScript+sink+"INSERT INTO out SELECT id, name, price FROM gen;")
	table := fmt.Sprintf(`CREATE TABLE q (id BIGINT, name STRING, price DECIMAL(10, 2), mid STRING METADATA FROM 'message-id' VIRTUAL)
WITH ('connector' = 'rabbitmq', 'queue' = '%s', 'format' = 'csv');
`, name)
	runLive(t, table+"SELECT id, name, price, mid IS NOT NULL FROM q;", func() {}, func() []string {
		var out []string
		for _, r := range genRows() {
			out = append(out, strings.TrimSuffix(r, "]")+", TRUE]")
		}
		return out
	})
}

// TestMQTTRoundTrip publishes rows with the mqtt sink and reads them back
// with the mqtt source, whose persistent session the test opens first so
// that the broker queues the messages published before the job reads;
// with MQTT 3.1.1 and with 'protocol-version' = '5' (whose client resumes
// the session the 3.1.1 client opened: Mosquitto keeps one session per
// client id).
func TestMQTTRoundTrip(t *testing.T) {
	serverUp(t, "Mosquitto", "127.0.0.1:1883")
	for _, version := range []string{"3.1.1", "5"} {
		t.Run(version, func(t *testing.T) {
			name := uniqueName("sqlmqtt")
			topic := "weir/test/" + name
			extra := ""
			if version == "5" {
				name = "weir-mqtt5-" + name
				topic = name
				extra = ", 'protocol-version' = '5'"
			}
			// The source's subtask 0 connects as <client-id>-0 with a persistent
			// session: create it and its subscription now.
			opts := paho.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID(name + "-0").SetCleanSession(false)
			cl := paho.NewClient(opts)
			if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("connecting to Mosquitto: %v", tok.Error())
			}
			if tok := cl.Subscribe(topic, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("subscribing: %v", tok.Error())
			}
			cl.Disconnect(100)
			t.Cleanup(func() {
				// End the persistent session.
				c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://127.0.0.1:1883").SetClientID(name + "-0").SetCleanSession(true))
				if tok := c.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
					c.Disconnect(100)
				}
			})
			sink := fmt.Sprintf(`CREATE TABLE out (id BIGINT, name STRING, price DECIMAL(10, 2))
WITH ('connector' = 'mqtt', 'topic' = '%s', 'client-id' = '%s-w', 'format' = 'json'%s);
`, topic, name, extra)
			runInsert(t, genScript+sink+"INSERT INTO out SELECT id, name, price FROM gen;")
			src := fmt.Sprintf(`CREATE TABLE q (id BIGINT, name STRING, price DECIMAL(10, 2), tp STRING METADATA FROM 'topic' VIRTUAL)
WITH ('connector' = 'mqtt', 'topic' = '%s', 'client-id' = '%s', 'format' = 'json'%s);
`, topic, name, extra)
			runLive(t, src+"SELECT id, name, price FROM q WHERE tp = '"+topic+"';", func() {}, genRows)
		})
	}
}
