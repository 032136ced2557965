package file

import (
	"encoding/binary"
	"fmt"
	"github.com/weirstream/weir"
)

// filePos is the checkpointed position of one file of a source: the byte
// offset of the next unread line, the number of the last line read (so
// that error messages keep their line numbers after a restore), whether
// the CSV header was read, and whether the file is finished.
type filePos struct {
	off, line int64
	header    bool
	done      bool
}

// posVersion is the first byte of a checkpointed file position.
const posVersion = 1

const (
	posDone   = 1 << 0
	posHeader = 1 << 1
)

// encodePos stores the position of the file rel as an operator-state item:
// version, name, offset, line, flags.
func encodePos(rel string, p filePos) []byte {
	b := []byte{posVersion}
	b = binary.AppendUvarint(b, uint64(len(rel)))
	b = append(b, rel...)
	b = binary.AppendUvarint(b, uint64(p.off))
	b = binary.AppendUvarint(b, uint64(p.line))
	var flags byte
	if p.done {
		flags |= posDone
	}
	if p.header {
		flags |= posHeader
	}
	return append(b, flags)
}

// decodePositions reads the items every reader of the previous run stored.
func decodePositions(items [][]byte) (map[string]filePos, error) {
	out := make(map[string]filePos, len(items))
	for _, it := range items {
		rel, p, err := decodePos(it)
		if err != nil {
			return nil, err
		}
		if q, dup := out[rel]; dup && q != p {
			return nil, weir.MarkError(fmt.Errorf("file: corrupt checkpoint: two positions for %s", rel), weir.ErrCorruption)
		}
		out[rel] = p
	}
	return out, nil
}

func decodePos(b []byte) (string, filePos, error) {
	bad := func(what string) (string, filePos, error) {
		return "", filePos{}, weir.MarkError(fmt.Errorf("file: corrupt checkpointed position: %s", what), weir.ErrCorruption)
	}
	if len(b) == 0 || b[0] != posVersion {
		return bad("unknown version")
	}
	b = b[1:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return bad("name")
	}
	rel := string(b[n : n+int(l)])
	b = b[n+int(l):]
	off, n := binary.Uvarint(b)
	if n <= 0 || off > 1<<62 {
		return bad("offset")
	}
	b = b[n:]
	line, n := binary.Uvarint(b)
	if n <= 0 || line > 1<<62 {
		return bad("line")
	}
	b = b[n:]
	if len(b) != 1 || b[0]&^(posDone|posHeader) != 0 {
		return bad("flags")
	}
	return rel, filePos{off: int64(off), line: int64(line), done: b[0]&posDone != 0, header: b[0]&posHeader != 0}, nil
}

// SnapshotState stores the position of every file of the reader that was
// started: finished files, the open file's next line, and the positions of
// restored files not reopened yet. Files not mentioned start from the
// beginning after a restore.
func (r *reader[T]) SnapshotState(int64) ([][]byte, error) {
	var items [][]byte
	for i, sp := range r.files {
		switch {
		case i == r.next && r.f != nil:
			items = append(items, encodePos(sp.rel, filePos{off: r.off, line: r.line, header: r.hdrDone}))
		case sp.restored:
			items = append(items, encodePos(sp.rel, sp.pos))
		}
	}
	return items, nil
}
