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
// cut. A fresh writer's epoch is "0". A checkpoint's PreCommit starts epoch "id.run",
// where run is random to this writer, and stores that label in the
// checkpoint; a writer restored from it reads the label back (Commit) and
// numbers its batches from it as the failed run did. The run part keeps
// apart two runs that both take a checkpoint with the same id after a
// restore (the engine can reuse the id of a checkpoint that never reached
// storage) at different places in the input.
//
// Keys repeat only for batches of the same records: a receiver that drops
// a key it has seen drops a repeat, never new records. A batch that the
// failed run cut short on a checkpoint barrier the restored run does not
// meet at the same place (a checkpoint that did not complete), and the
// batches after it, come again under other keys: those repeats are not
// caught. A BatchKeys is not safe for concurrent use.
type BatchKeys struct {
	prefix  string
	epochID int64
	label   string
	run     string
	off     int64
}

// NewBatchKeys returns the keys of subtask's writer, starting with prefix.
func NewBatchKeys(prefix string, subtask int) *BatchKeys {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &BatchKeys{prefix: prefix + "-" + strconv.Itoa(subtask) + "-", label: "0", run: hex.EncodeToString(b[:])}
}

// Next returns the key of the next batch, of count records.
func (k *BatchKeys) Next(count int) string {
	key := k.prefix + k.label + "-" + strconv.FormatInt(k.off, 10) + "+" + strconv.Itoa(count)
	k.off += int64(count)
	return key
}

// PreCommit starts the epoch of checkpoint id (call it after sending the
// batches before the barrier) and returns the committable to stage.
func (k *BatchKeys) PreCommit(id int64) []byte {
	k.epochID, k.label, k.off = id, strconv.FormatInt(id, 10)+"."+k.run, 0
	return append(binary.AppendVarint(nil, id), k.label...)
}

// Commit reads staged committables back: after a restore, the epoch of
// the restored checkpoint (the highest) becomes the current one. For
// committables of checkpoints no later than the current epoch it does
// nothing.
func (k *BatchKeys) Commit(committables [][]byte) error {
	for _, c := range committables {
		id, m := binary.Varint(c)
		if m <= 0 {
			return errors.New("http: corrupt batch key committable")
		}
		if id > k.epochID {
			k.epochID, k.label, k.off = id, string(c[m:]), 0
		}
	}
	return nil
}
