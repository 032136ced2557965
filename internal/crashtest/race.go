//go:build race

package crashtest

// raceEnabled reports that this test binary was built with -race; Build
// then builds the children with -race as well, so that they reuse the
// packages the test build compiled instead of compiling every dependency a
// second time (the largest part of a cold-cache test run's crash tests).
const raceEnabled = true
