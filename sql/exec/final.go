package exec

import (
	"fmt"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// FinalSpec describes a Final operator.
type FinalSpec struct {
	// Types are the row's field types.
	Types []row.Type
	// UID and Name identify the operator (default name "Final").
	UID, Name string
}

// Final turns a changelog of a bounded input into the table it describes,
// emitted as +I rows when the input ends (the final watermark): the batch
// execution mode's result, equal to the streaming run's materialised
// result. Rows are counted per distinct row (+I/+U add one, -U/-D remove
// one); a retraction of a row the table does not hold fails the job. Rows
// are emitted once per occurrence, in no particular order.
func Final(in weir.Stream[row.Row], spec FinalSpec) (weir.Stream[row.Row], error) {
	all := make([]int, len(spec.Types))
	for i := range all {
		all[i] = i
	}
	types := spec.Types
	ks := weir.KeyBy(in, func(r row.Row) string { return string(row.AppendKey(nil, r, all, types)) })
	out := weir.ProcessKeyed[string, row.Row, row.Row](ks, &finalFn{types: types}).DefaultName("Final")
	if spec.Name != "" {
		out = out.Name(spec.Name)
	}
	if spec.UID != "" {
		out = out.UID(spec.UID)
	}
	return out, nil
}

type finalFn struct {
	types []row.Type
	codec *row.Codec
	count state.Value[int64]
	first state.Value[string]
}

func (f *finalFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.codec = row.NewCodec(f.types)
	f.count = state.GetValue[string, int64](ctx.State(), state.Descriptor{Name: "final-count"})
	f.first = state.GetValue[string, string](ctx.State(), state.Descriptor{Name: "final-row"})
	return nil
}

func (f *finalFn) ProcessElement(ctx *weir.KeyedContext[string, row.Row], in row.Row) error {
	n, _ := f.count.Value()
	if in.Kind.IsRetract() {
		if n <= 0 {
			return fmt.Errorf("sql/exec: %s retracts a row the result does not hold", row.FormatRow(in, f.types))
		}
		f.count.Update(n - 1)
		return nil
	}
	if n == 0 {
		f.first.Update(string(f.codec.Append(nil, in.WithKind(row.Insert))))
		ctx.RegisterEventTimeTimer(weir.MaxWatermark - 1)
	}
	f.count.Update(n + 1)
	return nil
}

func (f *finalFn) OnTimer(ctx *weir.KeyedContext[string, row.Row], _ int64) error {
	n, _ := f.count.Value()
	if n <= 0 {
		return nil
	}
	b, ok := f.first.Value()
	if !ok {
		return fmt.Errorf("sql/exec: final result row missing from state")
	}
	r, _, err := f.codec.Decode([]byte(b))
	if err != nil {
		return err
	}
	for range n {
		ctx.Collect(r.Clone())
	}
	f.count.Clear()
	f.first.Clear()
	return nil
}
