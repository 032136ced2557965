package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirstream/weir/internal/crashtest"
)

// spillDiskfullJob is a batch OVER query whose one partition (k = 1)
// spills past a 64 kb buffer into io.tmp.dirs, writing an exactly-once
// filesystem sink.
const spillDiskfullJob = `
SET 'execution.runtime-mode' = 'batch';
SET 'table.exec.resource.external-buffer-memory' = '64 kb';
SET 'io.tmp.dirs' = '%s';
CREATE TABLE src (k INT, ts BIGINT, v BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '%d',
  'fields.k.min' = '1', 'fields.k.max' = '1', 'fields.ts.kind' = 'sequence', 'fields.ts.start' = '1',
  'fields.ts.end' = '%d', 'fields.v.kind' = 'sequence', 'fields.v.start' = '1', 'fields.v.end' = '%d');
CREATE TABLE dst (k INT, ts BIGINT, s BIGINT) WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');
INSERT INTO dst SELECT k, ts, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM src;
`

// TestSQLBatchOverSpillDiskFull: a batch OVER partition that spills into
// io.tmp.dirs on a small filesystem (crashtest.NewSmallDisk) that it
// fills. The job must stop with an error naming the spill file and the
// full disk, commit nothing to its exactly-once sink, and leave no spill
// file behind; run again with io.tmp.dirs on a disk with room, it
// commits every row once with the right sums.
func TestSQLBatchOverSpillDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the weir binary on a full filesystem")
	}
	const rows = 15000
	dir := t.TempDir()
	disk := crashtest.NewSmallDisk(t, "spill-diskfull", 128<<10)
	bin, logPath := weirBinary(t), filepath.Join(dir, "runs.log")
	out := filepath.Join(dir, "out")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of the runs:\n%s", b)
		}
	})
	writeJob := func(name, tmp string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, fmt.Appendf(nil, spillDiskfullJob, tmp, rows, rows, rows, out), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	free := disk.Avail(t)
	spill := filepath.Join(disk.Dir, "spill")
	c := disk.Start(t, bin, logPath, "sql", "-f", writeJob("full.sql", spill))
	exited, err := c.WaitFor(3 * time.Minute)
	if !exited {
		t.Fatal("the job on the full disk did not stop within 3 minutes")
	}
	if err == nil {
		t.Fatal("the job on the full disk succeeded; its spill files should not fit in 128 KiB")
	}
	log := crashtest.ReadLog(t, logPath, 0)
	for _, want := range []string{"no space left on device", "spill file", spill} {
		if !strings.Contains(log, want) {
			t.Errorf("the failed run's output does not say %q", want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		if got := committedCSV(t, out); len(got) != 0 {
			t.Errorf("the failed run committed %d rows, want none (first %q)", len(got), got[0])
		}
	}
	// Every spill file and directory is removed on failure: the disk is as
	// free as before (a few blocks of slack for the emptied directories).
	if after := disk.Avail(t); after < free-16<<10 {
		t.Errorf("the failed run left %d bytes on the spill disk", free-after)
	}
	if es, err := os.ReadDir(disk.Path(spill)); err == nil && len(es) > 0 {
		t.Errorf("the failed run left %d entries in %s", len(es), spill)
	}

	c = crashtest.Start(t, bin, logPath, "sql", "-f", writeJob("room.sql", filepath.Join(dir, "spill")))
	if exited, err := c.WaitFor(3 * time.Minute); !exited || err != nil {
		t.Fatalf("the run with room: exited %v, %v", exited, err)
	}
	got := committedCSV(t, out)
	if len(got) != rows {
		t.Fatalf("committed %d rows, want %d", len(got), rows)
	}
	seen := make(map[int64]bool, rows)
	for _, l := range got {
		var k, ts, s int64
		if _, err := fmt.Sscanf(l, "%d,%d,%d", &k, &ts, &s); err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		// v = ts (both sequences from 1), so the sum of the row and the
		// two before it is 3ts-3 from ts = 3 on.
		want := 3*ts - 3
		switch ts {
		case 1:
			want = 1
		case 2:
			want = 3
		}
		if k != 1 || s != want || seen[ts] {
			t.Fatalf("row %q: want 1,%d,%d once", l, ts, want)
		}
		seen[ts] = true
	}
}
