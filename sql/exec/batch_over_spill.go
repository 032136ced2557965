package exec

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/weirstream/weir/row"
)

// A batch OVER window's partition, once its input has ended, is sorted
// and then read in the window's order by the calls (the partition
// buffer of Flink's batch OverAggregate, a ResettableExternalBuffer).
// While the partition fits in BatchOverSpec.MemoryBudget it is sorted in
// memory; past it, the partition is sorted externally: sorted runs of at
// most the budget are written to a spill file, merged (at most
// spillFanIn runs at a time) into one sorted spill file, and the calls
// read that file through cursors. A cursor reads sequentially through a
// small buffer and seeks by row number through a sparse index (the file
// offset of every spillIndexStride-th row); the rows decoded last are
// shared by the cursors in a small cache (sortedPart.ring). Every frame bound, the peer
// group's end and LEAD/LAG's row move forward as the current row does,
// so each is one sequential cursor; only the frames recomputed row by
// row (aggregates that cannot retract, over a frame not starting at
// UNBOUNDED PRECEDING) seek back, to the frame's first row.
//
// Spill files are scratch, not state: the partition's rows stay in keyed
// state until the input ends, and a partition is computed within one
// timer callback, which no checkpoint interrupts. The files live in the
// subtask's local directory under the job's state directory and are
// removed when the partition is done, when the function closes, and
// with the job's state directory when the job ends or fails.

const (
	// spillIndexStride is the number of rows between two entries of a
	// spill file's index.
	spillIndexStride = 64
	// spillFanIn is the number of runs merged at a time.
	spillFanIn = 16
	// spillBufferSize is the buffer of a spill file's writer and of
	// each cursor.
	spillBufferSize = 32 << 10
)

// rowBudgetSize estimates the memory of a decoded row from its encoding
// of enc bytes: the encoding (strings' bytes) plus a Value per field and
// the row itself.
func rowBudgetSize(enc int, fields int) int64 {
	const valueSize, rowSize = 24, 32
	return int64(enc) + int64(fields)*valueSize + rowSize
}

// spillFiles creates and removes the spill files of one subtask.
type spillFiles struct {
	// dir is the directory the files go to; "" until the first file
	// (then the subtask's local directory, or a directory of its own
	// under the system's temporary directory when the job has none).
	dir string
	// base is the configured directory ("" for the system's temporary
	// directory); made lazily, as the first partition spills.
	base string
	// made is set when dir was created by us (removed on close).
	made bool
	open map[*os.File]struct{}
}

func (s *spillFiles) create() (*os.File, error) {
	if s.dir == "" {
		if s.base != "" {
			if err := os.MkdirAll(s.base, 0o700); err != nil {
				return nil, fmt.Errorf("sql/exec: OverAggregate: spill directory %s: %w", s.base, err)
			}
		}
		d, err := os.MkdirTemp(s.base, "over-spill-")
		if err != nil {
			base := s.base
			if base == "" {
				base = os.TempDir()
			}
			return nil, fmt.Errorf("sql/exec: OverAggregate: spill directory under %s: %w", base, err)
		}
		s.dir, s.made = d, true
	}
	f, err := os.CreateTemp(s.dir, "part-*.spill")
	if err != nil {
		return nil, fmt.Errorf("sql/exec: OverAggregate: spill file in %s: %w", s.dir, err)
	}
	if s.open == nil {
		s.open = map[*os.File]struct{}{}
	}
	s.open[f] = struct{}{}
	return f, nil
}

// remove closes and deletes a spill file.
func (s *spillFiles) remove(f *os.File) error {
	if f == nil {
		return nil
	}
	delete(s.open, f)
	err := f.Close()
	if rerr := os.Remove(f.Name()); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("sql/exec: OverAggregate: removing spill file %s: %w", f.Name(), err)
	}
	return nil
}

// close removes every file left and the directory.
func (s *spillFiles) close() error {
	var errs []error
	for f := range s.open {
		errs = append(errs, s.remove(f))
	}
	if s.made {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("sql/exec: OverAggregate: removing spill directory %s: %w", s.dir, err))
		}
		s.dir, s.made = "", false
	}
	return errors.Join(errs...)
}

// spillRun is a sorted run of n rows at [off, end) of a spill file.
type spillRun struct {
	off, end int64
	n        int
}

// spillWriter appends rows to a spill file: each a uvarint length and
// the row's encoding.
type spillWriter struct {
	f     *os.File
	bw    *bufio.Writer
	codec *row.Codec
	off   int64
	n     int
	// index, when kept, is the offset of every spillIndexStride-th row.
	index []int64
	keep  bool
	buf   []byte
}

func newSpillWriter(f *os.File, codec *row.Codec, index bool) *spillWriter {
	return &spillWriter{f: f, bw: bufio.NewWriterSize(f, spillBufferSize), codec: codec, keep: index}
}

func (w *spillWriter) write(r row.Row) error {
	if w.keep && w.n%spillIndexStride == 0 {
		w.index = append(w.index, w.off)
	}
	w.buf = binary.AppendUvarint(w.buf[:0], 0) // room for the length
	start := len(w.buf)
	w.buf = w.codec.Append(w.buf, r)
	var l [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(l[:], uint64(len(w.buf)-start))
	if _, err := w.bw.Write(l[:ln]); err != nil {
		return w.fail(err)
	}
	if _, err := w.bw.Write(w.buf[start:]); err != nil {
		return w.fail(err)
	}
	w.off += int64(ln + len(w.buf) - start)
	w.n++
	return nil
}

func (w *spillWriter) flush() error {
	if err := w.bw.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *spillWriter) fail(err error) error {
	return fmt.Errorf("sql/exec: OverAggregate: writing spill file %s: %w", w.f.Name(), err)
}

// runReader reads the rows of a run in order.
type runReader struct {
	f     *os.File
	br    *bufio.Reader
	codec *row.Codec
	left  int
	size  int64 // the run's length in bytes
	buf   []byte
}

func newRunReader(f *os.File, r spillRun, codec *row.Codec, size int) *runReader {
	return &runReader{f: f, br: bufio.NewReaderSize(io.NewSectionReader(f, r.off, r.end-r.off), size), codec: codec, left: r.n, size: r.end - r.off}
}

// next returns the run's next row; ok false at its end.
func (r *runReader) next() (row.Row, bool, error) {
	if r.left == 0 {
		return row.Row{}, false, nil
	}
	out, err := readSpilled(r.br, r.codec, &r.buf, r.size)
	if err != nil {
		return row.Row{}, false, fmt.Errorf("sql/exec: OverAggregate: reading spill file %s: %w", r.f.Name(), err)
	}
	r.left--
	return out, true, nil
}

// readSpilled reads one row written by spillWriter from a file or run
// of size bytes.
func readSpilled(br *bufio.Reader, codec *row.Codec, buf *[]byte, size int64) (row.Row, error) {
	n, err := readSpilledLen(br, size)
	if err != nil {
		return row.Row{}, err
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(br, b); err != nil {
		return row.Row{}, noEOF(err)
	}
	// DecodeString copies nothing it keeps from a reused buffer.
	r, _, err := codec.DecodeString(string(b))
	return r, err
}

// readSpilledLen reads the length of a row written by spillWriter; a
// length past the file's size (a damaged file) is an error, not an
// allocation of that size.
func readSpilledLen(br *bufio.Reader, size int64) (uint64, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return 0, noEOF(err)
	}
	if n > uint64(size) {
		return 0, fmt.Errorf("a row of %d bytes in %d bytes: the file is damaged", n, size)
	}
	return n, nil
}

// skipSpilled skips one row written by spillWriter in a file of size
// bytes.
func skipSpilled(br *bufio.Reader, size int64) error {
	n, err := readSpilledLen(br, size)
	if err != nil {
		return err
	}
	if _, err := br.Discard(int(n)); err != nil {
		return noEOF(err)
	}
	return nil
}

// noEOF turns an end of file inside a spill file into an error saying so.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// sortedPart is a partition in the window's order, in memory (mem) or in
// a spill file.
type sortedPart struct {
	n     int
	mem   []row.Row
	file  *os.File
	index []int64
	size  int64
	codec *row.Codec
	// err is the first error of a cursor; nulls (a row of NULLs) is what
	// cursors return after it.
	err   error
	nulls row.Row
	// ring caches the rows the cursors decoded last, row j in slot j &
	// (len(ring)-1): the cursors of the current row, its peers, frame
	// bounds and LEAD/LAG move together, so most rows are decoded once.
	ring []ringSlot
}

// ringSlot is a decoded row of a spill file and its number (-1: empty).
type ringSlot struct {
	j int
	r row.Row
}

// ringSize is the number of rows the cache of a spilled partition holds:
// about an eighth of the budget's worth of rows, a power of two from 16
// to 4096.
func ringSize(budget int64, perRow int64) int {
	n := 16
	for n < 4096 && int64(2*n)*max(perRow, 1) <= budget/8 {
		n *= 2
	}
	return n
}

// cursor returns a new reader of the partition's rows.
func (p *sortedPart) cursor() *partCursor {
	return &partCursor{p: p, last: -1}
}

// partCursor reads rows of a sortedPart by number, cheaply when each
// number is at or a little after the one before.
type partCursor struct {
	p       *sortedPart
	br      *bufio.Reader
	next    int // the row br reads next
	last    int // the number of lastRow, -1 for none
	lastRow row.Row
	buf     []byte
}

// at returns row j (0 <= j < n). After an error (kept in the
// partition's err) it returns a row of NULLs.
func (c *partCursor) at(j int) row.Row {
	p := c.p
	if p.file == nil {
		return p.mem[j]
	}
	if j == c.last {
		return c.lastRow
	}
	if p.err != nil {
		return p.nulls
	}
	slot := &p.ring[j&(len(p.ring)-1)]
	if slot.j == j {
		return slot.r
	}
	if c.br == nil || j < c.next || j-c.next > spillIndexStride {
		k := j / spillIndexStride
		off := p.index[k]
		sec := io.NewSectionReader(p.file, off, p.size-off)
		if c.br == nil {
			c.br = bufio.NewReaderSize(sec, spillBufferSize)
		} else {
			c.br.Reset(sec)
		}
		c.next = k * spillIndexStride
	}
	for c.next < j {
		if err := skipSpilled(c.br, p.size); err != nil {
			return c.fail(err)
		}
		c.next++
	}
	r, err := readSpilled(c.br, p.codec, &c.buf, p.size)
	if err != nil {
		return c.fail(err)
	}
	c.next++
	c.last, c.lastRow = j, r
	slot.j, slot.r = j, r
	return r
}

func (c *partCursor) fail(err error) row.Row {
	if c.p.err == nil {
		c.p.err = fmt.Errorf("sql/exec: OverAggregate: reading spill file %s: %w", c.p.file.Name(), err)
	}
	c.br = nil
	return c.p.nulls
}

// sortPartition returns the partition's encoded rows in the window's
// order: sorted in memory when their estimated size fits the budget,
// else sorted externally into a spill file. Rows with equal order keys
// keep their arrival order either way.
func (f *batchOverFn) sortPartition(enc []string) (_ *sortedPart, err error) {
	spec := f.spec
	width := len(spec.Types)
	p := &sortedPart{n: len(enc), codec: f.codec, nulls: row.Row{Kind: row.Insert, Fields: make([]row.Value, width)}}
	cmp := func(a, b row.Row) int { return compareByKeys(a, b, spec.OrderBy, spec.Types) }
	var (
		run  []row.Row
		used int64
		runs []spillRun
		w    *spillWriter
	)
	defer func() {
		if err != nil && w != nil {
			err = errors.Join(err, f.spill.remove(w.f))
		}
	}()
	flush := func() error {
		if w == nil {
			file, err := f.spill.create()
			if err != nil {
				return err
			}
			w = newSpillWriter(file, f.codec, false)
		}
		if len(spec.OrderBy) > 0 {
			slices.SortStableFunc(run, cmp)
		}
		start := w.off
		for _, r := range run {
			if err := w.write(r); err != nil {
				return err
			}
		}
		runs = append(runs, spillRun{off: start, end: w.off, n: len(run)})
		clear(run)
		run, used = run[:0], 0
		return nil
	}
	budget := spec.MemoryBudget
	var total int64
	for i, s := range enc {
		if err := f.cancelled(i + 1); err != nil {
			return nil, err
		}
		r, _, err := f.codec.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("sql/exec: OverAggregate: decoding a kept row: %w", err)
		}
		sz := rowBudgetSize(len(s), width)
		if budget > 0 && used+sz > budget && len(run) > 0 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		run = append(run, r)
		used += sz
		total += sz
	}
	if runs == nil {
		if len(spec.OrderBy) > 0 {
			slices.SortStableFunc(run, cmp)
		}
		p.mem = run
		return p, nil
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	run = nil
	// Merge spillFanIn runs at a time into a new file until one merge
	// makes the final, indexed file.
	src := w.f
	w = nil
	defer func() {
		if src != nil {
			if rerr := f.spill.remove(src); rerr != nil && err == nil {
				err = rerr
			}
		}
	}()
	for {
		final := len(runs) <= spillFanIn
		file, err := f.spill.create()
		if err != nil {
			return nil, err
		}
		w = newSpillWriter(file, f.codec, final)
		var merged []spillRun
		for i := 0; i < len(runs); i += spillFanIn {
			group := runs[i:min(i+spillFanIn, len(runs))]
			start := w.off
			n, err := f.mergeRuns(src, group, w, cmp)
			if err != nil {
				return nil, err
			}
			merged = append(merged, spillRun{off: start, end: w.off, n: n})
		}
		if err := w.flush(); err != nil {
			return nil, err
		}
		if err := f.spill.remove(src); err != nil {
			src = nil
			return nil, err
		}
		src, runs = w.f, merged
		if final {
			p.file, p.index, p.size = w.f, w.index, w.off
			p.ring = make([]ringSlot, ringSize(budget, total/int64(p.n)))
			for i := range p.ring {
				p.ring[i].j = -1
			}
			src, w = nil, nil
			return p, nil
		}
		w = nil
	}
}

// mergeRuns merges the sorted runs of src into w: the least row first,
// of two equal rows the earlier run's (the runs are in arrival order).
func (f *batchOverFn) mergeRuns(src *os.File, runs []spillRun, w *spillWriter, cmp func(a, b row.Row) int) (int, error) {
	type head struct {
		r   *runReader
		row row.Row
	}
	heads := make([]head, 0, len(runs))
	for _, r := range runs {
		rr := newRunReader(src, r, f.codec, max(4<<10, spillBufferSize/len(runs)))
		x, ok, err := rr.next()
		if err != nil {
			return 0, err
		}
		if ok {
			heads = append(heads, head{rr, x})
		}
	}
	n := 0
	for len(heads) > 0 {
		best := 0
		for i := 1; i < len(heads); i++ {
			if cmp(heads[i].row, heads[best].row) < 0 {
				best = i
			}
		}
		if err := w.write(heads[best].row); err != nil {
			return n, err
		}
		n++
		if err := f.cancelled(n); err != nil {
			return n, err
		}
		x, ok, err := heads[best].r.next()
		if err != nil {
			return n, err
		}
		if ok {
			heads[best].row = x
		} else {
			heads = slices.Delete(heads, best, best+1)
		}
	}
	return n, nil
}
