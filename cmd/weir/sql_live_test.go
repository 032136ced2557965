package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weirstream/weir/row"
)

// frames is a screen writer that hands each drawn frame to the test.
type frames chan string

func (f frames) Write(p []byte) (int, error) { f <- string(p); return len(p), nil }

// liveHarness runs a liveTable's view with keys, timer and screen under
// the test's control.
type liveHarness struct {
	v      *liveTable
	keys   chan byte
	tick   chan time.Time
	frames frames
	mu     sync.Mutex
	timers []time.Duration // the refresh interval of each timer set
	quits  int
	done   chan error
}

func startLive(t *testing.T) *liveHarness {
	t.Helper()
	h := &liveHarness{
		v:      newLiveTable(row.NewSchema(row.Col("name", row.String()), row.Col("cnt", row.BigInt()))),
		keys:   make(chan byte),
		tick:   make(chan time.Time),
		frames: make(frames),
		done:   make(chan error, 1),
	}
	scr := screen{
		w:    h.frames,
		size: func() (int, int) { return 80, 8 }, // 2 rows a page
		now:  func() time.Time { return time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) },
		after: func(d time.Duration) <-chan time.Time {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.timers = append(h.timers, d)
			return h.tick
		},
	}
	go func() {
		h.done <- h.v.run(h.keys, scr, func() { h.mu.Lock(); h.quits++; h.mu.Unlock() })
	}()
	return h
}

// frame returns the next frame drawn.
func (h *liveHarness) frame(t *testing.T) string {
	t.Helper()
	select {
	case f := <-h.frames:
		return f
	case err := <-h.done:
		t.Fatalf("the view ended before drawing: %v", err)
	}
	return ""
}

func (h *liveHarness) key(t *testing.T, k byte) string {
	t.Helper()
	h.keys <- k
	return h.frame(t)
}

func (h *liveHarness) lastTimer() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.timers[len(h.timers)-1]
}

func ins(name string, n int64) row.Row {
	return row.Of(row.Str(name), row.Int(n))
}

func TestLiveTableView(t *testing.T) {
	h := startLive(t)
	f := h.frame(t)
	if !strings.Contains(f, "Refresh: 1 s") || !strings.Contains(f, "Page: Last of 1") || !strings.HasPrefix(f, "\x1b[H") {
		t.Fatalf("first frame %q", f)
	}
	// Rows that arrive show at the next refresh, not before.
	for _, r := range []row.Row{ins("Bob", 1), ins("Alice", 1), ins("Greg", 1)} {
		if err := h.v.apply(r); err != nil {
			t.Fatal(err)
		}
	}
	if f = h.key(t, '+'); !strings.Contains(f, "Refresh: 500 ms") || strings.Contains(f, "Bob") {
		t.Fatalf("after +: %q", f)
	}
	h.tick <- time.Time{}
	// The loop took the tick from the timer it set after +, and is now
	// drawing (blocked until the frame is read): no newer timer yet.
	if d := h.lastTimer(); d != 500*time.Millisecond {
		t.Errorf("timer %v after +, want 500ms", d)
	}
	if f = h.frame(t); !strings.Contains(f, "Page: Last of 2") || !strings.Contains(f, "Greg") || strings.Contains(f, "Bob") {
		t.Fatalf("after a refresh, the last page should show Greg alone: %q", f)
	}
	// An update retracts Bob's row and adds the new one.
	upd := ins("Bob", 1).WithKind(row.UpdateBefore)
	if err := h.v.apply(upd); err != nil {
		t.Fatal(err)
	}
	if err := h.v.apply(ins("Bob", 2).WithKind(row.UpdateAfter)); err != nil {
		t.Fatal(err)
	}
	if f = h.key(t, 'f'); !strings.Contains(f, "Page: 1 of 2") || !strings.Contains(f, "Bob    1") {
		t.Fatalf("first page before the refresh (the rows read last): %q", f)
	}
	h.tick <- time.Time{}
	if f = h.frame(t); !strings.Contains(f, "Alice") || !strings.Contains(f, "Greg") || strings.Contains(f, "Bob") || !strings.Contains(f, "Page: 1 of 2") {
		t.Fatalf("first page after the refresh: %q", f)
	}
	if f = h.key(t, 'n'); !strings.Contains(f, "Bob") || !strings.Contains(f, "    2") || !strings.Contains(f, "Page: Last of 2") {
		t.Fatalf("next page: %q", f)
	}
	if f = h.key(t, 'p'); !strings.Contains(f, "Page: 1 of 2") {
		t.Fatalf("previous page: %q", f)
	}
	for range 8 {
		f = h.key(t, '-')
	}
	if !strings.Contains(f, "Refresh: ∞") {
		t.Fatalf("after many -: %q", f)
	}
	// The query ends: the view says so and stays until Q.
	h.v.finish(nil)
	if f = h.frame(t); !strings.Contains(f, "Table program finished.") {
		t.Fatalf("after the end: %q", f)
	}
	h.keys <- 'q'
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
	if h.quits != 1 {
		t.Errorf("quit called %d times, want 1", h.quits)
	}
}

func TestLiveTableQuitStopsQuery(t *testing.T) {
	for _, k := range []byte{'Q', 3} {
		h := startLive(t)
		h.frame(t)
		h.keys <- k
		if err := <-h.done; err != nil {
			t.Fatal(err)
		}
		if h.quits != 1 {
			t.Errorf("key %d: quit called %d times", k, h.quits)
		}
	}
	// The end of the keys (the terminal closed) quits too.
	h := startLive(t)
	h.frame(t)
	close(h.keys)
	if err := <-h.done; err != nil || h.quits != 1 {
		t.Errorf("closed keys: %v, %d quits", err, h.quits)
	}
}

func TestLiveTableShowsFailure(t *testing.T) {
	h := startLive(t)
	h.frame(t)
	h.v.finish(errors.New("boom: row 3\nmore detail"))
	if f := h.frame(t); !strings.Contains(f, "Query failed: boom: row 3") || strings.Contains(f, "more detail") {
		t.Fatalf("after a failure: %q", f)
	}
	h.v.finish(nil) // a second end changes nothing
	h.keys <- 'q'
	<-h.done
	// A retraction of a row the table never held is refused, not dropped.
	v := newLiveTable(row.NewSchema(row.Col("name", row.String()), row.Col("cnt", row.BigInt())))
	if err := v.apply(ins("x", 1).WithKind(row.Delete)); err == nil {
		t.Error("a retraction of an absent row was accepted")
	}
}

func TestTermReader(t *testing.T) {
	in := strings.NewReader("SELECT 1;\r" + // a line
		"\x1b[A\r" + // up: the statement before
		"abc\x03" + // Ctrl-C drops the line
		"xy\r" + // the line after the Ctrl-C, in the same read
		"\x04") // Ctrl-D on an empty line: the end
	r := newTermReader(-1, in, io.Discard, []string{"SHOW TABLES;"})
	line, err := r.read("> ")
	if err != nil || line != "SELECT 1;" {
		t.Fatalf("first line %q, %v", line, err)
	}
	r.remember("SELECT\n  1; -- one\n")
	if line, err = r.read("> "); err != nil || line != "SELECT 1;" {
		t.Fatalf("recalled %q, %v; want the remembered statement", line, err)
	}
	if _, err = r.read("> "); !errors.Is(err, errInterrupted) {
		t.Fatalf("Ctrl-C gave %v, want errInterrupted", err)
	}
	if line, err = r.read("> "); err != nil || line != "xy" {
		t.Fatalf("line after Ctrl-C %q, %v", line, err)
	}
	if _, err = r.read("> "); !errors.Is(err, io.EOF) {
		t.Fatalf("Ctrl-D gave %v, want io.EOF", err)
	}
	if r.hist.Len() != 2 || r.hist.At(0) != "SELECT 1;" || r.hist.At(1) != "SHOW TABLES;" {
		t.Errorf("history %q", r.hist.entries)
	}
}

func TestHistoryEntry(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT a,\n  b\nFROM t;\n", "SELECT a, b FROM t;"},
		{"SELECT 'a  b', `x  y` -- note\nFROM t; -- end", "SELECT 'a  b', `x  y` FROM t;"},
		{"SELECT '--not a comment'\tFROM t;", "SELECT '--not a comment' FROM t;"},
		{"SELECT 'two\nlines';", ""},
	} {
		if got := historyEntry(c.in); got != c.want {
			t.Errorf("historyEntry(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// openPTY opens a pseudo-terminal: the master side the test types into
// and reads, the slave side the client runs on.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 20, Col: 90}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// screenLog collects what the client writes to the terminal.
type screenLog struct {
	mu   sync.Mutex
	buf  strings.Builder
	more chan struct{} // signalled on each write
}

// waitFor waits until the output after offset from holds want, and
// returns the offset after it.
func (l *screenLog) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		l.mu.Lock()
		s := l.buf.String()
		l.mu.Unlock()
		if i := strings.Index(s[from:], want); i >= 0 {
			return from + i + len(want)
		}
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it shows:\n%s", want, s[from:])
		}
	}
}

func TestSQLClientOnTerminal(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	master, slave := openPTY(t)
	defer master.Close()
	log := &screenLog{more: make(chan struct{}, 1)}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			log.mu.Lock()
			log.buf.Write(buf[:n])
			log.mu.Unlock()
			select {
			case log.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	cmd := newRootCmd()
	cmd.SetIn(slave)
	cmd.SetOut(slave)
	cmd.SetErr(slave)
	cmd.SetArgs([]string{"sql"})
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()
	typ := func(s string) {
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	at := log.waitFor(t, 0, "Weir SQL> ")
	typ("CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '40', 'fields.a.min' = '1', 'fields.a.max' = '3');\r")
	at = log.waitFor(t, at, "Weir SQL> ")
	typ("SET 'sql-client.execution.result-mode' = 'table';\r")
	at = log.waitFor(t, at, "Weir SQL> ")
	typ("SELECT a, COUNT(*) AS c\r")
	at = log.waitFor(t, at, "> ")
	typ("FROM t GROUP BY a;\r")
	at = log.waitFor(t, at, "SQL Query Result (Table)")
	at = log.waitFor(t, at, "Table program finished.")
	typ("q")
	at = log.waitFor(t, at, "3 rows in set")
	at = log.waitFor(t, at, "Weir SQL> ")
	// Up recalls the query as one line; Ctrl-C drops it.
	typ("\x1b[A")
	at = log.waitFor(t, at, "SELECT a, COUNT(*) AS c FROM t GROUP BY a;")
	typ("\x03")
	at = log.waitFor(t, at, "Weir SQL> ")
	typ("\x04")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	slave.Close()
	master.Close()
	readers.Wait()
	log.mu.Lock()
	out := log.buf.String()
	log.mu.Unlock()
	// The three groups' counts add up to the 40 rows.
	table := out[strings.LastIndex(out, "\x1b[?1049l"):]
	table = table[:strings.Index(table, "rows in set")]
	sum := 0
	for _, l := range strings.Split(table, "\n") {
		f := strings.Fields(strings.ReplaceAll(l, "|", " "))
		if len(f) == 2 {
			if n, err := strconv.Atoi(f[1]); err == nil {
				sum += n
			}
		}
	}
	if sum != 40 {
		t.Errorf("the final table's counts add up to %d, want 40:\n%s", sum, table)
	}
	hist, err := os.ReadFile(filepath.Join(os.Getenv("HOME"), ".weir_sql_history"))
	if err != nil || !strings.Contains(string(hist), "SELECT a, COUNT(*) AS c FROM t GROUP BY a;\n") {
		t.Errorf("history file %q, %v", hist, err)
	}
}
