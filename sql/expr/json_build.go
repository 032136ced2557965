package expr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// The JSON constructors as Flink's (JsonObjectFunction, JsonArrayFunction,
// JsonStringFunction, JSON(..), IS JSON): values serialise as Flink's
// Jackson does — object keys sorted, STRING quoted with Jackson's escapes,
// DOUBLE as Java's Double.toString, DECIMAL as BigDecimal.toString,
// TIMESTAMP as LocalDateTime.toString and TIMESTAMP_LTZ as Instant.toString
// in quotes, DATE and TIME as LocalDate/LocalTime.toString, BYTES in
// base64, ARRAY as an array, MAP and ROW as objects (a ROW by its field
// names). A value made by JSON_OBJECT, JSON_ARRAY or JSON(..) directly
// inside a constructor is inserted as JSON, not as a string; the planner
// marks those arguments (the raw mask, see JSONObjectArgs).
//
// Calls: JSON_OBJECT(onNull, mask, k1, v1, ...), JSON_ARRAY(onNull, mask,
// v1, ...), where onNull is the symbol NULL or ABSENT and mask a symbol
// of one character per value, 'R' for a raw JSON value and '-' otherwise.

var errInvalidJSONArg = errors.New("expr: Invalid JSON string in JSON(value) function")

func jsonBuildFuncs() []*Func {
	ctor := func(name string, keyed bool) *Func {
		return &Func{Name: name, symbols: true,
			Doc: name + ": a JSON " + map[bool]string{true: "object of the key/value pairs", false: "array of the values"}[keyed] + " as Flink builds it (NULL ON NULL or ABSENT ON NULL; nested JSON_OBJECT, JSON_ARRAY and JSON(..) values inserted as JSON); STRING NOT NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				on, ok1 := args[0].(*Symbol)
				mask, ok2 := args[1].(*Symbol)
				n := len(args) - 2
				if keyed {
					if n%2 != 0 {
						return nil, row.Type{}, cannotApply(f, args)
					}
					n /= 2
				}
				if !ok1 || !ok2 || (on.Name != "NULL" && on.Name != "ABSENT") || len(mask.Name) != n {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out := append([]Expr{}, args...)
				for i := 2; i < len(args); i++ {
					t := args[i].Type()
					isKey := keyed && (i-2)%2 == 0
					switch {
					case isNullT(t):
						if isKey {
							return nil, row.Type{}, fmtErr("expr: %s: a key must not be NULL", f.Name)
						}
						out[i] = coerce(args[i], tString)
					case isKey && !t.IsString():
						return nil, row.Type{}, fmtErr("expr: %s: a key must be a character string, not %s", f.Name, t)
					}
				}
				return out, tString.NotNull(), nil
			},
			build: func(s *site) (Evaluator, error) {
				absent := s.symbol(0) == "ABSENT"
				mask := s.symbol(1)
				args, types := s.args[2:], s.argTypes[2:]
				var b bytes.Buffer
				type kv struct {
					k string
					v []byte
				}
				var pairs []kv
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					b.Reset()
					pairs = pairs[:0]
					if !keyed {
						b.WriteByte('[')
					}
					first := true
					for i := 0; i < len(args); i++ {
						var key string
						if keyed {
							k, err := args[i](ctx, in)
							if err != nil {
								return row.Value{}, err
							}
							if k.IsNull() {
								return row.Value{}, fmtErr("expr: %s: a key is NULL", s.fn.Name)
							}
							key = k.Str()
							i++
						}
						v, err := args[i](ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						vi := i
						if keyed {
							vi = (i - 1) / 2
						}
						raw := mask[vi] == 'R'
						var enc []byte
						switch {
						case v.IsNull() || (raw && strings.TrimSpace(v.Str()) == ""):
							if absent {
								continue
							}
							enc = []byte("null")
						case raw:
							enc, err = normalizeJSON(v.Str())
							if err != nil {
								return row.Value{}, err
							}
						default:
							enc = appendJSON(nil, v, types[i])
						}
						if keyed {
							pairs = append(pairs, kv{key, enc})
							continue
						}
						if !first {
							b.WriteByte(',')
						}
						first = false
						b.Write(enc)
					}
					if keyed {
						// Sorted keys; a repeated key keeps its last value.
						slices.SortStableFunc(pairs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
						b.WriteByte('{')
						for i, p := range pairs {
							if i+1 < len(pairs) && pairs[i+1].k == p.k {
								continue
							}
							if b.Len() > 1 {
								b.WriteByte(',')
							}
							b.Write(appendJSONString(nil, p.k))
							b.WriteByte(':')
							b.Write(p.v)
						}
						b.WriteByte('}')
					} else {
						b.WriteByte(']')
					}
					return row.Str(b.String()), nil
				}, nil
			}}
	}
	return []*Func{
		ctor("JSON_OBJECT", true),
		ctor("JSON_ARRAY", false),
		{Name: "JSON", Doc: "JSON(value): value, a JSON text, inserted as JSON by the JSON_OBJECT or JSON_ARRAY around it (allowed only there); NULL for NULL or blank text; an error for invalid JSON.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(retStr, 1, pString)(f, args)
				return out, t.WithNullable(true), err
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					if strings.TrimSpace(a.Str()) == "" {
						return row.Value{}, nil
					}
					if !json.Valid([]byte(a.Str())) {
						return row.Value{}, jsonArgError(a.Str())
					}
					return a, nil
				}), nil
			}},
		{Name: "JSON_STRING", Doc: "JSON_STRING(value): value serialised as JSON (as in JSON_OBJECT); NULL for NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 1 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				t := args[0].Type()
				out := []Expr{args[0]}
				if isNullT(t) {
					out[0] = coerce(args[0], tString)
				}
				return out, tString.WithNullable(out[0].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				t := s.argTypes[0]
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					return row.Str(string(appendJSON(nil, a, t))), nil
				}), nil
			}},
		{Name: "IS JSON", symbols: true, Doc: "s IS JSON [VALUE|SCALAR|ARRAY|OBJECT], called as IS JSON([kind, ]s): whether s is JSON text of that kind (VALUE, the default: any); FALSE for invalid text; NULL for NULL (FLINK-39943).",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) == 1 {
					args = []Expr{Sym("VALUE"), args[0]}
				}
				if len(args) != 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				if k, ok := args[0].(*Symbol); !ok || (k.Name != "VALUE" && k.Name != "SCALAR" && k.Name != "ARRAY" && k.Name != "OBJECT") {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, err := checkArgs(f, args, 2, pSym, pString)
				if err != nil {
					return nil, row.Type{}, err
				}
				// NULL in, NULL out (FLINK-39943); a NOT NULL input gives
				// a NOT NULL result.
				return out, tBoolean.WithNullable(out[1].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				kind, arg := s.symbol(0), s.args[1]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := arg(ctx, in)
					if err != nil || v.IsNull() {
						return row.Value{}, err
					}
					return row.Bool(isJSONKind(v.Str(), kind)), nil
				}, nil
			}},
	}
}

// jsonArgError is Flink's error for JSON(..) of text that is not JSON,
// with the position Jackson reports.
func jsonArgError(s string) error {
	var v any
	err := json.Unmarshal([]byte(s), &v)
	line, col := 1, 1
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off > len(s) {
			off = len(s)
		}
		line = 1 + strings.Count(s[:off], "\n")
		col = off - strings.LastIndexByte(s[:off], '\n')
	}
	return fmtErr("%w: %q (line: %d, column: %d)", errInvalidJSONArg, s, line, col)
}

// isJSONKind reports whether s is JSON text of kind (VALUE, SCALAR,
// ARRAY or OBJECT).
func isJSONKind(s string, kind string) bool {
	if !json.Valid([]byte(s)) {
		return false
	}
	t := strings.TrimLeft(s, " \t\r\n")
	switch kind {
	case "ARRAY":
		return strings.HasPrefix(t, "[")
	case "OBJECT":
		return strings.HasPrefix(t, "{")
	case "SCALAR":
		return !strings.HasPrefix(t, "[") && !strings.HasPrefix(t, "{")
	}
	return true
}

// normalizeJSON parses JSON text and writes it back as Jackson writes the
// tree it reads: no whitespace, object keys sorted (a repeated key keeps
// its last value), numbers with a fraction or exponent as Java doubles.
func normalizeJSON(s string) ([]byte, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, jsonArgError(s)
	}
	if _, err := d.Token(); err == nil {
		return nil, jsonArgError(s) // trailing content
	}
	return appendJSONTree(nil, v), nil
}

func appendJSONTree(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return appendJSONString(b, x)
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil { // out of range: Jackson reads +-Infinity
				if strings.HasPrefix(s, "-") {
					return append(b, "-Infinity"...)
				}
				return append(b, "Infinity"...)
			}
			return append(b, row.JavaFloatString(f, 64)...)
		}
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return append(b, s...)
		}
		return n.Append(b, 10)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONTree(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONTree(b, x[k])
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendJSONString writes s quoted with Jackson's escapes: '"', '\' and
// the control characters (\b \t \n \f \r short, others \u00XX); '/' and
// non-ASCII as they are.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				b = append(b, c)
				i++
				continue
			}
			r, w := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r)
			i += w
			continue
		}
		b = row.AppendJSONEscape(b, c)
		i++
	}
	return append(b, '"')
}

// appendJSON writes the non-NULL value v of type t as Flink's JSON
// functions serialise it.
func appendJSON(b []byte, v row.Value, t row.Type) []byte {
	if v.IsNull() {
		return append(b, "null"...)
	}
	switch t.Root {
	case row.TypeBoolean:
		return strconv.AppendBool(b, v.Bool())
	case row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case row.TypeFloat:
		return append(b, row.JavaFloatString(v.Float(), 32)...)
	case row.TypeDouble:
		return append(b, row.JavaFloatString(v.Float(), 64)...)
	case row.TypeDecimal:
		return append(b, bigDecimalString(v, t)...)
	case row.TypeChar, row.TypeVarChar:
		return appendJSONString(b, v.Str())
	case row.TypeVariant:
		// Inserted as the JSON it holds (JSON_STRING(variant) is its
		// Variant.toJson).
		return row.AppendVariantJSON(b, v.Str())
	case row.TypeBinary, row.TypeVarBinary:
		return appendJSONString(b, base64.StdEncoding.EncodeToString([]byte(v.Str())))
	case row.TypeDate:
		return appendJSONString(b, row.FormatDate(v.Int()))
	case row.TypeTime:
		return appendJSONString(b, localTimeString(v.Int()))
	case row.TypeTimestamp:
		return appendJSONString(b, localDateTimeString(v))
	case row.TypeTimestampLTZ:
		return appendJSONString(b, instantString(v))
	case row.TypeArray:
		b = append(b, '[')
		for i, e := range v.Elems() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e, *t.Elem)
		}
		return append(b, ']')
	case row.TypeMap:
		m := v.MapOf()
		type kv struct {
			k string
			v row.Value
		}
		kvs := make([]kv, len(m.Keys))
		for i, k := range m.Keys {
			ks := k.Str()
			if !t.Elem.IsString() {
				ks = row.Format(k, *t.Elem)
			}
			kvs[i] = kv{ks, m.Values[i]}
		}
		sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b = append(b, '{')
		for i, e := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, e.k)
			b = append(b, ':')
			b = appendJSON(b, e.v, *t.Value)
		}
		return append(b, '}')
	case row.TypeRow:
		fs := v.Elems()
		idx := make([]int, len(t.Fields))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return t.Fields[idx[i]].Name < t.Fields[idx[j]].Name })
		b = append(b, '{')
		for n, i := range idx {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, t.Fields[i].Name)
			b = append(b, ':')
			var fv row.Value
			if i < len(fs) {
				fv = fs[i]
			}
			b = appendJSON(b, fv, t.Fields[i].Type)
		}
		return append(b, '}')
	}
	return appendJSONString(b, row.Format(v, t))
}

// bigDecimalString is Java's BigDecimal.toString: plain digits unless the
// adjusted exponent is below -6 (then scientific, "1E-7").
func bigDecimalString(v row.Value, t row.Type) string {
	plain := row.DecimalString(v, t)
	u := row.DecimalUnscaled(v, t)
	digits := u.String()
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	adjusted := -t.Scale + len(digits) - 1
	if t.Scale <= 0 || adjusted >= -6 {
		return plain
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	if neg {
		m = "-" + m
	}
	return m + "E" + strconv.Itoa(adjusted)
}

// localTimeString is Java's LocalTime.toString of nanoseconds of the day.
func localTimeString(nanos int64) string {
	s := nanos / 1e9
	out := pad2s(s/3600) + ":" + pad2s(s/60%60)
	frac := nanos % 1e9
	if s%60 != 0 || frac != 0 {
		out += ":" + pad2s(s%60)
		if frac != 0 {
			out += "." + javaFraction(frac)
		}
	}
	return out
}

// instantString is Java's Instant.toString: UTC, seconds always, the
// fraction in groups of three digits.
func instantString(v row.Value) string {
	t := time.UnixMilli(v.Millis()).UTC()
	nanos := int64(t.Nanosecond()) + int64(v.NanoOfMilli())
	out := t.Format("2006-01-02T15:04:05")
	if nanos != 0 {
		out += "." + javaFraction(nanos)
	}
	return out + "Z"
}

func javaFraction(nanos int64) string {
	d := strconv.FormatInt(nanos+1e9, 10)[1:]
	switch {
	case nanos%1e6 == 0:
		return d[:3]
	case nanos%1e3 == 0:
		return d[:6]
	}
	return d
}

func pad2s(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
