package checkpoint

import (
	"strings"
	"testing"
)

// FuzzChkName checks the parser of checkpoint directory names: a name is
// checkpoint id only if chkName(id) spells it, so that listing and reading
// a checkpoint agree on its directory; every id above 0 round-trips.
func FuzzChkName(f *testing.F) {
	for _, s := range []string{"chk-1", "chk-07", "chk-+7", "chk--3", "chk-0", "chk-9223372036854775807", "chk-9223372036854775808", "chk-", "chk-1 ", "shared", "chk-1/x"} {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, name string, id int64) {
		if got, ok := parseChkName(name); ok && (got <= 0 || chkName(got) != name) {
			t.Fatalf("%q parsed as checkpoint %d, whose directory is %q", name, got, chkName(got))
		}
		if id > 0 {
			if got, ok := parseChkName(chkName(id)); !ok || got != id {
				t.Fatalf("checkpoint %d: %q parsed as %d, %v", id, chkName(id), got, ok)
			}
		}
	})
}

// FuzzParseS3 checks the parser of s3:// locations: an accepted location
// has a bucket without slashes and a prefix without leading or trailing
// slashes; the location of the same bucket and prefix parses back to them;
// and the parent of a checkpoint's location (where its shared/ is looked
// for) is the location it was made in.
func FuzzParseS3(f *testing.F) {
	for _, s := range []string{"s3://b/p", "s3://b", "s3://b/", "s3:///p", "s3://b//a//b/", "s3://b/a/./c", "s3://b/..", "/local/dir", "s3:/b"} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, loc string, id int64) {
		bucket, prefix, err := parseS3(loc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "checkpoint: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			if isS3(loc) && !strings.HasPrefix(loc, s3Scheme) {
				t.Fatalf("%q is s3 and is not", loc)
			}
			return
		}
		if bucket == "" || strings.Contains(bucket, "/") || strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
			t.Fatalf("%q parsed as bucket %q prefix %q", loc, bucket, prefix)
		}
		root := s3Scheme + joinName(bucket, prefix)
		if b, p, err := parseS3(root); err != nil || b != bucket || p != prefix {
			t.Fatalf("%q -> (%q, %q) -> %q -> (%q, %q, %v)", loc, bucket, prefix, root, b, p, err)
		}
		if id <= 0 {
			return
		}
		s := &Storage{Dir: loc}
		chk := s.ChkDir(id)
		if b, p, err := parseS3(chk); err != nil || b != bucket || p != joinName(prefix, chkName(id)) {
			t.Fatalf("%q: checkpoint %d at %q parses as (%q, %q, %v)", loc, id, chk, b, p, err)
		}
		parent := parentLocation(chk)
		if b, p, err := parseS3(parent); err != nil || b != bucket || p != prefix {
			t.Fatalf("%q: parent of %q is %q = (%q, %q, %v), want (%q, %q)", loc, chk, parent, b, p, err, bucket, prefix)
		}
	})
}
