package http

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
)

// BatchKeys names the batches of one sink writer so that a batch sent
// again after a restore carries the key it had the first time, and a
// batch with other records never does. The webhook sink sends the keys as
// Idempotency-Key, the ClickHouse sink as insert_deduplication_token.
//
// A key is prefix-subtask-epoch-offset+count: the epoch is the checkpoint
// the batch follows, offset the number of records sent since the epoch
// began and count the batch's size, so that a key names the same records
// whenever the input replays in the same order, wherever the batches were
// cut. A fresh writer's epoch is "0.run", where run is random to this
// writer, so that two jobs (or two runs of one) whose writers did not
// restore never send other records under the same keys; a restart
// without a completed checkpoint therefore sends its batches under new
// keys. A checkpoint's PreCommit starts epoch "id.run",
// where run is random to this writer, and stores that label in the
// checkpoint with the writer's subtask and parallelism; a writer restored
// from it reads the label of its own subtask back (Commit: after a
// restore every subtask is given the committables of every old subtask)
// and numbers its batches from it as the failed run did. The run part
// keeps apart two runs that both take a checkpoint with the same id after
// a restore (the engine can reuse the id of a checkpoint that never
// reached storage) at different places in the input. A writer restored at
// another parallelism, where its subtask gets other records, or from a
// committable of an older version (which names no subtask), starts an
// epoch of its own run instead: the failed run's keys then name other
// records.
//
// Keys repeat only for batches of the same records: a receiver that drops
// a key it has seen drops a repeat, never new records. A batch that the
// failed run cut short on a checkpoint barrier the restored run does not
// meet at the same place (a checkpoint that did not complete), and the
// batches after it, come again under other keys: those repeats are not
// caught. A BatchKeys is not safe for concurrent use.
type BatchKeys struct {
	prefix               string
	subtask, parallelism int
	epochID              int64
	label                string
	// own: the label is this writer's or its subtask's in the restored
	// checkpoint (not one started for committables of other subtasks).
	own bool
	run string
	off int64
}

// NewBatchKeys returns the keys of subtask's writer (of parallelism
// subtasks), starting with prefix.
func NewBatchKeys(prefix string, subtask, parallelism int) *BatchKeys {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &BatchKeys{prefix: prefix + "-" + strconv.Itoa(subtask) + "-", subtask: subtask, parallelism: parallelism,
		label: "0." + hex.EncodeToString(b[:]), own: true, run: hex.EncodeToString(b[:])}
}

// Next returns the key of the next batch, of count records.
func (k *BatchKeys) Next(count int) string {
	key := k.prefix + k.label + "-" + strconv.FormatInt(k.off, 10) + "+" + strconv.Itoa(count)
	k.off += int64(count)
	return key
}

// PreCommit starts the epoch of checkpoint id (call it after sending the
// batches before the barrier) and returns the committable to stage:
// varint id, byte 0, uvarint subtask, uvarint parallelism, then the label
// (versions before it wrote the varint id and the label, which starts
// with a digit).
func (k *BatchKeys) PreCommit(id int64) []byte {
	k.epochID, k.label, k.off, k.own = id, strconv.FormatInt(id, 10)+"."+k.run, 0, true
	b := append(binary.AppendVarint(nil, id), 0)
	b = binary.AppendUvarint(b, uint64(k.subtask))
	b = binary.AppendUvarint(b, uint64(k.parallelism))
	return append(b, k.label...)
}

// Commit reads staged committables back: after a restore, the epoch of
// the restored checkpoint (the highest) becomes the current one, with
// the label of this subtask's committable, or, if the checkpoint has none
// at this parallelism, a label of this writer's run. For committables of
// checkpoints before the current epoch, and for the writer's own once it
// numbers batches, it does nothing.
func (k *BatchKeys) Commit(committables [][]byte) error {
	for _, c := range committables {
		id, m := binary.Varint(c)
		if m <= 0 || m == len(c) {
			return errors.New("http: corrupt batch key committable")
		}
		label, own := "", false
		if rest := c[m:]; rest[0] == 0 {
			rest = rest[1:]
			sub, n := binary.Uvarint(rest)
			if n <= 0 {
				return errors.New("http: corrupt batch key committable")
			}
			rest = rest[n:]
			par, n := binary.Uvarint(rest)
			if n <= 0 || n == len(rest) {
				return errors.New("http: corrupt batch key committable")
			}
			label, own = string(rest[n:]), sub == uint64(k.subtask) && par == uint64(k.parallelism)
		}
		switch {
		case own && (id > k.epochID || (id == k.epochID && !k.own)):
			k.epochID, k.label, k.off, k.own = id, label, 0, true
		case !own && id > k.epochID:
			// Another subtask's, one of another parallelism or of an
			// older version: its keys name other records.
			k.epochID, k.label, k.off, k.own = id, strconv.FormatInt(id, 10)+"."+k.run, 0, false
		}
	}
	return nil
}
