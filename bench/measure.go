package bench

import (
	"fmt"
	"runtime"
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
	return Measurement{Records: records, CPU: cpu1 - cpu0, Wall: wall, Mallocs: after.Mallocs - before.Mallocs}, nil
}
