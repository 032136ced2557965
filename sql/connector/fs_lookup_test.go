package connector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// TestFilesystemLookupReload: a filesystem lookup table answers from the
// rows it loaded until lookup.join.cache.ttl has passed, then reads the
// file again (Flink's FileSystemLookupFunction); the files of a directory
// are all read, hidden ones not.
func TestFilesystemLookupReload(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.csv", "1,one\n2,two\n")
	write("b.csv", "3,three\r\n\n2,deux\n")
	write(".hidden.csv", "4,four\n")
	schema := row.NewSchema(row.Col("k", row.BigInt()), row.Col("v", row.String()))
	src, err := Filesystem{}.CreateSource(Context{Table: "side", Schema: schema, Options: map[string]string{
		"connector": "filesystem", "path": dir, "format": "csv", "lookup.join.cache.ttl": "1 min"}})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := src.(LookupSource).LookupFunction([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeTimers{}
	fn.(*fsLookup).after = clk.after
	ctx := context.Background()
	if err := fn.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer fn.Close()
	get := func(k int64) string {
		t.Helper()
		rows, err := fn.Lookup(ctx, []row.Value{row.Int(k)})
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, r := range rows {
			vs = append(vs, r.Fields[1].Str())
		}
		return strings.Join(vs, ",")
	}
	if got := get(2); got != "two,deux" {
		t.Errorf("key 2: %q, want both rows in file order", got)
	}
	if got := get(3) + "|" + get(4) + "|" + get(9); got != "three||" {
		t.Errorf("keys 3, 4, 9: %q, want three and nothing for the hidden file's and a missing key", got)
	}
	if rows, err := fn.Lookup(ctx, []row.Value{row.Null()}); err != nil || len(rows) != 0 {
		t.Errorf("NULL key: %v %v, want no rows", rows, err)
	}

	write("a.csv", "1,uno\n")
	clk.advance(59 * time.Second)
	if got := get(1); got != "one" {
		t.Errorf("before the ttl: %q, want the loaded row", got)
	}
	clk.advance(time.Second)
	if got := get(1) + "|" + get(2); got != "uno|deux" {
		t.Errorf("after the ttl: %q, want the file's new rows", got)
	}
	if n := fn.(*fsLookup).mu.loads; n != 2 {
		t.Errorf("%d loads, want 2", n)
	}

	write("a.csv", "x,broken\n")
	clk.advance(time.Minute)
	if _, err := fn.Lookup(ctx, []row.Value{row.Int(1)}); err == nil || !strings.Contains(err.Error(), "a.csv line 1") || !strings.Contains(err.Error(), "field k") {
		t.Errorf("a broken line: %v, want an error naming the file, line and field", err)
	}
}

// fakeTimers is a clock the test advances: a timer's function runs in
// advance once its duration has passed.
type fakeTimers struct {
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Duration
	f       func()
	stopped bool
}

func (c *fakeTimers) after(d time.Duration, f func()) func() bool {
	tm := &fakeTimer{at: c.now + d, f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

func (c *fakeTimers) advance(d time.Duration) {
	c.now += d
	for _, tm := range c.timers {
		if !tm.stopped && tm.at <= c.now {
			tm.stopped = true
			tm.f()
		}
	}
}
