package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// registryVersion is the version of the job record format
// (docs/format/server-registry.md).
const registryVersion = 1

// Job kinds of a Record.
const (
	kindSQL = "sql"
	kindGo  = "go"
)

// Desired states of a Record. A job whose record says running or
// suspended is resumed when the server starts.
const (
	stateRunning   = "RUNNING"   // submitted; resumed from the latest checkpoint after a crash
	stateSuspended = "SUSPENDED" // stopped with a savepoint by a server shutdown; resumed from it
	stateFinished  = "FINISHED"  // every record processed, or stopped with a savepoint on request
	stateCanceled  = "CANCELED"  // canceled on request
	stateFailed    = "FAILED"    // failed beyond the restart strategy, or could not start
)

// Record is a job's entry in the durable registry: DIR/jobs/<id>/job.json.
type Record struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	// SQL is the submitted script (kind sql).
	SQL string `json:"sql,omitempty"`
	// GoJob and Args name a registered Go job and its arguments (kind go).
	GoJob string            `json:"goJob,omitempty"`
	Args  map[string]string `json:"args,omitempty"`
	// Parallelism is the parallelism the job runs (or will resume) at.
	Parallelism int `json:"parallelism"`
	// State is the desired state (see the state constants).
	State string `json:"state"`
	// Savepoint is the last stop-with-savepoint's path, if any.
	Savepoint string `json:"savepoint,omitempty"`
	// Failure is the error a FAILED job ended with.
	Failure string    `json:"failure,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// resumable reports whether the server resumes the job when it starts.
func (r *Record) resumable() bool { return r.State == stateRunning || r.State == stateSuspended }

// registry is the directory of job records. Its methods are safe for
// concurrent use on different jobs; writes of one job are serialized by
// its owner.
type registry struct{ dir string }

func (g registry) jobDir(id string) string { return filepath.Join(g.dir, "jobs", id) }

// write stores r atomically: a temporary file in the job's directory,
// fsynced, renamed over job.json, and the directory fsynced.
func (g registry) write(r *Record) error {
	r.Version = registryVersion
	r.Updated = time.Now().UTC()
	dir := g.jobDir(r.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".job-*.json")
	if err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing there
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("server: registry: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("server: registry: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "job.json")); err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("server: registry: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("server: registry: sync %s: %w", dir, err)
	}
	return nil
}

// load reads every job record, oldest first. A job directory without
// job.json (a submission that crashed before its record was written) is
// skipped; a record that does not parse is an error naming the file.
func (g registry) load() ([]*Record, error) {
	ents, err := os.ReadDir(filepath.Join(g.dir, "jobs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: registry: %w", err)
	}
	var recs []*Record
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(g.dir, "jobs", e.Name(), "job.json")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("server: registry: %w", err)
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("server: registry: %s: %w", path, err)
		}
		switch {
		case r.Version != registryVersion:
			return nil, fmt.Errorf("server: registry: %s: version %d, this server reads version %d", path, r.Version, registryVersion)
		case r.ID != e.Name():
			return nil, fmt.Errorf("server: registry: %s: id %q does not match its directory", path, r.ID)
		case r.Kind != kindSQL && r.Kind != kindGo:
			return nil, fmt.Errorf("server: registry: %s: unknown kind %q", path, r.Kind)
		}
		recs = append(recs, &r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Created.Before(recs[j].Created) })
	return recs, nil
}
