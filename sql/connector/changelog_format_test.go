package connector_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	weirsql "github.com/weirstream/weir/sql"
)

func produce(t *testing.T, seeds, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(seeds, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, v := range values {
		var b []byte
		if v != "" {
			b = []byte(v)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: b}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// Messages of Flink's debezium-json documentation (the products table of
// Debezium's MySQL inventory example): a snapshot read, an insert, the
// documented update of 111's weight from 5.18 to 5.15, a delete, and a
// tombstone.
var debeziumMessages = []string{
	`{"before":null,"after":{"id":101,"name":"scooter","description":"Small 2-wheel scooter","weight":3.14},"source":{"version":"1.1.1.Final","connector":"mysql","name":"dbserver1","ts_ms":0,"snapshot":"true","db":"inventory","table":"products"},"op":"r","ts_ms":1589355606100,"transaction":null}`,
	`{"before":null,"after":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.18},"op":"c","ts_ms":1589362330900}`,
	`{"before":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.18},"after":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.15},"source":{"version":"1.1.1.Final","connector":"mysql","name":"dbserver1","ts_ms":1589362330000,"snapshot":"false","db":"inventory","table":"products","server_id":223344,"gtid":null,"file":"mysql-bin.000003","pos":2090,"row":0,"thread":2,"query":null},"op":"u","ts_ms":1589362330904,"transaction":null}`,
	`{"before":null,"after":{"id":102,"name":"car battery","description":"12V car battery","weight":8.1},"op":"c","ts_ms":1589362330905}`,
	`{"schema":{"type":"struct","optional":false},"payload":{"before":{"id":101,"name":"scooter","description":"Small 2-wheel scooter","weight":3.14},"after":null,"op":"d","ts_ms":1589362330906}}`,
	``,
}

// TestDebeziumJSONKafkaSource reads Debezium events from Kafka as an
// updating table and aggregates it: the changelog and the final result
// follow the events.
func TestDebeziumJSONKafkaSource(t *testing.T) {
	seeds := kafkaCluster(t, "products")
	// An event that does not parse, between the documented ones, is
	// skipped under ignore-parse-errors (a field that does not convert
	// would become NULL, as in Flink).
	msgs := append(slices.Clone(debeziumMessages[:2]), `{"before":null,"after":{"id":1`)
	produce(t, seeds, "products", append(msgs, debeziumMessages[2:]...)...)
	script := fmt.Sprintf(`
CREATE TABLE products (id BIGINT, name STRING, description STRING, weight DECIMAL(10, 2))
WITH ('connector' = 'kafka', 'topic' = 'products', 'properties.bootstrap.servers' = '%s',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'debezium-json',
      'debezium-json.schema-include' = 'false', 'debezium-json.ignore-parse-errors' = 'true');
SELECT name, COUNT(*) AS n, SUM(weight) AS w FROM products GROUP BY name;`, seeds)
	log := runLive(t, script, func() {}, func() []string {
		return []string{"+I[scooter, 1, 5.15]", "+I[car battery, 1, 8.10]"}
	})
	checkChangelog(t, log)
	want := []string{
		"+I[scooter, 1, 3.14]",
		"-U[scooter, 1, 3.14]", "+U[scooter, 2, 8.32]",
		"-U[scooter, 2, 8.32]", "+U[scooter, 1, 3.14]", // -U of 111's old row
		"-U[scooter, 1, 3.14]", "+U[scooter, 2, 8.29]", // +U of its new row
		"+I[car battery, 1, 8.10]",
		"-U[scooter, 2, 8.29]", "+U[scooter, 1, 5.15]",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changelog:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// TestCanalJSONKafkaSource reads the canal-json messages of Flink's
// documentation from Kafka.
func TestCanalJSONKafkaSource(t *testing.T) {
	seeds := kafkaCluster(t, "products")
	produce(t, seeds, "products",
		`{"data":[{"id":"101","name":"scooter","description":"Small 2-wheel scooter","weight":"3.14"},{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.15"}],"database":"inventory","es":1589373515000,"id":3,"isDdl":false,"old":null,"pkNames":["id"],"sql":"","table":"products","ts":1589373515477,"type":"INSERT"}`,
		`{"data":[{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.18"}],"database":"inventory","es":1589373560000,"id":9,"isDdl":false,"old":[{"weight":"5.15"}],"pkNames":["id"],"sql":"","table":"products","ts":1589373560798,"type":"UPDATE"}`,
		`{"data":[{"id":"1","name":"x","description":"other table","weight":"1"}],"database":"inventory","isDdl":false,"table":"customers","type":"INSERT"}`,
		`{"data":[{"id":"101","name":"scooter","description":"Small 2-wheel scooter","weight":"3.14"}],"database":"inventory","isDdl":false,"table":"products","type":"DELETE"}`,
		`{"data":null,"database":"inventory","isDdl":true,"sql":"ALTER TABLE products ADD COLUMN c INT","table":"products","type":"ALTER"}`,
	)
	script := fmt.Sprintf(`
CREATE TABLE products (id BIGINT, name STRING, description STRING, weight DECIMAL(10, 2))
WITH ('connector' = 'kafka', 'topic' = 'products', 'properties.bootstrap.servers' = '%s',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'canal-json',
      'canal-json.table.include' = 'products');
SELECT * FROM products;`, seeds)
	log := runLive(t, script, func() {}, func() []string {
		return []string{"+I[111, scooter, Big 2-wheel scooter, 5.18]"}
	})
	want := []string{
		"+I[101, scooter, Small 2-wheel scooter, 3.14]",
		"+I[111, scooter, Big 2-wheel scooter, 5.15]",
		"-U[111, scooter, Big 2-wheel scooter, 5.15]",
		"+U[111, scooter, Big 2-wheel scooter, 5.18]",
		"-D[101, scooter, Small 2-wheel scooter, 3.14]",
	}
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changelog:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}

// TestDebeziumJSONKafkaRoundTrip writes an aggregation's changelog to
// Kafka as debezium-json and reads it back: the materialised result is
// the aggregation's.
func TestDebeziumJSONKafkaRoundTrip(t *testing.T) {
	seeds := kafkaCluster(t, "counts")
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '100');
CREATE TABLE counts (k BIGINT, n BIGINT, s BIGINT)
WITH ('connector' = 'kafka', 'topic' = 'counts', 'properties.bootstrap.servers' = '%s', 'format' = 'debezium-json');
INSERT INTO counts SELECT id %% 3, COUNT(*), SUM(id) FROM gen GROUP BY id %% 3;`, seeds))
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
	// 1..100: k=0 has 33 ids summing to 1683, k=1 34 summing to 1717, k=2 33 summing to 1650.
	log := runLive(t, fmt.Sprintf(`
CREATE TABLE counts (k BIGINT, n BIGINT, s BIGINT)
WITH ('connector' = 'kafka', 'topic' = 'counts', 'properties.bootstrap.servers' = '%s',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'debezium-json');
SELECT * FROM counts;`, seeds), func() {}, func() []string {
		return []string{"+I[0, 33, 1683]", "+I[1, 34, 1717]", "+I[2, 33, 1650]"}
	})
	if len(log) <= 3 {
		t.Fatalf("the changelog read back has no updates: %v", log)
	}
}

// TestDebeziumJSONBadEventFails checks that without ignore-parse-errors
// a bad event fails the job naming the topic, partition, offset and field.
func TestDebeziumJSONBadEventFails(t *testing.T) {
	seeds := kafkaCluster(t, "products")
	produce(t, seeds, "products", debeziumMessages[0], `{"before":null,"after":{"id":1,"weight":"heavy"},"op":"c"}`)
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	_, jobs, err := sess.ExecuteScript(fmt.Sprintf(`
CREATE TABLE products (id BIGINT, name STRING, description STRING, weight DECIMAL(10, 2))
WITH ('connector' = 'kafka', 'topic' = 'products', 'properties.bootstrap.servers' = '%s',
      'scan.startup.mode' = 'earliest-offset', 'format' = 'debezium-json');
SELECT * FROM products;`, seeds))
	if err != nil {
		t.Fatal(err)
	}
	env := weir.NewEnvironment(jobs[0].Options())
	if err := jobs[0].Build(env, func(row.Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = env.Execute(ctx)
	if err == nil || !strings.Contains(err.Error(), "offset 1") || !strings.Contains(err.Error(), "after.weight") {
		t.Fatalf("error %v, want one naming offset 1 and field after.weight", err)
	}
}

// TestChangelogPlanningErrors checks the planner's refusals of updates
// where they cannot go, each naming the node that produces them.
func TestChangelogPlanningErrors(t *testing.T) {
	const tables = `
CREATE TABLE gen (id BIGINT, k STRING, ts AS LOCALTIMESTAMP, WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TABLE cdc (id INT, k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts, PRIMARY KEY (id) NOT ENFORCED) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = 't', 'slot.name' = 's');
CREATE TABLE out (k STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'o', 'properties.bootstrap.servers' = 'x:9092', 'format' = 'json');
CREATE TABLE out2 (id INT, k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'o', 'properties.bootstrap.servers' = 'x:9092', 'format' = 'json');
`
	for _, tc := range []struct{ stmt, want string }{
		{`INSERT INTO out SELECT k, COUNT(*) FROM gen GROUP BY k`, "doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[k], select=[k, COUNT(*) AS EXPR$0]):"},
		{`INSERT INTO out2 SELECT * FROM cdc`, "produced by node TableSourceScan(table=[[default_catalog, default_database, cdc]]"},
		{`INSERT INTO out2 SELECT * FROM cdc`, "Table sink 'default_catalog.default_database.out2' doesn't support consuming update and delete changes which is produced by node TableSourceScan"},
		{`INSERT INTO out2 SELECT * FROM cdc`, "(the 'kafka' connector accepts [I])"},
		{`SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE cdc, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end`,
			"WindowAggregate doesn't support consuming update and delete changes which is produced by node TableSourceScan"},
	} {
		sess := weirsql.NewSession(weirsql.SessionOptions{})
		_, _, err := sess.ExecuteScript(tables + tc.stmt + ";")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\nerror %v\nwant it to contain %q", tc.stmt, err, tc.want)
		}
	}
	// A changelog source feeding GROUP BY into an updating sink plans.
	sess := weirsql.NewSession(weirsql.SessionOptions{})
	if _, _, err := sess.ExecuteScript(tables + `CREATE TABLE p (k STRING, n BIGINT) WITH ('connector' = 'print');
INSERT INTO p SELECT k, COUNT(*) FROM cdc GROUP BY k;`); err != nil {
		t.Fatal(err)
	}
}
