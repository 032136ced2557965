package server

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestUIStaticWithoutToken: on an exposed server, where every API call
// needs the token, the UI's page and bundle are served without one (a
// browser cannot send it when it navigates), while the API stays closed
// and a POST to "/" is no UI request.
func TestUIStaticWithoutToken(t *testing.T) {
	ts := newTestServer(t, Options{Token: "s3cret", TLS: true, Addr: "0.0.0.0:8081"})
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(ts.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, page := get("/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / without token: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := regexp.MustCompile(`src="\./(assets/[^"]+\.js)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("index.html names no script: %s", page)
	}
	if resp, _ := get("/" + m[1]); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET /%s without token: %d %q", m[1], resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	code, body := ts.doAuth("GET", "/jobs/overview", nil, "")
	wantError(t, "exposed API GET without token", code, body, http.StatusUnauthorized, "missing bearer token")
	code, body = ts.do("POST", "/", map[string]any{})
	if code != http.StatusNotFound {
		t.Errorf("POST /: %d %v, want 404", code, body)
	}
	code, body = ts.do("GET", "/assets/missing.js", nil)
	if code != http.StatusNotFound {
		t.Errorf("GET /assets/missing.js: %d %v, want 404", code, body)
	}
}
