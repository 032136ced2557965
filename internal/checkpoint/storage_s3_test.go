package checkpoint

import (
	"strings"
	"testing"
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
	s := &Storage{Dir: loc, S3: S3Options{Endpoint: "http://unused.invalid", AccessKeyID: "k", SecretAccessKey: "s"}}
	var errs []error
	_, _, err := s.Latest()
	errs = append(errs, err)
	errs = append(errs, s.RemovePartial())
	_, _, err = s.ReadLocation(t.Context(), loc+"/chk-1")
	errs = append(errs, err)
	_, err = s.WriteFileLocation(t.Context(), loc+"/savepoint-1", "f", []byte("x"))
	errs = append(errs, err)
	errs = append(errs, s.RemoveLocation(t.Context(), loc+"/savepoint-1"))
	_, _, err = parseS3("s3://AKIAUSER:se/cr+et")
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
