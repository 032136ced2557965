package weir_test

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestStepperFailedSavepointNoLeak: a stepped job on Pebble whose
// savepoints fail on a full disk stays open (the failures are the
// caller's); once the caller closes it, no goroutine is left (Pebble's,
// the backoff's, the savepoint's), whether or not a later stop succeeded.
func TestStepperFailedSavepointNoLeak(t *testing.T) {
	for _, stopAfter := range []bool{false, true} {
		disk := crashtest.NewSmallDisk(t, "stepper-leak", 1<<20)
		spDir := disk.Path(filepath.Join(disk.Dir, "savepoints"))
		opts := goleak.IgnoreCurrent()
		c := newCommitted[sumOut]()
		st := savepointStepper(t, weir.StatePebble, 2, t.TempDir(), "", 4000, c)
		stepUntil(t, st, func() bool { return len(c.all()) > 0 })
		disk.FillLeaving(t, "filler", 8<<10)
		for range 3 {
			if _, err := st.StopWithSavepoint(spDir); err == nil || !strings.Contains(err.Error(), "no space left on device") {
				t.Fatalf("stop into a full disk = %v", err)
			}
			if err := st.Run(); err != nil {
				t.Fatalf("the job after a failed savepoint: %v", err)
			}
		}
		disk.Free(t, "filler")
		if stopAfter {
			if _, err := st.StopWithSavepoint(spDir); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		goleak.VerifyNone(t, opts)
	}
}
