package connector

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/weirstream/weir/row"
)

// nestedFuzzSchema has lists of rows of lists, a map of lists and a row.
func nestedFuzzSchema() row.Schema {
	i, s, b := row.IntType(), row.String(), row.BigInt()
	return row.Schema{Columns: []row.Field{
		{Name: "a", Type: row.ArrayType(row.RowType(row.Field{Name: "x", Type: i}, row.Field{Name: "y", Type: row.ArrayType(s)}))},
		{Name: "m", Type: row.MapType(s, row.ArrayType(i))},
		{Name: "r", Type: row.RowType(row.Field{Name: "z", Type: b})},
	}}
}

func nestedFuzzRows() []row.Row {
	str := func(ss ...string) row.Value {
		var vs []row.Value
		for _, x := range ss {
			if x == "<null>" {
				vs = append(vs, row.Null())
			} else {
				vs = append(vs, row.Str(x))
			}
		}
		return row.Array(vs)
	}
	el := func(x int64, y row.Value) row.Value { return row.Nested([]row.Value{row.Int(x), y}) }
	return []row.Row{
		row.Of(row.Array([]row.Value{el(1, str("a", "<null>")), row.Null(), el(2, str())}),
			row.Map([]row.Value{row.Str("k"), row.Str("l")}, []row.Value{row.Array([]row.Value{row.Int(1), row.Null()}), row.Null()}),
			row.Nested([]row.Value{row.Int(7)})),
		row.Of(row.Null(), row.Null(), row.Null()),
		row.Of(row.Array([]row.Value{}), row.Map([]row.Value{}, []row.Value{}), row.Nested([]row.Value{row.Null()})),
		row.Of(row.Array([]row.Value{el(3, row.Null())}), row.Map([]row.Value{row.Str("")}, []row.Value{row.Array([]row.Value{})}), row.Nested([]row.Value{row.Int(-1)})),
	}
}

// nestedFuzzFile writes rows with the format's writer and returns the
// file's rows as parquet-go reads them, and a decoder of the file.
func nestedFuzzFile(t testing.TB, rows []row.Row) ([]pq.Row, *parquetDecoder) {
	sch := nestedFuzzSchema()
	c := &parquetConfig{table: "t", schema: sch, utc: true, unit: pq.Microsecond, codec: &pq.Uncompressed, loc: time.UTC}
	var buf bytes.Buffer
	w, err := parquetFormat{c}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	pf, err := pq.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	cols, err := (&parquetSource{c: c, full: sch}).columns(pf, "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	rd := pq.NewReader(pf)
	out := make([]pq.Row, len(rows))
	n, err := rd.ReadRows(out)
	if n != len(rows) || err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("read %d rows: %v", n, err)
	}
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out, newParquetDecoder(cols)
}

// TestParquetAssembleRoundTrip: the striped levels assemble back to the
// rows written.
func TestParquetAssembleRoundTrip(t *testing.T) {
	rows := nestedFuzzRows()
	prs, dec := nestedFuzzFile(t, rows)
	types := nestedFuzzSchema().Types()
	for i, pr := range prs {
		got, field, err := dec.decode(pr, nil)
		if err != nil {
			t.Fatalf("row %d: %s: %v", i, field, err)
		}
		if !row.EqualRows(got, rows[i], types) {
			t.Errorf("row %d: %s, want %s", i, row.FormatRow(got, types), row.FormatRow(rows[i], types))
		}
	}
}

// TestParquetWriteNullMapKey: Parquet map keys are required; a NULL key
// is an error naming the column, as is NULL in a NOT NULL element.
func TestParquetWriteNullMapKey(t *testing.T) {
	sch := row.Schema{Columns: []row.Field{{Name: "m", Type: row.MapType(row.String(), row.IntType())}, {Name: "a", Type: row.ArrayType(row.IntType().NotNull())}}}
	c := &parquetConfig{table: "t", schema: sch, unit: pq.Microsecond, codec: &pq.Uncompressed, loc: time.UTC}
	w, err := parquetFormat{c}.NewWriter(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(row.Of(row.Map([]row.Value{row.Null()}, []row.Value{row.Int(1)}), row.Null()))
	if err == nil || !strings.Contains(err.Error(), "column `m`: a MAP key is NULL") {
		t.Errorf("NULL key: %v", err)
	}
	err = w.Write(row.Of(row.Null(), row.Array([]row.Value{row.Int(1), row.Null()})))
	if err == nil || !strings.Contains(err.Error(), "column `a`.element is NOT NULL but the row holds NULL") {
		t.Errorf("NULL element: %v", err)
	}
}

// FuzzParquetAssemble feeds the assembler rows whose levels, columns and
// values are mutated: it returns an error or a row, never panics or
// loops.
func FuzzParquetAssemble(f *testing.F) {
	prs, dec := nestedFuzzFile(f, nestedFuzzRows())
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), []byte{1, 4, 3, 9})
	f.Add(uint8(3), []byte{0, 0, 2, 2, 5, 7})
	f.Add(uint8(2), []byte{6, 3, 1, 0x10})
	f.Fuzz(func(t *testing.T, which uint8, ops []byte) {
		base := prs[int(which)%len(prs)]
		r := append(pq.Row(nil), base...)
		for i := 0; i+1 < len(ops) && len(r) > 0; i += 2 {
			p, b := int(ops[i])%len(r), ops[i+1]
			v := r[p]
			switch b % 5 {
			case 0:
				r[p] = v.Level(int(b>>3)%4, v.DefinitionLevel(), v.Column())
			case 1:
				r[p] = v.Level(v.RepetitionLevel(), int(b>>3)%6, v.Column())
			case 2:
				r = append(r[:p], r[p+1:]...)
			case 3:
				r = append(r[:p+1], r[p:]...)
			case 4:
				r[p] = v.Level(v.RepetitionLevel(), v.DefinitionLevel(), int(b>>3)%8)
			}
		}
		dec.decode(r, nil)
	})
}
