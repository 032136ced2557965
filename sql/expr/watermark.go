package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// watermarkFuncs holds CURRENT_WATERMARK, whose value is the watermark the
// evaluating operator has seen (EvalContext.SetWatermark).
func watermarkFuncs() []*Func {
	return []*Func{{Name: "CURRENT_WATERMARK", Volatile: true,
		Doc: "CURRENT_WATERMARK(rowtime): the current watermark of the operator evaluating it, typed as the event-time attribute rowtime (TIMESTAMP(3) or TIMESTAMP_LTZ(3)); NULL before the first watermark (Flink's CURRENT_WATERMARK, not constant-folded).",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) != 1 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			t := args[0].Type()
			if t.TimeAttr != row.Rowtime || (t.Root != row.TypeTimestamp && t.Root != row.TypeTimestampLTZ) {
				return nil, row.Type{}, fmt.Errorf("Invalid function call:\nCURRENT_WATERMARK(%s)", t.WithNullable(true))
			}
			out := row.TimestampType(3)
			if t.Root == row.TypeTimestampLTZ {
				out = row.TimestampLTZType(3)
			}
			return args, out.WithNullable(true), nil
		},
		build: func(*site) (Evaluator, error) {
			return func(ctx *EvalContext, _ []row.Value) (row.Value, error) {
				if !ctx.hasWatermark {
					return row.Null(), nil
				}
				return row.Timestamp(ctx.watermark, 0), nil
			}, nil
		}}}
}

// SetWatermark records the watermark the operator evaluating expressions
// with ctx has seen, for CURRENT_WATERMARK (NULL until it is set).
func (ctx *EvalContext) SetWatermark(wm int64) {
	ctx.watermark, ctx.hasWatermark = wm, true
}
