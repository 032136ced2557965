package checkpoint

import (
	"bytes"
	"errors"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzChkName checks the parser of checkpoint directory names: a name is
// checkpoint id only if chkName(id) spells it, so that listing and reading
// a checkpoint agree on its directory; every id from 0 round-trips.
func FuzzChkName(f *testing.F) {
	for _, s := range []string{"chk-1", "chk-07", "chk-+7", "chk--3", "chk-0", "chk-9223372036854775807", "chk-9223372036854775808", "chk-", "chk-1 ", "shared", "chk-1/x"} {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, name string, id int64) {
		if got, ok := parseChkName(name); ok && (got < 0 || chkName(got) != name) {
			t.Fatalf("%q parsed as checkpoint %d, whose directory is %q", name, got, chkName(got))
		}
		if id >= 0 {
			if got, ok := parseChkName(chkName(id)); !ok || got != id {
				t.Fatalf("checkpoint %d: %q parsed as %d, %v", id, chkName(id), got, ok)
			}
		}
	})
}

// FuzzParseLocation checks the parser of location URLs: an accepted
// location has a bucket without slashes and a prefix without leading or
// trailing slashes; the location of the same bucket and prefix parses back
// to them; and the parent of a checkpoint's location (where its shared/ is
// looked for) is the location it was made in.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://b/p", "s3://b", "s3://b/", "s3:///p", "s3://b//a//b/", "s3://b/a/./c", "s3://b/..", "/local/dir", "s3:/b", "gs://b/p", "a/b://c"} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, loc string, id int64) {
		scheme, bucket, prefix, err := parseLocation(loc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "checkpoint: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if !isURL(loc) || !strings.HasPrefix(loc, scheme+schemeSep) {
			t.Fatalf("%q parsed as a URL of scheme %q", loc, scheme)
		}
		if bucket == "" || strings.Contains(bucket, "/") || strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
			t.Fatalf("%q parsed as bucket %q prefix %q", loc, bucket, prefix)
		}
		root := scheme + schemeSep + joinName(bucket, prefix)
		if sc, b, p, err := parseLocation(root); err != nil || sc != scheme || b != bucket || p != prefix {
			t.Fatalf("%q -> (%q, %q) -> %q -> (%q, %q, %v)", loc, bucket, prefix, root, b, p, err)
		}
		if id <= 0 {
			return
		}
		s := &Storage{Dir: loc}
		chk := s.ChkDir(id)
		if _, b, p, err := parseLocation(chk); err != nil || b != bucket || p != joinName(prefix, chkName(id)) {
			t.Fatalf("%q: checkpoint %d at %q parses as (%q, %q, %v)", loc, id, chk, b, p, err)
		}
		parent := parentLocation(chk)
		if _, b, p, err := parseLocation(parent); err != nil || b != bucket || p != prefix {
			t.Fatalf("%q: parent of %q is %q = (%q, %q, %v), want (%q, %q)", loc, chk, parent, b, p, err, bucket, prefix)
		}
	})
}

// FuzzMetadataBody feeds arbitrary JSON to the metadata decoder with a
// correct checksum line (which random bytes would almost never have), so
// that validation is what decides: no panic; an error wraps ErrCorrupt;
// and accepted metadata encodes to metadata that decodes to the same.
func FuzzMetadataBody(f *testing.F) {
	for _, m := range []*Metadata{
		{ID: 7, MaxParallelism: 128, Files: map[string]uint32{"a": 1},
			Operators: []OperatorMeta{{UID: "x", Subtasks: []SubtaskMeta{{File: "a", KeyGroups: []BlockMeta{{KeyGroup: 3, Offset: 1, Length: 2}}}}}}},
		{ID: 8, MaxParallelism: 128, Files: map[string]uint32{"a": 1},
			Operators: []OperatorMeta{{UID: "x", Subtasks: []SubtaskMeta{{File: "a", Native: &NativeMeta{Kind: "pebble", KeyGroupEnd: 64, Files: []FileRef{
				{Name: "000004.sst", Shared: "op/000004.sst", CRC: 9, Size: 100},
				{Name: "MANIFEST-000001", File: "a", CRC: 1, Size: 30}}}}}}}},
	} {
		b, err := EncodeMetadata(m)
		if err != nil {
			f.Fatal(err)
		}
		body, _, _ := cutLastLine(b)
		f.Add(bytes.TrimSuffix(body, []byte{'\n'}))
	}
	f.Add([]byte(`{"version":1,"files":{"../a":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b := append(slices.Clone(body), '\n')
		b = strconv.AppendUint(b, uint64(crc32.Checksum(b, castagnoli)), 10)
		b = append(b, '\n')
		m, err := DecodeMetadata(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		enc, err := EncodeMetadata(m)
		if err != nil {
			t.Fatalf("%s decoded, does not encode: %v", body, err)
		}
		m2, err := DecodeMetadata(enc)
		if err != nil {
			t.Fatalf("%s decoded, re-encoded as %s, which does not decode: %v", body, enc, err)
		}
		if diff := cmp.Diff(m, m2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s round trip (-first +second):\n%s", body, diff)
		}
	})
}

// FuzzBlock checks that a block the metadata names (offset and length,
// any int64s) is either the bytes it names in its file or ErrCorrupt.
func FuzzBlock(f *testing.F) {
	f.Add([]byte("abcdef"), int64(1), int64(3))
	f.Add([]byte("abcdef"), int64(1), int64(math.MaxInt64))
	f.Add([]byte{}, int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, off, n int64) {
		got, err := Block(map[string][]byte{"f": data}, "f", BlockMeta{Offset: off, Length: n})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			if off >= 0 && n >= 0 && off <= int64(len(data)) && n <= int64(len(data))-off {
				t.Fatalf("block [%d:+%d] of %d bytes refused", off, n, len(data))
			}
			return
		}
		if int64(len(got)) != n || !bytes.Equal(got, data[off:off+n]) {
			t.Fatalf("block [%d:+%d] of %d bytes: %q", off, n, len(data), got)
		}
	})
}
