package main

import (
	"testing"

	"github.com/weirstream/weir/internal/crashtest"
)

// binaries are the example and the weir binary the crash tests run as
// child processes, built once per test run (TestCrashRestore and
// TestCheckpointDiskFull run the same two).
var binaries crashtest.Binaries

func TestMain(m *testing.M) { binaries.RunTests(m) }
