package main

import (
	"context"
	"maps"
	"strings"
	"testing"

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

// TestDevKafka starts the broker twice on one data directory: topics
// created in the first run (by flag and by a client) exist in the second.
func TestDevKafka(t *testing.T) {
	dir := t.TempDir()
	serve := func(args ...string) (addrs []string, stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := newDevKafkaCmd()
		lines := make(chan string, 16)
		cmd.SetOut(lineWriter{lines})
		cmd.SetArgs(append([]string{"--port", "0", "--data-dir", dir}, args...))
		done := make(chan error, 1)
		go func() { done <- cmd.ExecuteContext(ctx) }()
		select {
		case l := <-lines:
			_, rest, ok := strings.Cut(l, "listening on ")
			if !ok {
				t.Fatalf("first line %q", l)
			}
			addrs = strings.Split(strings.Fields(rest)[0], ",")
		case err := <-done:
			t.Fatalf("dev kafka: %v", err)
		}
		return addrs, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("dev kafka: %v", err)
			}
		}
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
