package crashtest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Send sends sig to the child without waiting for it (a savepoint asked
// with SIGUSR1, a stop with SIGTERM whose outcome the test then awaits).
func (c *Child) Send(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
}

// FillLeaving fills the disk as Fill does, then gives back keep bytes of
// it: the next writes fit, those after them fail (a disk that fills while
// they are written).
func (d *SmallDisk) FillLeaving(t testing.TB, name string, keep int64) {
	t.Helper()
	size := d.Fill(t, name)
	if err := os.Truncate(d.Path(filepath.Join(d.Dir, name)), max(size-keep, 0)); err != nil {
		t.Fatal(err)
	}
}
