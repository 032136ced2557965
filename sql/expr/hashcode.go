package expr

import (
	"hash/fnv"
	"math"

	"github.com/weirstream/weir/row"
)

// hashFuncs holds HASH_CODE, the internal function of Flink's
// SplitAggregateRule (FlinkSqlOperatorTable.HASH_CODE): the planner's
// split of distinct aggregates groups rows by MOD(HASH_CODE(x), buckets).
func hashFuncs() []*Func {
	return []*Func{
		{Name: "HASH_CODE", Doc: "HASH_CODE(x): an INT hash of x (NULL for NULL), as Java's hashCode for integers, BOOLEAN, FLOAT/DOUBLE and strings (String.hashCode over UTF-16), a 32-bit FNV-1a of the value's encoding for other types. Internal to the split of distinct aggregates (table.optimizer.distinct-agg.split.enabled); values of non-string, non-numeric types differ from Flink's.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pAny)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, row.IntType().WithNullable(out[0].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				a0, t := s.args[0], s.argTypes[0]
				var buf []byte
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := a0(ctx, in)
					if err != nil || v.IsNull() {
						return row.Value{}, err
					}
					var h int32
					h, buf = hashCode(v, t, buf[:0])
					return row.Int(int64(h)), nil
				}, nil
			}},
	}
}

// hashCode returns Java's hashCode of v where Java's boxed type has one
// that is a function of the value, else a 32-bit FNV-1a of its encoding
// (buf is scratch space, returned for reuse).
func hashCode(v row.Value, t row.Type, buf []byte) (int32, []byte) {
	switch {
	case t.IsInteger():
		if t.Root == row.TypeBigInt {
			x := v.Int()
			return int32(x ^ int64(uint64(x)>>32)), buf
		}
		return int32(v.Int()), buf
	case t.Root == row.TypeBoolean:
		if v.Bool() {
			return 1231, buf
		}
		return 1237, buf
	case t.Root == row.TypeDouble:
		b := math.Float64bits(v.Float())
		return int32(b ^ b>>32), buf
	case t.Root == row.TypeFloat:
		return int32(math.Float32bits(float32(v.Float()))), buf
	case t.IsString():
		var h int32
		for _, r := range v.Str() {
			if r > 0xFFFF {
				r -= 0x10000
				h = 31*h + int32(0xD800+(r>>10))
				h = 31*h + int32(0xDC00+(r&0x3FF))
				continue
			}
			h = 31*h + int32(r)
		}
		return h, buf
	}
	buf = row.AppendValue(buf, v, t)
	f := fnv.New32a()
	_, _ = f.Write(buf)
	return int32(f.Sum32()), buf
}
