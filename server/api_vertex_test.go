package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/datagen"
)

func TestBackPressureLevel(t *testing.T) {
	for _, c := range []struct {
		ratio float64
		want  string
	}{{0, "ok"}, {0.10, "ok"}, {0.11, "low"}, {0.5, "low"}, {0.51, "high"}, {1, "high"}} {
		if got := backPressureLevel(c.ratio); got != c.want {
			t.Errorf("backPressureLevel(%v) = %q, want %q", c.ratio, got, c.want)
		}
	}
	if ratioOf(1200) != 1 || ratioOf(-3) != 0 || ratioOf(250) != 0.25 {
		t.Error("ratioOf does not clamp to 0..1")
	}
}

// TestBackPressure runs an unbounded source into an operator that takes a
// millisecond per record: the source's vertex must show high back
// pressure and the slow vertex a high busy ratio, in Flink's shapes of
// GET .../backpressure and GET /jobs/{id}/vertices/{vid}.
func TestBackPressure(t *testing.T) {
	jobs := map[string]GoJob{"slow": {Build: func(env *weir.Environment, _ map[string]string) error {
		src := weir.FromSource(env, datagen.New(func(seq int64) int64 { return seq }, datagen.Options{}), weir.NoWatermarks[int64](), "numbers")
		slow := weir.Map(src.Rebalance(), func(v int64) int64 {
			time.Sleep(time.Millisecond) // the job's slow operator, not a wait of the test
			return v
		}).Name("slow").UID("slow")
		slow.SinkTo(weir.SinkFunc[int64](func(context.Context, int64, int64) error { return nil }))
		return nil
	}}}
	ts := newTestServer(t, Options{GoJobs: jobs})
	code, body := ts.do("POST", "/jobs", map[string]any{"job": "slow", "parallelism": 1})
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, body)
	}
	id := body["jobid"].(string)
	var src, slow, v map[string]any
	waitFor(t, "high back pressure at the source, a busy slow vertex that counted records in", func() bool {
		_, src = ts.do("GET", "/jobs/"+id+"/vertices/0/backpressure", nil)
		_, slow = ts.do("GET", "/jobs/"+id+"/vertices/1/backpressure", nil)
		_, v = ts.do("GET", "/jobs/"+id+"/vertices/1", nil)
		subs, _ := slow["subtasks"].([]any)
		vsubs, _ := v["subtasks"].([]any)
		if src["backpressureLevel"] != "high" || len(subs) != 1 || len(vsubs) != 1 {
			return false
		}
		in, _ := vsubs[0].(map[string]any)["metrics"].(map[string]any)["read-records"].(float64)
		return subs[0].(map[string]any)["busyRatio"].(float64) > 0.5 && in > 0
	})
	if src["status"] != "ok" || src["end-timestamp"].(float64) <= 0 {
		t.Errorf("source back pressure: %v", src)
	}
	sub := src["subtasks"].([]any)[0].(map[string]any)
	if sub["subtask"].(float64) != 0 || sub["backpressureLevel"] != "high" || sub["ratio"].(float64) <= 0.5 {
		t.Errorf("source subtask: %v", sub)
	}
	if s := slow["subtasks"].([]any)[0].(map[string]any); s["ratio"].(float64) > 0.5 {
		t.Errorf("the slow vertex (the bottleneck) is back pressured: %v", s)
	}

	subs, _ := v["subtasks"].([]any)
	if v["id"] != "1" || v["parallelism"].(float64) != 1 || len(subs) != 1 {
		t.Fatalf("vertex: %v", v)
	}
	m := subs[0].(map[string]any)["metrics"].(map[string]any)
	if m["busy-ratio"].(float64) <= 0.5 || m["backpressure-ratio"].(float64) > 0.5 {
		t.Errorf("vertex subtask metrics: %v", m)
	}
	code, body = ts.do("GET", "/jobs/"+id+"/vertices/7/backpressure", nil)
	wantError(t, "unknown vertex", code, body, http.StatusNotFound, "vertex 7 not found")
}

// TestLatencyTracking: with LatencyTrackingInterval the server's jobs
// record source-to-sink latency, exported by GET /metrics with the job's id.
func TestLatencyTracking(t *testing.T) {
	jobs := map[string]GoJob{"numbers": {Build: func(env *weir.Environment, _ map[string]string) error {
		src := weir.FromSource(env, datagen.New(func(seq int64) int64 { return seq }, datagen.Options{RecordsPerSecond: 2000}), weir.NoWatermarks[int64](), "numbers")
		src.Rebalance().SinkTo(weir.SinkFunc[int64](func(context.Context, int64, int64) error { return nil }))
		return nil
	}}}
	ts := newTestServer(t, Options{GoJobs: jobs, LatencyTrackingInterval: 10 * time.Millisecond})
	code, body := ts.do("POST", "/jobs", map[string]any{"job": "numbers", "parallelism": 2})
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, body)
	}
	id := body["jobid"].(string)
	want := `weir_latency_ms_count{job_id="` + id + `"`
	waitFor(t, "latency markers in GET /metrics", func() bool {
		resp, err := http.Get(ts.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(text), "\n") {
			if strings.HasPrefix(line, want) && !strings.HasSuffix(line, " 0") {
				return true
			}
		}
		return false
	})
}
