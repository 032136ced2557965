package cdc

import (
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// binaries holds the crash job (./internal/crashjob) the crash tests run
// as child processes, built once per test run for all of them.
var binaries crashtest.Binaries

func TestMain(m *testing.M) { binaries.RunTests(m) }
