package weir_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/weirstream/weir"
)

// otlpReceiver is an OTLP/HTTP trace endpoint: it decodes the protobuf
// requests the real exporter sends and keeps their spans.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf POST to /v1/traces", http.StatusBadRequest)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range msg.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *otlpReceiver) all() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// runUntilCheckpoints runs a job at parallelism 2 (a source, a keyed
// operator behind a hash exchange, a sink) until n checkpoints completed,
// then cancels it, and returns the events of the completed checkpoints and
// the job's number of subtasks.
func runUntilCheckpoints(t *testing.T, o weir.Options, n int) (events []weir.CheckpointEvent, subtasks int) {
	t.Helper()
	var mu sync.Mutex
	enough := make(chan struct{})
	o.Parallelism = 2
	o.Checkpoints = weir.CheckpointOptions{Interval: 20 * time.Millisecond, Dir: t.TempDir()}
	o.OnCheckpoint = func(e weir.CheckpointEvent) {
		mu.Lock()
		defer mu.Unlock()
		if !e.Completed {
			return
		}
		events = append(events, e)
		if len(events) == n {
			close(enough)
		}
	}
	env := weir.NewEnvironment(o)
	src := weir.FromSource[int](env, slowCounter{n: 1 << 40, perPoll: 20}, weir.NoWatermarks[int](), "counter")
	sums := weir.ProcessKeyed[int, int, sumOut](weir.KeyBy(src, func(v int) int { return v % 7 }), &runningSum{})
	sums.SinkTo(txSink[sumOut]{newCommitted[sumOut]()})
	for _, v := range env.Plan().Vertices {
		subtasks += v.Parallelism
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("no checkpoints completed in 30s")
	}
	cancel()
	_ = c.Wait()
	mu.Lock()
	defer mu.Unlock()
	return append([]weir.CheckpointEvent(nil), events...), subtasks
}

// The checkpoint traces of a real job reach an OTLP/HTTP endpoint through
// the OTLP exporter: one trace per checkpoint, a root span whose children
// are the trigger, one span per subtask (with its alignment, snapshot and
// upload) and the completion, all carrying the checkpoint's id.
func TestCheckpointTracesOTLP(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(50*time.Millisecond)))
	events, subtasks := runUntilCheckpoints(t, weir.Options{TracerProvider: tp, JobName: "traced", JobID: "0123456789abcdef0123456789abcdef"}, 2)
	if err := tp.Shutdown(context.Background()); err != nil { // flushes
		t.Fatal(err)
	}
	spans := recv.all()
	byParent := map[string][]*tracepb.Span{}
	var job *tracepb.Span
	for _, s := range spans {
		byParent[hex.EncodeToString(s.ParentSpanId)] = append(byParent[hex.EncodeToString(s.ParentSpanId)], s)
		if s.Name == "weir.job" {
			job = s
		}
	}
	if job == nil || attr(job, "job.name").GetStringValue() != "traced" || attr(job, "job.id").GetStringValue() != "0123456789abcdef0123456789abcdef" {
		t.Errorf("job span: %v", job)
	}
	if len(events) < 2 {
		t.Fatalf("%d checkpoints completed", len(events))
	}
	for _, e := range events {
		var root *tracepb.Span
		for _, s := range spans {
			if s.Name == "weir.checkpoint" && attr(s, "checkpoint.id").GetIntValue() == e.ID {
				root = s
			}
		}
		if root == nil {
			t.Errorf("checkpoint %d: no trace", e.ID)
			continue
		}
		if len(root.ParentSpanId) != 0 || attr(root, "checkpoint.kind").GetStringValue() != "checkpoint" ||
			attr(root, "checkpoint.size_bytes").GetIntValue() != e.Size || root.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("checkpoint %d: root span %v", e.ID, root)
		}
		count := map[string]int{}
		for _, c := range byParent[hex.EncodeToString(root.SpanId)] {
			count[c.Name]++
			if got := attr(c, "checkpoint.id").GetIntValue(); got != e.ID || !bytes.Equal(c.TraceId, root.TraceId) {
				t.Errorf("checkpoint %d: span %s has checkpoint.id %d", e.ID, c.Name, got)
			}
			switch c.Name {
			case "weir.checkpoint.trigger":
				if c.StartTimeUnixNano != root.StartTimeUnixNano {
					t.Errorf("checkpoint %d: the trigger starts at %d, the checkpoint at %d", e.ID, c.StartTimeUnixNano, root.StartTimeUnixNano)
				}
			case "weir.checkpoint.complete":
				if c.EndTimeUnixNano != root.EndTimeUnixNano {
					t.Errorf("checkpoint %d: completion ends at %d, the checkpoint at %d", e.ID, c.EndTimeUnixNano, root.EndTimeUnixNano)
				}
			case "weir.checkpoint.subtask":
				phases := map[string]*tracepb.Span{}
				for _, p := range byParent[hex.EncodeToString(c.SpanId)] {
					phases[p.Name] = p
				}
				a, s, u := phases["weir.checkpoint.align"], phases["weir.checkpoint.snapshot"], phases["weir.checkpoint.upload"]
				if a == nil || s == nil || u == nil || len(phases) != 3 {
					t.Errorf("checkpoint %d: subtask %s/%d has phases %v", e.ID, attr(c, "vertex").GetStringValue(), attr(c, "subtask").GetIntValue(), phases)
					continue
				}
				// The phases follow one another.
				if a.StartTimeUnixNano != c.StartTimeUnixNano || a.EndTimeUnixNano != s.StartTimeUnixNano || s.EndTimeUnixNano != u.StartTimeUnixNano ||
					u.EndTimeUnixNano > c.EndTimeUnixNano || a.StartTimeUnixNano < root.StartTimeUnixNano {
					t.Errorf("checkpoint %d: phases out of order: align %d-%d snapshot %d-%d upload %d-%d subtask %d-%d", e.ID,
						a.StartTimeUnixNano, a.EndTimeUnixNano, s.StartTimeUnixNano, s.EndTimeUnixNano, u.StartTimeUnixNano, u.EndTimeUnixNano, c.StartTimeUnixNano, c.EndTimeUnixNano)
				}
				if want := (a.EndTimeUnixNano - a.StartTimeUnixNano) / 1e6; attr(a, "alignment_ms").GetIntValue() != int64(want) {
					t.Errorf("checkpoint %d: alignment_ms %d, span lasts %d ms", e.ID, attr(a, "alignment_ms").GetIntValue(), want)
				}
			}
		}
		if count["weir.checkpoint.trigger"] != 1 || count["weir.checkpoint.complete"] != 1 || count["weir.checkpoint.subtask"] != subtasks {
			t.Errorf("checkpoint %d: children %v, want a trigger, a completion and %d subtasks", e.ID, count, subtasks)
		}
	}
}

// The event hook's statistics agree with themselves: every subtask
// acknowledged, alignments within the checkpoint's time, the longest
// alignment the event's.
func TestCheckpointEventStatistics(t *testing.T) {
	events, subtasks := runUntilCheckpoints(t, weir.Options{}, 2)
	for _, e := range events {
		if e.NumSubtasks != subtasks || len(e.Subtasks) != subtasks || e.Size <= 0 || e.Triggered.IsZero() || e.Duration != e.Ended.Sub(e.Triggered) {
			t.Errorf("checkpoint %d: %+v", e.ID, e)
		}
		var longest time.Duration
		for _, s := range e.Subtasks {
			if s.AlignStart.Before(e.Triggered) || s.AlignEnd.Before(s.AlignStart) || s.SnapshotEnd.Before(s.AlignEnd) ||
				s.UploadEnd.Before(s.SnapshotEnd) || s.Acknowledged.Before(s.UploadEnd) || e.Ended.Before(s.Acknowledged) {
				t.Errorf("checkpoint %d: subtask %s/%d out of order: %+v", e.ID, s.Vertex, s.Subtask, s)
			}
			longest = max(longest, s.Alignment())
		}
		if e.Alignment != longest {
			t.Errorf("checkpoint %d: alignment %v, longest of the subtasks %v", e.ID, e.Alignment, longest)
		}
	}
}

// A failed savepoint call is a span with an error status; the job's span
// ends when the job does (tracetest's in-memory exporter).
func TestSavepointAndJobSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	env := weir.NewEnvironment(weir.Options{TracerProvider: tp, JobName: "sp", Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: t.TempDir()}})
	weir.FromSource[int](env, slowCounter{n: 1 << 40, perPoll: 1}, weir.NoWatermarks[int](), "counter").SinkTo(txSink[int]{newCommitted[int]()})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := env.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TriggerSavepoint(context.Background(), ""); err == nil {
		t.Error("a savepoint without a directory succeeded")
	}
	path, err := c.TriggerSavepoint(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = c.Wait()
	var names []string
	var okSP, failedSP, job bool
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		switch s.Name() {
		case "weir.savepoint":
			failed := s.Status().Code.String() == "Error"
			for _, a := range s.Attributes() {
				if a.Key == "savepoint.path" && a.Value.AsString() == path {
					okSP = true
				}
			}
			failedSP = failedSP || failed
		case "weir.job":
			job = true
			var canceled bool
			for _, ev := range s.Events() {
				canceled = canceled || ev.Name == "cancel"
			}
			if !canceled {
				t.Errorf("job span without a cancel event: %v", s.Events())
			}
		}
	}
	if !okSP || !failedSP || !job {
		t.Errorf("spans %v: savepoint with path %v, failed savepoint %v, job %v", names, okSP, failedSP, job)
	}
}

// Latency markers: a slow operator behind an exchange delays the markers
// queued behind the records it has yet to process, and the sink's
// histogram shows it; without the delay latency is lower.
func TestLatencyMarkers(t *testing.T) {
	delay := 2 * time.Millisecond
	run := func(d time.Duration) (count uint64, meanMs float64) {
		reg := prometheus.NewRegistry()
		env := weir.NewEnvironment(weir.Options{Registry: reg, LatencyTrackingInterval: 5 * time.Millisecond, BatchSize: 1, ChannelCapacity: 4})
		src := weir.FromSource[int](env, slowCounter{n: 1 << 40, perPoll: 50}, weir.NoWatermarks[int](), "numbers")
		slow := weir.Map(src.Rebalance(), func(v int) int {
			if d > 0 {
				time.Sleep(d) // the slow operator
			}
			return v
		})
		slow.SinkTo(txSink[int]{newCommitted[int]()}).Name("out")
		source := env.Plan().Vertices[0].Operators[0].Name
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, err := env.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() != "weir_latency_ms" {
					continue
				}
				for _, m := range mf.GetMetric() {
					labels := map[string]string{}
					for _, l := range m.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					if labels["source"] != source || labels["sink"] != "out" {
						t.Fatalf("latency labels %v", labels)
					}
					count, meanMs = m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()/float64(m.GetHistogram().GetSampleCount())
				}
			}
			if count >= 30 {
				break
			}
			time.Sleep(10 * time.Millisecond) // poll the metric
		}
		cancel()
		_ = c.Wait()
		if count < 30 {
			t.Fatalf("delay %v: %d latency samples in 30s", d, count)
		}
		return count, meanMs
	}
	_, slowMean := run(delay)
	_, fastMean := run(0)
	// A marker waits behind at least the records queued on the full
	// channel before it (4 batches of one record), each taking delay.
	if want := float64(delay.Milliseconds()); slowMean < want {
		t.Errorf("mean latency %.2fms with a %v operator, want at least %.0fms", slowMean, delay, want)
	}
	if fastMean >= slowMean {
		t.Errorf("mean latency %.2fms without the delay, %.2fms with it", fastMean, slowMean)
	}
	t.Logf("mean latency: %.2fms with a %v operator, %.2fms without", slowMean, delay, fastMean)
}

// The job's logs carry its name and id; an operator's (a source reader's
// here) its vertex and subtask too.
func TestJSONLogAttributes(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := weir.NewEnvironment(weir.Options{Logger: log, JobName: "logs", JobID: "feedfeedfeedfeedfeedfeedfeedfeed", Parallelism: 2})
	weir.FromSource[int](env, loggingCounter{slowCounter{n: 10, perPoll: 5}}, weir.NoWatermarks[int](), "logged").SinkTo(txSink[int]{newCommitted[int]()})
	vertex := env.Plan().Vertices[0]
	if err := env.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	subtasks := map[float64]bool{}
	sc := bufio.NewScanner(bytes.NewReader(buf.bytes()))
	lines := 0
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if rec["job"] != "logs" || rec["job_id"] != "feedfeedfeedfeedfeedfeedfeedfeed" {
			t.Errorf("line without the job: %v", rec)
		}
		if rec["msg"] == "reader opened" {
			if rec["vertex"] != vertex.Name || rec["operator"] != vertex.Operators[0].Name {
				t.Errorf("operator line: %v", rec)
			}
			sub, _ := rec["subtask"].(float64)
			subtasks[sub] = true
		}
	}
	if lines == 0 || !subtasks[0] || !subtasks[1] {
		t.Errorf("%d lines, reader lines of subtasks %v", lines, subtasks)
	}
}

type loggingCounter struct{ slowCounter }

func (c loggingCounter) CreateReader(ctx weir.SourceContext) (weir.SourceReader[int], error) {
	ctx.Logger.Info("reader opened")
	return c.slowCounter.CreateReader(ctx)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.b.Bytes()...)
}
