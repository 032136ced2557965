package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
)

// intLines decodes a line as an int; "#" lines are skipped.
type intLines struct{}

func (intLines) Decode(line []byte) (int, bool, string, error) {
	if strings.HasPrefix(string(line), "#") {
		return 0, false, "", nil
	}
	n, err := strconv.Atoi(string(line))
	if err != nil {
		return 0, false, "n", err
	}
	return n, true, "", nil
}

// TestLineSource: a LineSource decodes each non-blank line with its
// decoder, skips the lines it declines, and reports bad lines with file,
// line and field.
func TestLineSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("1\n# comment\n\n2\r\nx\n3"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(p weir.ErrorPolicy) ([]int, []weir.DeadLetter, error) {
		env := weir.NewEnvironment(weir.Options{})
		src := weir.FromSource(env, file.LineSource[int](dir, func() file.LineDecoder[int] { return intLines{} }, file.SourceOptions{OnError: p}), weir.WatermarkStrategy[int]{}, "lines")
		var mu sync.Mutex
		var got []int
		var dead []weir.DeadLetter
		src.SinkTo(weir.SinkFunc[int](func(_ context.Context, v int, _ int64) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, v)
			return nil
		}))
		if tag, ok := p.DeadLetters(); ok {
			weir.SideOutput(src, tag).SinkTo(weir.SinkFunc[weir.DeadLetter](func(_ context.Context, d weir.DeadLetter, _ int64) error {
				mu.Lock()
				defer mu.Unlock()
				dead = append(dead, d)
				return nil
			}))
		}
		err := env.Execute(context.Background())
		return got, dead, err
	}
	_, _, err := run(weir.FailOnError())
	var bad *weir.BadRecordError
	if !errors.As(err, &bad) || bad.DeadLetter.Field != "n" || !strings.HasSuffix(bad.DeadLetter.Source, "a.txt line 5") {
		t.Fatalf("error %v: want line 5, field n", err)
	}
	got, dead, err := run(weir.DeadLetterTo(weir.NewOutputTag[weir.DeadLetter]("bad")))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{1, 2, 3}) || len(dead) != 1 || string(dead[0].Raw) != "x" {
		t.Errorf("got %v, dead letters %v", got, dead)
	}
}
