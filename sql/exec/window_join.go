package exec

import (
	"fmt"
	"time"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/state"
)

// WindowJoinSpec configures WindowJoin: two window table function outputs
// joined on equal windows (L.window_start = R.window_start AND
// L.window_end = R.window_end) and equal keys.
type WindowJoinSpec struct {
	// Type is INNER, LEFT, RIGHT, FULL, SEMI or ANTI (a window semi or
	// anti join emits the left row, left columns only, with a match or
	// without one).
	Type JoinType
	// LeftTypes and RightTypes are the inputs' field types.
	LeftTypes, RightTypes []row.Type
	// LeftKeys and RightKeys are the equi-join columns besides the
	// windows' (may be empty).
	LeftKeys, RightKeys []int
	// LeftWindowStart, LeftWindowEnd, RightWindowStart and RightWindowEnd
	// are the window columns of each side.
	LeftWindowStart, LeftWindowEnd, RightWindowStart, RightWindowEnd int
	// Condition is the optional residual condition (nil = none).
	Condition JoinCondition
	// Zone is the session time zone when the windows are over a
	// TIMESTAMP_LTZ time attribute (see WindowRankSpec.Zone).
	Zone *time.Location
}

// WindowJoin is Flink's window join (WindowJoinOperator): both sides'
// rows of a window and key are buffered until the watermark reaches the
// window's end - 1 ms; then every left row is joined with every right row
// satisfying the condition (+I, left rows in arrival order, each with the
// right rows in arrival order), unmatched rows of an outer side are
// emitted padded with NULLs (left ones after their left row's pairs, right
// ones at the end), and the window's state is dropped; a semi (anti) join
// emits each left row with (without) a match, once, left columns only.
// Rows of a window
// that already fired are late and dropped; a NULL key never matches.
// Input and output are append-only.
func WindowJoin(left, right weir.Stream[row.Row], spec WindowJoinSpec) (weir.Stream[row.Row], error) {
	if spec.Type > AntiJoin {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: join type %s is not supported (INNER, LEFT, RIGHT, FULL, SEMI or ANTI)", spec.Type)
	}
	if len(spec.LeftKeys) != len(spec.RightKeys) {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: %d left and %d right key columns", len(spec.LeftKeys), len(spec.RightKeys))
	}
	for i := range spec.LeftKeys {
		l, r := spec.LeftKeys[i], spec.RightKeys[i]
		if l < 0 || l >= len(spec.LeftTypes) || r < 0 || r >= len(spec.RightTypes) {
			return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: key pair %d (%d, %d) out of range", i, l, r)
		}
		if err := checkJoinKeyTypes(spec.LeftTypes[l], spec.RightTypes[r]); err != nil {
			return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: key pair %d: %w", i, err)
		}
	}
	if err := checkWindowColumns(spec.LeftTypes, spec.LeftWindowStart, spec.LeftWindowEnd); err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: left %w", err)
	}
	if err := checkWindowColumns(spec.RightTypes, spec.RightWindowStart, spec.RightWindowEnd); err != nil {
		return weir.Stream[row.Row]{}, fmt.Errorf("sql/exec: window join: right %w", err)
	}
	// Both sides key by the join keys and the window; the window columns
	// of both sides have the same type class (timestamps), which encode
	// alike.
	lsel := windowKeySelector(spec.LeftKeys, spec.LeftWindowStart, spec.LeftWindowEnd, spec.LeftTypes)
	rsel := windowKeySelector(spec.RightKeys, spec.RightWindowStart, spec.RightWindowEnd, spec.RightTypes)
	fn := &windowJoinFn{spec: spec, lcodec: row.NewCodec(spec.LeftTypes), rcodec: row.NewCodec(spec.RightTypes)}
	ks := weir.ConnectKeyed(weir.KeyBy(left, lsel), weir.KeyBy(right, rsel))
	return weir.CoProcessKeyed[string, row.Row, row.Row, row.Row](ks, fn).DefaultName("WindowJoin(" + spec.Type.String() + ")"), nil
}

type windowJoinFn struct {
	spec           WindowJoinSpec
	lcodec, rcodec *row.Codec
	lrows, rrows   state.List[string]
	buf            []byte // encoding scratch
}

func (f *windowJoinFn) Open(ctx *weir.KeyedRuntimeContext[string]) error {
	f.lrows = state.GetList[string, string](ctx.State(), state.Descriptor{Name: "wjoin-left"})
	f.rrows = state.GetList[string, string](ctx.State(), state.Descriptor{Name: "wjoin-right"})
	return nil
}

type wjCtx = weir.KeyedContext[string, row.Row]

func (f *windowJoinFn) ProcessElement1(ctx *wjCtx, in row.Row) error {
	return f.add(ctx, in, f.spec.LeftTypes, f.spec.LeftWindowEnd, f.lcodec, f.lrows)
}

func (f *windowJoinFn) ProcessElement2(ctx *wjCtx, in row.Row) error {
	return f.add(ctx, in, f.spec.RightTypes, f.spec.RightWindowEnd, f.rcodec, f.rrows)
}

func (f *windowJoinFn) add(ctx *wjCtx, in row.Row, types []row.Type, end int, c *row.Codec, l state.List[string]) error {
	if in.Kind != row.Insert {
		return fmt.Errorf("sql/exec: window join: input must be append-only, got a %s row", in.Kind)
	}
	if len(in.Fields) != len(types) {
		return fmt.Errorf("sql/exec: window join: input row has %d fields, want %d", len(in.Fields), len(types))
	}
	fire, late, err := windowFireTime(ctx, in, end, f.spec.Zone)
	if err != nil {
		return fmt.Errorf("sql/exec: window join: %w", err)
	}
	if late {
		return nil
	}
	ctx.RegisterEventTimeTimer(fire)
	f.buf = c.Append(f.buf[:0], in)
	l.Add(string(f.buf))
	return nil
}

func windowJoinDecode(encs []string, c *row.Codec) ([]row.Row, error) {
	out := make([]row.Row, len(encs))
	for i, e := range encs {
		r, _, err := c.Decode([]byte(e))
		if err != nil {
			return nil, fmt.Errorf("sql/exec: window join: state: %w", err)
		}
		out[i] = r
	}
	return out, nil
}

func (f *windowJoinFn) OnTimer(ctx *wjCtx, _ int64) error {
	s := &f.spec
	ls, err := windowJoinDecode(f.lrows.Get(), f.lcodec)
	if err != nil {
		return err
	}
	rs, err := windowJoinDecode(f.rrows.Get(), f.rcodec)
	if err != nil {
		return err
	}
	f.lrows.Clear()
	f.rrows.Clear()
	semi := s.Type == SemiJoin || s.Type == AntiJoin
	rMatched := make([]bool, len(rs))
	for _, l := range ls {
		matched := false
		if !hasNullKey(l, s.LeftKeys) {
			for j, r := range rs {
				if semi && matched {
					break
				}
				if hasNullKey(r, s.RightKeys) {
					continue
				}
				if s.Condition != nil {
					ok, err := s.Condition(l.Fields, r.Fields)
					if err != nil {
						return fmt.Errorf("sql/exec: window join condition: %w", err)
					}
					if !ok {
						continue
					}
				}
				matched, rMatched[j] = true, true
				if !semi {
					ctx.Collect(joinRows(row.Insert, l.Fields, r.Fields))
				}
			}
		}
		if semi {
			if matched == (s.Type == SemiJoin) {
				ctx.Collect(row.Row{Kind: row.Insert, Fields: l.Fields})
			}
			continue
		}
		if !matched && s.Type.leftOuter() {
			ctx.Collect(joinRows(row.Insert, l.Fields, make([]row.Value, len(s.RightTypes))))
		}
	}
	if s.Type.rightOuter() {
		for j, r := range rs {
			if !rMatched[j] {
				ctx.Collect(joinRows(row.Insert, make([]row.Value, len(s.LeftTypes)), r.Fields))
			}
		}
	}
	return nil
}
