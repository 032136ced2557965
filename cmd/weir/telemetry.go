package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// telemetryFlags are the logging and tracing flags of `weir run`, `weir
// sql` and `weir server`.
type telemetryFlags struct {
	logFormat    string
	otlpEndpoint string
	latency      time.Duration
}

// register adds the flags; withLatency adds --latency-tracking-interval.
func (f *telemetryFlags) register(fl *pflag.FlagSet, withLatency bool) {
	fl.StringVar(&f.logFormat, "log-format", "text", "format of the log lines on stderr: text or json (one JSON object per line, with job, vertex and subtask attributes)")
	fl.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "export OpenTelemetry traces (job, checkpoints, savepoints, latency) by OTLP/HTTP to this URL, e.g. http://localhost:4318 (default: $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or $OTEL_EXPORTER_OTLP_ENDPOINT; neither: no tracing)")
	if withLatency {
		fl.DurationVar(&f.latency, "latency-tracking-interval", 0, "emit a latency marker from every source subtask this often and record source-to-sink latency (weir_latency_ms, and spans with tracing); 0: off")
	}
}

// logger returns the command's logger on w at level.
func (f *telemetryFlags) logger(w io.Writer, level slog.Level) (*slog.Logger, error) {
	o := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", f.logFormat)
}

// tracerProvider returns the provider that exports the command's traces
// by OTLP/HTTP, and the function that flushes and stops it; nil when
// neither --otlp-endpoint nor the standard environment variables ask for
// traces. The environment's other OTEL_EXPORTER_OTLP_* settings (headers,
// timeout, compression) and OTEL_SERVICE_NAME apply.
func (f *telemetryFlags) tracerProvider(ctx context.Context) (trace.TracerProvider, func(context.Context) error, error) {
	var opts []otlptracehttp.Option
	switch {
	case f.otlpEndpoint != "":
		u := f.otlpEndpoint
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		// A base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: the traces path
		// follows.
		if pu, err := url.Parse(u); err == nil && strings.Trim(pu.Path, "/") == "" {
			u = strings.TrimSuffix(u, "/") + "/v1/traces"
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	case os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		// The exporter reads them.
	default:
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "weir"), attribute.String("service.version", version())),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("otel resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// shutdownTracing flushes the spans still buffered, for at most 5 seconds.
func shutdownTracing(shutdown func(context.Context) error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		log.Warn("weir: exporting the last traces", "err", err)
	}
}
