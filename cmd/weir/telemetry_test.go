package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestRunJSONLogsAndTraces: `weir run --log-format json -v` writes one
// JSON object per line, each naming the job; --otlp-endpoint (a base URL)
// exports the job's and the checkpoints' spans by OTLP/HTTP.
func TestRunJSONLogsAndTraces(t *testing.T) {
	var mu sync.Mutex
	names := map[string]int{}
	jobNames := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(data, &req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names[s.Name]++
					for _, a := range s.Attributes {
						if a.Key == "job.name" {
							jobNames[a.Value.GetStringValue()] = true
						}
					}
				}
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer srv.Close()

	dir := t.TempDir()
	in, out := sumsInput(t, dir), filepath.Join(dir, "out")
	p := startRun(t, "sums", "--input", in, "--output", out, "--checkpoint-dir", filepath.Join(dir, "chk"), "--checkpoint-interval", "20ms",
		"--rate", "20000", "--log-format", "json", "-v", "--otlp-endpoint", srv.URL)
	if err := p.wait(t); err != nil {
		t.Fatalf("run: %v\n%s", err, p.stderr.String())
	}
	completes := 0
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line %q is not JSON: %v", line, err)
		}
		if rec["job"] != "sums" || rec["job_id"] == nil {
			t.Errorf("line without the job: %v", rec)
		}
		if rec["msg"] == "weir: checkpoint complete" {
			completes++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if completes == 0 || names["weir.job"] != 1 || names["weir.checkpoint"] < completes || !jobNames["sums"] {
		t.Errorf("%d checkpoints logged; spans %v, job names %v", completes, names, jobNames)
	}
}

func TestRunLogFormatFlag(t *testing.T) {
	p := startRun(t, "sums", "--input", t.TempDir(), "--output", t.TempDir(), "--log-format", "yaml")
	if err := p.wait(t); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("--log-format yaml: %v", err)
	}
}
