package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
)

// JSON_EXISTS, JSON_VALUE and JSON_QUERY as Flink's SqlJsonUtils has
// them. A path spec is "lax <path>" or "strict <path>"; without the mode
// word the whole spec is the path, in strict mode. The path is the
// subset of Jayway JsonPath Weir reads: $, .key, ."quoted key",
// ['key'], [n] (0-based; negative counts from the end), and the wildcards [*] and .* (an indefinite
// path, whose result is the list of its matches); a path not starting
// with $ is read as $.path, as Jayway does.
//
// Evaluation gives a context: an error (invalid JSON in strict mode, a
// missing member or a JSON null at a definite path in strict mode, a
// document that is the JSON null, an invalid path), or a value, nil when
// the path is missing or names a JSON null in lax mode. Each function
// turns the context into its result through its ON EMPTY / ON ERROR
// behaviours.

type jsonStep struct {
	key   string
	index int
	isIdx bool
	wild  bool
	deep  bool // ..key: key at any depth
}

// jsonPath is a parsed path spec.
type jsonPath struct {
	strict     bool
	steps      []jsonStep
	indefinite bool
	// err is a path that does not parse: an error of the function (its
	// ON ERROR behaviour), as JsonPath.compile's exception is in Flink.
	err error
}

// errJSONPathUnsupported marks JSON path features Weir does not read
// (deep scan, filters, slices, unions): the job fails rather than give
// an answer Flink would not.
var errJSONPathUnsupported = errors.New("unsupported JSON path")

var jsonPathBase = regexp.MustCompile(`(?is)^\s*(strict|lax)\s+(.+)$`)

// parseJSONSpec parses a path spec with its mode; a hard error is an
// unsupported path.
func parseJSONSpec(spec string) (jsonPath, error) {
	p := jsonPath{strict: true}
	path := spec
	if m := jsonPathBase.FindStringSubmatch(spec); m != nil {
		p.strict = strings.EqualFold(m[1], "strict")
		path = m[2]
	}
	steps, err := parseJSONPath(path)
	if errors.Is(err, errJSONPathUnsupported) {
		return p, err
	}
	p.steps, p.err = steps, err
	for _, st := range steps {
		p.indefinite = p.indefinite || st.wild || st.deep
	}
	return p, nil
}

// parseJSONPath parses the supported subset of Jayway paths.
func parseJSONPath(p string) ([]jsonStep, error) {
	s := strings.TrimSpace(p)
	if s == "" {
		return nil, fmt.Errorf("expr: empty JSON path")
	}
	if !strings.HasPrefix(s, "$") {
		s = "$." + s
	}
	s = s[1:]
	var steps []jsonStep
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			if strings.HasPrefix(s, ".") {
				s = s[1:]
				i := 0
				for i < len(s) && s[i] != '.' && s[i] != '[' {
					i++
				}
				if i == 0 || s[:i] == "*" {
					return nil, fmt.Errorf("%w: deep scan (..) other than ..key in %q", errJSONPathUnsupported, p)
				}
				steps = append(steps, jsonStep{key: s[:i], deep: true})
				s = s[i:]
				continue
			}
			if strings.HasPrefix(s, "[") {
				continue // $.['key'] is $['key']
			}
			if strings.HasPrefix(s, "\"") {
				end := strings.IndexByte(s[1:], '"')
				if end < 0 {
					return nil, fmt.Errorf("expr: bad JSON path %q", p)
				}
				steps = append(steps, jsonStep{key: s[1 : end+1]})
				s = s[end+2:]
				continue
			}
			i := 0
			for i < len(s) && s[i] != '.' && s[i] != '[' {
				i++
			}
			if i == 0 {
				return nil, fmt.Errorf("expr: bad JSON path %q", p)
			}
			if s[:i] == "*" {
				steps = append(steps, jsonStep{wild: true})
			} else {
				steps = append(steps, jsonStep{key: s[:i]})
			}
			s = s[i:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("expr: bad JSON path %q", p)
			}
			in := strings.TrimSpace(s[1:end])
			s = s[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				key := in[1 : len(in)-1]
				if strings.ContainsRune(key, rune(in[0])) {
					// ['a','b'] (several members) or an escaped quote:
					// not one plain key, so not read (it was the key
					// "a','b", a silent miss).
					return nil, fmt.Errorf("%w: subscript [%s] in %q", errJSONPathUnsupported, in, p)
				}
				steps = append(steps, jsonStep{key: key})
				continue
			}
			if in == "*" {
				steps = append(steps, jsonStep{wild: true})
				continue
			}
			if in == "" {
				return nil, fmt.Errorf("expr: bad JSON path %q", p)
			}
			// A negative index counts from the end ($[-1] is the last
			// element), as Jayway's ArrayIndexToken.
			n, err := strconv.Atoi(in)
			if err != nil {
				return nil, fmt.Errorf("%w: subscript [%s] in %q", errJSONPathUnsupported, in, p)
			}
			steps = append(steps, jsonStep{index: n, isIdx: true})
		default:
			return nil, fmt.Errorf("expr: bad JSON path %q", p)
		}
	}
	return steps, nil
}

// jsonDecode decodes doc, numbers kept as written.
func jsonDecode(doc string) (any, bool) {
	var v any
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	return v, true
}

// jsonLookup decodes doc and follows a definite path; found is false when
// a step is missing or doc is not valid JSON.
func jsonLookup(doc string, steps []jsonStep) (v any, found bool) {
	v, ok := jsonDecode(doc)
	if !ok {
		return nil, false
	}
	for _, st := range steps {
		if v, found = jsonStep1(v, st); !found {
			return nil, false
		}
	}
	return v, true
}

func jsonStep1(v any, st jsonStep) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		if st.isIdx {
			return nil, false
		}
		r, ok := x[st.key]
		return r, ok
	case []any:
		i := st.index
		if i < 0 {
			i += len(x)
		}
		if !st.isIdx || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	}
	return nil, false
}

// jsonMatches collects the matches of steps under v (an indefinite
// path): a wildcard takes every element of an array or member of an
// object; a missing member below a wildcard is left out (Jayway without
// REQUIRE_PROPERTIES). ok is false when a step before the first wildcard
// is missing.
func jsonMatches(v any, steps []jsonStep, underWild bool, out *[]any) bool {
	if len(steps) == 0 {
		*out = append(*out, v)
		return true
	}
	st := steps[0]
	if st.deep {
		jsonDeepScan(v, st.key, steps[1:], out)
		return true
	}
	if st.wild {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				jsonMatches(e, steps[1:], true, out)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			// Go maps have no member order; sorted keys keep it stable.
			sort.Strings(keys)
			for _, k := range keys {
				jsonMatches(x[k], steps[1:], true, out)
			}
		}
		// A wildcard on a scalar or a JSON null matches nothing, and is
		// no error in either mode (Jayway's WildcardPathToken).
		return true
	}
	next, ok := jsonStep1(v, st)
	if !ok {
		if _, isArr := v.([]any); isArr && st.isIdx {
			// An index out of range matches nothing, and is no
			// error even before the first wildcard (Jayway's
			// handleArrayIndex); a missing member or a step on the
			// wrong kind of value is one there.
			return true
		}
		return underWild
	}
	return jsonMatches(next, steps[1:], underWild, out)
}

// jsonDeepScan follows ..key: the member key of v and of every value
// below it, in document order (object members by sorted key).
func jsonDeepScan(v any, key string, rest []jsonStep, out *[]any) {
	switch x := v.(type) {
	case map[string]any:
		if m, ok := x[key]; ok {
			jsonMatches(m, rest, true, out)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			jsonDeepScan(x[k], key, rest, out)
		}
	case []any:
		for _, e := range x {
			jsonDeepScan(e, key, rest, out)
		}
	}
}

// jsonLengthOf is JSON_LENGTH's count: members of an object, elements of
// an array, 1 for a scalar (JSON null included).
func jsonLengthOf(v any) int64 {
	switch x := v.(type) {
	case map[string]any:
		return int64(len(x))
	case []any:
		return int64(len(x))
	}
	return 1
}

// jsonLength is JSON_LENGTH(doc [, path]) as Flink's SqlJsonUtils has it:
// NULL for invalid JSON, an empty or invalid path, a missing member, and
// an indefinite path without exactly one match; an error for a path Weir
// does not read (errJSONPathUnsupported).
func jsonLength(doc string, path *string) (int64, bool, error) {
	v, ok := jsonDecode(doc)
	if !ok {
		return 0, false, nil
	}
	if path == nil {
		return jsonLengthOf(v), true, nil
	}
	if *path == "" {
		return 0, false, nil
	}
	if v == nil {
		return 1, *path == "$", nil
	}
	steps, err := parseJSONPath(*path)
	if errors.Is(err, errJSONPathUnsupported) {
		// A path Weir does not read fails, as in the other JSON
		// functions, rather than give NULL where Flink counts.
		return 0, false, err
	}
	if err != nil {
		return 0, false, nil
	}
	indefinite := false
	for _, st := range steps {
		indefinite = indefinite || st.wild || st.deep
	}
	if indefinite {
		var out []any
		jsonMatches(v, steps, false, &out)
		if len(out) != 1 {
			return 0, false, nil
		}
		return jsonLengthOf(out[0]), true, nil
	}
	for _, st := range steps {
		if v, ok = jsonStep1(v, st); !ok {
			return 0, false, nil
		}
	}
	return jsonLengthOf(v), true, nil
}

// jsonContext is the outcome of a path on a document.
type jsonContext struct {
	strict bool
	obj    any // nil: missing (lax) or a JSON null
	err    error
}

func jsonEvalPath(doc string, p *jsonPath) jsonContext {
	c := jsonContext{strict: p.strict}
	if p.err != nil {
		c.err = p.err
		return c
	}
	v, ok := jsonDecode(doc)
	if !ok {
		if p.strict {
			c.err = fmt.Errorf("invalid JSON: %q", doc)
		}
		return c
	}
	if v == nil {
		// A document that is the JSON null: Jayway refuses to parse a
		// null root in either mode, an error of the function.
		c.err = errors.New("json object can not be null")
		return c
	}
	if p.indefinite {
		out := []any{}
		if !jsonMatches(v, p.steps, false, &out) && p.strict {
			c.err = fmt.Errorf("No results for path: %s", jsonPathString(p.steps))
			return c
		}
		c.obj = out
		return c
	}
	for i, st := range p.steps {
		if v, ok = jsonStep1(v, st); !ok {
			if p.strict {
				c.err = fmt.Errorf("No results for path: %s", jsonPathString(p.steps[:i+1]))
			}
			return c
		}
	}
	if v == nil && p.strict {
		// A definite path to a JSON null: in strict mode an error, not
		// an empty result (SqlJsonUtils' JsonPathContext.withJavaObj).
		c.err = errors.New("Strict jsonpath mode requires a non empty returned value, but is null")
		return c
	}
	c.obj = v
	return c
}

// jsonPathString prints steps as Jayway does: $['a'][0].
func jsonPathString(steps []jsonStep) string {
	var b strings.Builder
	b.WriteString("$")
	for _, st := range steps {
		switch {
		case st.wild:
			b.WriteString("[*]")
		case st.isIdx:
			fmt.Fprintf(&b, "[%d]", st.index)
		default:
			fmt.Fprintf(&b, "['%s']", st.key)
		}
	}
	return b.String()
}

func jsonIsScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// jsonize writes v as compact JSON, object keys sorted.
func jsonize(v any) (string, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// jsonScalarString is a scalar as JSON_VALUE gives it (Java's
// String.valueOf of Jayway's value): strings unquoted, numbers as
// written, booleans as true/false.
func jsonScalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

type pathCache struct {
	fixed   bool
	path    jsonPath
	err     error
	last    string
	lastSet bool
}

func newPathCache(s *site, i int) *pathCache {
	c := &pathCache{}
	if p, ok := s.constString(i); ok {
		c.fixed = true
		c.path, c.err = parseJSONSpec(p)
	}
	return c
}

func (c *pathCache) get(p string) (*jsonPath, error) {
	if c.fixed || (c.lastSet && c.last == p) {
		return &c.path, c.err
	}
	c.path, c.err = parseJSONSpec(p)
	c.last, c.lastSet = p, true
	return &c.path, c.err
}

// NewJSONValue resolves JSON_VALUE(json, path RETURNING t) with the
// default behaviours: JSON_VALUE's STRING result converted with
// TRY_CAST, so that a value that does not convert is NULL (Flink's
// default NULL ON ERROR).
func NewJSONValue(doc, path Expr, returning row.Type) (Expr, error) {
	v, err := NewCall("JSON_VALUE", doc, path)
	if err != nil {
		return nil, err
	}
	if returning.IsString() {
		return v, nil
	}
	return NewTryCast(v, returning)
}

// JSONBehavior is an ON EMPTY or ON ERROR behaviour of JSON_VALUE,
// JSON_QUERY or JSON_EXISTS: Kind is NULL, ERROR, DEFAULT (Default set),
// EMPTY ARRAY, EMPTY OBJECT, TRUE, FALSE or UNKNOWN.
type JSONBehavior struct {
	Kind    string
	Default Expr
}

func jsonSym(kind string) *Symbol { return Sym(strings.ReplaceAll(kind, " ", "_")) }

// NewJSONValueFull resolves JSON_VALUE(json, path [RETURNING t] onEmpty
// ON EMPTY onError ON ERROR), called as JSON_VALUE(json, path, emptyKind,
// emptyDefault, errorKind, errorDefault, CAST(NULL AS t)). A DEFAULT is
// cast to t; a value that does not cast to t is an error.
func NewJSONValueFull(doc, path Expr, returning row.Type, onEmpty, onError JSONBehavior) (Expr, error) {
	target := &Literal{T: returning.WithNullable(true)}
	args := []Expr{doc, path}
	for _, b := range []JSONBehavior{onEmpty, onError} {
		def := Expr(target)
		if b.Kind == "DEFAULT" {
			d, err := NewCast(b.Default, returning.WithNullable(true))
			if err != nil {
				return nil, err
			}
			if returning.IsString() && b.Default.Type().Root == row.TypeBoolean {
				// Flink passes the default's Java value through
				// String.valueOf: a BOOLEAN DEFAULT is "true"/"false",
				// not CAST's TRUE/FALSE.
				if d, err = NewCall("LOWER", d); err != nil {
					return nil, err
				}
			}
			def = d
		}
		args = append(args, jsonSym(b.Kind), def)
	}
	return NewCall("JSON_VALUE", append(args, target)...)
}

// NewJSONQueryFull resolves JSON_QUERY(json, path [RETURNING t] wrapper
// onEmpty ON EMPTY onError ON ERROR), called as JSON_QUERY(json, path,
// wrapper, emptyKind, errorKind, CAST(NULL AS t)); t is STRING or
// ARRAY<STRING>. wrapper is WITHOUT ARRAY, WITH CONDITIONAL ARRAY or WITH
// UNCONDITIONAL ARRAY.
func NewJSONQueryFull(doc, path Expr, returning row.Type, wrapper, onEmpty, onError string) (Expr, error) {
	isArray := returning.Root == row.TypeArray
	if isArray && !returning.Elem.IsString() {
		return nil, fmt.Errorf("expr: JSON_QUERY RETURNING %s is not supported (only STRING and ARRAY<STRING>)", returning)
	}
	if !isArray && !returning.IsString() {
		return nil, fmt.Errorf("expr: Illegal type %s for RETURNING in JSON_QUERY().", returning)
	}
	if isArray {
		for _, k := range []struct{ kind, on string }{{onEmpty, "empty"}, {onError, "error"}} {
			if k.kind == "EMPTY OBJECT" {
				return nil, fmt.Errorf("expr: Illegal on %s behavior 'EMPTY OBJECT' for return type: %s", k.on, returning)
			}
		}
	}
	w := map[string]string{"WITHOUT ARRAY": "WITHOUT", "WITH CONDITIONAL ARRAY": "CONDITIONAL", "WITH UNCONDITIONAL ARRAY": "UNCONDITIONAL"}[wrapper]
	return NewCall("JSON_QUERY", doc, path, Sym(w), jsonSym(onEmpty), jsonSym(onError), &Literal{T: returning.WithNullable(true)})
}

// NewJSONExistsFull resolves JSON_EXISTS(json, path onError ON ERROR),
// onError TRUE, FALSE, UNKNOWN or ERROR.
func NewJSONExistsFull(doc, path Expr, onError string) (Expr, error) {
	return NewCall("JSON_EXISTS", doc, path, jsonSym(onError))
}

var (
	errJSONValueEmpty = errors.New("Empty result of JSON_VALUE function is not allowed")
	errJSONQueryEmpty = errors.New("Empty result of JSON_QUERY function is not allowed")
)

func jsonFuncs() []*Func {
	nullableStr := func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		out, t, err := fixed(retStr, 2, pString, pString)(f, args)
		return out, t.WithNullable(true), err
	}
	// withSyms resolves the document and path of a call with behaviour
	// arguments, the rest kept; ret is the type of the last argument.
	withSyms := func(n int, symAt ...int) func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) == 2 {
				return nullableStr(f, args)
			}
			if len(args) != n {
				return nil, row.Type{}, cannotApply(f, args)
			}
			for _, i := range symAt {
				if _, ok := args[i].(*Symbol); !ok {
					return nil, row.Type{}, cannotApply(f, args)
				}
			}
			head, _, err := nullableStr(f, args[:2])
			if err != nil {
				return nil, row.Type{}, err
			}
			return append(head, args[2:]...), args[n-1].Type().WithNullable(true), nil
		}
	}
	return []*Func{
		{Name: "JSON_VALUE", symbols: true, Doc: "JSON_VALUE(json, path): the scalar at path as STRING (strings unquoted, numbers and booleans as written); NULL if missing, not a scalar, JSON null, or the input is not valid JSON (NULL ON EMPTY, NULL ON ERROR). With other behaviours or a RETURNING type: see NewJSONValueFull.",
			resolve: withSyms(7, 2, 4),
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				emptyKind, errKind := "NULL", "NULL"
				var emptyDef, errDef Evaluator
				var conv castFn
				if len(s.args) == 7 {
					emptyKind, emptyDef = s.symbol(2), s.args[3]
					errKind, errDef = s.symbol(4), s.args[5]
					if !s.ret.IsString() {
						if conv = castFunc(tString, s.ret); conv == nil {
							return nil, s.errorf("cannot return %s", s.ret)
						}
					}
				}
				doc, path := s.args[0], s.args[1]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					d, err := doc(ctx, in)
					if err != nil || d.IsNull() {
						return row.Value{}, err
					}
					ps, err := path(ctx, in)
					if err != nil || ps.IsNull() {
						return row.Value{}, err
					}
					p, err := pc.get(ps.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					c := jsonEvalPath(d.Str(), p)
					exc := c.err
					if exc == nil {
						switch {
						case c.obj == nil || !c.strict && !jsonIsScalar(c.obj):
							switch emptyKind {
							case "ERROR":
								return row.Value{}, s.wrap(errJSONValueEmpty)
							case "DEFAULT":
								return emptyDef(ctx, in)
							}
							return row.Value{}, nil
						case !jsonIsScalar(c.obj):
							v, _ := jsonize(c.obj)
							exc = fmt.Errorf("Strict jsonpath mode requires scalar value, and the actual value is: '%s'", v)
						default:
							v := row.Str(jsonScalarString(c.obj))
							if conv == nil {
								return v, nil
							}
							r, err := conv(ctx, v)
							if err == nil && !r.IsNull() {
								return r, nil
							}
							exc = fmt.Errorf("Cannot cast '%s' to %s", v.Str(), s.ret)
						}
					}
					switch errKind {
					case "ERROR":
						return row.Value{}, s.wrap(exc)
					case "DEFAULT":
						return errDef(ctx, in)
					}
					return row.Value{}, nil
				}, nil
			}},
		{Name: "JSON_QUERY", symbols: true, Doc: "JSON_QUERY(json, path): the object or array at path as JSON text (WITHOUT WRAPPER); NULL if missing, a scalar, or invalid JSON (NULL ON EMPTY, NULL ON ERROR). With a wrapper, other behaviours or RETURNING ARRAY<STRING>: see NewJSONQueryFull.",
			resolve: withSyms(6, 2, 3, 4),
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				wrapper, emptyKind, errKind := "WITHOUT", "NULL", "NULL"
				if len(s.args) == 6 {
					wrapper, emptyKind, errKind = s.symbol(2), s.symbol(3), s.symbol(4)
				}
				isArray := s.ret.Root == row.TypeArray
				behave := func(kind string) row.Value {
					switch {
					case kind == "EMPTY_ARRAY" && isArray:
						return row.Array([]row.Value{})
					case kind == "EMPTY_ARRAY":
						return row.Str("[]")
					case kind == "EMPTY_OBJECT":
						return row.Str("{}")
					}
					return row.Value{}
				}
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					p, err := pc.get(path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					c := jsonEvalPath(doc.Str(), p)
					exc := c.err
					if exc == nil {
						value := c.obj
						if value != nil {
							_, isList := value.([]any)
							switch {
							case wrapper == "UNCONDITIONAL", wrapper == "CONDITIONAL" && !isList:
								value = []any{value}
							}
						}
						switch {
						case value == nil || !c.strict && jsonIsScalar(value):
							if emptyKind == "ERROR" {
								return row.Value{}, s.wrap(errJSONQueryEmpty)
							}
							return behave(emptyKind), nil
						case jsonIsScalar(value):
							exc = fmt.Errorf("Strict jsonpath mode requires array or object value, and the actual value is: '%s'", jsonScalarString(value))
						case isArray:
							list, ok := value.([]any)
							if !ok {
								exc = fmt.Errorf("JSON_QUERY: %s is not an array", jsonPathString(p.steps))
								break
							}
							out := make([]row.Value, len(list))
							for i, el := range list {
								switch {
								case el == nil:
								case jsonIsScalar(el):
									out[i] = row.Str(jsonScalarString(el))
								default:
									j, err := jsonize(el)
									if err != nil {
										return row.Value{}, s.wrap(err)
									}
									out[i] = row.Str(j)
								}
							}
							return row.Array(out), nil
						default:
							j, err := jsonize(value)
							if err == nil {
								return row.Str(j), nil
							}
							exc = err
						}
					}
					if errKind == "ERROR" {
						return row.Value{}, s.wrap(exc)
					}
					return behave(errKind), nil
				}), nil
			}},
		{Name: "JSON_LENGTH", Doc: "JSON_LENGTH(json [, path]): the number of members of an object, elements of an array, 1 for a scalar or JSON null, at path (a Jayway path without lax/strict; one without $ is $.path); NULL for invalid JSON, a missing or invalid path, or a wildcard/deep-scan path without exactly one match. A literal path with a lax/strict prefix is refused.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				out, t, err := fixed(ret(tInt), 1, pString, pString)(f, args)
				if err != nil {
					return nil, row.Type{}, err
				}
				if len(out) == 2 {
					if l, ok := out[1].(*Literal); ok && !l.Value.IsNull() && jsonPathBase.MatchString(l.Value.Str()) {
						return nil, row.Type{}, fmt.Errorf("expr: JSON_LENGTH does not support the 'lax'/'strict' path mode prefix (got: '%s'). Use a plain path such as '$.a.b'. To check path existence or handle invalid input, use JSON_EXISTS or IS JSON.", l.Value.Str())
					}
				}
				return out, t.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				if len(s.args) == 1 {
					return strict1(s, func(_ *EvalContext, doc row.Value) (row.Value, error) {
						n, ok, _ := jsonLength(doc.Str(), nil)
						if !ok {
							return row.Value{}, nil
						}
						return row.Int(n), nil
					}), nil
				}
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					p := path.Str()
					n, ok, err := jsonLength(doc.Str(), &p)
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					if !ok {
						return row.Value{}, nil
					}
					return row.Int(n), nil
				}), nil
			}},
		{Name: "JSON_EXISTS", symbols: true, Doc: "JSON_EXISTS(json, path [, onError]): TRUE if path resolves to a value other than JSON null (in lax mode a wildcard path with no match is an empty list, TRUE); an error (invalid JSON or a missing member in strict mode, the default without lax) gives the ON ERROR behaviour: FALSE (default), TRUE, UNKNOWN (NULL) or ERROR.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) == 3 {
					if _, ok := args[2].(*Symbol); !ok {
						return nil, row.Type{}, cannotApply(f, args)
					}
					head, t, err := fixed(ret(tBoolean), 2, pString, pString)(f, args[:2])
					return append(head, args[2]), t.WithNullable(true), err
				}
				return fixed(ret(tBoolean), 2, pString, pString)(f, args)
			},
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				errKind := "FALSE"
				if len(s.args) == 3 {
					errKind = s.symbol(2)
				}
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					p, err := pc.get(path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					c := jsonEvalPath(doc.Str(), p)
					if c.err == nil {
						return row.Bool(c.obj != nil), nil
					}
					switch errKind {
					case "TRUE":
						return row.Bool(true), nil
					case "UNKNOWN":
						return row.Value{}, nil
					case "ERROR":
						return row.Value{}, s.wrap(c.err)
					}
					return row.Bool(false), nil
				}), nil
			}},
	}
}
