package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRunAndVerify generates input, runs the job in-process until -verify
// accepts the output, then adds a duplicate and a wrong sum that -verify
// must reject.
func TestRunAndVerify(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "input", "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	addr := strings.Join(brokers, ",")
	if err := run([]string{"-brokers", addr, "-generate", "600", "-keys", "5"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config{input: "input", output: "output", checkpointDir: t.TempDir(), interval: 20 * time.Millisecond,
		parallelism: 2, prefix: "test"}
	done := make(chan error, 1)
	go func() { done <- job(ctx, cfg, brokers, slog.New(slog.DiscardHandler)) }()
	res, err := verify(context.Background(), brokers, "input", "output", 30*time.Second)
	cancel()
	if jerr := <-done; !errors.Is(jerr, context.Canceled) {
		t.Fatalf("job: %v", jerr)
	}
	if err != nil || !strings.Contains(res, "input 600 records; output 600 records") {
		t.Fatalf("verify: %s: %v", res, err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(),
		&kgo.Record{Topic: "output", Value: []byte(`{"key":"k1","seq":3,"sum":0}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	res, err = verify(context.Background(), brokers, "input", "output", 2*time.Second)
	if err == nil || !strings.Contains(res, "1 duplicates") {
		t.Fatalf("verify accepted a duplicate: %s", res)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-nope"}, {"-generate", "5", "-keys", "0"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}
