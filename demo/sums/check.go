package sums

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadOutput returns the records of the committed part files in dir (names
// starting with "part-"); a missing directory holds none.
func ReadOutput(dir string) ([]Output, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	var recs []Output
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		r, err := readJSONLines[Output](filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		recs = append(recs, r...)
	}
	return recs, nil
}

func readJSONLines[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sums: %w", err)
	}
	defer f.Close()
	var recs []T
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("sums: %s:%d: %q: %w", path, line, sc.Text(), err)
		}
		recs = append(recs, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sums: %s: %w", path, err)
	}
	return recs, nil
}

type keySeq struct {
	key string
	seq int64
}

// Check compares the committed output in out with the running sums of the
// input files (*.jsonl) in in: every input (key, seq) must be committed
// exactly once with its running sum, and no uncommitted file (in-progress
// or staged) may be left in out. It returns the first difference found.
func Check(in, out string) error {
	want := map[keySeq]int64{}
	files, err := filepath.Glob(filepath.Join(in, "*.jsonl"))
	if err != nil {
		return fmt.Errorf("sums: check: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("sums: check: no input files in %s", in)
	}
	for _, f := range files {
		recs, err := readJSONLines[Input](f)
		if err != nil {
			return err
		}
		sums := map[string]int64{}
		next := map[string]int64{}
		for _, r := range recs {
			if r.Seq != next[r.Key] {
				return fmt.Errorf("sums: check: input %s: key %s seq %d out of order", f, r.Key, r.Seq)
			}
			next[r.Key]++
			sums[r.Key] += r.Value
			ks := keySeq{r.Key, r.Seq}
			if _, dup := want[ks]; dup {
				return fmt.Errorf("sums: check: input: key %s in several files", r.Key)
			}
			want[ks] = sums[r.Key]
		}
	}
	recs, err := ReadOutput(out)
	if err != nil {
		return err
	}
	got := map[keySeq]int64{}
	for _, o := range recs {
		ks := keySeq{o.Key, o.Seq}
		if prev, dup := got[ks]; dup {
			return fmt.Errorf("sums: check: key %s seq %d committed twice (sums %d and %d)", o.Key, o.Seq, prev, o.Sum)
		}
		got[ks] = o.Sum
		w, ok := want[ks]
		if !ok {
			return fmt.Errorf("sums: check: key %s seq %d is not in the input", o.Key, o.Seq)
		}
		if o.Sum != w {
			return fmt.Errorf("sums: check: key %s seq %d has sum %d, want %d", o.Key, o.Seq, o.Sum, w)
		}
	}
	if len(got) != len(want) {
		for ks := range want {
			if _, ok := got[ks]; !ok {
				return fmt.Errorf("sums: check: %d of %d records committed; missing e.g. key %s seq %d", len(got), len(want), ks.key, ks.seq)
			}
		}
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("sums: check: %w", err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			return fmt.Errorf("sums: check: uncommitted file %s left in %s", e.Name(), out)
		}
	}
	return nil
}
