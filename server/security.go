package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirstream/weir/internal/fileuri"
)

// authorize checks the bearer token: every mutating call needs it, and
// every call when the server is exposed (not on loopback).
func (s *Server) authorize(r *http.Request) (int, error) {
	mutating := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	exposed := s.opts.Addr != "" && !IsLoopback(s.opts.Addr)
	if !mutating && !exposed {
		return 0, nil
	}
	if s.opts.Token == "" {
		if mutating {
			// A loopback server without a token: anyone on the host may
			// mutate, as documented.
			return 0, nil
		}
		return http.StatusUnauthorized, errors.New("the server has no token configured")
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return http.StatusUnauthorized, errors.New("missing bearer token (Authorization: Bearer TOKEN)")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) != 1 {
		return http.StatusUnauthorized, errors.New("invalid bearer token")
	}
	return 0, nil
}

// rateLimiter is a token bucket per client address.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time
	mu          struct {
		sync.Mutex
		buckets map[string]*bucket
	}
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate, burst float64, now func() time.Time) *rateLimiter {
	l := &rateLimiter{rate: rate, burst: burst, now: now}
	l.mu.buckets = map[string]*bucket{}
	return l
}

// allow takes a token of client's bucket; when there is none it returns
// false and how long until there is.
func (l *rateLimiter) allow(client string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.mu.buckets[client]
	if b == nil {
		if len(l.mu.buckets) > 10000 {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.mu.buckets[client] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// pruneLocked forgets clients whose bucket is full again.
func (l *rateLimiter) pruneLocked(now time.Time) {
	for k, b := range l.mu.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.mu.buckets, k)
		}
	}
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// savepointTarget resolves a requested savepoint directory: empty is the
// job's default directory; anything else must be an absolute local path
// inside one of the configured roots, also after resolving symbolic links
// of the part that exists.
func (s *Server) savepointTarget(jobID, requested string) (string, error) {
	if requested == "" {
		return s.defaultSavepointDir(jobID), nil
	}
	// Flink's file URIs (file:///tmp/savepoints) name local directories.
	requested, err := fileuri.Path(requested)
	if err != nil {
		return "", fmt.Errorf("target-directory: %w", err)
	}
	if strings.Contains(requested, "://") {
		return "", fmt.Errorf("target-directory %q: only local directories under the savepoint roots are allowed", requested)
	}
	if !filepath.IsAbs(requested) {
		return "", fmt.Errorf("target-directory %q must be an absolute path under a savepoint root (%s)", requested, strings.Join(s.opts.SavepointRoots, ", "))
	}
	for _, part := range strings.Split(filepath.ToSlash(requested), "/") {
		if part == ".." {
			return "", fmt.Errorf("target-directory %q: '..' is not allowed", requested)
		}
	}
	clean := filepath.Clean(requested)
	real, err := resolveExisting(clean)
	if err != nil {
		return "", fmt.Errorf("target-directory %q: %w", requested, err)
	}
	for _, root := range s.opts.SavepointRoots {
		realRoot, err := resolveExisting(root)
		if err != nil {
			continue
		}
		if within(clean, root) && within(real, realRoot) {
			return clean, nil
		}
	}
	return "", fmt.Errorf("target-directory %q is outside the savepoint roots (%s)", requested, strings.Join(s.opts.SavepointRoots, ", "))
}

// within reports whether path is root or below it.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of path and appends the rest.
func resolveExisting(path string) (string, error) {
	rest := ""
	p := path
	for {
		if _, err := os.Lstat(p); err == nil {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return "", err
			}
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}
