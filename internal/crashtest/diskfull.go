package crashtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// SmallDisk is a small tmpfs for disk-full tests: a real filesystem that
// runs out of space, so that writes fail with ENOSPC where a job writes
// (its checkpoint directory, its sink's output, its state directory).
//
// It is mounted, by preference, in a mount namespace of its own that an
// unprivileged user namespace owns (unshare --user --map-root-user
// --mount), which needs no root: a holder process keeps the namespace
// while the test runs, children started with Start run inside it, and the
// test sees the filesystem through the holder's /proc/PID/root. Where
// unprivileged user namespaces are not allowed, a root test mounts the
// tmpfs directly. Neither possible: the test is skipped, saying why.
type SmallDisk struct {
	// Dir is the mount point as children see it: pass it (and paths
	// below it) in their arguments.
	Dir string
	// view is Dir as this process sees it.
	view string
	// holder is the namespace's holder process (nil: mounted directly).
	holder *exec.Cmd
}

// NewSmallDisk mounts a tmpfs of size bytes at a new directory named
// name (which should contain "diskfull") in the test's temporary
// directory. It is unmounted when the test ends.
func NewSmallDisk(t testing.TB, name string, size int64) *SmallDisk {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := "size=" + strconv.FormatInt(size, 10)
	d, nsErr := mountInNamespace(t, dir, opts)
	if nsErr == nil {
		return d
	}
	if os.Geteuid() != 0 {
		t.Skipf("no small filesystem to fill: a user namespace cannot mount one (%v) and the test does not run as root", nsErr)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("no small filesystem to fill: a user namespace cannot mount one (%v), nor can root: %v: %s", nsErr, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, out)
		}
	})
	return &SmallDisk{Dir: dir, view: dir}
}

// mountInNamespace starts the holder of a mount namespace with a tmpfs at
// dir. The holder reads its standard input until the test closes it (at
// cleanup, or when the test process dies), so it never outlives the test.
func mountInNamespace(t testing.TB, dir, opts string) (*SmallDisk, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		return nil, err
	}
	cmd := exec.Command(unshare, "--user", "--map-root-user", "--mount", "sh", "-c",
		`mount -t tmpfs -o "$1" tmpfs "$2" && echo mounted && exec cat >/dev/null`, "sh", opts, dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "mounted\n" {
		stdin.Close()
		err := cmd.Wait()
		return nil, fmt.Errorf("unshare: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	t.Cleanup(func() {
		stdin.Close() // the holder exits; the namespace and its tmpfs go
		_ = cmd.Wait()
	})
	d := &SmallDisk{Dir: dir, holder: cmd, view: fmt.Sprintf("/proc/%d/root%s", cmd.Process.Pid, dir)}
	if _, err := os.Stat(d.view); err != nil {
		return nil, fmt.Errorf("the holder's view of the namespace: %w", err)
	}
	return d, nil
}

// Path returns the path of a file or directory below Dir (a path as
// children see it) as the test sees it.
func (d *SmallDisk) Path(childPath string) string {
	rel, err := filepath.Rel(d.Dir, childPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		panic(fmt.Sprintf("crashtest: %s is not below %s", childPath, d.Dir))
	}
	return filepath.Join(d.view, rel)
}

// Start runs bin as Start does, inside the disk's mount namespace when it
// has one.
func (d *SmallDisk) Start(t testing.TB, bin, logPath string, args ...string) *Child {
	t.Helper()
	if d.holder == nil {
		return Start(t, bin, logPath, args...)
	}
	// nsenter enters the namespaces and execs bin: signals reach bin.
	pre := []string{"--target", strconv.Itoa(d.holder.Process.Pid), "--user", "--mount", "--preserve-credentials", "--", bin}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Fatal(err)
	}
	return Start(t, nsenter, logPath, append(pre, args...)...)
}

// Fill writes a file named name below Dir until the filesystem is full
// (ENOSPC), leaving no free block; it returns the file's size.
func (d *SmallDisk) Fill(t testing.TB, name string) int64 {
	t.Helper()
	f, err := os.OpenFile(d.Path(filepath.Join(d.Dir, name)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for size := int64(len(buf)); size > 0; {
		n, err := f.Write(buf[:size])
		switch {
		case errors.Is(err, syscall.ENOSPC):
			size /= 2 // down to the last byte
		case err != nil:
			t.Fatalf("filling %s: %v", d.Dir, err)
		case n < int(size):
			t.Fatalf("filling %s: short write", d.Dir)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// Free removes what Fill wrote.
func (d *SmallDisk) Free(t testing.TB, name string) {
	t.Helper()
	if err := os.Remove(d.Path(filepath.Join(d.Dir, name))); err != nil {
		t.Fatal(err)
	}
}

// Avail returns the bytes free on the filesystem.
func (d *SmallDisk) Avail(t testing.TB) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.view, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// ReadLog returns the log file's contents from offset from on.
func ReadLog(t testing.TB, logPath string, from int64) string {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
