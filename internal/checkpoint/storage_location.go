package checkpoint

import (
	"context"
	"fmt"
	"strings"

	blob "github.com/weirstream/weir/checkpoint"
)

// Locations are local directories or URLs, scheme://bucket/prefix, served
// by the Storage's Remote for the scheme (package checkpoint/s3 for s3://).

// schemeSep separates a location URL's scheme from the rest.
const schemeSep = "://"

// urlScheme returns the scheme of loc when loc is a URL: letters, digits,
// '+', '-' or '.' before "://", starting with a letter.
func urlScheme(loc string) (string, bool) {
	scheme, _, ok := strings.Cut(loc, schemeSep)
	if !ok || scheme == "" {
		return "", false
	}
	for i, c := range scheme {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", false
		}
	}
	return scheme, true
}

// isURL reports whether loc is a URL rather than a directory.
func isURL(loc string) bool {
	_, ok := urlScheme(loc)
	return ok
}

// parseLocation splits scheme://bucket/prefix into scheme, bucket and
// prefix (no leading or trailing slash). A URL with credentials
// (s3://key:secret@bucket) is refused, and its errors never repeat the
// credentials.
func parseLocation(loc string) (scheme, bucket, prefix string, err error) {
	scheme, ok := urlScheme(loc)
	if !ok {
		return "", "", "", fmt.Errorf("checkpoint: %q is not a location URL", RedactLocation(loc))
	}
	rest := loc[len(scheme)+len(schemeSep):]
	if hasUserinfo(rest) {
		return "", "", "", fmt.Errorf("checkpoint: %s: credentials in a %s URL are not supported "+
			"(they would show in logs, errors and checkpoint metadata); set them in the storage's options",
			RedactLocation(loc), scheme+schemeSep)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", "", fmt.Errorf("checkpoint: %q names no bucket", loc)
	}
	return scheme, bucket, prefix, nil
}

// hasUserinfo reports whether rest, a location URL without its scheme,
// starts with user information: its first segment, the bucket, holds an
// '@' or ':', which bucket names never do. (A secret may hold '/', so the
// segment can end inside the secret.)
func hasUserinfo(rest string) bool {
	bucket, _, _ := strings.Cut(rest, "/")
	return strings.ContainsAny(bucket, "@:")
}

// RedactLocation returns loc fit for errors and logs: the user information
// of a location URL (s3://key:secret@bucket/prefix) becomes "REDACTED".
// Everything up to the last '@' counts as user information, since a secret
// may hold '/' or '@'; a URL with user information but no '@' is redacted
// whole. Other locations are returned unchanged.
func RedactLocation(loc string) string {
	scheme, ok := urlScheme(loc)
	if !ok {
		return loc
	}
	head := scheme + schemeSep
	rest := loc[len(head):]
	if !hasUserinfo(rest) {
		return loc
	}
	i := strings.LastIndexByte(rest, '@')
	if i < 0 {
		return head + "REDACTED"
	}
	return head + "REDACTED@" + rest[i+1:]
}

// remotePackages names the package serving a scheme, for the error when a
// job was given none.
func remotePackage(scheme string) string {
	switch scheme {
	case "s3":
		return "github.com/weirstream/weir/checkpoint/s3"
	}
	return ""
}

// openRemote opens the blob store at the location URL loc with the
// Remote for its scheme.
func (s *Storage) openRemote(ctx context.Context, loc string) (blob.BlobStore, error) {
	// The scheme is looked up first: a URL of a scheme without storage
	// (hdfs://namenode:8020/chk) is reported as such, not by the checks
	// of bucket URLs (a port taken for credentials, no bucket).
	scheme, _ := urlScheme(loc)
	for _, r := range s.Remote {
		if r.Scheme() != scheme {
			continue
		}
		_, bucket, prefix, err := parseLocation(loc)
		if err != nil {
			return nil, err
		}
		st, err := r.Open(ctx, bucket, prefix)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %w", RedactLocation(loc), err)
		}
		return st, nil
	}
	if pkg := remotePackage(scheme); pkg != "" {
		return nil, fmt.Errorf("checkpoint: %s: no storage for %s locations: import %s and pass its storage in Options.Checkpoints.Remote",
			RedactLocation(loc), scheme+schemeSep, pkg)
	}
	return nil, fmt.Errorf("checkpoint: %s: no storage for %s locations (Options.Checkpoints.Remote)", RedactLocation(loc), scheme+schemeSep)
}
