package expr

import (
	"strings"

	"github.com/weirstream/weir/row"
)

// JSONAggItem is the internal function the planner puts around the value
// argument of JSON_OBJECTAGG and JSON_ARRAYAGG (Flink's
// WrapJsonAggFunctionArgumentsRule wraps them into JSON_STRING): the value
// serialised as JSON_OBJECT serialises a value, so that the aggregate
// accumulates JSON text. Called as $JSON_AGG_ITEM(mask, value), where mask
// is the symbol "R" when the value is a JSON_OBJECT, JSON_ARRAY or
// JSON(..) call (inserted as JSON, not as a string) and "-" otherwise. The
// result is NULL for NULL (and for a blank JSON(..) text).
const JSONAggItem = "$JSON_AGG_ITEM"

// PercentileSignatures is Flink's validation error of the PERCENTILE
// aggregate (the planner and the runtime's ResultType give it).
const PercentileSignatures = "Invalid input arguments. Expected signatures are:\n" +
	"PERCENTILE(expr <NUMERIC>, percentage [<NUMERIC NOT NULL> | ARRAY<NUMERIC NOT NULL> NOT NULL])\n" +
	"PERCENTILE(expr <NUMERIC>, percentage [<NUMERIC NOT NULL> | ARRAY<NUMERIC NOT NULL> NOT NULL], frequency <INTEGER_NUMERIC>)"

// AppendJSONString appends s as a JSON string literal with Jackson's
// escapes (as JSON_OBJECT writes keys and strings).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

func jsonAggFuncs() []*Func {
	return []*Func{{Name: JSONAggItem, symbols: true,
		Doc: JSONAggItem + "(mask, value): internal; the value argument of JSON_OBJECTAGG and JSON_ARRAYAGG serialised as JSON_OBJECT serialises a value (mask R: a nested JSON_OBJECT, JSON_ARRAY or JSON(..) inserted as JSON); NULL for NULL.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) != 2 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			if m, ok := args[0].(*Symbol); !ok || (m.Name != "R" && m.Name != "-") {
				return nil, row.Type{}, cannotApply(f, args)
			}
			out := []Expr{args[0], args[1]}
			if isNullT(args[1].Type()) {
				out[1] = coerce(args[1], tString)
			}
			return out, tString.WithNullable(true), nil
		},
		build: func(s *site) (Evaluator, error) {
			raw := s.symbol(0) == "R"
			v0, t := s.args[1], s.argTypes[1]
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := v0(ctx, in)
				if err != nil || v.IsNull() {
					return row.Value{}, err
				}
				if !raw {
					return row.Str(string(appendJSON(nil, v, t))), nil
				}
				if strings.TrimSpace(v.Str()) == "" {
					return row.Value{}, nil
				}
				enc, err := normalizeJSON(v.Str())
				if err != nil {
					return row.Value{}, err
				}
				return row.Str(string(enc)), nil
			}, nil
		}}}
}
