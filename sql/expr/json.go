package expr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/weirstream/weir/row"
)

// JSON functions over a lax JSON path subset: $, .key, ."quoted key",
// ['key'], [n] (0-based), with an optional leading "lax" or "strict"
// mode word (strict makes a missing member an error, i.e. NULL/FALSE by
// the default ON ERROR behaviour, same as lax here).

type jsonStep struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath parses the supported subset of SQL/JSON paths.
func parseJSONPath(p string) ([]jsonStep, error) {
	s := strings.TrimSpace(p)
	for _, mode := range []string{"lax ", "strict "} {
		if strings.HasPrefix(strings.ToLower(s), mode) {
			s = strings.TrimSpace(s[len(mode):])
		}
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("expr: JSON path %q must start with $", p)
	}
	s = s[1:]
	var steps []jsonStep
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
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
			steps = append(steps, jsonStep{key: s[:i]})
			s = s[i:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("expr: bad JSON path %q", p)
			}
			in := strings.TrimSpace(s[1:end])
			s = s[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				steps = append(steps, jsonStep{key: in[1 : len(in)-1]})
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("expr: unsupported JSON path subscript [%s] in %q", in, p)
			}
			steps = append(steps, jsonStep{index: n, isIdx: true})
		default:
			return nil, fmt.Errorf("expr: bad JSON path %q", p)
		}
	}
	return steps, nil
}

// jsonLookup decodes doc and follows the path; found is false when a step
// is missing or doc is not valid JSON.
func jsonLookup(doc string, steps []jsonStep) (v any, found bool) {
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	for _, st := range steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isIdx {
				return nil, false
			}
			if v, found = x[st.key]; !found {
				return nil, false
			}
		case []any:
			if !st.isIdx || st.index >= len(x) {
				return nil, false
			}
			v = x[st.index]
		default:
			return nil, false
		}
	}
	return v, true
}

type pathCache struct {
	fixed   bool
	steps   []jsonStep
	err     error
	last    string
	lastSet bool
}

func newPathCache(s *site, i int) *pathCache {
	c := &pathCache{}
	if p, ok := s.constString(i); ok {
		c.fixed = true
		c.steps, c.err = parseJSONPath(p)
	}
	return c
}

func (c *pathCache) get(p string) ([]jsonStep, error) {
	if c.fixed || (c.lastSet && c.last == p) {
		return c.steps, c.err
	}
	c.steps, c.err = parseJSONPath(p)
	c.last, c.lastSet = p, true
	return c.steps, c.err
}

// NewJSONValue resolves JSON_VALUE(json, path RETURNING t): JSON_VALUE's
// STRING result converted with TRY_CAST, so that a value that does not
// convert is NULL (Flink's default NULL ON ERROR).
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

func jsonFuncs() []*Func {
	nullableStr := func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		out, t, err := fixed(retStr, 2, pString, pString)(f, args)
		return out, t.WithNullable(true), err
	}
	return []*Func{
		{Name: "JSON_VALUE", Doc: "JSON_VALUE(json, path): the scalar at path as STRING (strings unquoted, numbers and booleans as written); NULL if missing, not a scalar, JSON null, or the input is not valid JSON (NULL ON EMPTY, NULL ON ERROR). RETURNING <type>: see NewJSONValue.",
			resolve: nullableStr,
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					steps, err := pc.get(path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					v, ok := jsonLookup(doc.Str(), steps)
					if !ok {
						return row.Value{}, nil
					}
					switch x := v.(type) {
					case string:
						return row.Str(x), nil
					case json.Number:
						return row.Str(x.String()), nil
					case bool:
						return row.Str(strconv.FormatBool(x)), nil
					}
					return row.Value{}, nil
				}), nil
			}},
		{Name: "JSON_QUERY", Doc: "JSON_QUERY(json, path): the object or array at path as JSON text (WITHOUT WRAPPER); NULL if missing, a scalar, or invalid JSON.",
			resolve: nullableStr,
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					steps, err := pc.get(path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					v, ok := jsonLookup(doc.Str(), steps)
					if !ok {
						return row.Value{}, nil
					}
					switch v.(type) {
					case map[string]any, []any:
						var b bytes.Buffer
						e := json.NewEncoder(&b)
						e.SetEscapeHTML(false)
						if err := e.Encode(v); err != nil {
							return row.Value{}, nil
						}
						return row.Str(strings.TrimSuffix(b.String(), "\n")), nil
					}
					return row.Value{}, nil
				}), nil
			}},
		{Name: "JSON_EXISTS", Doc: "JSON_EXISTS(json, path): TRUE if path resolves to a value (JSON null included); FALSE if missing or the input is invalid (FALSE ON ERROR).",
			resolve: fixed(ret(tBoolean), 2, pString, pString),
			build: func(s *site) (Evaluator, error) {
				pc := newPathCache(s, 1)
				return strict2(s, func(_ *EvalContext, doc, path row.Value) (row.Value, error) {
					steps, err := pc.get(path.Str())
					if err != nil {
						return row.Value{}, s.wrap(err)
					}
					_, ok := jsonLookup(doc.Str(), steps)
					return row.Bool(ok), nil
				}), nil
			}},
	}
}
