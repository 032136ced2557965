// Package sums is the running-sum job of examples/exactly-once-files,
// importable so that the example's command and `weir run sums` build the
// same dataflow: JSON-lines records {"key","seq","value"} from an input
// directory, a running sum per key in keyed state, and {"key","seq","sum"}
// written through the exactly-once file sink, whose part files become
// visible only when a checkpoint completes.
//
// The operators have fixed uids (input, sums, output), so a checkpoint or
// savepoint of one build restores into another at any parallelism and
// either state backend. Generate writes input whose running sums do not
// depend on the parallelism; Check compares committed output with them.
//
// Build only adds operators to an environment; it starts nothing and
// keeps no state outside the job.
package sums

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/internal/fileuri"
	"github.com/weirstream/weir/state"
)

// Input is an input record.
type Input struct {
	Key   string `json:"key"`
	Seq   int64  `json:"seq"`
	Value int64  `json:"value"`
}

// Output is the running sum of a key after the record seq.
type Output struct {
	Key string `json:"key"`
	Seq int64  `json:"seq"`
	Sum int64  `json:"sum"`
}

// Config says where the job reads and writes.
type Config struct {
	// Input is the directory of JSON-lines input files.
	Input string
	// Output is the directory of the committed part files.
	Output string
	// Rate limits the input lines read per second across all subtasks
	// (0: as fast as possible).
	Rate float64
	// DeadLetters, if set, is a directory where input lines that do not
	// decode (bad JSON, a missing field, an over-long line) go as
	// weir.DeadLetter JSON lines, written exactly once like the output;
	// "" fails the job on the first such line.
	DeadLetters string
}

// Validate reports a configuration the job cannot run: an input or output
// directory not set, or an output directory that is the input directory
// or inside it (the source reads every file under its directory, so the
// next run would read this run's output as input). Paths are compared
// absolute, with symbolic links resolved.
func (c Config) Validate() error {
	if c.Input == "" || c.Output == "" {
		return errors.New("sums: the input and output directories must be set")
	}
	in, err := resolvePath(c.Input)
	if err != nil {
		return fmt.Errorf("sums: input %s: %w", c.Input, err)
	}
	out, err := resolvePath(c.Output)
	if err != nil {
		return fmt.Errorf("sums: output %s: %w", c.Output, err)
	}
	if err := outsideInput(in, out, "output", c.Output, c.Input); err != nil {
		return err
	}
	if c.DeadLetters != "" {
		dl, err := resolvePath(c.DeadLetters)
		if err != nil {
			return fmt.Errorf("sums: dead letters %s: %w", c.DeadLetters, err)
		}
		if err := outsideInput(in, dl, "dead-letter", c.DeadLetters, c.Input); err != nil {
			return err
		}
		if dl == out {
			return fmt.Errorf("sums: the dead-letter directory %s is the output directory", c.DeadLetters)
		}
	}
	return nil
}

// CheckOutsideInput fails if the local directory dir (named what, e.g.
// "checkpoint") is the input directory or inside it: the source reads every
// file under the input directory, so it would read the job's own files as
// input. An s3:// location or "" is never inside.
func (c Config) CheckOutsideInput(what, dir string) error {
	given := dir
	dir, err := fileuri.Path(dir)
	if err != nil {
		return fmt.Errorf("sums: %s directory: %w", what, err)
	}
	if dir == "" || strings.Contains(dir, "://") {
		return nil
	}
	in, err := resolvePath(c.Input)
	if err != nil {
		return fmt.Errorf("sums: input %s: %w", c.Input, err)
	}
	d, err := resolvePath(dir)
	if err != nil {
		return fmt.Errorf("sums: %s directory %s: %w", what, given, err)
	}
	return outsideInput(in, d, what, given, c.Input)
}

// outsideInput fails if the resolved directory dir (what, named as given)
// is the resolved input directory in or inside it.
func outsideInput(in, dir, what, given, input string) error {
	if rel, err := filepath.Rel(in, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		if rel == "." {
			return fmt.Errorf("sums: the %s directory %s is the input directory: a later run would read its own output", what, given)
		}
		return fmt.Errorf("sums: the %s directory %s is inside the input directory %s: a later run would read its own output", what, given, input)
	}
	return nil
}

// resolvePath returns p absolute, with the symbolic links of its longest
// existing prefix resolved (the rest need not exist yet).
func resolvePath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	dir, rest := abs, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}

// Build adds the job to env: the file source (uid input), the running sum
// keyed by Input.Key (uid sums) and the exactly-once JSON sink (uid
// output). Run it with env.Execute or env.Start; without checkpointing the
// sink commits its files only when the input ends. Every field of Input is
// required: a line that lacks one is a bad record, which fails the job or,
// with c.DeadLetters, goes there (uid dead-letters). Check c with Validate
// first.
func Build(env *weir.Environment, c Config) {
	opts := file.SourceOptions{LinesPerSecond: c.Rate, FailOnMissingField: true}
	dead := weir.NewOutputTag[weir.DeadLetter]("dead-letters")
	if c.DeadLetters != "" {
		opts.OnError = weir.DeadLetterTo(dead)
	}
	in := weir.FromSource[Input](env, file.JSONSource[Input](c.Input, opts), weir.NoWatermarks[Input](), "input").UID("input")
	if c.DeadLetters != "" {
		weir.SideOutput(in, dead).SinkTo(file.ExactlyOnceJSONSink[weir.DeadLetter](c.DeadLetters, file.ExactlyOnceOptions{})).
			Name("dead letters").UID("dead-letters")
	}
	sums := weir.ProcessKeyed[string, Input, Output](weir.KeyBy(in, func(r Input) string { return r.Key }), &runningSum{}).
		Name("running sum").UID("sums")
	sums.SinkTo(file.ExactlyOnceJSONSink[Output](c.Output, file.ExactlyOnceOptions{})).Name("output").UID("output")
}

// runningSum adds up the values of a key.
type runningSum struct {
	sum state.Value[int64]
}

func (r *runningSum) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	r.sum = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "sum"})
	return nil
}

func (r *runningSum) ProcessElement(ctx *weir.KeyedContext[string, Output], in Input) error {
	s, _ := r.sum.Value()
	s += in.Value
	r.sum.Update(s)
	ctx.Collect(Output{Key: in.Key, Seq: in.Seq, Sum: s})
	return nil
}

// Generate writes files input files of n records each to dir. The records
// of a key are all in one file, in the order of their sequence numbers,
// so the running sums of a key are defined whatever the parallelism. The
// same arguments write the same files.
func Generate(dir string, files, keys, n int) error {
	if files < 1 || keys < 1 {
		return fmt.Errorf("sums: generate: files and keys must be at least 1, not %d and %d", files, keys)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sums: generate: %w", err)
	}
	for f := range files {
		name := filepath.Join(dir, fmt.Sprintf("input-%03d.jsonl", f))
		out, err := os.Create(name)
		if err != nil {
			return fmt.Errorf("sums: generate: %w", err)
		}
		w := bufio.NewWriter(out)
		seq := make([]int64, keys)
		for i := range n {
			k := (i*7 + i/keys) % keys
			v := int64((f*7919+i*104729)%1000) - 300
			fmt.Fprintf(w, "{\"key\":\"f%03d-k%d\",\"seq\":%d,\"value\":%d}\n", f, k, seq[k], v)
			seq[k]++
		}
		if err := w.Flush(); err != nil {
			out.Close()
			return fmt.Errorf("sums: generate: %w", err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("sums: generate: %w", err)
		}
	}
	return nil
}
