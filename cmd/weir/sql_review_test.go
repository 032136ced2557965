package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// TestHistoryEntryComments checks history entries of statements with
// block comments (a hint among them) and doubled quotes: a "--" or a
// quote inside a block comment is part of the comment, as the client's
// statementComplete and the SQL lexer read it, so the entry stays a whole
// statement that runs again.
func TestHistoryEntryComments(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT /* a -- b */ 1;\n", "SELECT /* a -- b */ 1;"},
		{"SELECT /* it's */ 1;\n", "SELECT /* it's */ 1;"},
		{"SELECT /*+ OPTIONS('k' = 'v') */\n  *\nFROM t;\n", "SELECT /*+ OPTIONS('k' = 'v') */ * FROM t;"},
		{"SELECT 1 /* two\n  lines -- here */ ;\n", "SELECT 1 /* two lines -- here */ ;"},
		{"SELECT 'it''s -- x',\n `a``--b` FROM t; -- c\n", "SELECT 'it''s -- x', `a``--b` FROM t;"},
		{"SELECT 1 -- a /* not a block\n;\n", "SELECT 1 ;"},
		{"SELECT 2/*x*/-1;\n", "SELECT 2/*x*/-1;"},
	} {
		got := historyEntry(c.in)
		if got != c.want {
			t.Errorf("historyEntry(%q) = %q, want %q", c.in, got, c.want)
		}
		if !statementComplete(got + "\n") {
			t.Errorf("history entry %q of %q is not a complete statement", got, c.in)
		}
	}
}

// TestLiveTableEscapeKeys checks that the bytes of cursor and function
// keys are not read as the live view's commands: the End key (ESC [ F,
// ESC O F) does not go to the first page, F1 (ESC O P) not to the
// previous one, Page Down (ESC [ 6 ~) and the arrows do nothing; a
// command after them, and a Ctrl-C inside one, work as usual.
func TestLiveTableEscapeKeys(t *testing.T) {
	h := startLive(t)
	h.frame(t)
	for _, r := range []row.Row{ins("Bob", 1), ins("Alice", 1), ins("Greg", 1)} {
		if err := h.v.apply(r); err != nil {
			t.Fatal(err)
		}
	}
	h.tick <- time.Time{}
	if f := h.frame(t); !strings.Contains(f, "Page: Last of 2") {
		t.Fatalf("after the refresh: %q", f)
	}
	keys := "\x1b[F" + "\x1bOF" + "\x1b[A" + "\x1b[6~" + "\x1b[1;5D" + "+"
	go func() {
		for _, k := range []byte(keys) {
			h.keys <- k
		}
	}()
	// Frames up to the one of '+': the page must still be the last.
	for {
		f := h.frame(t)
		if strings.Contains(f, "Page: 1 of 2") {
			t.Fatalf("an escape sequence moved to the first page: %q", f)
		}
		if strings.Contains(f, "Refresh: 500 ms") {
			if !strings.Contains(f, "Page: Last of 2") {
				t.Fatalf("after the escape sequences and +: %q", f)
			}
			break
		}
	}
	go func() {
		for _, k := range []byte("\x1bOP-") {
			h.keys <- k
		}
	}()
	for {
		f := h.frame(t)
		if strings.Contains(f, "Page: 1 of 2") {
			t.Fatalf("F1 went to the previous page: %q", f)
		}
		if strings.Contains(f, "Refresh: 1 s") {
			break // the frame of -
		}
	}
	// A Ctrl-C inside a sequence still quits.
	go func() {
		for _, k := range []byte("\x1b[1\x03") {
			h.keys <- k
		}
	}()
	for {
		select {
		case <-h.frames:
			continue
		case err := <-h.done:
			if err != nil || h.quits != 1 {
				t.Fatalf("Ctrl-C in a sequence: %v, %d quits", err, h.quits)
			}
		}
		break
	}
}

// TestLiveTableKeysKeepRefresh checks that keys pressed between two
// refreshes do not restart the refresh timer (keys pressed faster than
// the refresh interval would otherwise stop the refreshes), while a new
// refresh rate does.
func TestLiveTableKeysKeepRefresh(t *testing.T) {
	h := startLive(t)
	h.frame(t)
	timers := func() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.timers) }
	// A timer is set before the loop waits for a key, so the counts are
	// read after the frame of a key.
	for _, k := range []byte("npfl") {
		h.key(t, k)
	}
	if n := timers(); n != 1 {
		t.Errorf("%d timers after 4 paging keys, want still 1", n)
	}
	h.key(t, '+')
	h.key(t, 'n')
	if n := timers(); n != 2 || h.lastTimer() != 500*time.Millisecond {
		t.Errorf("%d timers after +, the last %v; want 2, 500ms", n, h.lastTimer())
	}
	h.tick <- time.Time{}
	h.frame(t)
	h.key(t, 'n')
	h.key(t, 'p')
	if n := timers(); n != 3 {
		t.Errorf("%d timers after a refresh and 2 keys, want 3 (one set after the refresh)", n)
	}
	h.keys <- 'q'
	if err := <-h.done; err != nil {
		t.Fatal(err)
	}
}

// TestTermReaderLongLine checks that a line the terminal's line editor
// cut short (it drops what is typed beyond maxEditLine characters) is
// not returned as if whole: the statement would run truncated.
func TestTermReaderLongLine(t *testing.T) {
	long := "SELECT '" + strings.Repeat("é", maxEditLine) + "';"
	r := newTermReader(-1, strings.NewReader(long+"\r"+"SELECT 1;\r"), io.Discard, nil)
	if line, err := r.read("> "); !errors.Is(err, errLineTooLong) {
		t.Fatalf("a line of %d characters gave %d characters, %v; want errLineTooLong", len([]rune(long)), len([]rune(line)), err)
	}
	if line, err := r.read("> "); err != nil || line != "SELECT 1;" {
		t.Fatalf("the line after: %q, %v", line, err)
	}
	// A longer statement recalled from the history is whole.
	hist := "SELECT '" + strings.Repeat("y", 2*maxEditLine) + "';"
	r = newTermReader(-1, strings.NewReader("\x1b[A\r"), io.Discard, []string{hist})
	if line, err := r.read("> "); err != nil || line != hist {
		t.Fatalf("a recalled statement of %d characters: %d back, %v", len(hist), len(line), err)
	}
	ok := "SELECT '" + strings.Repeat("x", maxEditLine-20) + "';"
	r = newTermReader(-1, strings.NewReader(ok+"\r"), io.Discard, nil)
	if line, err := r.read("> "); err != nil || line != ok {
		t.Fatalf("a line of %d characters: %d back, %v", len(ok), len(line), err)
	}
}
