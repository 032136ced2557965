package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirstream/weir/internal/crashtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCrashRestore is the acceptance test of exactly-once output to
// Kafka: the broker runs in its own process (weir dev kafka with a data
// directory), input arrives at a steady rate, and the example job is
// SIGKILLed at random moments (shortly after a checkpoint completed, or
// while it starts and restores) and restarted with -restore latest at
// varying parallelism; once, the broker itself is stopped and restarted
// under the running job, and once it is SIGKILLed while the job's open
// transactions hold records (and restarted). A read_committed consumer
// then finds every input (key, seq) exactly once in the output topic,
// with correct sums.
//
// Where a kill can land, and why the output stays exact:
//   - before a checkpoint completes: its transactions are open; the
//     restarted job re-initialises every transactional id of the sink,
//     which aborts them, and replays the input from the restored offsets;
//   - after a checkpoint completed, before or during its commit: the
//     restarted job commits the restored checkpoint's transactions by
//     their producer id and epoch (a repeated commit is accepted) before
//     aborting leftovers;
//   - while the restarted job commits or aborts: the same checkpoint is
//     restored and committed once more;
//   - the broker dies while transactions hold records: the restarted
//     broker aborts them, writing their ABORT markers (weir dev kafka
//     does, where kfake alone does not), and the job replays their input.
//     The broker is killed well after a checkpoint's commit and before
//     the next checkpoint (1s apart in that run), because kfake, unlike
//     Kafka, cannot keep a transaction open across a crash: a checkpoint
//     whose transactions were staged but not committed would be lost
//     (the sink fails with ErrTransactionLost).
func TestCrashRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example and the weir binary many times")
	}
	dir := t.TempDir()
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
	brokerArgs := []string{"dev", "kafka", "--port", strconv.Itoa(port), "--data-dir", filepath.Join(dir, "kafka"),
		"--topics", "input:4,output:4"}
	startBroker := func() *crashtest.Child {
		b := crashtest.Start(t, weirBin, logPath, brokerArgs...)
		b.WaitUntil(t, "broker", 20*time.Second, func() bool {
			c, err := net.Dial("tcp", brokers)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return b
	}
	broker := startBroker()
	defer func() { broker.Signal(syscall.SIGTERM) }()

	// 16000 records at 4000 per second: the kills happen while input
	// arrives.
	const n = 16000
	gen := crashtest.Start(t, bin, logPath, "-brokers", brokers, "-generate", strconv.Itoa(n), "-keys", "8", "-rate", "4000")
	chk := filepath.Join(dir, "chk")
	args := func(p int) []string {
		return []string{"-brokers", brokers, "-checkpoint-dir", chk, "-checkpoint-interval", "50ms",
			"-restore", "latest", "-parallelism", strconv.Itoa(p), "-v"}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	pars := []int{1, 3, 2, 1, 2, 3}
	const wantKills = 12
	kills, early, brokerKills := 0, 0, 0
	start := time.Now()
	for run := 0; kills < wantKills; run++ {
		before := crashtest.LatestCheckpoint(t, chk)
		a := args(pars[run%len(pars)])
		if run == 1 {
			a = append(a, "-checkpoint-interval", "1s")
		}
		c := crashtest.Start(t, bin, logPath, a...)
		switch {
		case run%4 == 3:
			// While the job starts: restoring, committing the restored
			// transactions, aborting leftovers.
			c.Pause(time.Duration(rng.IntN(150)) * time.Millisecond)
			early++
		case run == 1:
			// The broker is SIGKILLed while the job's transactions hold
			// records, between checkpoints.
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(200 * time.Millisecond) // the checkpoint's commit is done
			c.WaitUntil(t, "records in open transactions", 10*time.Second, func() bool {
				lso, hwm := outputOffsets(t, brokers)
				return hwm > lso
			})
			if exited, err := broker.Signal(syscall.SIGKILL); exited {
				t.Fatalf("broker exited by itself: %v", err)
			}
			brokerKills++
			broker = startBroker()
			mid := crashtest.LatestCheckpoint(t, chk)
			c.WaitUntil(t, "checkpoint after the broker crash", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > mid })
			t.Logf("job survived a broker crash: checkpoint %d after %d", crashtest.LatestCheckpoint(t, chk), mid)
		case run == 5:
			// The broker restarts under the running job.
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			if _, err := broker.Signal(syscall.SIGTERM); err != nil {
				t.Fatalf("stopping the broker: %v", err)
			}
			broker = startBroker()
			mid := crashtest.LatestCheckpoint(t, chk)
			c.WaitUntil(t, "checkpoint after the broker restart", 60*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > mid })
			t.Logf("job survived a broker restart: checkpoint %d after %d", crashtest.LatestCheckpoint(t, chk), mid)
		default:
			c.WaitUntil(t, "new checkpoint", 30*time.Second, func() bool { return crashtest.LatestCheckpoint(t, chk) > before })
			c.Pause(time.Duration(rng.IntN(60)) * time.Millisecond)
		}
		exited, err := c.Signal(syscall.SIGKILL)
		if exited {
			t.Fatalf("run %d exited by itself: %v", run, err)
		}
		kills++
	}
	t.Logf("%d kills (%d while starting), %d broker kills, in %v", kills, early, brokerKills, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(readLog(t, logPath), "aborted a transaction left open by a crash") {
		t.Error("the broker killed with transactions holding records aborted none at its restart")
	}
	if exited, err := gen.WaitFor(60 * time.Second); !exited {
		t.Fatal("input generation did not finish")
	} else if err != nil {
		t.Fatalf("generating input: %v", err)
	}
	final := crashtest.Start(t, bin, logPath, args(2)...)
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

// outputOffsets returns the sums over the output topic's partitions of the
// last stable offsets and of the high watermarks.
func outputOffsets(t *testing.T, brokers string) (lso, hwm int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	stable, err1 := adm.ListCommittedOffsets(ctx, "output")
	ends, err2 := adm.ListEndOffsets(ctx, "output")
	if err1 != nil || err2 != nil {
		return 0, 0 // the broker is starting: not yet
	}
	stable.Each(func(o kadm.ListedOffset) { lso += o.Offset })
	ends.Each(func(o kadm.ListedOffset) { hwm += o.Offset })
	return lso, hwm
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
