package connector_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
)

// Every connector refuses option keys it does not consume, as Flink's
// FactoryUtil.validateUnconsumedKeys does: the error names the unknown
// keys and lists the supported ones.
func TestUnsupportedOptionsEveryConnector(t *testing.T) {
	schema := row.NewSchema(row.Col("id", row.BigInt()), row.Col("s", row.String()))
	cases := []struct {
		name     string
		sink     bool
		opts     map[string]string
		misspelt string // a real key with a typo
		valid    string // a key the Supported list must show
	}{
		{"datagen", false, map[string]string{"connector": "datagen"}, "rows-per-secnd", "rows-per-second"},
		{"print", true, map[string]string{"connector": "print"}, "print-identifer", "print-identifier"},
		{"blackhole", true, map[string]string{"connector": "blackhole"}, "sink.parallelism", "connector"},
		{"filesystem-csv", false, map[string]string{"connector": "filesystem", "path": "/nonexistent-dgval", "format": "csv"}, "csv.field-delimter", "csv.field-delimiter"},
		{"filesystem-json-sink", true, map[string]string{"connector": "filesystem", "path": "/nonexistent-dgval", "format": "json"}, "json.ignore-parse-error", "json.ignore-parse-errors"},
		{"filesystem-parquet", false, map[string]string{"connector": "filesystem", "path": "/nonexistent-dgval", "format": "parquet"}, "parquet.compresion", "path"},
		{"filesystem-csv-json-option", false, map[string]string{"connector": "filesystem", "path": "/nonexistent-dgval", "format": "csv"}, "json.ignore-parse-errors", "csv.null-literal"},
		{"kafka", false, map[string]string{"connector": "kafka", "topic": "t", "properties.bootstrap.servers": "localhost:1", "format": "json"}, "scan.startup.mod", "scan.startup.mode"},
		{"kafka-debezium", false, map[string]string{"connector": "kafka", "topic": "t", "properties.bootstrap.servers": "localhost:1", "format": "debezium-json"}, "debezium-json.ignore-parse-error", "topic"},
		{"kafka-sink-avro", true, map[string]string{"connector": "kafka", "topic": "t", "properties.bootstrap.servers": "localhost:1", "format": "json"}, "avro-confluent.url", "sink.partitioner"},
		{"upsert-kafka", true, map[string]string{"connector": "upsert-kafka", "topic": "t", "properties.bootstrap.servers": "localhost:1", "key.format": "json", "value.format": "json"}, "key.json.ignore-parse-error", "value.fields-include"},
		{"jdbc", false, map[string]string{"connector": "jdbc", "url": "jdbc:postgresql://localhost:1/db", "table-name": "t"}, "scan.fetch-sise", "table-name"},
		{"jdbc-sink", true, map[string]string{"connector": "jdbc", "url": "jdbc:postgresql://localhost:1/db", "table-name": "t"}, "sink.buffer-flush.max-row", "table-name"},
		{"redis", true, map[string]string{"connector": "redis"}, "key-prefx", "key-prefix"},
		{"postgres-cdc", false, map[string]string{"connector": "postgres-cdc", "hostname": "h", "username": "u", "database-name": "d", "schema-name": "s", "table-name": "t", "slot.name": "x"}, "decoding.plugin-name", "slot.name"},
		{"mysql-cdc", false, map[string]string{"connector": "mysql-cdc", "hostname": "h", "username": "u", "database-name": "d", "table-name": "t"}, "server-timezone", "hostname"},
		{"nats", false, map[string]string{"connector": "nats", "stream": "s", "format": "json"}, "formt", "stream"},
		{"mqtt", true, map[string]string{"connector": "mqtt", "topic": "t", "client-id": "c", "format": "json"}, "topik", "client-id"},
		{"rabbitmq", false, map[string]string{"connector": "rabbitmq", "queue": "q", "format": "json"}, "queu", "queue"},
		{"http", true, map[string]string{"connector": "http", "url": "http://localhost:1/", "format": "json"}, "sink.batchsize", "sink.batch-size"},
		{"clickhouse", true, map[string]string{"connector": "clickhouse", "table-name": "t"}, "table_name", "table-name"},
	}
	reg := connector.Default()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := map[string]string{"foo.bar": "1", c.misspelt: "1"}
			for k, v := range c.opts {
				opts[k] = v
			}
			ctx := connector.Context{Table: "t_" + c.name, Schema: schema, PrimaryKey: []int{0}, Options: opts}
			var err error
			if c.sink {
				_, err = reg.CreateSink(ctx)
			} else {
				_, err = reg.CreateSource(ctx)
			}
			if err == nil {
				t.Fatalf("options %v accepted", opts)
			}
			msg := err.Error()
			id := c.opts["connector"]
			head, supported, ok := strings.Cut(msg, "Supported options:\n\n")
			if !ok || !strings.Contains(head, "Unsupported options found for '"+id+"'.") {
				t.Fatalf("error is not Flink's unsupported-options error:\n%s", msg)
			}
			_, unsupported, _ := strings.Cut(head, "Unsupported options:\n\n")
			got := strings.Fields(unsupported)
			want := []string{"foo.bar", c.misspelt}
			if c.misspelt < "foo.bar" {
				want = []string{c.misspelt, "foo.bar"}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("unsupported options %q, want %q", got, want)
			}
			sup := strings.Split(supported, "\n")
			if !contains(sup, "connector") || !contains(sup, c.valid) {
				t.Errorf("supported options lack connector or %q:\n%s", c.valid, supported)
			}
		})
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// Datagen consumes fields.<name>.<option> only for the options the
// column's type (and the types of its parts) uses, as Flink's
// DataGenTableSourceFactory does; any other key is refused with the
// concrete keys the table supports.
func TestDatagenUnconsumedNestedOptions(t *testing.T) {
	cols := `
a INT
m MULTISET<INT>
mp MAP<INT, STRING>
arr ARRAY<BIGINT>
r ROW<x INT, y ARRAY<STRING>>
'connector' = 'datagen'
`
	for _, c := range []struct{ key, supported string }{
		{"fields.a.element.min", "fields.a.min"},
		{"fields.a.key.kind", "fields.a.kind"},
		{"fields.arr.key.min", "fields.arr.element.min"},
		{"fields.arr.element.element.min", "fields.arr.element.max"},
		{"fields.arr.element.length", "fields.arr.length"},
		{"fields.m.key.min", "fields.m.element.min"},
		{"fields.m.element.length", "fields.m.element.null-rate"},
		{"fields.mp.element.min", "fields.mp.key.min"},
		{"fields.mp.key.length", "fields.mp.value.length"},
		{"fields.mp.value.var-len.x", "fields.mp.value.var-len"},
		{"fields.r.z.min", "fields.r.x.min"},
		{"fields.r.y.element.min", "fields.r.y.element.length"},
		{"fields.r.kind.x", "fields.r.y.length"},
		{"fields.r.x.kind", "fields.r.x.null-rate"}, // nested parts are random only
		{"fields.zz.kind", "fields.a.kind"},
		{"fields.a", "fields.a.null-rate"},
	} {
		t.Run(c.key, func(t *testing.T) {
			ctx := table(t, "gen", cols+"'"+c.key+"' = '1'\n")
			_, err := connector.Default().CreateSource(ctx)
			if err == nil {
				t.Fatalf("option %s accepted", c.key)
			}
			head, supported, found := strings.Cut(err.Error(), "Supported options:\n\n")
			if !found && strings.Contains(head, "option '"+c.key+"' is for ") {
				return // a part of another type: refused naming the type
			}
			if !strings.HasSuffix(head, "Unsupported options:\n\n"+c.key+"\n\n") {
				t.Fatalf("error does not name %s alone:\n%s", c.key, err)
			}
			sup := strings.Split(supported, "\n")
			if !contains(sup, c.supported) || contains(sup, c.key) {
				t.Errorf("supported options should list %s:\n%s", c.supported, supported)
			}
		})
	}
	// The options the types use are accepted, dotted column names too.
	ok := `
m MULTISET<INT>
mp MAP<INT, STRING>
r ROW<x INT, y ARRAY<STRING>>
a.b INT
'connector' = 'datagen'
'fields.m.element.min' = '1'
'fields.m.length' = '2'
'fields.mp.key.null-rate' = '0.5'
'fields.mp.value.var-len' = 'true'
'fields.r.x.max' = '9'
'fields.r.y.element.length' = '3'
'fields.a.b.kind' = 'sequence'
'fields.a.b.start' = '1'
'fields.a.b.end' = '3'
`
	if _, err := connector.Default().CreateSource(table(t, "gen", ok)); err != nil {
		t.Fatal(err)
	}
}
