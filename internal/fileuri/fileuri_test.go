package fileuri

import "testing"

func TestPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/tmp/chk", "/tmp/chk"},
		{"rel/dir", "rel/dir"},
		{"s3://bucket/prefix", "s3://bucket/prefix"},
		{"file:///tmp/chk", "/tmp/chk"},
		{"FILE:///tmp/chk", "/tmp/chk"},
		{"file:/tmp/chk", "/tmp/chk"},
		{"file://localhost/tmp/chk", "/tmp/chk"},
		{"file:///tmp/a%20b", "/tmp/a b"},
		{"file:rel/dir", "rel/dir"},
		{"file:///", "/"},
	} {
		got, err := Path(c.in)
		if err != nil || got != c.want {
			t.Errorf("Path(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"file://otherhost/tmp", "file://localhost", "file:", "file:///tmp/%zz", "file:///tmp/x?y=1"} {
		if got, err := Path(in); err == nil {
			t.Errorf("Path(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzPath(f *testing.F) {
	for _, s := range []string{"file:///tmp/x", "file:/a", "file://localhost/b", "/c", "file://h/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Path(in)
		if err != nil {
			return
		}
		if !IsFileURI(in) && p != in {
			t.Fatalf("Path(%q) = %q changed a plain path", in, p)
		}
		if IsFileURI(in) && p == "" {
			t.Fatalf("Path(%q) is empty", in)
		}
	})
}
