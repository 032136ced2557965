package cdc

import (
	"fmt"
	"os"
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// binaries holds the crash job (./internal/crashjob) the crash tests run
// as child processes, built once per test run for all of them.
var binaries crashtest.Binaries

func TestMain(m *testing.M) {
	code := m.Run()
	if err := binaries.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
