package file

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// framed is one record read by a reader's framing, with the position a
// checkpoint taken right after it would store.
type framed struct {
	rec   string
	first int64 // number of the record's first line
	off   int64 // byte offset after the record
	line  int64 // number of the record's last line
}

// frameAll reads every record of content with the framing of a reader of
// format f, starting as if restored at (off, line). The reader's buffer is
// the smallest bufio allows, so that long lines take the slow path.
func frameAll(t *testing.T, content []byte, f format, off, line int64) []framed {
	t.Helper()
	r := &reader[map[string]string]{
		format: f, comma: ',', name: "fuzz", maxRec: 1 << 20,
		br:  bufio.NewReaderSize(bytes.NewReader(content[off:]), 16),
		off: off, line: line,
	}
	var out []framed
	for {
		rec, first, err := r.readRecord(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("readRecord: %v", err)
		}
		if first <= line {
			t.Fatalf("record %q starts at line %d, not after line %d", rec, first, line)
		}
		if first > r.line || r.off > int64(len(content)) {
			t.Fatalf("record %q: first line %d, last %d, offset %d of %d", rec, first, r.line, r.off, len(content))
		}
		out = append(out, framed{rec: string(rec), first: first, off: r.off, line: r.line})
		line = r.line
	}
	if r.off != int64(len(content)) {
		t.Fatalf("framing ended at byte %d of %d", r.off, len(content))
	}
	return out
}

// FuzzRecordFraming checks the line and record framing of the file source
// over arbitrary file contents: it consumes every byte, JSON records are
// exactly the non-blank lines, and resuming after any record (as a restore
// from a checkpoint taken there does) reads exactly the records that
// follow, with the same line numbers.
func FuzzRecordFraming(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\"a\":2}\r\n  \n{\"a\":3}"), false)
	f.Add([]byte("\ufeffid,name\n1,\"multi\nline\"\n2,x\r\n\n3,\"open"), true)
	f.Add([]byte(strings.Repeat("x", 40)+"\n"+strings.Repeat("\"", 33)+"\n\"\n"), true)
	f.Add([]byte("\r\n\r\n"), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, content []byte, csv bool) {
		fm := formatJSON
		if csv {
			fm = formatCSV
		}
		recs := frameAll(t, content, fm, 0, 0)
		if !csv {
			// Reference: split at '\n', drop one '\r' before it and a
			// byte order mark at the start, skip lines of JSON whitespace.
			var want []string
			for i, l := range strings.Split(string(content), "\n") {
				if i == 0 {
					l = strings.TrimPrefix(l, "\ufeff")
				}
				l = strings.TrimSuffix(l, "\r")
				if strings.Trim(l, " \t\r\n") != "" { // JSON's whitespace
					want = append(want, l)
				}
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.rec)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("records %q, want %q", got, want)
			}
		}
		for i, r := range recs {
			if i+1 < len(recs) && recs[i+1].first <= r.line {
				t.Fatalf("records %d and %d overlap: %+v %+v", i, i+1, r, recs[i+1])
			}
			rest := frameAll(t, content, fm, r.off, r.line)
			if !slices.Equal(rest, recs[i+1:]) {
				t.Fatalf("resumed after record %d (%+v): %+v, want %+v", i, r, rest, recs[i+1:])
			}
		}
	})
}

// FuzzCSVHeader feeds arbitrary header lines to the CSV decoder: an error
// names no column or one of the header's; an accepted header maps each
// column to the schema field of its name (exactly, else ignoring case) or
// to none, and a strict decoder accepts no unknown column. The header the
// encoder writes maps every column to its field, for any separator.
func FuzzCSVHeader(f *testing.F) {
	f.Add("id,name,x,ok,at,u,D", byte(','), false)
	f.Add("ID,Name,zzz", byte(';'), true)
	f.Add(`"id","na""me",`, byte(','), false)
	f.Add("id,id", byte(','), false)
	f.Add("\"open", byte('\t'), true)
	schema, err := newCSVSchema[fuzzRec]()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string, comma byte, strict bool) {
		c, err := checkComma(rune(comma))
		if err != nil {
			return
		}
		e := &csvEncoder[fuzzRec]{schema: schema, comma: c}
		d := &csvDecoder[fuzzRec]{schema: schema, comma: c, strict: true}
		if _, err := d.header(bytes.TrimSuffix(e.header(), []byte{'\n'})); err != nil {
			t.Fatalf("header %q written with separator %q: %v", e.header(), c, err)
		}
		for i, idx := range d.cols {
			if idx != i {
				t.Fatalf("header %q: column %d maps to field %d", e.header(), i, idx)
			}
		}

		d = &csvDecoder[fuzzRec]{schema: schema, comma: c, strict: strict}
		field, err := d.header([]byte(line))
		if err != nil {
			cols, _, serr := splitCSV([]byte(line), c, nil, nil)
			if field != "" && (serr != nil || !slices.ContainsFunc(cols, func(b []byte) bool { return string(b) == field })) {
				t.Fatalf("header %q: error %v names %q, not a column", line, err, field)
			}
			return
		}
		if len(d.cols) != len(d.names) {
			t.Fatalf("header %q: %d columns, %d names", line, len(d.cols), len(d.names))
		}
		seen := map[string]bool{}
		for i, name := range d.names {
			if seen[name] {
				t.Fatalf("header %q: column %q twice", line, name)
			}
			seen[name] = true
			idx := d.cols[i]
			switch {
			case idx < 0 && strict:
				t.Fatalf("strict header %q: column %q ignored", line, name)
			case idx >= len(schema.fields):
				t.Fatalf("header %q: column %q maps to field %d", line, name, idx)
			case idx >= 0 && !strings.EqualFold(schema.fields[idx].name, name):
				t.Fatalf("header %q: column %q maps to field %s", line, name, schema.fields[idx].name)
			}
		}
	})
}

// FuzzCSVMapRoundTrip writes a map record with the CSV encoder (header and
// record) and reads the bytes back as the file source does (framing,
// header, record): the same map comes out.
func FuzzCSVMapRoundTrip(f *testing.F) {
	f.Add("a", "1", "b", "x,y", byte(','))
	f.Add("", "", "", "", byte(','))
	f.Add("k", "multi\nline", "\"q\"", " lead", byte(';'))
	f.Add("\ufeffk", "v", "\ufeffk", "v", byte(','))
	schema, err := newCSVSchema[map[string]string]()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, comma byte) {
		c, err := checkComma(rune(comma))
		if err != nil {
			return
		}
		in := map[string]string{k1: v1, k2: v2}
		e := &csvEncoder[map[string]string]{schema: schema, comma: c}
		out, err := e.encode(in)
		if err != nil {
			t.Fatalf("encode %q: %v", in, err)
		}
		r := &reader[map[string]string]{format: formatCSV, comma: c, name: "fuzz", maxRec: 1 << 20,
			br: bufio.NewReaderSize(bytes.NewReader(out), 16)}
		d := &csvDecoder[map[string]string]{schema: schema, comma: c}
		hdr, _, err := r.readRecord(context.Background())
		if err != nil {
			t.Fatalf("%q: reading the header: %v", out, err)
		}
		if _, err := d.header(hdr); err != nil {
			t.Fatalf("%q: header: %v", out, err)
		}
		rec, _, err := r.readRecord(context.Background())
		if err != nil {
			t.Fatalf("%q: reading the record: %v", out, err)
		}
		var got map[string]string
		if _, err := d.decode(rec, &got); err != nil {
			t.Fatalf("%q: decode: %v", out, err)
		}
		if len(got) != len(in) {
			t.Fatalf("%q written as %q read back as %q", in, out, got)
		}
		for k, v := range in {
			if g, ok := got[k]; !ok || g != v {
				t.Fatalf("%q written as %q read back as %q", in, out, got)
			}
		}
		if _, _, err := r.readRecord(context.Background()); err != io.EOF {
			t.Fatalf("%q: more than a header and a record (%v)", out, err)
		}
	})
}
