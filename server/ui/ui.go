// Package ui holds the web UI of `weir server` (docs/ui.md), built from
// web/ by `npm run build` into dist/ and embedded in the binary, so
// building or running weir needs no Node. Handler serves it; the server
// mounts it at "/" (index.html) and "/assets/" (hashed bundle files),
// paths the REST API does not use, ahead of the API's authorization:
// static files need no token (the UI's data calls send one).
//
// dist/ is committed: rebuild it after any change under web/ (a test
// compares dist/SOURCES.sha256 with the sources). Handler is safe for
// concurrent use and holds no state beyond the embedded files.
package ui

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// contentTypes are the types of the files a build produces, set here
// rather than from the system's MIME table (which may map .js elsewhere).
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".woff2": "font/woff2",
	".json":  "application/json",
}

// contentSecurityPolicy allows only the UI's own scripts and calls to
// its own origin; inline styles are needed by the chart library.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Serves reports whether r asks for the UI: GET or HEAD of "/" or of a
// file under "/assets/".
func Serves(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/assets/")
}

// Handler serves the embedded UI: index.html at "/" (not cached, so a new
// binary's bundle is picked up), and the content-hashed files under
// "/assets/" (cached for a year). Anything else is 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "index.html"
		if r.URL.Path != "/" {
			rest, ok := strings.CutPrefix(r.URL.Path, "/assets/")
			if !ok || rest == "" || strings.Contains(rest, "/") || strings.HasPrefix(rest, ".") {
				http.NotFound(w, r)
				return
			}
			name = "assets/" + rest
		}
		b, err := fs.ReadFile(dist, "dist/"+name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if ct, ok := contentTypes[path.Ext(name)]; ok {
			h.Set("Content-Type", ct)
		} else {
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		if name == "index.html" {
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
		} else {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// Files returns the embedded build (index.html, assets/…), for tests and
// for programs that serve the UI themselves.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return sub
}
