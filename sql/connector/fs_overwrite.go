package connector

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/connector/file"
	"github.com/weirstream/weir/row"
)

// SupportsOverwrite is implemented by sinks that INSERT OVERWRITE can
// write (Flink's SupportsOverwrite, with the static partition of
// SupportsPartitioning.applyStaticPartition): the planner refuses INSERT
// OVERWRITE into other sinks. Only the filesystem sink implements it, in
// the batch mode (the planner refuses INSERT OVERWRITE in the streaming
// mode).
type SupportsOverwrite interface {
	// ApplyOverwrite makes the sink replace the table's data, or that of
	// the partitions it writes, when the bounded job ends. static holds
	// the values of the INSERT's PARTITION clause, by index in
	// Context.Schema (empty without one).
	ApplyOverwrite(static map[int]row.Value) error
}

// ApplyOverwrite makes the filesystem sink overwrite (file.OverwriteOptions
// describes what is replaced and how a crash is recovered from).
func (t *fsSink) ApplyOverwrite(static map[int]row.Value) error {
	t.overwrite = true
	t.staticBucket = ""
	if t.part == nil || len(static) != len(t.part.keys) {
		return nil
	}
	r := row.Row{Fields: make([]row.Value, t.schema.Len())}
	for _, k := range t.part.keys {
		v, ok := static[k]
		if !ok {
			return nil
		}
		r.Fields[k] = v
	}
	b, err := t.part.bucket(r)
	if err != nil {
		return fmt.Errorf("connector: table %s: static partition: %w", t.table, err)
	}
	t.staticBucket = b
	return nil
}

// overwriteToken names the staging directory: the same every time the job
// is built (a server resuming it from its checkpoint after a crash builds
// it again), different between jobs and between the sinks of one job. It
// is derived from the job id and the sink's uid; without an environment,
// random.
func overwriteToken(b BuildContext) (string, error) {
	if b.Env == nil {
		var id [8]byte
		if _, err := rand.Read(id[:]); err != nil {
			return "", err
		}
		return hex.EncodeToString(id[:]), nil
	}
	sum := sha256.Sum256([]byte(b.Env.JobID() + "\x00" + b.uid("overwrite-committer")))
	return hex.EncodeToString(sum[:8]), nil
}

// consumeOverwrite writes in through file.PartitionedSink.Overwrite: a
// staging directory under the table's path, replaced into it when the
// input ends.
func (t *fsSink) consumeOverwrite(b BuildContext, in weir.Stream[row.Row], f file.BulkFormat[row.Row], opts file.ExactlyOnceOptions) (weir.DataSink, error) {
	tok, err := overwriteToken(b)
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	ow := file.OverwriteOptions{Token: tok, StaticBucket: t.staticBucket}
	var sink *file.PartitionedSink[row.Row]
	if t.part != nil {
		ow.Partitioned = true
		if t.commit != nil {
			ow.Policies = t.commit.Policies
		}
		if t.shuffle {
			part := t.part
			in = weir.KeyBy(in, func(r row.Row) string {
				b, _ := part.bucket(r)
				return b
			}).ByKey()
		}
		sink = file.PartitionedBulkSink[row.Row](t.path, fileRowFormat{f: f, part: t.part}, t.part.bucket, opts)
	} else {
		// One bucket, moved into the table's directory itself.
		sink = file.PartitionedBulkSink[row.Row](t.path, f, func(row.Row) (string, error) { return "data", nil }, opts)
	}
	w, c, err := sink.Overwrite(in, ow)
	if err != nil {
		return weir.DataSink{}, fmt.Errorf("connector: table %s: %w", t.table, err)
	}
	w = w.UID(b.uid("sink")).Name(b.uid("filesystem"))
	if t.sinkPar > 0 {
		w.SetParallelism(t.sinkPar)
	}
	c = c.UID(b.uid("overwrite-committer")).Name(b.uid("overwrite-committer"))
	return c.SinkTo(weir.SinkFunc[struct{}](func(context.Context, struct{}, int64) error { return nil })).
		UID(b.uid("overwrite-commit-end")).Name(b.uid("overwrite-commit-end")), nil
}
