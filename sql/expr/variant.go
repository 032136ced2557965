package expr

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// VARIANT (Flink 2.1+, FLIP-521): PARSE_JSON, TRY_PARSE_JSON, item access
// (v['key'], v[i], in ITEM), JSON_STRING of a variant (json_build.go) and
// CAST from VARIANT (castFromVariant). A VARIANT value is a row.Variant:
// its canonical encoding, so a field or element is a substring.

var tVariant = row.VariantType()

func variantFuncs() []*Func {
	parse := func(name string, try bool) *Func {
		doc := "PARSE_JSON(s[, allowDuplicateKeys]): s parsed as JSON into a VARIANT; NULL for NULL; an error for invalid JSON, or for a repeated object key unless allowDuplicateKeys (then the last one wins; NULL is FALSE)."
		if try {
			doc = "TRY_PARSE_JSON(s[, allowDuplicateKeys]): PARSE_JSON, but NULL where PARSE_JSON fails."
		}
		return &Func{Name: name, Doc: doc,
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, err := checkArgs(f, args, 1, pString, pBool)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, tVariant.WithNullable(try || out[0].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				str := s.args[0]
				var dup Evaluator
				if len(s.args) > 1 {
					dup = s.args[1]
				}
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := str(ctx, in)
					if err != nil || v.IsNull() {
						return row.Value{}, err
					}
					allow := false
					if dup != nil {
						d, err := dup(ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						allow = !d.IsNull() && d.Bool()
					}
					enc, err := row.ParseJSONVariant(v.Str(), allow)
					if err != nil {
						if try {
							return row.Value{}, nil
						}
						return row.Value{}, parseJSONError(s, v.Str(), err)
					}
					return row.Variant(enc), nil
				}, nil
			}}
	}
	return append([]*Func{parse("PARSE_JSON", false), parse("TRY_PARSE_JSON", true)}, variantGetFuncs()...)
}

// parseJSONError is Flink's "Failed to parse JSON string: <s>" (for bytes
// that are not UTF-8, the index of the first bad one), with the reason.
func parseJSONError(s *site, str string, cause error) error {
	if !utf8.ValidString(str) {
		i := 0
		for i < len(str) {
			r, w := utf8.DecodeRuneInString(str[i:])
			if r == utf8.RuneError && w <= 1 {
				break
			}
			i += w
		}
		return s.errorf("Failed to parse JSON string: Invalid UTF-8 byte at index %d of %d.", i, len(str))
	}
	if errors.Is(cause, row.ErrVariantDuplicateKey) {
		return s.errorf("Failed to parse JSON string: %s: %w", str, cause)
	}
	return s.errorf("Failed to parse JSON string: %s (%w)", str, cause)
}

// resolveVariantItem types v[key] and v[i]: a character string key or an
// integer index (Flink's <VARIANT>[<CHARACTER>|<INTEGER>]), a nullable
// VARIANT result.
func resolveVariantItem(f *Func, args []Expr) ([]Expr, row.Type, error) {
	it := args[1].Type()
	switch {
	case it.IsString():
		return args, tVariant, nil
	case it.IsInteger():
		return []Expr{args[0], coerce(args[1], tBigInt)}, tVariant, nil
	case isNullT(it):
		return []Expr{args[0], coerce(args[1], tString)}, tVariant, nil
	}
	return nil, row.Type{}, cannotApply(f, args)
}

// Flink's errors for a key or index on the wrong kind of variant.
var (
	errVariantKeyOnNonObject  = errors.New("String key access on variant requires an object variant, but a non-object variant was provided.")
	errVariantIndexOnNonArray = errors.New("Integer index access on variant requires an array variant, but a non-array variant was provided.")
)

// buildVariantItem evaluates v[key] (NULL for a missing key) and v[i]
// (1-based, NULL out of range); a key on a non-object or an index on a
// non-array variant (a JSON null included) is an error, as in Flink.
func buildVariantItem(s *site) (Evaluator, error) {
	if s.argTypes[1].IsString() {
		return strict2(s, func(_ *EvalContext, v, k row.Value) (row.Value, error) {
			enc := v.Str()
			if row.VariantKindOf(enc) != row.VariantObject {
				return row.Value{}, s.wrap(errVariantKeyOnNonObject)
			}
			if f, ok := row.VariantField(enc, k.Str()); ok {
				return row.Variant(f), nil
			}
			return row.Value{}, nil
		}), nil
	}
	return strict2(s, func(_ *EvalContext, v, i row.Value) (row.Value, error) {
		enc := v.Str()
		if row.VariantKindOf(enc) != row.VariantArray {
			return row.Value{}, s.wrap(errVariantIndexOnNonArray)
		}
		if e, ok := row.VariantElem(enc, i.Int()-1); ok {
			return row.Variant(e), nil
		}
		return row.Value{}, nil
	}), nil
}

// variantPathStep is one step of a VARIANT_GET path: a key or an index.
type variantPathStep struct {
	key   string
	index int64
	isKey bool
}

// errVariantPath is Flink's error for a path VARIANT_GET cannot read.
func errVariantPath(path string) error {
	return fmt.Errorf("Failed to parse this path: %s", path)
}

// parseVariantPath reads a VARIANT_GET path: $ then .key (no '.' or '['
// in it), ['key'], ["key"] or [n] (0-based, as JSON paths index).
func parseVariantPath(path string) ([]variantPathStep, error) {
	if len(path) == 0 || path[0] != '$' {
		return nil, errVariantPath(path)
	}
	var steps []variantPathStep
	for i := 1; i < len(path); {
		switch path[i] {
		case '.':
			j := i + 1
			for j < len(path) && path[j] != '.' && path[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, errVariantPath(path)
			}
			steps = append(steps, variantPathStep{key: path[i+1 : j], isKey: true})
			i = j
		case '[':
			if i+1 < len(path) && (path[i+1] == '\'' || path[i+1] == '"') {
				q := path[i+1]
				j := i + 2
				for j < len(path) && path[j] != q {
					j++
				}
				if j+1 >= len(path) || path[j+1] != ']' {
					return nil, errVariantPath(path)
				}
				steps = append(steps, variantPathStep{key: path[i+2 : j], isKey: true})
				i = j + 2
				continue
			}
			j := i + 1
			for j < len(path) && path[j] >= '0' && path[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(path) || path[j] != ']' {
				return nil, errVariantPath(path)
			}
			n, err := strconv.ParseInt(path[i+1:j], 10, 64)
			if err != nil {
				return nil, errVariantPath(path)
			}
			steps = append(steps, variantPathStep{index: n})
			i = j + 1
		default:
			return nil, errVariantPath(path)
		}
	}
	return steps, nil
}

// walkVariantPath follows steps from enc; ok is false when a key or
// index is absent or the kind does not match the step.
func walkVariantPath(enc string, steps []variantPathStep) (string, bool) {
	for _, st := range steps {
		var ok bool
		if st.isKey {
			enc, ok = row.VariantField(enc, st.key)
		} else {
			enc, ok = row.VariantElem(enc, st.index)
		}
		if !ok {
			return "", false
		}
	}
	return enc, true
}

// variantGetFuncs are VARIANT_GET and TRY_VARIANT_GET (Flink's
// VariantFunctionsITCase; not in a Flink release we could confirm). The
// binder turns the optional type string into a NULL literal of that type
// (args[2]).
func variantGetFuncs() []*Func {
	get := func(name string, try bool) *Func {
		return &Func{Name: name,
			Doc: name + "(v, path[, type]): the value at path ($, .key, ['key'], [n] 0-based) in v as a VARIANT, or cast to type (a string literal) as CAST from VARIANT; NULL when absent." +
				map[bool]string{false: " A failing cast is an error.", true: " NULL where VARIANT_GET fails on a cast."}[try],
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 2 || len(args) > 3 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				vt := args[0].Type()
				if vt.Root != row.TypeVariant && !isNullT(vt) {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, err := checkArgs(f, args[1:2], 1, pString)
				if err != nil {
					return nil, row.Type{}, cannotApply(f, args)
				}
				res := []Expr{coerce(args[0], tVariant), out[0]}
				to := tVariant
				if len(args) == 3 {
					l, ok := args[2].(*Literal)
					if !ok || !l.Value.IsNull() {
						return nil, row.Type{}, fmt.Errorf("expr: %s: the type must be a string literal", f.Name)
					}
					to = l.T
					if !canCastFromVariant(to) {
						return nil, row.Type{}, fmt.Errorf("expr: %s: Cast function cannot convert value of type VARIANT to type %s", f.Name, to.WithNullable(true))
					}
					res = append(res, args[2])
				}
				return res, to.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				to := s.ret
				var cast castFn
				if to.Root != row.TypeVariant {
					cast = castFromVariant(to)
				}
				var constSteps []variantPathStep
				var constErr error
				constPath, isConst := s.constString(1)
				if isConst {
					constSteps, constErr = parseVariantPath(constPath)
				}
				return strict2(s, func(ctx *EvalContext, v, p row.Value) (row.Value, error) {
					steps, err := constSteps, constErr
					if !isConst {
						steps, err = parseVariantPath(p.Str())
					}
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					enc, ok := walkVariantPath(v.Str(), steps)
					if !ok {
						return row.Value{}, nil
					}
					if cast == nil {
						return row.Variant(enc), nil
					}
					r, err := cast(ctx, row.Variant(enc))
					if err == errCastNull || (err != nil && try) {
						return row.Value{}, nil
					}
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					return r, nil
				}), nil
			}}
	}
	return []*Func{get("VARIANT_GET", false), get("TRY_VARIANT_GET", true)}
}
