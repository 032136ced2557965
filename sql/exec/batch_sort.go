package exec

import (
	"fmt"
	"slices"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// BatchSortSpec configures BatchSort.
type BatchSortSpec struct {
	// Types are the input's field types.
	Types []row.Type
	// Keys are the ORDER BY keys.
	Keys []OrderKey
	// Offset rows are skipped (ORDER BY ... OFFSET n without LIMIT).
	Offset int64
	// UID and Name name the operator (optional).
	UID, Name string
}

// BatchSort is a top-level ORDER BY of the batch mode (Flink's batch
// Sort): it keeps the insert-only rows of a bounded input on one subtask
// (list state "batch-sort-rows", so a checkpoint holds them) and, when
// the input ends (the final watermark), emits them ordered by the keys,
// rows with equal keys in arrival order, from Offset on. The planner puts
// it at the root of a batch query, over the input's final table when the
// input updates.
func BatchSort(in weir.Stream[row.Row], spec BatchSortSpec) (weir.Stream[row.Row], error) {
	if len(spec.Keys) == 0 {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: BatchSort needs at least one key")
	}
	for _, k := range spec.Keys {
		if k.Col < 0 || k.Col >= len(spec.Types) {
			return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: BatchSort key column %d out of range (%d columns)", k.Col, len(spec.Types))
		}
	}
	ks := weir.KeyBy(in, func(row.Row) string { return "" })
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &batchSortFn{spec: spec}).DefaultName("Sort")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

type batchSortFn struct {
	spec  BatchSortSpec
	codec *row.Codec
	rows  state.List[string]
}

func (f *batchSortFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.spec.Types)
	f.rows = state.GetList[string, string](ctx.State(), state.Descriptor{Name: "batch-sort-rows"})
	return nil
}

func (f *batchSortFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: Sort takes the final rows of its input, got a %v row %s", in.Kind, row.FormatRow(in, f.spec.Types))
	}
	f.rows.Add(string(f.codec.Append(nil, in)))
	ctx.RegisterEventTimeTimer(weir.MaxWatermark - 1)
	return nil
}

func (f *batchSortFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	enc := f.rows.Get()
	rows := make([]row.Row, 0, len(enc))
	for _, b := range enc {
		r, _, err := f.codec.Decode([]byte(b))
		if err != nil {
			return fmt.Errorf("sql/exec: Sort: decoding a kept row: %w", err)
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b row.Row) int { return compareByKeys(a, b, f.spec.Keys, f.spec.Types) })
	for i, r := range rows {
		if int64(i) < f.spec.Offset {
			continue
		}
		ctx.Collect(r)
	}
	f.rows.Clear()
	return nil
}
