package bench

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// Measurement is the cost of one run.
type Measurement struct {
	// Records is the number of input records processed.
	Records int64
	// CPU is the process's user + system time during the run.
	CPU time.Duration
	// Wall is the elapsed time.
	Wall time.Duration
	// Mallocs is the number of heap allocations during the run.
	Mallocs uint64
	// PeakRSS is the growth of the process's resident set during the run:
	// its peak (VmHWM, reset before the run) minus its size at the start,
	// after a GC that returned free memory to the OS. It is what the run
	// itself needed; the binary, the runtime and earlier runs' retained
	// memory are the start. -1 where the platform cannot tell (not Linux).
	PeakRSS int64
	// StartRSS is the resident set at the start of the run (the fixed
	// cost PeakRSS is counted from); -1 where unknown.
	StartRSS int64
	// StartFileRSS is the part of StartRSS that maps files (RssFile: the
	// executable's text and data, shared libraries), -1 where unknown.
	// It depends on the kernel's page cache, not on the program: the
	// same 130 MB weir binary maps 43 MB of its file while a copy of it
	// that was just linked maps 90 MB (the linker's writes leave it in
	// large page-cache folios, mapped whole). PeakAnonRSS leaves it out.
	StartFileRSS int64
}

// PeakAnonRSS returns the process's peak resident set during the run less
// the file pages mapped at its start (StartFileRSS): the memory the
// process itself held (heap, stacks, the runtime), comparable between
// binaries and runs; -1 where unknown. It is an upper bound: file pages
// first touched during the run count as memory.
func (m Measurement) PeakAnonRSS() int64 {
	if m.PeakRSS < 0 || m.StartRSS < 0 || m.StartFileRSS < 0 {
		return -1
	}
	return m.StartRSS - m.StartFileRSS + m.PeakRSS
}

// PerCoreSecond returns records per second of CPU time.
func (m Measurement) PerCoreSecond() float64 {
	if m.CPU <= 0 {
		return 0
	}
	return float64(m.Records) / m.CPU.Seconds()
}

// AllocsPerRecord returns heap allocations per input record.
func (m Measurement) AllocsPerRecord() float64 {
	if m.Records == 0 {
		return 0
	}
	return float64(m.Mallocs) / float64(m.Records)
}

// cpuTime returns the process's user + system CPU time.
func cpuTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("bench: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Measure runs fn, which processes records input records, and returns its
// CPU time, wall time and allocations. It collects garbage first so that
// earlier runs' garbage is not charged to fn.
func Measure(records int64, fn func() error) (Measurement, error) {
	runtime.GC()
	debug.FreeOSMemory()
	start := resetPeakRSS()
	startFile := int64(-1)
	if start >= 0 {
		startFile = procStatus("RssFile:")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, err := cpuTime()
	if err != nil {
		return Measurement{}, err
	}
	t0 := time.Now()
	if err := fn(); err != nil {
		return Measurement{}, err
	}
	wall := time.Since(t0)
	cpu1, err := cpuTime()
	if err != nil {
		return Measurement{}, err
	}
	runtime.ReadMemStats(&after)
	m := Measurement{Records: records, CPU: cpu1 - cpu0, Wall: wall, Mallocs: after.Mallocs - before.Mallocs,
		PeakRSS: -1, StartRSS: start, StartFileRSS: startFile}
	if peak := procStatus("VmHWM:"); peak >= 0 && start >= 0 {
		m.PeakRSS = max(peak-start, 0)
	}
	return m, nil
}

// resetPeakRSS resets the kernel's peak-RSS mark of this process (Linux:
// writing 5 to /proc/self/clear_refs) and returns the current resident set
// in bytes, or -1 if either is not possible.
func resetPeakRSS() int64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return -1
	}
	return procStatus("VmRSS:")
}

// procStatus returns a size field ("VmHWM:") of /proc/self/status in
// bytes, or -1.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	i := bytes.Index(b, []byte(field))
	if i < 0 {
		return -1
	}
	rest := b[i+len(field):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	f := bytes.Fields(rest) // "1234", "kB"
	if len(f) != 2 || string(f[1]) != "kB" {
		return -1
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return -1
	}
	return kb << 10
}
