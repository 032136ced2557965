package file

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodePos checks the decoder of checkpointed file positions: any
// bytes decode or fail without panicking; an accepted item re-encodes to
// an item that decodes to the same position, with an offset and line a
// reader can have; and an accepted item followed by a byte is refused.
func FuzzDecodePos(f *testing.F) {
	f.Add(encodePos("a.jsonl", filePos{off: 3, line: 1}))
	f.Add(encodePos("dir/ü.csv", filePos{off: 1 << 40, line: 12345, header: true, done: true}))
	f.Add(encodePos("", filePos{}))
	f.Add([]byte{posVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}) // a name of 2^60 bytes
	f.Add([]byte{posVersion, 1, 'a', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		rel, p, err := decodePos(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "file: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if p.off < 0 || p.line < 0 {
			t.Fatalf("%x decoded to negative %+v", b, p)
		}
		rel2, p2, err := decodePos(encodePos(rel, p))
		if err != nil || rel2 != rel || p2 != p {
			t.Fatalf("%q %+v round-trips to %q %+v (%v)", rel, p, rel2, p2, err)
		}
		if _, _, err := decodePos(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatalf("%x with a byte more decoded", b)
		}
		if _, err := decodePositions([][]byte{b, b}); err != nil {
			t.Fatalf("the same position twice: %v", err)
		}
	})
}

// FuzzPosRoundTrip encodes every position a reader can have and decodes
// it back.
func FuzzPosRoundTrip(f *testing.F) {
	f.Add("a/b.csv", int64(10), int64(2), true, false)
	f.Add("", int64(1)<<62, int64(1)<<62, false, true)
	f.Fuzz(func(t *testing.T, rel string, off, line int64, header, done bool) {
		if off < 0 || line < 0 || off > 1<<62 || line > 1<<62 {
			return
		}
		p := filePos{off: off, line: line, header: header, done: done}
		rel2, p2, err := decodePos(encodePos(rel, p))
		if err != nil || rel2 != rel || p2 != p {
			t.Fatalf("%q %+v round-trips to %q %+v (%v)", rel, p, rel2, p2, err)
		}
	})
}

// FuzzDecodeFileCommittable checks the decoder of the exactly-once file
// sink's committables: no panic, only plain names of the sink's directory,
// decode(encode(c)) == c, and no trailing bytes.
func FuzzDecodeFileCommittable(f *testing.F) {
	f.Add(committable{pending: ".part-0-1.jsonl.inprogress.abc", final: "part-0-1.jsonl"}.encode())
	f.Add(committable{pending: "..", final: "a/b"}.encode())
	f.Add([]byte{committableVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{committableVersion, 0, 0})
	f.Add(committable{pending: ".part-0-1.jsonl.inprogress.a", more: []string{".part-0-2.jsonl.inprogress.b"}, final: "part-0-1.jsonl"}.encode())
	f.Add([]byte{compactCommittableVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommittable(b)
		if err != nil {
			return
		}
		for _, n := range append([]string{c.pending, c.final}, c.more...) {
			if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) {
				t.Fatalf("%x decoded to name %q outside the directory", b, n)
			}
		}
		c2, err := decodeCommittable(c.encode())
		if err != nil || c2.pending != c.pending || c2.final != c.final || !slices.Equal(c2.more, c.more) {
			t.Fatalf("%+v round-trips to %+v (%v)", c, c2, err)
		}
		if _, err := decodeCommittable(append(b[:len(b):len(b)], 0)); err == nil {
			t.Fatalf("%x with a byte more decoded", b)
		}
	})
}

// FuzzPartName checks the parsers of the exactly-once sink's file names,
// which decide what the sink removes as its leftovers: a name parses only
// if it is the name the sink gives that subtask and part number.
func FuzzPartName(f *testing.F) {
	for _, s := range []string{"part-0-1.jsonl", ".part-2-7.csv.inprogress.ab12", "part-+1-02.jsonl", ".part-01-1.x.inprogress.y", "part--0-1.x", "part-1-2", "part-9223372036854775807-0.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if s, n, ok := partName(name); ok {
			_, ext, _ := strings.Cut(strings.TrimPrefix(name, "part-"), ".")
			if want := "part-" + strconv.FormatInt(s, 10) + "-" + strconv.FormatInt(n, 10) + "." + ext; want != name || s < 0 || n < 0 {
				t.Fatalf("%q parsed as subtask %d part %d, named %q", name, s, n, want)
			}
		}
		if s, n, ok := inProgressName(name); ok {
			if _, _, ok := partName(name[1:]); !ok || !strings.HasPrefix(name, ".part-"+strconv.FormatInt(s, 10)+"-"+strconv.FormatInt(n, 10)+".") {
				t.Fatalf("%q parsed as in-progress subtask %d part %d", name, s, n)
			}
		}
	})
}
