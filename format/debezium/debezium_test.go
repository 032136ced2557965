package debezium_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/weirstream/weir/format/debezium"
	"github.com/weirstream/weir/row"
)

var schema = row.NewSchema(row.Col("id", row.BigInt()), row.Col("name", row.String()), row.Col("price", row.DecimalType(10, 2)))

func TestDecode(t *testing.T) {
	d, err := debezium.NewDecoder(schema, debezium.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want string // rows formatted, ";"-separated
	}{
		{`{"before":null,"after":{"id":1,"name":"a","price":1.5},"op":"c"}`, "+I[1, a, 1.50]"},
		{`{"before":null,"after":{"id":1,"name":"a","price":1.5},"op":"r","source":{"lsn":1}}`, "+I[1, a, 1.50]"},
		{`{"before":{"id":1,"name":"a","price":1.5},"after":{"id":1,"name":"b","price":2},"op":"u"}`, "-U[1, a, 1.50];+U[1, b, 2.00]"},
		{`{"before":null,"after":{"id":1,"name":"b","price":2},"op":"u"}`, "+U[1, b, 2.00]"},
		{`{"before":{"id":1,"name":null,"price":null},"after":null,"op":"d"}`, "-D[1, NULL, NULL]"},
		{`{"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":2,"name":"x","price":0},"op":"c"}}`, "+I[2, x, 0.00]"},
		{`null`, ""},
		{`{"op":"t","before":null,"after":null}`, ""},
	} {
		rows, err := d.Decode(nil, []byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Kind.String()+format(r))
		}
		if g := strings.Join(got, ";"); g != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, g, tc.want)
		}
	}
	for _, bad := range []string{`{`, `{"after":{"id":1}}`, `{"op":"x","after":{}}`, `{"op":"c","after":null}`, `{"op":"d","before":null}`,
		`{"op":"c","after":{"id":"nope"}}`, `[1]`} {
		_, err := d.Decode(nil, []byte(bad))
		var de *debezium.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: error %v, want a *debezium.Error", bad, err)
		}
	}
}

func format(r row.Row) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row.Format(f, schema.Columns[i].Type))
	}
	b.WriteByte(']')
	return b.String()
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	e, err := debezium.NewEncoder(schema, debezium.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := debezium.NewDecoder(schema, debezium.Options{})
	for _, k := range []row.Kind{row.Insert, row.UpdateBefore, row.UpdateAfter, row.Delete} {
		r := row.Of(row.Int(7), row.Str("q\"x"), row.Int(1234)).WithKind(k)
		b, err := e.Append(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := d.Decode(nil, b)
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %s: %v %v", k, b, rows, err)
		}
		// Flink's encoding: accumulations are creates, retractions deletes.
		wantKind := row.Insert
		if k.IsRetract() {
			wantKind = row.Delete
		}
		if rows[0].Kind != wantKind || format(rows[0]) != "[7, q\"x, 12.34]" {
			t.Errorf("%s: %s decoded to %s%s", k, b, rows[0].Kind, format(rows[0]))
		}
	}
}
