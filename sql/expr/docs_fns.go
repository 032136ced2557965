package expr

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/row"
)

// Built-ins of Flink's current function reference (docs/data/
// sql_functions.yml) that its examples use: INET_ATON, INET_NTOA,
// MAP_FROM_ENTRIES and JSON_TYPE.

// inetAton reads an IPv4 address in MySQL's forms: a, a.b (a.0.0.b),
// a.b.c (a.b.0.c) or a.b.c.d, each part decimal digits (leading zeros
// decimal) in [0, 255]; ok is false for anything else.
func inetAton(s string) (int64, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var p [4]int64
	for i, part := range parts {
		if part == "" {
			return 0, false
		}
		var n int64
		for _, c := range []byte(part) {
			if c < '0' || c > '9' {
				return 0, false
			}
			if n = n*10 + int64(c-'0'); n > 255 {
				return 0, false
			}
		}
		p[i] = n
	}
	switch len(parts) {
	case 1:
		return p[0], true
	case 2:
		return p[0]<<24 | p[1], true
	case 3:
		return p[0]<<24 | p[1]<<16 | p[2], true
	}
	return p[0]<<24 | p[1]<<16 | p[2]<<8 | p[3], true
}

// jsonTypeName is JSON_TYPE's name of a decoded JSON value.
func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return "number"
}

// jsonResolve1 decodes doc and follows path (a plain path, as
// JSON_LENGTH reads it) to exactly one value; ok is false for invalid
// JSON, an empty or invalid path, a missing member, or an indefinite path
// without exactly one match.
func jsonResolve1(doc, path string) (any, bool, error) {
	v, ok := jsonDecode(doc)
	if !ok || path == "" {
		return nil, false, nil
	}
	if path == "$" {
		return v, true, nil
	}
	steps, err := parseJSONPath(path)
	if errors.Is(err, errJSONPathUnsupported) {
		return nil, false, err
	}
	if err != nil {
		return nil, false, nil
	}
	var out []any
	jsonMatches(v, steps, false, &out)
	if len(out) != 1 {
		return nil, false, nil
	}
	return out[0], true, nil
}

func docsFuncs() []*Func {
	return []*Func{
		{Name: "INET_ATON", Doc: "INET_ATON(string): the BIGINT of an IPv4 address, MySQL's short forms accepted (a.b is a.0.0.b, a.b.c is a.b.0.c, leading zeros decimal); NULL if the argument is NULL, empty or not such an address.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pString)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, tBigInt.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					n, ok := inetAton(a.Str())
					if !ok {
						return row.Value{}, nil
					}
					return row.Int(n), nil
				}), nil
			}},
		{Name: "INET_NTOA", Doc: "INET_NTOA(integer): the dotted IPv4 address of a number in [0, 4294967295]; NULL if the argument is NULL or out of that range.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pBigInt)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, tString.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					n := a.Int()
					if n < 0 || n > 0xFFFFFFFF {
						return row.Value{}, nil
					}
					b := make([]byte, 0, 15)
					for i := 3; i >= 0; i-- {
						b = strconv.AppendInt(b, (n>>(8*i))&0xFF, 10)
						if i > 0 {
							b = append(b, '.')
						}
					}
					return row.Str(string(b)), nil
				}), nil
			}},
		{Name: "MAP_FROM_ENTRIES", Doc: "MAP_FROM_ENTRIES(array_of_entries): the map of an array of two-field rows (key, value); a repeated key keeps its last value, NULL keys count as equal; NULL if the array or any entry is NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 1 {
					return nil, row.Type{}, noMatch(f, args)
				}
				t := args[0].Type()
				if t.Root != row.TypeArray || t.Elem.Root != row.TypeRow || len(t.Elem.Fields) != 2 {
					return nil, row.Type{}, invalidInput(f, "MAP_FROM_ENTRIES(ARRAY<ROW<`f0` ANY, `f1` ANY>>)")
				}
				fs := t.Elem.Fields
				// An entry may be NULL: the result is nullable when the
				// array or its entries are.
				return args, row.MapType(fs[0].Type, fs[1].Type).WithNullable(t.Nullable || t.Elem.Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(s.argTypes[0].Elem.Fields[0].Type)
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					es := a.Elems()
					ks, vs := make([]row.Value, len(es)), make([]row.Value, len(es))
					for i, e := range es {
						if e.IsNull() {
							return row.Value{}, nil
						}
						f := e.Elems()
						ks[i], vs[i] = f[0], f[1]
					}
					mk, mv := mapPutAll(nil, nil, ks, vs, eq)
					return row.Map(mk, mv), nil
				}), nil
			}},
		{Name: "JSON_TYPE", Doc: "JSON_TYPE(json [, path]): the type of the JSON value (at path, a plain path as JSON_LENGTH reads it): object, array, string, number, boolean or null; NULL if json is NULL or not valid JSON, or the path does not resolve to exactly one value.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pString, pString)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, tString.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				if len(s.args) == 1 {
					return strict1(s, func(_ *EvalContext, doc row.Value) (row.Value, error) {
						v, ok := jsonDecode(doc.Str())
						if !ok {
							return row.Value{}, nil
						}
						return row.Str(jsonTypeName(v)), nil
					}), nil
				}
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					v, ok, err := jsonResolve1(doc.Str(), path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					if !ok {
						return row.Value{}, nil
					}
					return row.Str(jsonTypeName(v)), nil
				}), nil
			}},
	}
}

// ltzDefaultFormat is TO_TIMESTAMP_LTZ's format of a string without one.
const ltzDefaultFormat = "yyyy-MM-dd HH:mm:ss"

// formatFractionDigits is the longest run of S in a date-time format
// outside its quoted literals, clamped to 3..9: the precision of
// TO_TIMESTAMP_LTZ(s, fmt).
func formatFractionDigits(f string) int {
	best, run, quoted := 0, 0, false
	for _, c := range f {
		switch {
		case c == '\'':
			quoted, run = !quoted, 0
		case !quoted && c == 'S':
			if run++; run > best {
				best = run
			}
		default:
			run = 0
		}
	}
	return min(max(best, 3), 9)
}

// resolveToTimestampLTZString resolves TO_TIMESTAMP_LTZ(s[, fmt[, zone]]).
func resolveToTimestampLTZString(f *Func, args []Expr) ([]Expr, row.Type, error) {
	out, err := checkArgs(f, args, 1, pString, pString, pString)
	if err != nil {
		return nil, row.Type{}, err
	}
	prec := 3
	if len(out) >= 2 {
		if l, ok := out[1].(*Literal); ok && !l.Value.IsNull() {
			prec = formatFractionDigits(l.Value.Str())
		}
	}
	return out, row.TimestampLTZType(prec).WithNullable(true), nil
}

// buildToTimestampLTZString evaluates TO_TIMESTAMP_LTZ(s[, fmt[, zone]]):
// s read with fmt in zone; a sub-precision fraction is truncated.
func buildToTimestampLTZString(s *site) Evaluator {
	prec := s.ret.Precision
	if len(s.args) == 1 {
		// Without a format Flink reads the default timestamp text
		// (DateTimeUtils.parseTimestampData: yyyy-MM-dd[ HH:mm:ss[.f]],
		// as TO_TIMESTAMP and CAST read it) at precision 3, in UTC.
		return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
			ms, nano, ok := parseTimestampText(strings.TrimSpace(a[0].Str()))
			if !ok {
				return row.Value{}, nil
			}
			return truncTimestamp(row.Timestamp(ms, nano), prec), nil
		})
	}
	p := newTsParser(s, 1)
	var lastZone string
	var loc *time.Location
	return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
		fv := row.Str(ltzDefaultFormat)
		if len(a) >= 2 {
			fv = a[1]
		}
		pat, err := p.get(s, 1, fv)
		if err != nil {
			return row.Value{}, nil
		}
		zl := time.UTC
		if len(a) == 3 {
			if loc == nil || a[2].Str() != lastZone {
				l, err := loadZone(a[2].Str())
				if err != nil {
					return row.Value{}, s.wrap(err)
				}
				loc, lastZone = l, a[2].Str()
			}
			zl = loc
		}
		t, err := pat.Parse(a[0].Str(), zl)
		if err != nil {
			return row.Value{}, nil
		}
		return truncTimestamp(row.Timestamp(t.UnixMilli(), int32(t.Nanosecond()%1e6)), prec), nil
	})
}
