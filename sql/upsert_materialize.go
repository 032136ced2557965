package sql

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/plan"
	"github.com/weirstream/weir/state"
)

// Flink's SinkUpsertMaterializer: before an upsert sink (one that takes
// INSERT, UPDATE_AFTER and DELETE, keyed by the table's primary key)
// whose input changelog is not keyed by that primary key, the changes of
// one primary key can come from several rows (several upstream keys with
// the same sink key) and, at a parallelism above 1, through several
// channels, out of order. An upsert sink applying them as they come can
// then delete a key that still has a row, or keep a row already
// retracted. The materializer, keyed by the primary key, keeps every row
// the input holds for the key (in arrival order) and emits the key's
// current row: the last one; when the last row is retracted the one
// before it as an update, and a DELETE when none is left. A retraction of
// a row it does not hold (its state expired or it came before its
// insert) is dropped, as in Flink. When the input has an upsert key (the
// smallest, as Flink's UpsertKeyUtil.getSmallestKey), rows are matched by
// it rather than by all their columns, as Flink's: an update replaces the
// held row of its upsert key in place, and a retraction whose other
// columns differ from the row emitted before (a non-deterministic
// function after an aggregate) still finds it.

// upsertMaterialize reports whether the sink's input is materialised
// (table.exec.sink.upsert-materialize: NONE never, FORCE for every upsert
// sink with a primary key, AUTO when the primary key contains no upsert key
// of the input), and the primary key's positions in the sink's row.
func (t *translator) upsertMaterialize(s *plan.Sink, accepted connector.ChangelogMode) (bool, []int) {
	if len(s.Table.PrimaryKey) == 0 || s.In.Mode() != plan.Updating || t.batch() {
		return false, nil
	}
	if !accepted.Contains(row.UpdateAfter) || accepted.Contains(row.UpdateBefore) {
		return false, nil // insert-only or retracting sink
	}
	// The sink's row: physical and writable metadata columns in
	// declaration order.
	var pk []int
	pos := 0
	for i, k := range s.Table.Kinds {
		if k != plan.Physical && (k != plan.Metadata || s.Table.Virtual[i]) {
			continue
		}
		if slices.Contains(s.Table.PrimaryKey, i) {
			pk = append(pk, pos)
		}
		pos++
	}
	switch t.cfg.Enum("table.exec.sink.upsert-materialize") {
	case "NONE":
		return false, nil
	case "FORCE":
		return true, pk
	}
	// As Flink: no materializer when the primary key contains an upsert
	// key of the input (each sink key then has one row at most).
	for _, k := range plan.UpsertKeys(s.In) {
		if len(k) > 0 && !slices.ContainsFunc(k, func(c int) bool { return !slices.Contains(pk, c) }) {
			return false, nil
		}
	}
	return true, pk
}

// materialize adds the SinkUpsertMaterializer in front of a sink.
func (t *translator) materialize(in weir.Stream[row.Row], s *plan.Sink, pk []int) weir.Stream[row.Row] {
	cols := s.In.Columns()
	types := make([]row.Type, len(cols))
	for i, c := range cols {
		types[i] = c.Type
	}
	kt := make([]row.Type, len(pk))
	for i, k := range pk {
		kt[i] = types[k]
	}
	keyOf := func(r row.Row) string { return string(row.AppendKey(nil, r, pk, kt)) }
	fn := &materializeFn{types: types, table: s.Table.Name}
	if uk := smallestKey(plan.UpsertKeys(s.In)); len(uk) > 0 {
		fn.upsertKey = uk
		for _, k := range uk {
			fn.upsertTypes = append(fn.upsertTypes, types[k])
		}
	}
	uid := t.uid("SinkMaterializer", s.Table.UIDName())
	if d := t.cfg.Duration("table.exec.state.ttl"); d > 0 {
		fn.ttl = state.TTL{TTL: d, Update: state.OnCreateAndWrite, Visibility: state.NeverReturnExpired}
	}
	return weir.ProcessKeyed[string, row.Row, row.Row](weir.KeyBy(in, keyOf), fn).
		Name("SinkMaterializer(pk=" + s.Table.Name + ")").UID(uid)
}

// smallestKey is Flink's UpsertKeyUtil.getSmallestKey: the key of the
// fewest columns, then of the smallest leading column (keys sorted);
// nil when there is none.
func smallestKey(keys [][]int) []int {
	var best []int
	for _, k := range keys {
		k = slices.Sorted(slices.Values(k))
		if best == nil || len(k) < len(best) || len(k) == len(best) && slices.Compare(k, best) < 0 {
			best = k
		}
	}
	return best
}

type materializeFn struct {
	types []row.Type
	table string
	ttl   state.TTL // table.exec.state.ttl, as Flink's materializer
	// upsertKey is the input's upsert key the rows are matched by, and
	// its columns' types; nil: rows are matched by all their columns.
	upsertKey   []int
	upsertTypes []row.Type
	codec       *row.Codec
	rows        state.Value[string]
	buf         []byte
}

// Open creates the subtask's state handle.
func (f *materializeFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.types)
	f.rows = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "values", TTL: f.ttl})
	return nil
}

// decode reads a key's rows: each a uvarint length and a row.
func (f *materializeFn) decode(enc string) ([]row.Row, error) {
	var out []row.Row
	b := []byte(enc)
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, weir.MarkError(fmt.Errorf("sql: SinkMaterializer of %s: corrupt state", f.table), weir.ErrCorruption)
		}
		r, _, err := f.codec.Decode(b[k : k+int(n)])
		if err != nil {
			return nil, fmt.Errorf("sql: SinkMaterializer of %s: %w", f.table, err)
		}
		out = append(out, r)
		b = b[k+int(n):]
	}
	return out, nil
}

func (f *materializeFn) store(rows []row.Row) {
	if len(rows) == 0 {
		f.rows.Clear()
		return
	}
	f.buf = f.buf[:0]
	var one []byte
	for _, r := range rows {
		one = f.codec.Append(one[:0], r)
		f.buf = binary.AppendUvarint(f.buf, uint64(len(one)))
		f.buf = append(f.buf, one...)
	}
	f.rows.Update(string(f.buf))
}

// ProcessElement applies one change of the key's rows.
func (f *materializeFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	enc, _ := f.rows.Value()
	rows, err := f.decode(enc)
	if err != nil {
		return err
	}
	phys := row.Row{Fields: in.Fields}
	find := func() int {
		if f.upsertKey == nil {
			return slices.IndexFunc(rows, func(r row.Row) bool { return row.EqualRows(r, phys, f.types) })
		}
		k := string(row.AppendKey(nil, phys, f.upsertKey, f.upsertTypes))
		return slices.IndexFunc(rows, func(r row.Row) bool {
			return string(row.AppendKey(nil, r, f.upsertKey, f.upsertTypes)) == k
		})
	}
	switch in.Kind {
	case row.Insert, row.UpdateAfter:
		kind := row.UpdateAfter
		if len(rows) == 0 {
			kind = row.Insert
		}
		at := -1
		if f.upsertKey != nil {
			at = find()
		}
		if at >= 0 {
			rows[at] = phys.Clone() // the row of its upsert key, in place, as Flink's
		} else {
			rows = append(rows, phys.Clone())
		}
		ctx.Collect(row.Row{Kind: kind, Fields: in.Fields})
	case row.UpdateBefore, row.Delete:
		at := find()
		if at < 0 {
			return nil // not held: dropped, as Flink's
		}
		last := at == len(rows)-1
		rows = slices.Delete(rows, at, at+1)
		switch {
		case len(rows) == 0:
			ctx.Collect(row.Row{Kind: row.Delete, Fields: in.Fields})
		case last:
			ctx.Collect(row.Row{Kind: row.UpdateAfter, Fields: rows[len(rows)-1].Fields})
		}
	}
	f.store(rows)
	return nil
}

// markMaterialized sets Sink.UpsertMaterialize on the job's sinks, for
// EXPLAIN; the translator makes the same decision (translator.sink).
func (j *Job) markMaterialized() {
	t := &translator{reg: j.sess.reg, cfg: j.cfg}
	for _, s := range j.sinks {
		sk, err := t.reg.CreateSink(t.connectorContext(s.Table))
		if err != nil {
			continue // EXPLAIN reports it elsewhere
		}
		mode := connector.InsertOnly
		if s.In.Mode() == plan.Updating && !t.batch() {
			mode = connector.All
		}
		accepted, err := sk.ChangelogMode(mode)
		if err != nil {
			continue
		}
		s.UpsertMaterialize, _ = t.upsertMaterialize(s, accepted)
	}
}
