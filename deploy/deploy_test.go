// Package deploy holds the files to operate Weir with (Grafana dashboard,
// Prometheus rules and scrape config, a Kubernetes manifest, a
// Dockerfile); its test checks them against the metrics Weir exports.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v2"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/window"
)

// serverLabels are the labels weir server's GET /metrics adds.
var serverLabels = []string{"job_id", "job_name"}

// exported runs a small job with checkpoints and a window and returns the
// metric names and label names its registry exports.
func exported(t *testing.T) (names, labels map[string]bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	env := weir.NewEnvironment(weir.Options{Registry: keep{reg}, AutoWatermarkInterval: -1,
		Checkpoints: weir.CheckpointOptions{Interval: 5 * time.Millisecond, Dir: t.TempDir()}})
	in := make([]weir.TimestampedValue[int64], 3000)
	for i := range in {
		in[i] = weir.TimestampedValue[int64]{Value: int64(i), TS: int64(i)}
	}
	src := weir.FromTimestamped(env, in, weir.ForMonotonousTimestamps[int64]())
	weir.Collect(weir.WindowReduce(weir.Window(weir.KeyBy(src, func(v int64) int64 { return v % 4 }),
		window.TumblingEventTime[int64](10*time.Millisecond)), func(a, b int64) (int64, error) { return a + b, nil }))
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names, labels = map[string]bool{}, map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
	}
	for _, l := range serverLabels {
		labels[l] = true
	}
	for _, want := range []string{"weir_task_records_in_total", "weir_job_checkpoints_total", "weir_operator_late_records_dropped_total"} {
		if !names[want] {
			t.Fatalf("the job did not export %s (exported: %v)", want, names)
		}
	}
	return names, labels
}

// keep keeps the metrics after the job ends.
type keep struct{ *prometheus.Registry }

func (keep) Unregister(prometheus.Collector) bool { return true }

var (
	metricRef = regexp.MustCompile(`\bweir_[a-z_]+\b`)
	byClause  = regexp.MustCompile(`\bby \(([^)]*)\)`)
	matcher   = regexp.MustCompile(`\{([a-z_]+)\s*(=~|!=|!~|=)`)
	matcher2  = regexp.MustCompile(`,\s*([a-z_]+)\s*(=~|!=|!~|=)`)
	template  = regexp.MustCompile(`\{\{\s*\$?(?:labels\.)?([a-z_]+)\s*\}\}`)
)

// checkQuery checks that a PromQL expression names only exported metrics
// and labels.
func checkQuery(t *testing.T, where, q string, names, labels map[string]bool) {
	t.Helper()
	refs := metricRef.FindAllString(q, -1)
	if len(refs) == 0 {
		t.Errorf("%s: %q names no weir metric", where, q)
	}
	for _, m := range refs {
		if !names[m] {
			t.Errorf("%s: %q: metric %s is not exported", where, q, m)
		}
	}
	var ls []string
	for _, by := range byClause.FindAllStringSubmatch(q, -1) {
		for _, l := range strings.Split(by[1], ",") {
			ls = append(ls, strings.TrimSpace(l))
		}
	}
	for _, re := range []*regexp.Regexp{matcher, matcher2} {
		for _, m := range re.FindAllStringSubmatch(q, -1) {
			ls = append(ls, m[1])
		}
	}
	for _, l := range ls {
		if !labels[l] {
			t.Errorf("%s: %q: label %s is not exported", where, q, l)
		}
	}
}

func checkTemplate(t *testing.T, where, s string, labels map[string]bool) {
	t.Helper()
	for _, m := range template.FindAllStringSubmatch(s, -1) {
		if m[1] != "value" && !labels[m[1]] {
			t.Errorf("%s: %q uses label %s, which is not exported", where, s, m[1])
		}
	}
}

func TestGrafanaDashboard(t *testing.T) {
	names, labels := exported(t)
	b, err := os.ReadFile("grafana/weir-jobs.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				X, Y, W, H int
			} `json:"gridPos"`
			Targets []struct {
				RefID        string `json:"refId"`
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("dashboard lacks title, uid, a current schemaVersion or panels: %+v", d)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := "panel " + p.Title
		if ids[p.ID] || p.Type == "" || p.Title == "" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: id %d repeated, or no type, title or valid grid position", where, p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, q := range p.Targets {
			checkQuery(t, where, q.Expr, names, labels)
			checkTemplate(t, where, q.LegendFormat, labels)
		}
	}
}

func TestPrometheusRules(t *testing.T) {
	names, labels := exported(t)
	b, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: needs a name, a severity label and a summary", where)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			checkQuery(t, where, r.Expr, names, labels)
			for _, a := range r.Annotations {
				checkTemplate(t, where, a, labels)
			}
		}
	}
	// The alerts the issue asks for: checkpoint failures, backpressure,
	// watermark lag, restarts.
	for _, want := range []string{"WeirCheckpointsFailing", "WeirBackpressure", "WeirWatermarkLag", "WeirJobRestarting"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}
	var scrape struct {
		ScrapeConfigs []struct {
			JobName     string `yaml:"job_name"`
			MetricsPath string `yaml:"metrics_path"`
		} `yaml:"scrape_configs"`
	}
	b, err = os.ReadFile("prometheus/scrape.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &scrape); err != nil || len(scrape.ScrapeConfigs) != 1 || scrape.ScrapeConfigs[0].MetricsPath != "/metrics" {
		t.Fatalf("scrape.yml: %+v, %v", scrape, err)
	}
}

func TestKubernetesManifest(t *testing.T) {
	f, err := os.Open("kubernetes/weir-server.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	kinds := map[string]map[string]any{}
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kind, _ := doc["kind"].(string)
		if kind == "" || doc["apiVersion"] == nil || doc["metadata"] == nil {
			t.Fatalf("a document without kind, apiVersion or metadata: %v", doc)
		}
		kinds[kind] = doc
	}
	for _, want := range []string{"Deployment", "PersistentVolumeClaim", "Service", "ServiceMonitor"} {
		if kinds[want] == nil {
			t.Errorf("no %s", want)
		}
	}
	dep, _ := yaml.Marshal(kinds["Deployment"])
	for _, want := range []string{"- server", "--dir=/data", "WEIR_TOKEN", "--tls-cert", "claimName: weir-data", "type: Recreate", "replicas: 1"} {
		if !bytes.Contains(dep, []byte(want)) {
			t.Errorf("the Deployment lacks %q", want)
		}
	}
	sm, _ := yaml.Marshal(kinds["ServiceMonitor"])
	if !bytes.Contains(sm, []byte("path: /metrics")) {
		t.Errorf("the ServiceMonitor does not scrape /metrics")
	}
}
