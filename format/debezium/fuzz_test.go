package debezium_test

import (
	"testing"

	"github.com/weirstream/weir/format/debezium"
	"github.com/weirstream/weir/row"
)

// FuzzDecode checks that no input makes the decoder panic, that it
// returns rows of the schema's width with a kind a change event can have,
// and that what decodes re-encodes and decodes to the same rows.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"before":null,"after":{"id":1,"name":"a","price":1.5},"op":"c"}`,
		`{"before":{"id":1,"name":"a","price":1.5},"after":{"id":1,"name":"b","price":2},"op":"u"}`,
		`{"before":{"id":1},"after":null,"op":"d"}`,
		`{"schema":{},"payload":{"before":null,"after":{"id":2},"op":"r"}}`,
		`null`, `{}`, `{"op":"u","after":{"id":1e400}}`,
	} {
		f.Add([]byte(s))
	}
	d, err := debezium.NewDecoder(schema, debezium.Options{})
	if err != nil {
		f.Fatal(err)
	}
	e, _ := debezium.NewEncoder(schema, debezium.Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := d.Decode(nil, b)
		if err != nil {
			return
		}
		if len(rows) > 2 {
			t.Fatalf("%d rows from one event", len(rows))
		}
		for _, r := range rows {
			if len(r.Fields) != len(schema.Columns) || r.Kind > row.Delete {
				t.Fatalf("bad row %v", r)
			}
			enc, err := e.Append(nil, r)
			if err != nil {
				t.Fatalf("re-encoding %v: %v", r, err)
			}
			again, err := d.Decode(nil, enc)
			if err != nil || len(again) != 1 || format(again[0]) != format(r) {
				t.Fatalf("%s decoded to %v, re-encoded %s, decoded to %v (%v)", b, r, enc, again, err)
			}
		}
	})
}
