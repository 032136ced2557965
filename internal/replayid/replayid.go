// Package replayid numbers the messages of an at-least-once sink writer
// (the NATS JetStream and RabbitMQ sinks) so that a record the job writes
// again after a restore carries the id it had the first time, and a
// record that was never written never carries an id already used: a
// receiver that drops ids it has seen (JetStream's duplicate window, a
// deduplicating consumer) then keeps exactly one copy of each record.
//
// An id is prefix/subtask/chain/seq. seq counts the records of the
// subtask from the start of its chain; it does not restart at checkpoint
// barriers, so the id of a record depends only on its position in the
// subtask's input, not on where barriers fell (a checkpoint that did not
// complete, or whose id the engine reuses after a restore, moves them).
// Each checkpoint stores the subtask's chain and seq at its barrier
// (Committable); a writer restored from it continues the chain there
// (Restore), so a deterministic replay of the same records at the same
// subtask gets the same ids. A chain starts as "f<run>" in a job that
// did not restore, run being random to the sink (the same for every
// attempt of one job, which restarts with the same sink: a restart
// without a completed checkpoint replays with the ids of the first
// attempt), so that two jobs, or two runs of one, that write through
// sinks with the same prefix never give their records the same ids.
// When the restored checkpoint (id) holds no position of this subtask at
// this parallelism (a rescale), it starts as "<id+1>p<parallelism>f<run>":
// the replay goes to other subtasks, so the chain's ids are kept apart
// from every earlier one rather than repeating ids of other records; in
// a restored job whose checkpoint held no committable of the sink at all,
// as "f<run>". Committables of older versions hold
// only the checkpoint id; a writer restored from one starts chain
// "<id+1>" at 0, which repeats the ids the old version gave the records
// up to its next barrier (prefix/subtask/epoch/index, epoch id+1) and no
// others.
//
// A Seq is owned by one writer and is not safe for concurrent use.
package replayid

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/weirstream/weir/codec"
)

// version is the first byte after the checkpoint id of a committable that
// holds a position (older committables end after the id).
const version = 1

// Seq numbers one subtask's records.
type Seq struct {
	subtask, parallelism int
	prefix               string // prefix/subtask/
	started              bool
	chain                string
	seq                  int64
	// What Restore saw before the first id: the highest checkpoint id of
	// any committable, and the position of this subtask in the committable
	// with the highest checkpoint id among those of this subtask and
	// parallelism.
	maxID    int64
	restored bool
	// oldID and oldCount: the highest checkpoint id among committables of
	// older versions, and how many of them have it (one per old subtask
	// that took that checkpoint: the old parallelism).
	oldID        int64
	oldCount     int
	anyPositions bool
	run          string
	ownID        int64
	own          bool
	ownChain     string
	ownSeq       int64
}

// NewRun returns a run token for a sink: 8 random hex digits. A sink
// draws it once, when it is made, and gives it to every writer.
func NewRun() string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// New returns the numbering of subtask (of parallelism subtasks) for ids
// starting with prefix; run is the sink's NewRun.
func New(prefix string, subtask, parallelism int, run string) *Seq {
	return &Seq{subtask: subtask, parallelism: parallelism, prefix: prefix + "/" + strconv.Itoa(subtask) + "/", run: run}
}

// start fixes the chain: on the first id or committable, after every
// restored committable was seen.
func (s *Seq) start() {
	if s.started {
		return
	}
	s.started = true
	switch {
	case s.own:
		s.chain, s.seq = s.ownChain, s.ownSeq
	case s.restored && s.anyPositions:
		s.chain = strconv.FormatInt(s.maxID+1, 10) + "p" + strconv.Itoa(s.parallelism) + "f" + s.run
	case s.restored && s.oldCount == s.parallelism:
		s.chain = strconv.FormatInt(s.maxID+1, 10) // an older version's checkpoint
	case s.restored:
		// An older version's checkpoint taken at another parallelism: its
		// subtask of this number wrote other records under chain id+1.
		s.chain = strconv.FormatInt(s.maxID+1, 10) + "p" + strconv.Itoa(s.parallelism) + "f" + s.run
	default:
		s.chain = "f" + s.run
	}
}

// Next appends the id of the next record to b.
func (s *Seq) Next(b []byte) []byte {
	s.start()
	b = append(b, s.prefix...)
	b = append(b, s.chain...)
	b = append(b, '/')
	b = strconv.AppendInt(b, s.seq, 10)
	s.seq++
	return b
}

// Committable returns what checkpoint id stores: varint id, byte 1,
// uvarint subtask, uvarint parallelism, uvarint len + chain, varint seq.
func (s *Seq) Committable(id int64) []byte {
	s.start()
	b := binary.AppendVarint(nil, id)
	b = append(b, version)
	b = binary.AppendUvarint(b, uint64(s.subtask))
	b = binary.AppendUvarint(b, uint64(s.parallelism))
	b = binary.AppendUvarint(b, uint64(len(s.chain)))
	b = append(b, s.chain...)
	return binary.AppendVarint(b, s.seq)
}

// Restore reads restored committables (of every subtask of the restored
// checkpoint). Once an id or a committable was made it does nothing: the
// engine also hands the writer its own committables when their checkpoint
// completes.
func (s *Seq) Restore(items [][]byte) error {
	for _, it := range items {
		p, err := decode(it)
		if err != nil {
			return err
		}
		if s.started {
			continue
		}
		s.restored = true
		s.maxID = max(s.maxID, p.id)
		if !p.positioned {
			switch {
			case p.id > s.oldID:
				s.oldID, s.oldCount = p.id, 1
			case p.id == s.oldID:
				s.oldCount++
			}
			continue
		}
		s.anyPositions = true
		if p.subtask == s.subtask && p.parallelism == s.parallelism && (!s.own || p.id > s.ownID) {
			s.own, s.ownID, s.ownChain, s.ownSeq = true, p.id, p.chain, p.seq
		}
	}
	return nil
}

type position struct {
	id                   int64
	positioned           bool
	subtask, parallelism int
	chain                string
	seq                  int64
}

func decode(b []byte) (position, error) {
	corrupt := fmt.Errorf("replayid: %w: message id committable %q", codec.ErrCorrupt, b)
	var p position
	id, n := binary.Varint(b)
	if n <= 0 {
		return p, corrupt
	}
	p.id, b = id, b[n:]
	if len(b) == 0 {
		return p, nil // an older version's: the checkpoint id only
	}
	if b[0] != version {
		return p, corrupt
	}
	b = b[1:]
	var u [3]uint64
	for i := range u {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return p, corrupt
		}
		u[i], b = v, b[n:]
	}
	if u[0] >= u[1] || u[1] > 1<<15 || u[2] > uint64(len(b)) {
		return p, corrupt
	}
	p.subtask, p.parallelism, p.chain, b = int(u[0]), int(u[1]), string(b[:u[2]]), b[u[2]:]
	seq, n := binary.Varint(b)
	if n <= 0 || n != len(b) || seq < 0 || p.chain == "" {
		return p, corrupt
	}
	p.seq, p.positioned = seq, true
	return p, nil
}
