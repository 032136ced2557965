package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's command in-process against the machine's
// Mosquitto and ClickHouse: the demo itself fails unless ClickHouse holds
// exactly the windows, and the webhook got exactly the alerts, that the
// published readings give.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out strings.Builder
	cfg := config{
		Broker:        "tcp://127.0.0.1:1883",
		ClickHouse:    "http://127.0.0.1:8123",
		Threshold:     30,
		OutOfOrder:    15 * time.Second,
		CheckpointDir: t.TempDir(),
		Seed:          uint64(time.Now().UnixNano()),
	}
	var w io.Writer = &out
	if testing.Verbose() {
		w = io.MultiWriter(&out, os.Stdout)
	}
	err := runDemo(ctx, cfg, w)
	if err != nil {
		t.Fatalf("seed %d: %v\n(Mosquitto on 127.0.0.1:1883 and ClickHouse on 127.0.0.1:8123 must run: scripts/test-services.sh starts them)\ndemo output:\n%s", cfg.Seed, err, out.String())
	}
	if !strings.Contains(out.String(), "ALERT") {
		t.Errorf("the demo raised no alert (seed %d):\n%s", cfg.Seed, out.String())
	}
}
