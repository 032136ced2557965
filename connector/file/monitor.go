package file

import (
	"hash/fnv"
	"path/filepath"
	"slices"

	"github.com/weirstream/weir"
)

// Continuous reading (SourceOptions.MonitorInterval), as Flink's
// FileSource.monitorContinuously and its ContinuousFileSplitEnumerator:
//
//   - Every subtask lists the source's path itself (Weir's sources have no
//     split enumerator), at start and then every interval once it has read
//     the files it knows of (or, while it reads, before it opens its next
//     file once an interval has passed). A file is identified by its path
//     relative to the source's path; a file is assigned to the subtask
//     hash(path) mod parallelism (FNV-1a), which every subtask computes
//     alike, so each file is read by exactly one subtask whatever the
//     listing order. The files a subtask discovers in one listing are
//     appended to its queue in lexical order: it reads its files in the
//     order it discovered them.
//   - A path seen once is not read again, even if the file changes or is
//     deleted and created again. Files should appear whole (written under
//     a name starting with '.' or '_', then renamed): a file is read up to
//     its end when it is opened, and what is appended after that is not
//     read.
//   - Checkpoints hold the position of every file a subtask started (the
//     same items as a bounded source: see checkpoint.go), finished files
//     included, so the checkpointed state grows with the number of files
//     read, as Flink's (which keeps every processed path for the whole
//     life of the source). A file discovered but not started is not in
//     the state: after a restore it is listed again and read from its
//     beginning. The layout is the bounded source's, so a checkpoint of
//     a bounded source restores into a continuous one (its finished files
//     are not read again) and back.
//   - On restore, each subtask takes the restored positions of the files
//     it owns under the current parallelism, which may differ from the
//     checkpoint's: no file is lost or read twice. The positions of
//     finished files that are no longer listed are kept in the state, so
//     that a path does not become new again.
//   - A subtask with no file to read does not hold back the watermark
//     once the watermark strategy's IdleTimeout (Flink's withIdleness,
//     SQL table.exec.source.idle-timeout) has passed; as in Flink, it
//     does not go idle by itself without one.

// monitor is the state of a continuous reader's listings.
type monitor struct {
	root     string
	include  func(path string) bool
	rel      func(path string) string
	interval int64 // milliseconds
	next     int64 // processing time of the next listing
	woken    int64 // the time of the wake-up last scheduled
	sub, p   int
	seen     map[string]struct{} // rel names of the reader's files
}

// owner is the subtask of p that reads the file rel in a continuous
// source.
func owner(rel string, p int) int {
	h := fnv.New32a()
	h.Write([]byte(rel))
	return int(h.Sum32() % uint32(p))
}

// newMonitor returns the monitor of a continuous reader and its first
// files: those listed that it owns, with their restored positions, then
// the restored finished files it owns that are no longer listed (kept so
// that their positions stay in the state).
func (s *Source[T]) newMonitor(ctx weir.SourceContext, files []string, restored map[string]filePos, p int) (*monitor, []fileSplit, error) {
	m := &monitor{root: s.path, include: s.opts.Include, rel: s.relName, interval: max(s.opts.MonitorInterval.Milliseconds(), 1),
		sub: ctx.Subtask, p: p, seen: map[string]struct{}{}}
	m.next = ctx.Time.Now() + m.interval
	listed := make(map[string]bool, len(files))
	var mine []fileSplit
	for _, f := range files {
		rel := s.relName(f)
		listed[rel] = true
		if owner(rel, p) != ctx.Subtask {
			continue
		}
		sp := fileSplit{path: f, rel: rel}
		if pos, ok := restored[rel]; ok {
			sp.pos, sp.restored = pos, true
		}
		m.seen[rel] = struct{}{}
		mine = append(mine, sp)
	}
	if err := checkRestoredListed(ctx, s.path, restored, listed); err != nil {
		return nil, nil, err
	}
	var gone []string
	for rel, pos := range restored {
		if pos.done && !listed[rel] && owner(rel, p) == ctx.Subtask {
			gone = append(gone, rel)
		}
	}
	slices.Sort(gone)
	for _, rel := range gone {
		m.seen[rel] = struct{}{}
		mine = append(mine, fileSplit{path: filepath.Join(s.path, filepath.FromSlash(rel)), rel: rel, pos: restored[rel], restored: true})
	}
	return m, mine, nil
}

// discover lists the path and appends the reader's new files to its
// queue, in lexical order.
func (r *reader[T]) discover() error {
	m := r.mon
	files, err := listFiles(m.root)
	m.next = r.time.Now() + m.interval
	if err != nil {
		return err
	}
	for _, f := range files {
		rel := m.rel(f)
		if owner(rel, m.p) != m.sub {
			continue
		}
		if _, ok := m.seen[rel]; ok {
			continue
		}
		if m.include != nil && !m.include(f) {
			continue
		}
		m.seen[rel] = struct{}{}
		r.files = append(r.files, fileSplit{path: f, rel: rel})
	}
	return nil
}
