package main

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseTopics(t *testing.T) {
	got, err := parseTopics([]string{"in:4", " out ", "x:1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int32{"in": 4, "out": 1, "x": 1}; !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"in:0", "in:x", ":3", ""} {
		if _, err := parseTopics([]string{bad}); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestDevKafkaFlagErrors(t *testing.T) {
	for _, f := range []devKafkaFlags{
		{host: "127.0.0.1", port: 9092, brokers: 0},
		{host: "127.0.0.1", port: 65535, brokers: 2},
		{host: "127.0.0.1", port: -1, brokers: 1},
		{host: "127.0.0.1", port: 9092, brokers: 1, topics: []string{"a:b"}},
	} {
		if _, err := devKafkaOpts(f); err == nil {
			t.Errorf("accepted %+v", f)
		}
	}
	if _, err := devKafkaOpts(devKafkaFlags{host: "127.0.0.1", port: 9092, brokers: 3, dataDir: t.TempDir(), topics: []string{"a:2"}}); err != nil {
		t.Fatal(err)
	}
}

// lineWriter hands each line written to it to a channel.
type lineWriter struct{ lines chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		w.lines <- l
	}
	return len(p), nil
}

// serveDevKafka runs `weir dev kafka --port 0 --data-dir dir args...` in
// the test process; it returns the brokers' addresses, the lines printed
// after the first, and a function that stops it.
func serveDevKafka(t *testing.T, dir string, args ...string) (addrs []string, lines <-chan string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := newDevKafkaCmd()
	out := make(chan string, 64)
	cmd.SetOut(lineWriter{out})
	cmd.SetArgs(append([]string{"--port", "0", "--data-dir", dir}, args...))
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	select {
	case l := <-out:
		_, rest, ok := strings.Cut(l, "listening on ")
		if !ok {
			t.Fatalf("first line %q", l)
		}
		addrs = strings.Split(strings.Fields(rest)[0], ",")
	case err := <-done:
		t.Fatalf("dev kafka: %v", err)
	}
	return addrs, out, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev kafka: %v", err)
		}
	}
}

// TestDevKafka starts the broker twice on one data directory: topics
// created in the first run (by flag and by a client) exist in the second.
func TestDevKafka(t *testing.T) {
	dir := t.TempDir()
	serve := func(args ...string) ([]string, func()) {
		addrs, _, stop := serveDevKafka(t, dir, args...)
		return addrs, stop
	}
	topics := func(addrs []string) kadm.TopicDetails {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		td, err := kadm.NewClient(cl).ListTopics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return td
	}

	addrs, stop := serve("--brokers", "3", "--topics", "in:4")
	if len(addrs) != 3 {
		t.Fatalf("listening on %v, want 3 brokers", addrs)
	}
	if td := topics(addrs); len(td["in"].Partitions) != 4 {
		t.Fatalf("topics %v, want in with 4 partitions", td.Names())
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 2, 1, nil, "made"); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	stop()

	addrs, stop = serve()
	defer stop()
	td := topics(addrs)
	if len(td["in"].Partitions) != 4 || len(td["made"].Partitions) != 2 {
		t.Fatalf("after a restart on the data directory: topics %v", td.Names())
	}
}

// copyDir copies the files of dir to a new directory to, as they are: a
// copy of a running broker's data directory is what kill -9 leaves.
func copyDir(t *testing.T, dir, to string) string {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// txnClient returns a client with transactional id "weir-0".
func txnClient(t *testing.T, addrs []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.TransactionalID("weir-0"), kgo.DefaultProduceTopic("out"))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// produceTxn writes vals in one transaction of "weir-0" and commits it
// (commit) or leaves it open; it returns the client.
func produceTxn(t *testing.T, addrs []string, commit bool, vals ...string) *kgo.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := txnClient(t, addrs)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if commit {
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	}
	return cl
}

// readOut returns the values of topic out, read committed or
// uncommitted, sorted. It first appends a marker record outside any
// transaction and reads up to it, so that it returns as soon as the
// consumer is past every record written before (records it skips do not
// arrive); markers are left out.
func readOut(t *testing.T, addrs []string, committed bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	end := fmt.Sprintf("~end-%d", time.Now().UnixNano())
	err = w.ProduceSync(ctx, &kgo.Record{Topic: "out", Value: []byte(end)}).FirstErr()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("out")}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var vals []string
	for done := false; !done; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading out (committed %v): %v so far, no end marker after 20s", committed, vals)
		}
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			switch v := string(r.Value); {
			case v == end:
				done = true
			case !strings.HasPrefix(v, "~"):
				vals = append(vals, v)
			}
		})
	}
	slices.Sort(vals)
	return vals
}

// TestDevKafkaCrashRecovery crashes the broker (a copy of its data
// directory taken while it runs is what kill -9 leaves) while a
// transaction holds records, twice, and restarts it on the copy. The
// transaction left open is aborted, with a marker: read_committed
// consumers never see its records, and they see the transactions the same
// transactional id (so the same producer id) commits after the restart.
// Without the marker they skipped those too.
func TestDevKafkaCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	addrs, _, stop := serveDevKafka(t, filepath.Join(dir, "live"), "--topics", "out:1")
	produceTxn(t, addrs, true, "kept0").Close()
	open := produceTxn(t, addrs, false, "lost1", "lost1b")
	crash := copyDir(t, filepath.Join(dir, "live"), filepath.Join(dir, "crash1"))
	open.Close()
	stop()

	addrs, lines, stop := serveDevKafka(t, crash)
	produceTxn(t, addrs, true, "kept1").Close()
	if got := readOut(t, addrs, true); !slices.Equal(got, []string{"kept0", "kept1"}) {
		t.Fatalf("after a crash with a transaction open, read_committed consumers get %v, want [kept0 kept1]", got)
	}
	waitLine(t, lines, "aborted a transaction left open by a crash")
	// Crash again, with another transaction of the same id open.
	open = produceTxn(t, addrs, false, "lost2")
	crash = copyDir(t, crash, filepath.Join(dir, "crash2"))
	open.Close()
	stop()

	addrs, _, stop = serveDevKafka(t, crash)
	produceTxn(t, addrs, true, "kept2").Close()
	stop()
	// A clean restart keeps it all.
	addrs, _, stop = serveDevKafka(t, crash)
	defer stop()
	if got := readOut(t, addrs, true); !slices.Equal(got, []string{"kept0", "kept1", "kept2"}) {
		t.Fatalf("after two crashes and a restart, read_committed consumers get %v, want [kept0 kept1 kept2]", got)
	}
	if got := readOut(t, addrs, false); !slices.Equal(got, []string{"kept0", "kept1", "kept2", "lost1", "lost1b", "lost2"}) {
		t.Fatalf("read_uncommitted consumers get %v", got)
	}
}

// waitLine waits for a line containing s.
func waitLine(t *testing.T, lines <-chan string, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, s) {
				return
			}
		case <-timeout:
			t.Fatalf("no line %q", s)
		}
	}
}
