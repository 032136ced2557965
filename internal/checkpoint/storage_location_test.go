package checkpoint

import (
	"context"
	"errors"
	"strings"
	"testing"

	blob "github.com/weirstream/weir/checkpoint"
)

func TestRedactLocation(t *testing.T) {
	for _, c := range []struct{ loc, want string }{
		{"s3://b/p", "s3://b/p"},
		{"s3://b/p/a@b:c", "s3://b/p/a@b:c"}, // '@' and ':' in a key are no credentials
		{"/tmp/a@b:c", "/tmp/a@b:c"},
		{"s3://AKIA:s3cr3t@bucket/prefix", "s3://REDACTED@bucket/prefix"},
		{"s3://AKIA:ab/cd+ef@bucket/p", "s3://REDACTED@bucket/p"}, // a secret with '/'
		{"s3://token@bucket", "s3://REDACTED@bucket"},
		{"s3://AKIA:s3cr3t", "s3://REDACTED"},
		{"s3://AKIA:p@ss@bucket/x", "s3://REDACTED@bucket/x"},
	} {
		if got := RedactLocation(c.loc); got != c.want {
			t.Errorf("RedactLocation(%q) = %q, want %q", c.loc, got, c.want)
		}
	}
}

// A checkpoint location with credentials is refused by every storage
// operation, and no error repeats them (they did: "names no bucket" and
// the S3 errors of bucket "AKIA:s3cr3t@bucket").
func TestS3CredentialsNotEchoed(t *testing.T) {
	const loc = "s3://AKIAUSER:se/cr+et@bucket/prefix"
	secrets := []string{"AKIAUSER", "se/cr+et", "cr+et"}
	s := &Storage{Dir: loc, Remote: []blob.Remote{unusedRemote{}}}
	var errs []error
	_, _, err := s.Latest(t.Context())
	errs = append(errs, err)
	errs = append(errs, s.RemovePartial(t.Context()))
	_, _, err = s.ReadLocation(t.Context(), loc+"/chk-1")
	errs = append(errs, err)
	_, err = s.WriteFileLocation(t.Context(), loc+"/savepoint-1", "f", []byte("x"))
	errs = append(errs, err)
	errs = append(errs, s.RemoveLocation(t.Context(), loc+"/savepoint-1"))
	_, _, _, err = parseLocation("s3://AKIAUSER:se/cr+et")
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("operation %d: no error for a location with credentials", i)
			continue
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("operation %d: error %q shows %q", i, err, sec)
			}
		}
		if !strings.Contains(err.Error(), "REDACTED") {
			t.Errorf("operation %d: error %q does not say which location", i, err)
		}
	}
}

// unusedRemote serves s3:// and fails every Open: a location it is asked
// for should have been refused before.
type unusedRemote struct{}

func (unusedRemote) Scheme() string { return "s3" }

func (unusedRemote) Open(context.Context, string, string) (blob.BlobStore, error) {
	return nil, errors.New("opened")
}

func TestParseLocation(t *testing.T) {
	for _, c := range []struct{ loc, scheme, bucket, prefix, parent string }{
		{"s3://b", "s3", "b", "", "s3://b"},
		{"s3://b/", "s3", "b", "", "s3://b"},
		{"s3://b/p/q/", "s3", "b", "p/q", "s3://b/p"},
		{"s3://b/chk-1", "s3", "b", "chk-1", "s3://b"},
		{"gs://b/p/chk-1", "gs", "b", "p/chk-1", "gs://b/p"},
	} {
		scheme, bucket, prefix, err := parseLocation(c.loc)
		if err != nil || scheme != c.scheme || bucket != c.bucket || prefix != c.prefix {
			t.Errorf("parseLocation(%q) = %q, %q, %q, %v", c.loc, scheme, bucket, prefix, err)
		}
		if p := parentLocation(c.loc); p != c.parent {
			t.Errorf("parentLocation(%q) = %q, want %q", c.loc, p, c.parent)
		}
	}
	if _, _, _, err := parseLocation("s3:///p"); err == nil {
		t.Error("no bucket accepted")
	}
	for _, loc := range []string{"/tmp/a://b", "rel/dir", "1s://b", "://b", "C:\\dir"} {
		if isURL(loc) {
			t.Errorf("%q taken for a URL", loc)
		}
	}
}

// A URL location without a Remote for its scheme fails, naming the
// package that serves it.
func TestLocationWithoutRemote(t *testing.T) {
	for _, c := range []struct {
		remote []blob.Remote
		loc    string
		want   string
	}{
		{nil, "s3://b/p", "import github.com/weirstream/weir/checkpoint/s3"},
		{[]blob.Remote{unusedRemote{}}, "gs://b/p", "no storage for gs:// locations"},
		// Flink users write hdfs://namenode:port/path and hdfs:///path: a
		// scheme without storage says so, not that the port is a
		// credential or that there is no bucket.
		{nil, "hdfs://nn:8020/flink/chk", "no storage for hdfs:// locations"},
		{nil, "hdfs:///flink/chk", "no storage for hdfs:// locations"},
	} {
		s := &Storage{Dir: c.loc, Remote: c.remote}
		_, _, err := s.Latest(t.Context())
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "Options.Checkpoints.Remote") {
			t.Errorf("Latest on %s without its remote: %v; want it to say %q", c.loc, err, c.want)
		}
		if _, _, err := (&Storage{Dir: t.TempDir(), Remote: c.remote}).ReadLocation(t.Context(), c.loc+"/chk-1"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadLocation(%s/chk-1) without its remote: %v", c.loc, err)
		}
	}
}
