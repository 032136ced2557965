package mqtt

import "slices"

// ackStage holds what a source must acknowledge to the broker once the
// checkpoints covering it complete: what was emitted since the last
// snapshot, and per checkpoint what it covers. It belongs to the
// subtask's goroutine.
type ackStage[A any] struct {
	unacked []A           // emitted since the last snapshot, in order
	staged  map[int64][]A // per checkpoint
}

// add records an emitted message.
func (s *ackStage[A]) add(a A) { s.unacked = append(s.unacked, a) }

// snapshot assigns what was emitted since the last snapshot to checkpoint
// id.
func (s *ackStage[A]) snapshot(id int64) {
	if len(s.unacked) == 0 {
		return
	}
	if s.staged == nil {
		s.staged = map[int64][]A{}
	}
	s.staged[id] = s.unacked
	s.unacked = nil
}

// complete returns, in the order they were emitted, the messages of the
// checkpoints up to id, and forgets them.
func (s *ackStage[A]) complete(id int64) []A {
	var ids []int64
	for cid := range s.staged {
		if cid <= id {
			ids = append(ids, cid)
		}
	}
	slices.Sort(ids)
	var out []A
	for _, cid := range ids {
		out = append(out, s.staged[cid]...)
		delete(s.staged, cid)
	}
	return out
}
