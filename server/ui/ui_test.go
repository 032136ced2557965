package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestServesIndexAndAssets fetches index.html and every file it refers
// to, checking each comes with its content type: a browser refuses a
// module script served as anything but JavaScript.
func TestServesIndexAndAssets(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()

	body, resp := fetch(t, srv.URL+"/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /: headers %v", resp.Header)
	}
	refs := regexp.MustCompile(`(?:src|href)="\./(assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	seen := map[string]bool{}
	for _, m := range refs {
		p := m[1]
		ext := p[strings.LastIndex(p, "."):]
		b, r := fetch(t, srv.URL+"/"+p)
		if r.StatusCode != 200 {
			t.Errorf("GET /%s: %d", p, r.StatusCode)
			continue
		}
		if got := r.Header.Get("Content-Type"); got != want[ext] {
			t.Errorf("GET /%s: Content-Type %q, want %q", p, got, want[ext])
		}
		if len(b) < 100 {
			t.Errorf("GET /%s: %d bytes", p, len(b))
		}
		if !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET /%s: Cache-Control %q", p, r.Header.Get("Cache-Control"))
		}
		seen[ext] = true
	}
	if !seen[".js"] || !seen[".css"] {
		t.Fatalf("index.html refers to no script or no stylesheet under ./assets/: %s", body)
	}
	for _, p := range []string{"/assets/", "/assets/nope.js", "/assets/../index.html", "/SOURCES.sha256"} {
		req := httptest.NewRequest("GET", p, nil)
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
}

func TestServes(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true}, {"HEAD", "/", true}, {"GET", "/assets/index-x.js", true},
		{"POST", "/", false}, {"GET", "/jobs", false}, {"GET", "/overview", false}, {"GET", "/index.html", false},
	} {
		if got := Serves(httptest.NewRequest(c.method, c.path, nil)); got != c.want {
			t.Errorf("Serves(%s %s) = %v", c.method, c.path, got)
		}
	}
}

func fetch(t *testing.T, url string) (string, *http.Response) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp
}
