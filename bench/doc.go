// Package bench holds Weir's throughput benchmarks. Each scenario runs the
// same work twice in one process: as a Weir pipeline and as a hand-written
// Go loop. Both report a checksum of what reached the sink, so a scenario
// also checks that the engine computed what the loop computed.
//
// Throughput is measured per core of CPU time (user + system time of the
// whole process from getrusage, not wall time), so that a run on a busy
// machine and a pipeline spreading over several goroutines are compared
// fairly. Allocations per record come from runtime.MemStats.Mallocs.
//
// Run and the Scenario functions are used by the root package's go test
// benchmarks and by the `weir bench` command. Nothing here keeps global
// state; every run builds its own environment.
package bench
