package connector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
)

// LookupFunction makes a filesystem table the table of a lookup join, as
// Flink's FileSystemLookupFunction: the subtask's function reads every
// row of the table into memory, indexed by the join's keys, and reads
// the table again on the first lookup after lookup.join.cache.ttl has
// passed since it last did. Rows whose key holds a NULL match nothing.
func (t *fsSource) LookupFunction(keys []int) (LookupFunction, error) {
	if t.codec != nil && t.codec.newChangelog != nil {
		return nil, fmt.Errorf("connector: table %s: a lookup join reads insert-only formats (json, csv, raw), not the changelog format '%s'", t.table, t.codec.id)
	}
	types := make([]row.Type, len(keys))
	for i, k := range keys {
		if k < 0 || k >= t.schema.Len() {
			return nil, fmt.Errorf("connector: table %s: lookup key column %d out of range", t.table, k)
		}
		types[i] = t.schema.Columns[k].Type.WithNullable(true)
	}
	l := &fsLookup{t: t.fsTable, keys: keys, codec: row.NewCodec(types), after: afterFunc}
	if len(types) == 1 {
		switch types[0].Root {
		case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
			// The codec writes such a key as its Int(), one-to-one.
			l.intKey = true
		}
	}
	return l, nil
}

// afterFunc runs f once d has passed (time.AfterFunc); stop cancels it.
func afterFunc(d time.Duration, f func()) (stop func() bool) {
	return time.AfterFunc(d, f).Stop
}

// fsLookup is one subtask's copy of a filesystem lookup table.
type fsLookup struct {
	t     *fsTable
	keys  []int
	codec *row.Codec
	// after arms the timer of lookup.join.cache.ttl (afterFunc; tests
	// inject a clock of their own).
	after func(d time.Duration, f func()) (stop func() bool)
	// stale is set by the timer armed at each load once
	// lookup.join.cache.ttl has passed: the next lookup loads the table
	// again, as Flink's checks of the clock on each lookup do, without a
	// clock read per lookup.
	stale atomic.Bool
	// buf is a key-encoding buffer for the next Lookup.
	buf atomic.Pointer[[]byte]
	// intKey: the key is one integer column; the rows are indexed by its
	// value (mu.ints) instead of its encoding (mu.rows). Two keys have the
	// same encoding exactly when their Int()s are equal, so the rows a key
	// finds are the same; a lookup then neither encodes the key nor
	// hashes a string.
	intKey bool

	mu struct {
		sync.RWMutex
		rows  map[string][]row.Row // by encoded key (nil if intKey)
		ints  map[int64][]row.Row  // by key value if intKey
		loads int
		// gen counts the timers armed; a timer marks the rows stale
		// only if none was armed (or the rows dropped) since it was.
		gen  uint64
		stop func() bool
	}
}

// Open loads the table: a table that cannot be read fails the job at
// its start, not at its first lookup.
func (l *fsLookup) Open(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loadLocked(ctx)
}

// LocalLookup marks the lookup as local: it reads memory and, once per
// lookup.join.cache.ttl, local files.
func (l *fsLookup) LocalLookup() {}

// Close drops the rows.
func (l *fsLookup) Close() error {
	l.mu.Lock()
	l.mu.rows, l.mu.ints = nil, nil
	l.disarmLocked()
	l.mu.Unlock()
	return nil
}

// disarmLocked cancels the ttl timer.
func (l *fsLookup) disarmLocked() {
	if l.mu.stop != nil {
		l.mu.stop()
		l.mu.stop = nil
	}
	l.mu.gen++
}

// armLocked marks the rows fresh and arms the timer that marks them
// stale when lookup.join.cache.ttl has passed.
func (l *fsLookup) armLocked() {
	l.disarmLocked()
	gen := l.mu.gen
	l.stale.Store(false)
	l.mu.stop = l.after(l.t.reload, func() {
		l.mu.Lock()
		if l.mu.gen == gen {
			l.stale.Store(true)
		}
		l.mu.Unlock()
	})
}

// Lookup returns the rows whose key columns equal key.
func (l *fsLookup) Lookup(ctx context.Context, key []row.Value) ([]row.Row, error) {
	if hasNull(key) {
		return nil, nil
	}
	if l.intKey {
		return l.lookupInt(ctx, key[0].Int())
	}
	// The key is encoded into a buffer taken from l.buf (a concurrent
	// call finds none and makes its own), so a lookup allocates nothing.
	buf := l.buf.Swap(nil)
	if buf == nil {
		buf = new([]byte)
	}
	k := l.codec.Append((*buf)[:0], row.Row{Fields: key})
	*buf = k
	defer l.buf.Store(buf)
	if !l.stale.Load() {
		l.mu.RLock()
		if l.mu.rows != nil {
			rows := l.mu.rows[string(k)]
			l.mu.RUnlock()
			return rows, nil
		}
		l.mu.RUnlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.rows == nil || l.stale.Load() {
		if err := l.loadLocked(ctx); err != nil {
			return nil, err
		}
	}
	return l.mu.rows[string(k)], nil
}

// lookupInt is Lookup for an integer key (intKey).
func (l *fsLookup) lookupInt(ctx context.Context, k int64) ([]row.Row, error) {
	if !l.stale.Load() {
		l.mu.RLock()
		if l.mu.ints != nil {
			rows := l.mu.ints[k]
			l.mu.RUnlock()
			return rows, nil
		}
		l.mu.RUnlock()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.ints == nil || l.stale.Load() {
		if err := l.loadLocked(ctx); err != nil {
			return nil, err
		}
	}
	return l.mu.ints[k], nil
}

// loadLocked reads the table's files into a new index.
func (l *fsLookup) loadLocked(ctx context.Context) error {
	files, err := file.ListFiles(l.t.path)
	if err != nil {
		return fmt.Errorf("connector: filesystem lookup table %s: %w", l.t.table, err)
	}
	if include := l.t.fileFilter(); include != nil {
		files = slices.DeleteFunc(files, func(f string) bool { return !include(f) })
	}
	rows := map[string][]row.Row{}
	ints := map[int64][]row.Row{}
	var key []byte
	kr := row.Row{Fields: make([]row.Value, len(l.keys))}
	add := func(r row.Row) {
		for i, c := range l.keys {
			kr.Fields[i] = r.Fields[c]
		}
		if hasNull(kr.Fields) {
			return // matches no key
		}
		if l.intKey {
			k := kr.Fields[0].Int()
			ints[k] = append(ints[k], r)
			return
		}
		key = l.codec.Append(key[:0], kr)
		rows[string(key)] = append(rows[string(key)], r)
	}
	// publish makes the new index the lookups' (one of the two maps).
	publish := func() {
		if l.intKey {
			l.mu.ints, l.mu.rows = ints, nil
		} else {
			l.mu.rows, l.mu.ints = rows, nil
		}
		l.mu.loads++
		l.armLocked()
	}
	if l.t.parquet != nil {
		src := &parquetSource{c: l.t.parquet, full: l.t.schema, part: l.t.part}
		for _, name := range files {
			err := src.readFile(ctx, name, func(r row.Row) error { add(r); return nil })
			if err != nil {
				return fmt.Errorf("connector: filesystem lookup table %s: %w", l.t.table, err)
			}
		}
		publish()
		return nil
	}
	dec, err := l.t.codec.newDecoder()
	if err != nil {
		return fmt.Errorf("connector: filesystem lookup table %s: %w", l.t.table, err)
	}
	for _, name := range files {
		var vals []row.Value
		if l.t.part != nil {
			if vals, _, err = l.t.part.values(name); err != nil {
				return err
			}
		}
		err := readLines(ctx, name, func(line []byte, n int64) error {
			r, ok, err := dec.Decode(line)
			if err != nil {
				if l.t.codec.ignoreParseErrors {
					return nil
				}
				// The format's error names the field.
				return fmt.Errorf("%s line %d: %w", name, n, err)
			}
			if !ok {
				return nil
			}
			if l.t.part != nil {
				r = l.t.part.fullRow(r, vals)
			}
			add(r.Clone())
			return nil
		})
		if err != nil {
			return fmt.Errorf("connector: filesystem lookup table %s: %w", l.t.table, err)
		}
	}
	publish()
	return nil
}

// readLines calls fn with every non-blank line of the file name (without
// its "\n" or "\r\n") and its number, counted from 1.
func readLines(ctx context.Context, name string, fn func(line []byte, n int64) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var n int64
	for {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			n++
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
			if len(line) > 0 {
				if ferr := fn(line, n); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
}
