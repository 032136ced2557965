package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/demo/sums"
	"github.com/weirstream/weir/internal/checkpoint"
)

// chkIDs lists the chk-<id> directories of dir.
func chkIDs(t *testing.T, dir string) []int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "chk-"); ok && e.IsDir() {
			id, err := strconv.ParseInt(n, 10, 64)
			if err == nil {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

var stoppedWith = regexp.MustCompile(`weir run: stopped with savepoint (\S+/savepoint-(\d+)-\S+)\n`)

// stopWithSavepoint runs the sums job until some output is committed, then
// stops it with a savepoint (SIGTERM) and returns the savepoint's path and
// id.
func stopWithSavepoint(t *testing.T, args ...string) (string, int64) {
	t.Helper()
	p := startRun(t, args...)
	out := args[slices.Index(args, "--output")+1]
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.sigs <- syscall.SIGTERM
	if err := p.wait(t); err != nil {
		t.Fatalf("stop with savepoint: %v\n%s", err, p.stderr.String())
	}
	m := stoppedWith.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no savepoint path on stderr:\n%s", p.stderr.String())
	}
	if n := committedLines(t, out); n >= sumsTotal {
		t.Fatalf("the job committed all %d records before it was stopped: nothing left to restore", n)
	}
	id, _ := strconv.ParseInt(m[2], 10, 64)
	return m[1], id
}

// TestRunStopWithSavepointThenLatest (issue: stop-with-savepoint, then
// --restore latest, duplicated output): a stop-with-savepoint commits
// the sinks' output up to it, so "latest" must restore the savepoint, not
// the checkpoint before it; and ids only grow.
func TestRunStopWithSavepointThenLatest(t *testing.T) {
	dir := t.TempDir()
	in, out, chk, sp := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms", "--savepoint-dir", sp}
	_, spID := stopWithSavepoint(t, append(common, "--rate", "2000")...)
	if ids := chkIDs(t, chk); len(ids) == 0 || ids[len(ids)-1] != spID {
		t.Fatalf("checkpoint directory holds %v after the stop with savepoint %d; want a pointer chk-%d", ids, spID, spID)
	}

	p := startRun(t, append(common, "--restore", "latest", "--parallelism", "1", "-v")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatalf("after stop-with-savepoint and restore latest: %v", err)
	}
	if !strings.Contains(p.stderr.String(), "savepoint-"+strconv.FormatInt(spID, 10)) {
		t.Errorf("the run did not restore the savepoint:\n%s", p.stderr.String())
	}
	for _, id := range chkIDs(t, chk) {
		if id < spID {
			continue // retained from the first run
		}
		if id == spID && !fileExists(filepath.Join(chk, "chk-"+strconv.FormatInt(id, 10), "_savepoint")) {
			t.Errorf("checkpoint %d reuses the savepoint's id", id)
		}
	}
}

// TestRunRestoredSavepointThenLatest: a job restored from a savepoint into
// a new checkpoint directory, killed before its first checkpoint, resumes
// from that savepoint with --restore latest — not from scratch (which
// repeats everything the savepoint's run committed).
func TestRunRestoredSavepointThenLatest(t *testing.T) {
	dir := t.TempDir()
	in, out := sumsInput(t, dir), filepath.Join(dir, "out")
	path, spID := stopWithSavepoint(t, "sums", "--input", in, "--output", out, "--checkpoint-dir", filepath.Join(dir, "chk1"),
		"--checkpoint-interval", "30ms", "--savepoint-dir", filepath.Join(dir, "sp"), "--rate", "2000")
	before := committedLines(t, out)

	// No checkpoint in an hour: canceled before its first one, as a kill.
	chk2 := filepath.Join(dir, "chk2")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk2, "--parallelism", "3"}
	p := startRun(t, append(common, "--restore", path, "--checkpoint-interval", "1h", "--rate", "3000", "-v")...)
	waitFor(t, p, "the restored job running", func() bool { return strings.Contains(p.stderr.String(), "registered as the latest") })
	p.cancel()
	if err := p.wait(t); err != nil {
		t.Fatalf("cancel: %v\n%s", err, p.stderr.String())
	}
	if n := committedLines(t, out); n != before {
		t.Fatalf("the canceled run committed %d lines (had %d) without a checkpoint", n, before)
	}
	if ids := chkIDs(t, chk2); len(ids) != 1 || ids[0] <= spID {
		t.Fatalf("new checkpoint directory holds %v; want one pointer above the savepoint's id %d", ids, spID)
	}

	p = startRun(t, append(common, "--restore", "latest", "--checkpoint-interval", "30ms")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restore latest: %v\n%s", err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatalf("after restoring a savepoint, a kill and restore latest: %v", err)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// damage is one way a checkpoint directory gets damaged.
type damage struct {
	name string
	// pebble runs the job on the Pebble backend (shared SSTs).
	pebble bool
	// apply damages chk (holding checkpoints ids, oldest first) and
	// returns what the refusal must name.
	apply func(t *testing.T, chk string, ids []int64) []string
	// noneUsable: even a fallback finds nothing to restore (the job keeps
	// one checkpoint, so what it uses, every retained checkpoint uses).
	noneUsable bool
}

func chkPath(chk string, id int64) string {
	return filepath.Join(chk, "chk-"+strconv.FormatInt(id, 10))
}

func mutate(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A new file: a hard link's other names keep the old content.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(bytes.Clone(b)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func flip(b []byte) []byte { b[len(b)/2] ^= 0x5a; return b }

// sharedUse maps each shared object to the checkpoints referencing it.
func sharedUse(t *testing.T, chk string, ids []int64) map[string][]int64 {
	t.Helper()
	use := map[string][]int64{}
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(chkPath(chk, id), "_metadata"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := checkpoint.DecodeMetadata(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				if st.Native == nil {
					continue
				}
				for _, f := range st.Native.Files {
					if f.Shared != "" && !slices.Contains(use[f.Shared], id) {
						use[f.Shared] = append(use[f.Shared], id)
					}
				}
			}
		}
	}
	return use
}

var damages = []damage{
	{name: "truncated metadata", apply: func(t *testing.T, chk string, ids []int64) []string {
		p := filepath.Join(chkPath(chk, ids[len(ids)-1]), "_metadata")
		mutate(t, p, func(b []byte) []byte { return b[:len(b)/2] })
		return []string{p}
	}},
	{name: "flipped byte in a task file", apply: func(t *testing.T, chk string, ids []int64) []string {
		p := filepath.Join(chkPath(chk, ids[len(ids)-1]), "task-0-0.bin")
		mutate(t, p, flip)
		return []string{p, "checksum"}
	}},
	{name: "deleted task file", apply: func(t *testing.T, chk string, ids []int64) []string {
		p := filepath.Join(chkPath(chk, ids[len(ids)-1]), "task-0-1.bin")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		return []string{p}
	}},
	{name: "emptied checkpoint directory", apply: func(t *testing.T, chk string, ids []int64) []string {
		d := chkPath(chk, ids[len(ids)-1])
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		return []string{"checkpoint " + strconv.FormatInt(ids[len(ids)-1], 10), "_metadata is missing"}
	}},
	{name: "corrupt shared SST of the newest checkpoint only", pebble: true, apply: func(t *testing.T, chk string, ids []int64) []string {
		newest := ids[len(ids)-1]
		for obj, by := range sharedUse(t, chk, ids) {
			if slices.Equal(by, []int64{newest}) {
				p := filepath.Join(chk, "shared", obj)
				mutate(t, p, flip)
				return []string{p, "referenced by checkpoints " + strconv.FormatInt(newest, 10) + "]"}
			}
		}
		t.Skip("no shared object is referenced by the newest checkpoint alone in this run")
		return nil
	}},
	{name: "corrupt shared SST every checkpoint uses", pebble: true, noneUsable: true, apply: func(t *testing.T, chk string, ids []int64) []string {
		for obj, by := range sharedUse(t, chk, ids) {
			if len(by) == len(ids) {
				p := filepath.Join(chk, "shared", obj)
				mutate(t, p, flip)
				return []string{p, "referenced by checkpoints"}
			}
		}
		t.Fatalf("no shared object in %v", sharedUse(t, chk, ids))
		return nil
	}},
	{name: "missing shared SST every checkpoint uses", pebble: true, noneUsable: true, apply: func(t *testing.T, chk string, ids []int64) []string {
		for obj, by := range sharedUse(t, chk, ids) {
			if len(by) == len(ids) {
				p := filepath.Join(chk, "shared", obj)
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				return []string{p, "missing"}
			}
		}
		t.Fatalf("no shared object in %v", sharedUse(t, chk, ids))
		return nil
	}},
}

// TestRunDamagedCheckpoints (issue: falling back past an unusable newest
// checkpoint re-emits what it committed, silently): for each kind of
// damage, --restore latest fails (non-zero exit) and names the damaged
// file on stderr, without -v, leaving the output as it was; with
// --allow-checkpoint-fallback it restores the older checkpoint and says at
// ERROR level that output may repeat. Nothing usable is an error even
// then, never a fresh start.
func TestRunDamagedCheckpoints(t *testing.T) {
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			in, out, chk := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk")
			retained := 2
			if d.noneUsable {
				retained = 1
			}
			common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--parallelism", "2", "--retained", strconv.Itoa(retained)}
			if d.pebble {
				common = append(common, "--state-backend", "pebble", "--state-dir", filepath.Join(dir, "state"))
			}
			p := startRun(t, append(common, "--checkpoint-interval", "30ms", "--rate", "3000")...)
			waitFor(t, p, "checkpoints and committed output", func() bool {
				// One more directory than retained: that many completed.
				return committedLines(t, out) > 0 && len(chkIDs(t, chk)) > retained
			})
			p.cancel()
			if err := p.wait(t); err != nil {
				t.Fatalf("cancel: %v\n%s", err, p.stderr.String())
			}
			ids, err := (&checkpoint.Storage{Dir: chk}).Completed(t.Context())
			if err != nil || len(ids) < retained {
				t.Fatalf("completed checkpoints %v, %v; want %d", ids, err, retained)
			}
			slices.Reverse(ids)
			want := d.apply(t, chk, ids)
			committed := committedLines(t, out)

			cmd := append(common, "--restore", "latest", "--checkpoint-interval", "30ms")
			p = startRun(t, cmd...)
			err = p.wait(t)
			if !errors.Is(err, weir.ErrCheckpointFallback) {
				t.Fatalf("restore latest over a damaged checkpoint: %v; want weir.ErrCheckpointFallback; stderr:\n%s", err, p.stderr.String())
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not name %q:\n%v", w, err)
				}
			}
			if n := committedLines(t, out); n != committed {
				t.Fatalf("the refused restore changed the output: %d committed lines, had %d", n, committed)
			}

			p = startRun(t, append(cmd, "--allow-checkpoint-fallback")...)
			err = p.wait(t)
			if d.noneUsable {
				if err == nil || !strings.Contains(err.Error(), "no checkpoint in") {
					t.Fatalf("with nothing usable the fallback run gave %v; want an error, never a fresh start\n%s", err, p.stderr.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("restore with --allow-checkpoint-fallback: %v\n%s", err, p.stderr.String())
			}
			if s := p.stderr.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "may be produced again") {
				t.Fatalf("the accepted fallback does not say at ERROR level what may repeat:\n%s", s)
			}
			// The job completed its input: every record is there (some
			// perhaps twice: what the skipped checkpoint had committed).
			recs, err := sums.ReadOutput(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) < sumsTotal {
				t.Fatalf("after the fallback run %d of %d records are in the output", len(recs), sumsTotal)
			}
		})
	}
}

// TestRunSumsDeadLetters (issue: a deterministic bad record restarts the
// job forever): with --dead-letters, lines that do not decode go to that
// directory, exactly once across a cancel and restore, naming file, line
// and field, and the good records still give the exact sums; without it
// the first bad line fails the job with that record's error.
func TestRunSumsDeadLetters(t *testing.T) {
	dir := t.TempDir()
	in, out, dl, chk := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "dead"), filepath.Join(dir, "chk")
	bad := filepath.Join(in, "zz-bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"key\":\"x\"}\nnot json\n{\"key\":\"y\",\"seq\":1,\"value\":2} trailing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, "run", "sums", "--input", in, "--output", filepath.Join(dir, "out0")); err == nil ||
		!strings.Contains(err.Error(), "zz-bad.jsonl") {
		t.Fatalf("without --dead-letters: %v; want the job to fail naming the bad file", err)
	}
	if _, _, err := run(t, "run", "sums", "--input", in, "--output", out, "--dead-letters", filepath.Join(in, "dl")); err == nil ||
		!strings.Contains(err.Error(), "inside the input directory") {
		t.Fatalf("dead letters inside the input: %v", err)
	}

	common := []string{"sums", "--input", in, "--output", out, "--dead-letters", dl, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms"}
	p := startRun(t, append(common, "--rate", "3000")...)
	waitFor(t, p, "committed output", func() bool { return committedLines(t, out) > 0 })
	p.cancel()
	if err := p.wait(t); err != nil {
		t.Fatalf("cancel: %v\n%s", err, p.stderr.String())
	}
	p = startRun(t, append(common, "--restore", "latest", "--parallelism", "3")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restored run: %v\n%s", err, p.stderr.String())
	}
	// The bad file's good lines are not part of sums.Generate's input:
	// remove it to check the sums of the rest.
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatal(err)
	}
	var letters []string
	ents, err := os.ReadDir(dl)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "part-") {
			b, err := os.ReadFile(filepath.Join(dl, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			letters = append(letters, strings.Split(strings.TrimSpace(string(b)), "\n")...)
		}
	}
	if len(letters) != 3 {
		t.Fatalf("%d dead letters, want 3 (once each):\n%s", len(letters), strings.Join(letters, "\n"))
	}
	for _, want := range []string{`zz-bad.jsonl line 1`, `"Field":"seq"`, `zz-bad.jsonl line 2`, `zz-bad.jsonl line 3`, `after top-level value`} {
		if !strings.Contains(strings.Join(letters, "\n"), want) {
			t.Errorf("dead letters do not say %q:\n%s", want, strings.Join(letters, "\n"))
		}
	}
}

// TestRunRestorePointerByPath: a refused restore lists a stop-with-
// savepoint as chk-<id> of the checkpoint directory and suggests restoring
// by path; --restore of that chk-<id> restores the savepoint it points to.
func TestRunRestorePointerByPath(t *testing.T) {
	dir := t.TempDir()
	in, out, chk, sp := sumsInput(t, dir), filepath.Join(dir, "out"), filepath.Join(dir, "chk"), filepath.Join(dir, "sp")
	common := []string{"sums", "--input", in, "--output", out, "--checkpoint-dir", chk, "--checkpoint-interval", "30ms", "--savepoint-dir", sp}
	_, spID := stopWithSavepoint(t, append(common, "--rate", "2000")...)
	p := startRun(t, append(common, "--restore", chkPath(chk, spID), "-v")...)
	if err := p.wait(t); err != nil {
		t.Fatalf("restore of the pointer chk-%d: %v\n%s", spID, err, p.stderr.String())
	}
	if err := sums.Check(in, out); err != nil {
		t.Fatalf("after stop-with-savepoint and a restore of its pointer: %v", err)
	}
}
