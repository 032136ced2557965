// Package fileuri turns the file URIs Flink users write for local paths
// (file:///tmp/chk, file:/tmp/chk, file://localhost/tmp/chk) into the
// paths they name. Flink's configuration (execution.checkpointing.dir,
// state.savepoints.dir, a filesystem table's 'path') takes URIs; Weir takes
// local paths and, for remote storage, scheme://bucket/prefix URLs, and
// accepts a file URI wherever it takes a local path.
package fileuri

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// IsFileURI reports whether loc is a file URI (scheme "file", in any case).
func IsFileURI(loc string) bool {
	return len(loc) >= 5 && strings.EqualFold(loc[:5], "file:")
}

// Path returns the local path loc stands for: the path of a file URI,
// percent-decoded; any other string unchanged. A file URI naming a host
// other than localhost, or no path, is an error: only local files are
// served.
func Path(loc string) (string, error) {
	if !IsFileURI(loc) {
		return loc, nil
	}
	rest := loc[5:]
	if r, ok := strings.CutPrefix(rest, "//"); ok {
		host, p, found := strings.Cut(r, "/")
		if !strings.EqualFold(host, "") && !strings.EqualFold(host, "localhost") {
			return "", fmt.Errorf("file URI %q names the host %q: only local files (file:///path) are supported", loc, host)
		}
		if !found {
			return "", fmt.Errorf("file URI %q names no path", loc)
		}
		rest = "/" + p
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		return "", fmt.Errorf("file URI %q: a query or fragment is not supported", loc)
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("file URI %q: %w", loc, err)
	}
	if p == "" {
		return "", fmt.Errorf("file URI %q names no path", loc)
	}
	return filepath.FromSlash(p), nil
}
