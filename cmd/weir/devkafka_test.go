package main

import (
	"maps"
	"testing"
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
