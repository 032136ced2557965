package print_test

import (
	"context"
	"fmt"
	"os"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/print"
)

func ExampleNew() {
	env := weir.NewEnvironment(weir.Options{})
	words := weir.FromSlice(env, []string{"a", "b"})
	words.SinkTo(print.New[string](os.Stdout).WithIdentifier("words"))
	if err := env.Execute(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// words> a
	// words> b
}
