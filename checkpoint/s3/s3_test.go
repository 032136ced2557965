package s3

import (
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// The storage conformance suite of internal/checkpoint runs over this
// store (against gofakes3); these tests cover what is particular to it.

func TestStoreNames(t *testing.T) {
	for _, c := range []struct{ prefix, name, key, loc string }{
		{"", "chk-1/_metadata", "chk-1/_metadata", "s3://b/chk-1/_metadata"},
		{"", "", "", "s3://b"},
		{"jobs/one", "", "jobs/one", "s3://b/jobs/one"},
		{"jobs/one", "shared/x.sst", "jobs/one/shared/x.sst", "s3://b/jobs/one/shared/x.sst"},
	} {
		s := store{bucket: "b", prefix: c.prefix}
		if got := s.key(c.name); got != c.key {
			t.Errorf("prefix %q: key(%q) = %q, want %q", c.prefix, c.name, got, c.key)
		}
		if got := s.Location(c.name); got != c.loc {
			t.Errorf("prefix %q: Location(%q) = %q, want %q", c.prefix, c.name, got, c.loc)
		}
	}
	if got := (store{bucket: "b"}).dirPrefix(""); got != "" {
		t.Errorf("dirPrefix of the bucket's root = %q", got)
	}
}

// Every location opened shares one client: the injected one.
func TestOpenSharesClient(t *testing.T) {
	c := awss3.New(awss3.Options{Region: "us-east-1"})
	s := New(Options{Client: c})
	if s.Scheme() != "s3" {
		t.Fatalf("Scheme = %q", s.Scheme())
	}
	for _, prefix := range []string{"a", "b/c"} {
		st, err := s.Open(t.Context(), "bucket", prefix)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.(store); got.client != c || got.bucket != "bucket" || got.prefix != prefix {
			t.Fatalf("Open(bucket, %s) = %+v", prefix, got)
		}
	}
}
