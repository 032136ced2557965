package raw

import (
	"testing"

	"github.com/weirstream/weir/row"
)

func TestRaw(t *testing.T) {
	if err := Check(row.NewSchema(row.Col("a", row.String()))); err != nil {
		t.Error(err)
	}
	if err := Check(row.NewSchema(row.Col("a", row.IntType()))); err == nil {
		t.Error("INT accepted")
	}
	if err := Check(row.NewSchema(row.Col("a", row.String()), row.Col("b", row.String()))); err == nil {
		t.Error("two columns accepted")
	}
	r := Decode([]byte("héllo"))
	if got := row.FormatRow(r, []row.Type{row.String()}); got != "+I[héllo]" {
		t.Errorf("decoded %s", got)
	}
	if !Decode(nil).Fields[0].IsNull() || !Decode([]byte{}).Fields[0].IsNull() {
		t.Error("an empty record is not NULL")
	}
	b, err := Append([]byte("x"), r)
	if err != nil || string(b) != "xhéllo" {
		t.Errorf("encoded %q %v", b, err)
	}
	if b, err := Append(nil, row.Of(row.Null())); err != nil || len(b) != 0 {
		t.Errorf("NULL encoded as %q %v", b, err)
	}
}
