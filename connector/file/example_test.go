package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/connector/print"
)

type payment struct {
	Account string  `csv:"account"`
	Amount  float64 `csv:"amount"`
}

// Read a CSV file, send malformed lines to a dead-letter side output, and
// print both.
func ExampleCSVSource() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "payments.csv")
	_ = os.WriteFile(path, []byte("account,amount\nA,10.5\nB,lots\nC,3\n"), 0o644)

	dlq := weir.NewOutputTag[weir.DeadLetter]("bad-lines")
	env := weir.NewEnvironment(weir.Options{})
	payments := weir.FromSource(env, file.CSVSource[payment](path, file.SourceOptions{OnError: weir.DeadLetterTo(dlq)}),
		weir.NoWatermarks[payment](), "payments")
	payments.SinkTo(print.New[payment](os.Stdout))
	weir.SideOutput(payments, dlq).SinkTo(print.New[weir.DeadLetter](os.Stdout).WithFormat(func(d weir.DeadLetter) string {
		return fmt.Sprintf("dead letter: line %q: field %s", d.Raw, d.Field)
	}))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {A 10.5}
	// dead letter: line "B,lots": field amount
	// {C 3}
}
