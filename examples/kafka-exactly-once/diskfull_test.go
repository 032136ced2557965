package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/checkpoint"
	"github.com/weirstream/weir/internal/crashtest"
)

// TestCheckpointDiskFull runs the example job, writing to Kafka with
// transactions, with its checkpoint directory on a small disk
// (crashtest.NewSmallDisk) and fills that disk while the sink's open
// transactions hold records. The checkpoint that cannot be stored fails
// the job (no failed checkpoint is tolerated), which restarts in its
// process from its latest checkpoint, aborting the open transactions,
// and fails again while the disk stays full; no checkpoint it leaves is
// taken for complete unless it is whole. Once space is freed, the job
// checkpoints again; it is then SIGKILLed and run once more with -restore
// latest, and a read_committed consumer finds every input record exactly
// once in the output topic, with correct sums.
func TestCheckpointDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example and the weir binary on a full filesystem")
	}
	dir := t.TempDir()
	disk := crashtest.NewSmallDisk(t, "kafka-chk-diskfull", 8<<20)
	bin, weirBin := binaries.Path(t, "kafka-exactly-once", "."), binaries.Path(t, "weir", "../../cmd/weir")
	logPath := filepath.Join(dir, "runs.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	}()
	port := freePort(t)
	brokers := fmt.Sprint("127.0.0.1:", port)
	broker := crashtest.Start(t, weirBin, logPath, "dev", "kafka", "--port", strconv.Itoa(port),
		"--data-dir", filepath.Join(dir, "kafka"), "--topics", "input:4,output:4")
	broker.WaitUntil(t, "broker", 20*time.Second, func() bool {
		c, err := net.Dial("tcp", brokers)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	defer func() { broker.Signal(syscall.SIGTERM) }()

	const n = 12000
	gen := crashtest.Start(t, bin, logPath, "-brokers", brokers, "-generate", strconv.Itoa(n), "-keys", "8", "-rate", "3000")
	chk := filepath.Join(disk.Dir, "chk")
	chkView := disk.Path(chk)
	args := []string{"-brokers", brokers, "-checkpoint-dir", chk, "-checkpoint-interval", "100ms",
		"-restore", "latest", "-parallelism", "2", "-v"}

	c := disk.Start(t, bin, logPath, args...)
	c.WaitUntil(t, "a checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chkView) > 0 })
	c.WaitUntil(t, "records in open transactions", 10*time.Second, func() bool {
		lso, hwm := outputOffsets(t, brokers)
		return hwm > lso
	})
	from := fileSize(t, logPath)
	disk.Fill(t, "filler")
	c.WaitUntil(t, "the job failing twice on the full disk", 30*time.Second, func() bool {
		return strings.Count(crashtest.ReadLog(t, logPath, from), "no space left on device") >= 2 &&
			strings.Contains(crashtest.ReadLog(t, logPath, from), "restart")
	})
	s := &checkpoint.Storage{Dir: chkView}
	if _, err := s.Find(context.Background(), false); err != nil {
		t.Fatalf("with the disk full, restoring the latest checkpoint would fail: %v", err)
	}
	full := crashtest.LatestCheckpoint(t, chkView)
	disk.Free(t, "filler")
	c.WaitUntil(t, "a checkpoint after freeing the disk", 60*time.Second, func() bool {
		return crashtest.LatestCheckpoint(t, chkView) > full
	})
	if exited, err := c.Signal(syscall.SIGKILL); exited {
		t.Fatalf("the job exited by itself: %v", err)
	}

	if exited, err := gen.WaitFor(60 * time.Second); !exited {
		t.Fatal("input generation did not finish")
	} else if err != nil {
		t.Fatalf("generating input: %v", err)
	}
	final := disk.Start(t, bin, logPath, args...)
	out, err := exec.Command(bin, "-brokers", brokers, "-verify", "-timeout", "60s").CombinedOutput()
	if exited, ferr := final.Signal(syscall.SIGTERM); exited {
		t.Errorf("final run exited by itself: %v", ferr)
	}
	t.Logf("verify: %s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !strings.Contains(string(out), fmt.Sprintf("input %d records", n)) {
		t.Fatalf("verify read another input than the %d generated records", n)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
