package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir"
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
	// The same timeout as above: verify returns once it has read the
	// expected records (and a second more for extras); a short one let a
	// loaded machine read only part of the output.
	res, err = verify(context.Background(), brokers, "input", "output", 30*time.Second)
	if err == nil || !strings.Contains(res, "1 duplicates") {
		t.Fatalf("verify accepted a duplicate: %s", res)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-nope"}, {"-generate", "5", "-keys", "0"},
		{"-dead-letters", "dir"}, {"-dead-letters", "file:"}, {"-dead-letters", "queue:x"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}

// TestDeadLetters puts bad records among the input (a missing field,
// trailing garbage, null): without -dead-letters the job fails naming the
// first; with -dead-letters topic:NAME or file:DIR they go there with
// their reasons, and the output is exact.
func TestDeadLetters(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "input", "out-topic", "out-file"), kfake.SeedTopics(1, "dead"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	if err := run([]string{"-brokers", strings.Join(brokers, ","), "-generate", "200", "-keys", "4"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	bad := []string{`{"key":"k1","seq":3}`, `{"key":"k1","seq":1,"value":2} GARBAGE`, `null`}
	for _, b := range bad {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "input", Key: []byte("k1"), Value: []byte(b)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	wantReasons := []string{`field "value": json: missing`, `json: 7 bytes after the value, starting "GARBAGE"`, `json: the value is null`}

	// By default the first bad record fails the job.
	cfg := config{input: "input", output: "out-topic", checkpointDir: t.TempDir(), interval: 20 * time.Millisecond,
		parallelism: 1, prefix: "fail", noRestart: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := job(ctx, cfg, brokers, slog.New(slog.DiscardHandler)); !errors.Is(err, weir.ErrBadRecord) || !strings.Contains(err.Error(), wantReasons[0]) {
		t.Fatalf("job without dead letters: %v, want a bad record error saying %q", err, wantReasons[0])
	}

	deadDir := t.TempDir()
	for _, tc := range []struct{ output, deadLetters string }{{"out-topic", "topic:dead"}, {"out-file", "file:" + deadDir}} {
		cfg := config{input: "input", output: tc.output, checkpointDir: t.TempDir(), interval: 20 * time.Millisecond,
			parallelism: 2, prefix: tc.output, deadLetters: tc.deadLetters}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- job(ctx, cfg, brokers, slog.New(slog.DiscardHandler)) }()
		res, verr := verify(context.Background(), brokers, "input", tc.output, 30*time.Second)
		var reasons []string
		for deadline := time.Now().Add(30 * time.Second); len(reasons) < len(bad) && time.Now().Before(deadline); {
			reasons = deadReasons(t, brokers, tc.deadLetters)
		}
		cancel()
		if jerr := <-done; !errors.Is(jerr, context.Canceled) {
			t.Fatalf("%s: job: %v", tc.deadLetters, jerr)
		}
		if verr != nil || !strings.Contains(res, "input 200 records; output 200 records") || !strings.Contains(res, "3 bad input records") {
			t.Fatalf("%s: verify: %s: %v", tc.deadLetters, res, verr)
		}
		slices.Sort(reasons)
		want := slices.Sorted(slices.Values(wantReasons))
		if !slices.Equal(reasons, want) {
			t.Fatalf("%s: dead letters %q, want %q", tc.deadLetters, reasons, want)
		}
	}
}

// deadReasons returns "field: reason" of the dead letters committed to
// the target of -dead-letters so far.
func deadReasons(t *testing.T, brokers []string, target string) []string {
	t.Helper()
	kind, where, _ := deadLetterTarget(target)
	var letters []weir.DeadLetter
	if kind == "topic" {
		recs, err := readAll(context.Background(), brokers, where, -1, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var d weir.DeadLetter
			if err := json.Unmarshal(r.Value, &d); err != nil {
				t.Fatal(err)
			}
			letters = append(letters, d)
		}
	} else {
		files, _ := filepath.Glob(filepath.Join(where, "part-*.jsonl"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var d weir.DeadLetter
				if err := json.Unmarshal([]byte(l), &d); err != nil {
					t.Fatalf("%s: %q: %v", f, l, err)
				}
				letters = append(letters, d)
			}
		}
	}
	var out []string
	for _, d := range letters {
		s := d.Reason
		if d.Field != "" {
			s = fmt.Sprintf("field %q: %s", d.Field, d.Reason)
		}
		out = append(out, s)
	}
	return out
}
