package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// errInterrupted is returned by a line reader when the user pressed
// Ctrl-C: the statement being typed is dropped.
var errInterrupted = errors.New("interrupted")

// maxEditLine is the longest line golang.org/x/term's line editor takes
// (its maxLineLength): the characters typed or pasted beyond it are
// dropped.
const maxEditLine = 4096

// errLineTooLong is returned by the terminal's line reader for a line
// that reached maxEditLine while typed, so may have lost its end: the statement being
// typed is dropped rather than run cut short.
var errLineTooLong = fmt.Errorf("a line of %d or more characters does not fit the terminal's line editor (its end is lost): the statement is dropped; split it over several lines, or pipe it to weir sql", maxEditLine)

// lineReader gives the interactive client its input lines.
type lineReader interface {
	// readLine shows the prompt and returns the next line (io.EOF at the
	// end of the input).
	readLine(prompt string) (string, error)
	// remember adds a complete statement to the history the user can
	// recall.
	remember(stmt string)
}

// lineReader returns the reader of the client's input: on a terminal a
// line editor with the statements' history (loaded from histPath), and
// the live table view for table-mode queries when the output is a
// terminal too; otherwise plain lines, with the prompts on stderr.
func (c *sqlClient) lineReader(in io.Reader, histPath string) lineReader {
	inFile, ok := in.(*os.File)
	errFile, ok2 := c.cmd.ErrOrStderr().(*os.File)
	if !ok || !ok2 || !term.IsTerminal(int(inFile.Fd())) || !term.IsTerminal(int(errFile.Fd())) {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 1<<16), 1<<24)
		return &scanReader{sc: sc, prompts: c.cmd.ErrOrStderr()}
	}
	if outFile, ok := c.out.(*os.File); ok && term.IsTerminal(int(outFile.Fd())) {
		c.tty = &tty{in: int(inFile.Fd()), out: int(outFile.Fd()), w: outFile}
	}
	return newTermReader(int(inFile.Fd()), inFile, errFile, loadHistory(histPath))
}

// scanReader reads lines from a non-terminal input.
type scanReader struct {
	sc      *bufio.Scanner
	prompts io.Writer
}

func (r *scanReader) readLine(prompt string) (string, error) {
	fmt.Fprint(r.prompts, prompt)
	if r.sc.Scan() {
		return r.sc.Text(), nil
	}
	if err := r.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (r *scanReader) remember(string) {}

// termReader edits lines on a terminal (golang.org/x/term's line editor:
// cursor keys, Home/End, Ctrl-A/E/K/U/W, the up and down keys through the
// history). The terminal is in raw mode only while a line is read, so
// that a running job's Ctrl-C is a signal.
type termReader struct {
	fd   int
	t    *term.Terminal
	in   *interruptReader
	hist *stmtHistory
}

func newTermReader(fd int, in io.Reader, out io.Writer, hist []string) *termReader {
	ir := &interruptReader{r: in}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{ir, out}, "")
	h := &stmtHistory{entries: hist}
	t.History = h
	return &termReader{fd: fd, t: t, in: ir, hist: h}
}

func (r *termReader) readLine(prompt string) (string, error) {
	old, err := term.MakeRaw(r.fd)
	if err != nil {
		return "", err
	}
	defer term.Restore(r.fd, old)
	if w, h, err := term.GetSize(r.fd); err == nil && w > 0 && h > 0 {
		_ = r.t.SetSize(w, h)
	}
	return r.read(prompt)
}

// read reads one line through the line editor (the terminal already set
// up).
func (r *termReader) read(prompt string) (string, error) {
	r.t.SetPrompt(prompt)
	line, err := r.t.ReadLine()
	if r.in.interrupted {
		r.in.interrupted = false
		return "", errInterrupted
	}
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil
	}
	// The editor stops adding keys at exactly maxEditLine characters (a
	// longer line can only be a recalled statement, which it keeps
	// whole).
	if err == nil && utf8.RuneCountInString(line) == maxEditLine {
		return "", errLineTooLong
	}
	return line, err
}

func (r *termReader) remember(stmt string) { r.hist.add(historyEntry(stmt)) }

// interruptReader turns Ctrl-C into the end of the line being edited and
// notes it: golang.org/x/term's editor would return io.EOF for it, which
// leaves the client, while Flink's SQL client drops the line. The bytes
// before a Ctrl-C are delivered by one read and the line end standing for
// it by the next, so that the note belongs to the line it ends.
type interruptReader struct {
	r           io.Reader
	pending     []byte // read but not yet delivered, from a Ctrl-C on
	err         error  // the read error to deliver after pending
	interrupted bool
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(ir.pending) == 0 {
		if ir.err != nil {
			err := ir.err
			ir.err = nil
			return 0, err
		}
		n, err := ir.r.Read(p)
		i := bytes.IndexByte(p[:n], 3)
		if i < 0 {
			return n, err
		}
		ir.pending = append(ir.pending[:0], p[i:n]...)
		ir.err = err
		if i > 0 {
			return i, nil
		}
	}
	if ir.pending[0] == 3 {
		ir.pending = ir.pending[1:]
		ir.interrupted = true
		p[0] = '\r'
		return 1, nil
	}
	i := bytes.IndexByte(ir.pending, 3)
	if i < 0 {
		i = len(ir.pending)
	}
	n := copy(p, ir.pending[:i])
	ir.pending = ir.pending[n:]
	return n, nil
}

// stmtHistory is the line editor's history: whole statements, newest
// last. The editor's own additions (each line typed) are ignored: the
// client adds a statement once it is complete.
type stmtHistory struct {
	entries []string
}

// maxHistory bounds the statements kept in memory.
const maxHistory = 500

func (h *stmtHistory) add(s string) {
	if s == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == s) {
		return
	}
	h.entries = append(h.entries, s)
	if len(h.entries) > maxHistory {
		h.entries = append(h.entries[:0], h.entries[len(h.entries)-maxHistory:]...)
	}
}

// Add is the editor's call for each line read; see stmtHistory.
func (h *stmtHistory) Add(string) {}

// Len returns the number of statements.
func (h *stmtHistory) Len() int { return len(h.entries) }

// At returns the statement idx places back (0: the newest).
func (h *stmtHistory) At(idx int) string { return h.entries[len(h.entries)-1-idx] }

// historyEntry turns a statement into one history line: its line comments
// dropped (block comments and hints kept, with what they hold) and,
// outside literals and quoted names, its line ends, tabs and
// runs of spaces made one space, so that it can be recalled, edited and
// run again on one line. A statement with a line end inside a literal
// gives "" (not kept: it does not fit on one line).
func historyEntry(stmt string) string {
	var b strings.Builder
	inStr, inIdent, comment, block, space := false, false, false, false, false
	blockAt := 0 // where the block comment began ("/*")
	for i := 0; i < len(stmt); i++ {
		ch := stmt[i]
		quoted := inStr || inIdent
		switch {
		case comment:
			if ch == '\n' {
				comment = false
				space = true
			}
			continue
		case block:
			// A block comment (a hint too) is kept, its line ends and
			// runs of spaces made one space; "--" and quotes in it are
			// part of it.
			block = !(ch == '/' && i >= blockAt+3 && stmt[i-1] == '*')
		case inStr:
			inStr = ch != '\''
		case inIdent:
			inIdent = ch != '`'
		case ch == '\'':
			inStr = true
		case ch == '`':
			inIdent = true
		case ch == '-' && i+1 < len(stmt) && stmt[i+1] == '-':
			comment = true
			continue
		case ch == '/' && i+1 < len(stmt) && stmt[i+1] == '*':
			block, blockAt = true, i
		}
		if quoted {
			if ch == '\n' || ch == '\r' {
				return ""
			}
		} else if ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(ch)
	}
	return b.String()
}

// loadHistory reads the history file's statements (one per line), the
// newest maxHistory.
func loadHistory(path string) []string {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > maxHistory {
		out = out[len(out)-maxHistory:]
	}
	return out
}
