package connector

import (
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// normalize turns an upsert stream (+I/+U of whole rows, -D of rows of
// which only the key columns are known) into a retracting changelog, as
// Flink's ChangelogNormalize does after an upsert source: it keeps the
// last row of each primary key in keyed state, emits +I for a new key,
// -U(old) then +U(new) for an existing one, -D(old) for a delete (the full
// row), and drops deletes of unknown keys and updates that change
// nothing.
func normalize(b BuildContext, in weir.Stream[row.Row], types []row.Type, key []int, nMeta int) weir.Stream[row.Row] {
	kt := make([]row.Type, len(key))
	for i, k := range key {
		kt[i] = types[k]
	}
	keyOf := func(r row.Row) string { return string(row.AppendKey(nil, r, key, kt)) }
	ks := weir.KeyBy(in, keyOf)
	return weir.ProcessKeyed[string, row.Row, row.Row](ks, &normalizeFn{types: types, nMeta: nMeta}).
		Name(b.uid("ChangelogNormalize")).UID(b.uid("changelog-normalize"))
}

type normalizeFn struct {
	types []row.Type
	nMeta int
	codec *row.Codec
	last  state.Value[string]
}

// Open creates the subtask's state handle.
func (f *normalizeFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.types)
	f.last = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "last-row"})
	return nil
}

// ProcessElement applies one upsert change.
func (f *normalizeFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	n := len(f.types)
	var old row.Row
	enc, had := f.last.Value()
	if had {
		r, _, err := f.codec.Decode([]byte(enc))
		if err != nil {
			return fmt.Errorf("connector: ChangelogNormalize state: %w", err)
		}
		old = r
	}
	// Metadata columns (after the physical ones) belong to the change:
	// the emitted old row carries the new change's metadata, as Flink's.
	withMeta := func(r row.Row, k row.Kind) row.Row {
		out := make([]row.Value, 0, n+f.nMeta)
		out = append(out, r.Fields[:n]...)
		out = append(out, in.Fields[n:]...)
		return row.Row{Kind: k, Fields: out}
	}
	switch in.Kind {
	case row.Insert, row.UpdateAfter:
		phys := row.Row{Fields: in.Fields[:n]}
		if had {
			if row.EqualRows(old, phys, f.types) {
				return nil
			}
			ctx.Collect(withMeta(old, row.UpdateBefore))
			ctx.Collect(withMeta(phys, row.UpdateAfter))
		} else {
			ctx.Collect(withMeta(phys, row.Insert))
		}
		f.last.Update(string(f.codec.Append(nil, phys)))
	case row.Delete:
		if had {
			ctx.Collect(withMeta(old, row.Delete))
			f.last.Clear()
		}
	}
	return nil
}
