package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	blob "github.com/weirstream/weir/checkpoint"
)

// A Storage keeps checkpoints in a blob.BlobStore: localStore (a
// directory) here, or a store a blob.Remote opens for a URL.

// readObject reads the whole of object name.
func readObject(ctx context.Context, b blob.BlobStore, name string) ([]byte, error) {
	r, size, err := b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if size < 0 {
		size = 0
	}
	buf := make([]byte, size)
	n, err := io.ReadFull(r, buf)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read %s: %w", b.Location(name), err)
	}
	// An object longer than it said: read the rest.
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read %s: %w", b.Location(name), err)
	}
	return append(buf[:n], rest...), nil
}

// joinName joins object name elements with '/', skipping empty ones.
func joinName(elem ...string) string {
	var parts []string
	for _, e := range elem {
		if e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, "/")
}

// localStore keeps objects as files below a directory.
type localStore struct{ root string }

func (l localStore) path(name string) string { return filepath.Join(l.root, filepath.FromSlash(name)) }

func (l localStore) Location(name string) string { return l.path(name) }

func (l localStore) Put(_ context.Context, name string, r io.ReadSeeker, _ int64) error {
	p := l.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return writeClose(f, p, r)
}

// writeClose copies r to f, syncs and closes it.
func writeClose(f *os.File, path string, r io.Reader) error {
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("checkpoint: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("checkpoint: close %s: %w", path, err)
	}
	return nil
}

func (l localStore) Commit(_ context.Context, name string, data []byte) error {
	p := l.path(name)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp := p + ".tmp"
	if err := writeSync(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return syncDir(dir)
}

func (l localStore) PutFile(_ context.Context, name, path string) error {
	p := l.path(name)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// A hard link shares the immutable file; it fails across filesystems
	// (or where links are not allowed) and when p exists: copy then.
	if err := os.Link(path, p); err != nil {
		if err := copyFile(path, p, true); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// copyFile copies src to dst through a temporary file renamed into place
// (replacing dst), synced first when durable is set.
func copyFile(src, dst string, durable bool) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: copy %s: %w", src, err)
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return fmt.Errorf("checkpoint: sync %s: %w", tmp.Name(), err)
		}
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func (l localStore) Get(_ context.Context, name string) (io.ReadCloser, int64, error) {
	f, err := os.Open(l.path(name))
	if err != nil {
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return f, fi.Size(), nil
}

func (l localStore) GetFile(_ context.Context, name, path string) error {
	if err := os.Link(l.path(name), path); err == nil {
		return nil
	}
	if _, err := os.Stat(l.path(name)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return copyFile(l.path(name), path, false)
}

func (l localStore) Stat(_ context.Context, name string) (int64, error) {
	fi, err := os.Stat(l.path(name))
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	if fi.IsDir() {
		return 0, fmt.Errorf("checkpoint: %s is a directory: %w", l.path(name), fs.ErrNotExist)
	}
	return fi.Size(), nil
}

func (l localStore) List(_ context.Context, dir string) ([]blob.BlobInfo, error) {
	var out []blob.BlobInfo
	root := l.path(dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		out = append(out, blob.BlobInfo{Name: filepath.ToSlash(rel), Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (l localStore) Dirs(_ context.Context, dir string) ([]string, error) {
	ents, err := os.ReadDir(l.path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (l localStore) Delete(_ context.Context, name string) error {
	if err := os.Remove(l.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func (l localStore) DeleteDir(_ context.Context, dir string) error {
	if l.path(dir) == "" {
		return errors.New("checkpoint: refusing to delete the working directory")
	}
	if err := os.RemoveAll(l.path(dir)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
