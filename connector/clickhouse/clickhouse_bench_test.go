package clickhouse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/clickhouse"
	"github.com/weirstream/weir/connector/kafka"
)

// BenchmarkSink inserts b.N rows through the sink in batches of 10000
// into a MergeTree table of the local server (which shares the CPU).
// Run with a fixed count, e.g. -benchtime=1000000x.
func BenchmarkSink(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			tbl := table(b)
			env := weir.NewEnvironment(weir.Options{})
			weir.FromSlice(env, rows(b.N)).SinkTo(clickhouse.NewSink(clickhouse.Options[row]{Table: tbl, Serializer: kafka.JSONSerde[row]{}, Gzip: gz}))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if err := env.Execute(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// BenchmarkBareInsert is the baseline: the same rows marshalled with
// encoding/json and POSTed as INSERT ... FORMAT JSONEachRow, 10000 a
// request, in a loop with net/http.
func BenchmarkBareInsert(b *testing.B) {
	tbl := table(b)
	vals := rows(b.N)
	u := "http://" + server + "/?query=" + url.QueryEscape("INSERT INTO default."+tbl+" FORMAT JSONEachRow")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var buf bytes.Buffer
	for i := 0; i < len(vals); i += 10000 {
		buf.Reset()
		for _, v := range vals[i:min(i+10000, len(vals))] {
			p, _ := json.Marshal(v)
			buf.Write(p)
			buf.WriteByte('\n')
		}
		resp, err := http.Post(u, "application/x-ndjson", bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("HTTP %d: %s", resp.StatusCode, msg)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
