package canal_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/weirstream/weir/format/canal"
	"github.com/weirstream/weir/row"
)

// schema is the table of Flink's canal-json documentation: topic_products
// (id BIGINT, name STRING, description STRING, weight DECIMAL(10, 2)).
var schema = row.NewSchema(row.Col("id", row.BigInt()), row.Col("name", row.String()),
	row.Col("description", row.String()), row.Col("weight", row.DecimalType(10, 2)))

// flinkUpdate is the UPDATE message of Flink's canal-json documentation
// (the products table of the MySQL inventory example).
const flinkUpdate = `{
  "data": [
    {
      "id": "111",
      "name": "scooter",
      "description": "Big 2-wheel scooter",
      "weight": "5.18"
    }
  ],
  "database": "inventory",
  "es": 1589373560000,
  "id": 9,
  "isDdl": false,
  "mysqlType": {
    "id": "INTEGER",
    "name": "VARCHAR(255)",
    "description": "VARCHAR(512)",
    "weight": "FLOAT"
  },
  "old": [
    {
      "weight": "5.15"
    }
  ],
  "pkNames": [
    "id"
  ],
  "sql": "",
  "sqlType": {
    "id": 4,
    "name": 12,
    "description": 12,
    "weight": 7
  },
  "table": "products",
  "ts": 1589373560798,
  "type": "UPDATE"
}`

func format(rows []row.Row) string {
	var out []string
	for _, r := range rows {
		out = append(out, row.FormatRow(r, schema.Types()))
	}
	return strings.Join(out, "; ")
}

func TestDecode(t *testing.T) {
	d, err := canal.NewDecoder(schema, canal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		// Flink's documented example: the weight changed from 5.15 to 5.18.
		{flinkUpdate, "-U[111, scooter, Big 2-wheel scooter, 5.15]; +U[111, scooter, Big 2-wheel scooter, 5.18]"},
		{`{"data":[{"id":"101","name":"scooter","description":"Small 2-wheel scooter","weight":"3.14"},{"id":"102","name":"car battery","description":"12V car battery","weight":"8.1"}],"database":"inventory","isDdl":false,"table":"products","type":"INSERT"}`,
			"+I[101, scooter, Small 2-wheel scooter, 3.14]; +I[102, car battery, 12V car battery, 8.10]"},
		{`{"data":[{"id":"111","name":"scooter","description":"Big 2-wheel scooter","weight":"5.17"}],"database":"inventory","isDdl":false,"table":"products","type":"DELETE"}`,
			"-D[111, scooter, Big 2-wheel scooter, 5.17]"},
		// An old value that was NULL is put back as NULL.
		{`{"data":[{"id":"1","name":"a","description":"d","weight":"1"}],"old":[{"description":null}],"type":"UPDATE"}`,
			"-U[1, a, NULL, 1.00]; +U[1, a, d, 1.00]"},
		{`{"data":null,"database":"inventory","isDdl":true,"sql":"CREATE TABLE x (id INT)","table":"x","type":"CREATE"}`, ""},
		{`null`, ""},
	} {
		rows, err := d.Decode(nil, []byte(tc.in))
		if err != nil {
			t.Fatalf("%.60s: %v", tc.in, err)
		}
		if got := format(rows); got != tc.want {
			t.Errorf("%.60s:\ngot  %s\nwant %s", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, field string }{
		{`{`, ""},
		{`{"data":[{"id":"1"}]}`, "type"},
		{`{"data":[{"id":"1"}],"type":"MERGE"}`, "type"},
		{`{"type":"INSERT"}`, "data"},
		{`{"data":[{"id":"x"}],"type":"INSERT"}`, "data[0].id"},
		{`{"data":[{"id":"1"}],"old":[],"type":"UPDATE"}`, "old"},
		{`{"data":[{"id":"1"}],"old":[{"id":"z"}],"type":"UPDATE"}`, "old[0].id"},
		{`{"data":[null],"type":"DELETE"}`, "data[0]"},
	} {
		_, err := d.Decode(nil, []byte(tc.in))
		var ce *canal.Error
		if !errors.As(err, &ce) {
			t.Fatalf("%s: error %v, want a *canal.Error", tc.in, err)
		}
		if ce.Field != tc.field {
			t.Errorf("%s: error %v names field %q, want %q", tc.in, err, ce.Field, tc.field)
		}
	}
}

func TestInclude(t *testing.T) {
	d, err := canal.NewDecoder(schema, canal.Options{Database: regexp.MustCompile(`^(?:inv.*)$`), Table: regexp.MustCompile(`^(?:products)$`)})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(db, table string) string {
		return `{"data":[{"id":"1","name":"a","description":"d","weight":"1"}],"database":"` + db + `","table":"` + table + `","type":"INSERT"}`
	}
	for _, tc := range []struct {
		db, table string
		n         int
	}{{"inventory", "products", 1}, {"other", "products", 0}, {"inventory", "products2", 0}} {
		rows, err := d.Decode(nil, []byte(msg(tc.db, tc.table)))
		if err != nil || len(rows) != tc.n {
			t.Errorf("%s.%s: %d rows (%v), want %d", tc.db, tc.table, len(rows), err, tc.n)
		}
	}
}

// TestEncode checks the messages Flink's CanalJsonSerializationSchema
// writes: one per row, +I and +U as INSERT, -U and -D as DELETE.
func TestEncode(t *testing.T) {
	e, err := canal.NewEncoder(schema, canal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := row.Of(row.Int(111), row.Str(`big "2"`), row.Null(), row.Int(518))
	want := map[row.Kind]string{
		row.Insert:       `{"data":[{"id":111,"name":"big \"2\"","description":null,"weight":5.18}],"type":"INSERT"}`,
		row.UpdateAfter:  `{"data":[{"id":111,"name":"big \"2\"","description":null,"weight":5.18}],"type":"INSERT"}`,
		row.UpdateBefore: `{"data":[{"id":111,"name":"big \"2\"","description":null,"weight":5.18}],"type":"DELETE"}`,
		row.Delete:       `{"data":[{"id":111,"name":"big \"2\"","description":null,"weight":5.18}],"type":"DELETE"}`,
	}
	for _, k := range []row.Kind{row.Insert, row.UpdateBefore, row.UpdateAfter, row.Delete} {
		b, err := e.Append([]byte("x"), r.WithKind(k))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(b); got != "x"+want[k] {
			t.Errorf("%s: got %s, want x%s", k, got, want[k])
		}
	}
}

// TestEncodeDecodeRoundTrip decodes what the encoder writes: accumulations
// come back as +I, retractions as -D, with the same fields.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	e, _ := canal.NewEncoder(schema, canal.Options{})
	d, _ := canal.NewDecoder(schema, canal.Options{})
	for _, k := range []row.Kind{row.Insert, row.UpdateBefore, row.UpdateAfter, row.Delete} {
		r := row.Of(row.Int(7), row.Str("q\"x"), row.Str("d"), row.Int(1234)).WithKind(k)
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Decode(nil, b)
		if err != nil {
			t.Fatalf("%s: %s: %v", k, b, err)
		}
		want := "+I[7, q\"x, d, 12.34]"
		if k.IsRetract() {
			want = "-D[7, q\"x, d, 12.34]"
		}
		if got := format(rows); got != want {
			t.Errorf("%s: %s decoded to %s, want %s", k, b, got, want)
		}
	}
}
