package canal_test

import (
	"errors"
	"testing"

	"github.com/weirstream/weir/format/canal"
	"github.com/weirstream/weir/row"
)

// FuzzDecode checks that any input gives rows of the schema (at most two
// per data element) or a *canal.Error, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		flinkUpdate,
		`{"data":[{"id":"1","name":"a","description":"d","weight":"1"}],"type":"INSERT"}`,
		`{"data":[{"id":"1"}],"old":[{"weight":null}],"type":"UPDATE"}`,
		`{"data":[{"id":"1"}],"type":"DELETE"}`,
		`{"isDdl":true,"type":"ALTER"}`,
		`null`, `{}`, `{"data":[{"weight":"1e400"}],"type":"INSERT"}`,
	} {
		f.Add([]byte(s))
	}
	d, err := canal.NewDecoder(schema, canal.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := d.Decode(nil, b)
		if err != nil {
			var ce *canal.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *canal.Error", err)
			}
			if len(rows) != 0 {
				t.Fatalf("%d rows with an error", len(rows))
			}
			return
		}
		for _, r := range rows {
			if len(r.Fields) != len(schema.Columns) || r.Kind > row.Delete {
				t.Fatalf("bad row %v", r)
			}
		}
	})
}
