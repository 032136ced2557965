package main

import (
	"context"
	"testing"
	"time"
)

// TestDemo runs the README's command in-process against the machine's
// PostgreSQL and Redis: the demo itself fails unless Redis reaches the
// table's totals after the snapshot and after each change.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, "postgres://postgres@127.0.0.1:5432/test", "127.0.0.1:6379", t.TempDir(), "", true)
	if err != nil {
		t.Fatalf("%v (PostgreSQL with wal_level=logical and Redis must run on 127.0.0.1: scripts/test-services.sh starts them)", err)
	}
}
