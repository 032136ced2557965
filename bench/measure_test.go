package bench

import (
	"runtime"
	"testing"
)

// TestMeasurePeakAnonRSS: the peak that Measure reports is the process's
// own memory at its highest (here a 64 MiB slice touched during the run),
// without the file pages mapped (the test binary's), which
// StartFileRSS counts.
func TestMeasurePeakAnonRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is measured on Linux only")
	}
	const size = 64 << 20
	var anonAtPeak int64
	m, err := Measure(1, func() error {
		b := make([]byte, size)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		anonAtPeak = procStatus("RssAnon:")
		runtime.KeepAlive(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fileEnd := procStatus("RssFile:")
	if m.StartRSS < 0 || m.StartFileRSS <= 0 || anonAtPeak < size || fileEnd < 0 {
		t.Fatalf("start RSS %d, start file RSS %d, anon RSS at the peak %d, file RSS at the end %d: /proc/self/status unreadable?",
			m.StartRSS, m.StartFileRSS, anonAtPeak, fileEnd)
	}
	peak := m.PeakAnonRSS()
	// At least the anonymous memory seen at the peak; at most that, the
	// file pages first mapped during the run and a few MiB of heap that
	// may come and go around the read.
	if hi := anonAtPeak + max(fileEnd-m.StartFileRSS, 0) + 4<<20; peak < anonAtPeak || peak > hi {
		t.Fatalf("PeakAnonRSS %d MiB, want between %d and %d MiB (start %d MiB, of it files %d MiB)",
			peak>>20, anonAtPeak>>20, hi>>20, m.StartRSS>>20, m.StartFileRSS>>20)
	}
	t.Logf("peak %d MiB, anon at the peak %d MiB, start %d MiB of it files %d MiB, files at the end %d MiB",
		peak>>20, anonAtPeak>>20, m.StartRSS>>20, m.StartFileRSS>>20, fileEnd>>20)
}
