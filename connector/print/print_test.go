package print_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
)

func TestPrint(t *testing.T) {
	values := make([]int, 300)
	for i := range values {
		values[i] = i
	}
	tests := []struct {
		name   string
		p      int
		sink   func(w *bytes.Buffer) *print.Sink[int]
		prefix func(v int) string // expected prefix of value v's line
		text   func(v int) string
	}{
		{"p1", 1, func(w *bytes.Buffer) *print.Sink[int] { return print.New[int](w) },
			func(int) string { return "" }, func(v int) string { return fmt.Sprint(v) }},
		{"p1 identifier", 1, func(w *bytes.Buffer) *print.Sink[int] { return print.New[int](w).WithIdentifier("out") },
			func(int) string { return "out> " }, func(v int) string { return fmt.Sprint(v) }},
		// FromSlice at parallelism 3 gives value i to subtask i%3, and the
		// sink is chained to it: the prefix is subtask+1.
		{"p3", 3, func(w *bytes.Buffer) *print.Sink[int] { return print.New[int](w) },
			func(v int) string { return fmt.Sprintf("%d> ", v%3+1) }, func(v int) string { return fmt.Sprint(v) }},
		{"p3 identifier format", 3, func(w *bytes.Buffer) *print.Sink[int] {
			return print.New[int](w).WithIdentifier("x").WithFormat(func(v int) string { return fmt.Sprintf("v=%03d", v) })
		}, func(v int) string { return fmt.Sprintf("x:%d> ", v%3+1) }, func(v int) string { return fmt.Sprintf("v=%03d", v) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			env := weir.NewEnvironment(weir.Options{Parallelism: tc.p})
			weir.FromSlice(env, values).SetParallelism(tc.p).SinkTo(tc.sink(&buf))
			if err := env.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			var want []string
			for _, v := range values {
				want = append(want, tc.prefix(v)+tc.text(v))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("printed lines differ:\n got %q...\nwant %q...", got[:5], want[:5])
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrintWriteError(t *testing.T) {
	env := weir.NewEnvironment(weir.Options{})
	weir.FromSlice(env, []int{1}).SinkTo(print.New[int](failingWriter{}))
	err := env.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Execute = %v, want the writer's error", err)
	}
}

func TestNilWriter(t *testing.T) {
	_, err := print.New[int](nil).CreateWriter(weir.SinkContext{Parallelism: 1})
	var oe *weir.InvalidOptionError
	if !weir.IsInvalidOption(err) || !errors.As(err, &oe) || err.Error() != "print: option writer: must not be nil" {
		t.Fatalf("CreateWriter = %v, want an invalid option error", err)
	}
}
