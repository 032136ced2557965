package sql

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"10 s": 10 * time.Second, "1min": time.Minute, "1 h": time.Hour, "500": 500 * time.Millisecond,
		"2 days": 48 * time.Hour, "3 MS": 3 * time.Millisecond, "0": 0, " 7 seconds ": 7 * time.Second,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "10 fortnights", "-1 s", "99999999999999999999 d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestConfigSet(t *testing.T) {
	c := NewConfig()
	if err := c.Set("table.exec.state.ttl", "1 h"); err != nil {
		t.Fatal(err)
	}
	if c.Duration("table.exec.state.ttl") != time.Hour {
		t.Error("ttl not read back")
	}
	err := c.Set("sql-client.execution.result-mode", "grid")
	if err == nil || !strings.Contains(err.Error(), "table, changelog, tableau") {
		t.Errorf("bad enum: %v", err)
	}
	if err := c.Set("parallelism.default", "two"); err == nil {
		t.Error("non-integer parallelism accepted")
	}
	if err := c.Set("no.such.key", "1"); err == nil {
		t.Error("unknown key accepted")
	}
	if err := c.Set("pipeline.max-parallelism", "128"); err != nil {
		t.Errorf("pass-through key refused: %v", err)
	}
	// Flink 2.4's lenient CAST(bytes AS STRING) is refused, its default
	// (strict) accepted.
	if err := c.Set("table.exec.legacy-bytes-to-string-cast", "true"); err == nil || !strings.Contains(err.Error(), "MAKE_VALID_UTF8") {
		t.Errorf("legacy bytes cast: %v", err)
	}
	if err := c.Set("table.exec.legacy-bytes-to-string-cast", "false"); err != nil {
		t.Errorf("legacy bytes cast false: %v", err)
	}
	c.Set("execution.runtime-mode", "BATCH")
	if c.Enum("execution.runtime-mode") != "batch" {
		t.Error("enum not canonical")
	}
	c.Reset("execution.runtime-mode")
	if c.Get("execution.runtime-mode") != "streaming" {
		t.Error("reset did not restore the default")
	}
	c.Reset("")
	if c.Duration("table.exec.state.ttl") != 0 {
		t.Error("RESET did not clear")
	}
}
