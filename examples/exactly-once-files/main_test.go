package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGenerateDeterministic: the same flags write the same input.
func TestGenerateDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := run([]string{"-generate", "50", "-files", "3", "-keys", "2", "-input", d}, os.Stderr); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"input-000.jsonl", "input-001.jsonl", "input-002.jsonl"} {
		x, err1 := os.ReadFile(filepath.Join(a, n))
		y, err2 := os.ReadFile(filepath.Join(b, n))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) || bytes.Count(x, []byte{'\n'}) != 50 {
			t.Fatalf("%s differs between runs or has not 50 lines (%v %v)", n, err1, err2)
		}
	}
}

func TestBadFlags(t *testing.T) {
	in := t.TempDir()
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-generate", "5", "-files", "0", "-input", t.TempDir()},
		{"-input", in, "-output", filepath.Join(in, "out"), "-checkpoint-dir", t.TempDir()}} {
		var stderr bytes.Buffer
		if err := run(args, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestJobInProcess runs the job once, uninterrupted, and checks its
// output against the input.
func TestJobInProcess(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	if err := generate(in, 4, 3, 300); err != nil {
		t.Fatal(err)
	}
	c := config{input: in, output: out, checkpointDir: filepath.Join(dir, "chk"), interval: 10 * time.Millisecond, parallelism: 2, rate: 20000}
	if err := job(context.Background(), c, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, in, out)
}
