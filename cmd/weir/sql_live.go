package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/result"
)

// liveTable is the table result mode of the interactive client on a
// terminal, as Flink's SQL client shows it: the query's materialised
// result on a full screen, refreshed at a rate the user picks (+ and -),
// paged (N, P, F, L), until the user quits with Q or Ctrl-C, which stops
// the query if it still runs. Once the query ended the view stays, saying
// so, until the user quits.
//
// Rows arrive on the job's sink goroutine (apply, finish); run owns the
// screen and the keys.
type liveTable struct {
	schema row.Schema

	mu     sync.Mutex
	table  *result.Table
	err    error // the first row the table refused
	status string
	ended  chan struct{} // closed by finish
}

func newLiveTable(schema row.Schema) *liveTable {
	return &liveTable{schema: schema, table: result.NewTable(schema.Types(), nil), ended: make(chan struct{})}
}

// apply adds one change of the result.
func (v *liveTable) apply(r row.Row) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.table.Apply(r); err != nil {
		if v.err == nil {
			v.err = err
		}
		return err
	}
	return nil
}

// finish records that the query ended, with its error; only its first
// call counts.
func (v *liveTable) finish(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case <-v.ended:
		return
	default:
	}
	switch {
	case err != nil:
		v.status = "Query failed: " + firstLine(err.Error())
	default:
		v.status = "Table program finished."
	}
	close(v.ended)
}

// rows returns the table's rows now, and the status once the query ended.
func (v *liveTable) rows() ([]row.Row, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.table.Rows(), v.status
}

// finalRows returns the rows of the finished table.
func (v *liveTable) finalRows() []row.Row {
	rows, _ := v.rows()
	return rows
}

// screen is where the view draws: a writer (a terminal in raw mode), its
// size, the clock, and the timer of the refreshes.
type screen struct {
	w     io.Writer
	size  func() (width, height int)
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

// run shows the view until the user quits (a key Q or Ctrl-C, or the end
// of keys), and calls quit then, so that a running query stops.
func (v *liveTable) run(keys <-chan byte, scr screen, quit func()) error {
	refresh, page := result.DefaultRefresh, -1 // -1: the last page, following new rows
	rows, status := v.rows()
	updated := scr.now()
	ended := v.ended
	var esc escapeSeq
	draw := func() error {
		w, h := scr.size()
		lines := result.RenderView(result.ViewState{Schema: v.schema, Rows: rows, Width: w, Height: h,
			Page: page, Refresh: refresh, Status: status, Updated: updated})
		var b strings.Builder
		b.WriteString("\x1b[H")
		for i, l := range lines {
			if i > 0 {
				b.WriteString("\r\n")
			}
			b.WriteString(l)
			b.WriteString("\x1b[K")
		}
		b.WriteString("\x1b[J")
		_, err := io.WriteString(scr.w, b.String())
		return err
	}
	if err := draw(); err != nil {
		quit()
		return err
	}
	// The refresh timer runs on while keys are pressed (a key does not
	// postpone the next refresh); a new refresh rate sets a new timer.
	var tick <-chan time.Time
	tickRate := -1
	for {
		if d := result.RefreshInterval(refresh); d > 0 && ended != nil {
			if tick == nil || tickRate != refresh {
				tick, tickRate = scr.after(d), refresh
			}
		} else {
			tick = nil
		}
		select {
		case <-tick:
			tick = nil
			rows, status = v.rows()
			updated = scr.now()
		case <-ended:
			ended = nil
			rows, status = v.rows()
			updated = scr.now()
		case k, ok := <-keys:
			if !ok {
				quit()
				return nil
			}
			if esc.skip(k) {
				continue // a byte of a cursor or function key: no command
			}
			_, h := scr.size()
			pages := result.Pages(len(rows), h)
			if page < 0 {
				page = pages - 1
			}
			switch k {
			case 'q', 'Q', 3: // 3: Ctrl-C in raw mode
				quit()
				return nil
			case '+':
				refresh = max(refresh-1, 0)
			case '-':
				refresh = min(refresh+1, result.RefreshRates-1)
			case 'n', 'N':
				page++
			case 'p', 'P':
				page = max(page-1, 0)
			case 'f', 'F':
				page = 0
			case 'l', 'L':
				page = pages - 1
			}
			if page >= pages-1 {
				page = -1
			}
		}
		if err := draw(); err != nil {
			quit()
			return err
		}
	}
}

// escapeSeq follows the escape sequences a terminal sends for cursor,
// function and editing keys (ESC [ ... final byte, ESC O x), so that
// their bytes are not read as the view's commands: the End key (ESC [ F
// or ESC O F) is not F (first page), F1 (ESC O P) not P. A lone ESC
// followed by another byte ends there, and that byte is read as usual.
type escapeSeq struct {
	state byte // 0: none, 1: after ESC, '[': in a CSI sequence, 'O': after ESC O
}

// skip reports whether k belongs to an escape sequence.
func (e *escapeSeq) skip(k byte) bool {
	switch e.state {
	case 0:
		if k == 0x1b {
			e.state = 1
			return true
		}
		return false
	case 1:
		switch k {
		case '[', 'O':
			e.state = k
			return true
		case 0x1b:
			return true
		}
		e.state = 0
		return false
	case '[':
		// Parameter and intermediate bytes (0x20-0x3f) go on; a final
		// byte (0x40-0x7e) ends the sequence; anything else ends it too.
		if k >= 0x20 && k <= 0x3f {
			return true
		}
		e.state = 0
		return k >= 0x40 && k <= 0x7e
	default: // 'O': one final byte
		e.state = 0
		return k >= 0x20
	}
}

// firstLine returns s up to its first line end.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// terminalKeys reads key bytes from the terminal fd (in raw mode) into the
// returned channel until ctx ends or the input does; wait waits for the
// reader to stop. It polls so that it never stays blocked in a read after
// ctx ended.
func terminalKeys(ctx context.Context, fd int) (keys <-chan byte, wait func() error) {
	ch := make(chan byte, 16)
	var wg sync.WaitGroup
	var err error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		err = readKeys(ctx, fd, ch)
	}()
	return ch, func() error { wg.Wait(); return err }
}

func readKeys(ctx context.Context, fd int, ch chan<- byte) error {
	buf := make([]byte, 64)
	for ctx.Err() == nil {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 100)
		if errors.Is(err, unix.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			return fmt.Errorf("sql: reading keys: %w", err)
		}
		m, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sql: reading keys: %w", err)
		}
		if m == 0 {
			return nil
		}
		for _, b := range buf[:m] {
			select {
			case ch <- b:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// tty is the interactive client's terminal: its input and output file
// descriptors and output writer.
type tty struct {
	in, out int
	w       io.Writer
}

// runLive runs a table-mode query on the terminal: the screen switches to
// the live view (the alternate screen, keys unbuffered) while the query
// runs and until the user quits, then back; the final table is printed
// after, on the normal screen. runQuery runs the job with the context
// whose end stops it.
func (c *sqlClient) runLive(v *liveTable, runQuery func(ctx context.Context) error) error {
	t := c.tty
	old, err := term.MakeRaw(t.in)
	if err != nil {
		return fmt.Errorf("sql: the live table needs a terminal: %w", err)
	}
	io.WriteString(t.w, "\x1b[?1049h\x1b[?25l")
	restore := func() {
		io.WriteString(t.w, "\x1b[?25h\x1b[?1049l")
		_ = term.Restore(t.in, old)
	}

	jobCtx, stopJob := context.WithCancel(c.cmd.Context())
	defer stopJob()
	keyCtx, stopKeys := context.WithCancel(context.Background())
	keys, waitKeys := terminalKeys(keyCtx, t.in)
	scr := screen{
		w: t.w,
		size: func() (int, int) {
			w, h, err := term.GetSize(t.out)
			if err != nil || w <= 0 || h <= 0 {
				return 80, 24
			}
			return w, h
		},
		now:   time.Now,
		after: time.After,
	}
	var viewErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		viewErr = v.run(keys, scr, stopJob)
	}()
	jobErr := runQuery(jobCtx)
	v.finish(jobErr) // also when the job never started
	wg.Wait()        // the user quits the view
	stopKeys()
	keyErr := waitKeys()
	restore()
	if err := errors.Join(jobErr, viewErr, keyErr); err != nil {
		return err
	}
	return result.PrintTableau(c.out, v.schema, v.finalRows())
}
