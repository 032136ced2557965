package weir_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/codec"
)

// TestErrorKinds classifies errors the engine really produces with the
// Is* helpers: each is of its own kind and of no other.
func TestErrorKinds(t *testing.T) {
	type kinds struct{ corruption, retriable, option, badRecord, fallback bool }
	run := func(opts weir.Options, values []int) error {
		env := weir.NewEnvironment(opts)
		weir.Collect(weir.FromSlice(env, values).UID("src"))
		return env.Execute(context.Background())
	}
	for _, tc := range []struct {
		name string
		err  func(t *testing.T) error
		want kinds
	}{
		{"damaged checkpoint restored", func(t *testing.T) error {
			dir := t.TempDir()
			opts := weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Hour, Dir: dir}}
			if err := run(opts, []int{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
			// Damage every file of the checkpoints the run left.
			chk, _ := filepath.Glob(filepath.Join(dir, "chk-*"))
			if len(chk) == 0 {
				t.Fatalf("no checkpoint in %s", dir)
			}
			damaged := 0
			filepath.WalkDir(chk[0], func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					b, _ := os.ReadFile(p)
					if len(b) > 0 {
						b[len(b)/2] ^= 0xff
						os.WriteFile(p, b[:len(b)-1], 0o644)
						damaged++
					}
				}
				return nil
			})
			if damaged == 0 {
				t.Fatalf("no file in %s", chk[0])
			}
			opts.Restore = chk[0]
			opts.Checkpoints = weir.CheckpointOptions{}
			return run(opts, []int{1, 2, 3})
		}, kinds{corruption: true}},
		{"truncated value", func(t *testing.T) error {
			c, err := codec.For[string]()
			if err != nil {
				t.Fatal(err)
			}
			b := c.Append(nil, "a string")
			_, _, err = c.Decode(b[:len(b)-2])
			return err
		}, kinds{corruption: true}},
		{"checkpointing without a directory", func(t *testing.T) error {
			return run(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Second}}, []int{1})
		}, kinds{option: true}},
		{"unknown state backend", func(t *testing.T) error {
			return run(weir.Options{StateBackend: "tape"}, []int{1})
		}, kinds{option: true}},
		{"max parallelism above the limit", func(t *testing.T) error {
			return run(weir.Options{MaxParallelism: 1 << 30}, []int{1})
		}, kinds{option: true}},
		{"record rejected", func(t *testing.T) error {
			return &weir.BadRecordError{DeadLetter: weir.DeadLetter{Reason: "not a number"}}
		}, kinds{badRecord: true}},
		{"operator failure", func(t *testing.T) error {
			env := weir.NewEnvironment(weir.Options{})
			weir.Collect(weir.TryMap(weir.FromSlice(env, []int{1}), func(int) (int, error) { return 0, errors.New("boom") }))
			return env.Execute(context.Background())
		}, kinds{}},
		{"I/O timeout", func(t *testing.T) error {
			return &os.PathError{Op: "read", Path: "x", Err: os.ErrDeadlineExceeded}
		}, kinds{retriable: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			if err == nil {
				t.Fatal("no error")
			}
			got := kinds{weir.IsCorruption(err), weir.IsRetriable(err), weir.IsInvalidOption(err), weir.IsBadRecord(err), weir.IsCheckpointFallback(err)}
			if got != tc.want {
				t.Fatalf("%v: kinds %+v, want %+v", err, got, tc.want)
			}
		})
	}
}

// Option errors of the engine share the connectors' wording.
func TestOptionErrorWording(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{Checkpoints: weir.CheckpointOptions{Interval: time.Second}})
	weir.Collect(weir.FromSlice(env, []int{1}))
	err := env.Execute(context.Background())
	var oe *weir.InvalidOptionError
	if !errors.As(err, &oe) || oe.Option != "Checkpoints.Dir" ||
		err.Error() != "weir: option Checkpoints.Dir: must be set for checkpointing (Checkpoints.Interval)" {
		t.Fatalf("Execute = %v, want an invalid Checkpoints.Dir", err)
	}
}

// MarkError keeps the message and matches both the error and the kind.
func TestMarkError(t *testing.T) {
	base := errors.New("x: gone")
	err := weir.MarkError(base, weir.ErrDataLoss)
	if err.Error() != "x: gone" || !errors.Is(err, base) || !weir.IsDataLoss(err) || weir.IsCorruption(err) {
		t.Fatalf("MarkError: %v", err)
	}
	if weir.MarkError(nil, weir.ErrDataLoss) != nil {
		t.Fatal("MarkError(nil) is not nil")
	}
}
