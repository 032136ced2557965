package main

import (
	"context"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/bench"
)

// TestBenchMatchAgrees runs weir bench match on a few payments: the Go
// loop, the CEP job and the SQL jobs must raise the same alerts (the run
// fails otherwise).
func TestBenchMatchAgrees(t *testing.T) {
	r, err := runMatchBench(context.Background(), 30_000, bench.WithDefaults(weir.Options{Parallelism: 1}), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.alerts == 0 || r.sql.Records != 30_000 {
		t.Fatalf("%d alerts over %d records", r.alerts, r.sql.Records)
	}
	t.Logf("%d alerts; sql %.0f, cep %.0f, loop %.0f records per CPU second", r.alerts,
		r.sql.PerCoreSecond(), r.cep.PerCoreSecond(), r.loop.PerCoreSecond())
}
