package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weirstream/weir"
)

// SinkOptions configure a file sink.
type SinkOptions struct {
	// Comma is the CSV field separator (default ',').
	Comma rune
}

// Sink writes records to a directory, one part file per subtask. Create it
// with JSONSink or CSVSink and add it with Stream.SinkTo.
type Sink[T any] struct {
	dir    string
	format format
	opts   SinkOptions
}

// JSONSink writes each record as a line of JSON (encoding/json, HTML
// characters not escaped) to dir/part-<subtask>-0.jsonl.
func JSONSink[T any](dir string, opts SinkOptions) *Sink[T] {
	return &Sink[T]{dir: dir, format: formatJSON, opts: opts}
}

// CSVSink writes records as CSV to dir/part-<subtask>-0.csv, with a header
// line first: the columns of struct T in field order, or for T =
// map[string]string the sorted keys of the first record (a later record
// with a key outside that header is an error; a missing key is written as
// an empty cell).
func CSVSink[T any](dir string, opts SinkOptions) *Sink[T] {
	return &Sink[T]{dir: dir, format: formatCSV, opts: opts}
}

// PartFile returns the name of a subtask's part file for the format of the
// sink.
func (s *Sink[T]) PartFile(subtask int) string {
	ext := "jsonl"
	if s.format == formatCSV {
		ext = "csv"
	}
	return fmt.Sprintf("part-%d-0.%s", subtask, ext)
}

// CreateWriter creates the directory if needed and the subtask's part file,
// replacing any file of that name.
func (s *Sink[T]) CreateWriter(ctx weir.SinkContext) (weir.SinkWriter[T], error) {
	w := &writer[T]{}
	switch s.format {
	case formatCSV:
		comma, err := checkComma(s.opts.Comma)
		if err != nil {
			return nil, err
		}
		schema, err := newCSVSchema[T]()
		if err != nil {
			return nil, optionError("record type", "", err)
		}
		w.csv = &csvEncoder[T]{schema: schema, comma: comma}
	default:
		w.json = &bytes.Buffer{}
		w.enc = json.NewEncoder(w.json)
		w.enc.SetEscapeHTML(false)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	w.name = filepath.Join(s.dir, s.PartFile(ctx.Subtask))
	f, err := os.Create(w.name)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	w.f = f
	w.bw = bufio.NewWriterSize(f, 64<<10)
	if w.csv != nil {
		if _, err := w.bw.Write(w.csv.header()); err != nil {
			f.Close()
			return nil, fmt.Errorf("file: writing %s: %w", w.name, err)
		}
	}
	return w, nil
}

type writer[T any] struct {
	name  string
	f     *os.File
	bw    *bufio.Writer
	csv   *csvEncoder[T]
	json  *bytes.Buffer
	enc   *json.Encoder
	count int64
}

func (w *writer[T]) Write(_ context.Context, v T, _ int64) error {
	w.count++
	var line []byte
	if w.csv != nil {
		b, err := w.csv.encode(v)
		if err != nil {
			return fmt.Errorf("file: %s record %d: %w", w.name, w.count, err)
		}
		line = b
	} else {
		w.json.Reset()
		if err := w.enc.Encode(v); err != nil {
			return fmt.Errorf("file: %s record %d: %w", w.name, w.count, err)
		}
		line = w.json.Bytes()
	}
	if _, err := w.bw.Write(line); err != nil {
		return fmt.Errorf("file: writing %s: %w", w.name, err)
	}
	return nil
}

// Flush writes buffered records to the file; at the end of input it also
// syncs the file to stable storage, unless ctx is done by then.
func (w *writer[T]) Flush(ctx context.Context, endOfInput bool) error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("file: writing %s: %w", w.name, err)
	}
	if endOfInput {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("file: syncing %s: %w", w.name, err)
		}
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("file: syncing %s: %w", w.name, err)
		}
	}
	return nil
}

func (w *writer[T]) Close() error {
	if w.f == nil {
		return nil
	}
	ferr := w.bw.Flush()
	cerr := w.f.Close()
	w.f = nil
	if ferr != nil {
		return fmt.Errorf("file: writing %s: %w", w.name, ferr)
	}
	if cerr != nil {
		return fmt.Errorf("file: closing %s: %w", w.name, cerr)
	}
	return nil
}
