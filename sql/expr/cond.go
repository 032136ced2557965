package expr

import (
	"fmt"

	"github.com/weirstream/weir/row"
)

// NewCase resolves a searched CASE WHEN c1 THEN r1 ... [ELSE e] END. The
// conditions must be BOOLEAN; the results are brought to their least
// restrictive type; the result is nullable if any result is or ELSE is
// absent. elseExpr may be nil.
func NewCase(whens, thens []Expr, elseExpr Expr) (Expr, error) {
	if len(whens) == 0 || len(whens) != len(thens) {
		return nil, fmt.Errorf("expr: CASE needs one THEN per WHEN and at least one WHEN")
	}
	if elseExpr == nil {
		elseExpr = NullLit()
	}
	for _, e := range append(append([]Expr{}, whens...), append(thens, elseExpr)...) {
		if e == nil {
			return nil, fmt.Errorf("expr: CASE with a nil operand")
		}
		if _, ok := e.(*Symbol); ok {
			return nil, fmt.Errorf("expr: CASE operand %s is a keyword, not a value", e)
		}
	}
	rs := append(append([]Expr{}, thens...), elseExpr)
	ts := types(rs)
	t, ok := LeastRestrictive(ts...)
	if !ok {
		return nil, fmt.Errorf("expr: CASE results have no common type: %s", typeList(ts))
	}
	if t.Root == row.TypeNull {
		return nil, fmt.Errorf("expr: CASE results are all untyped NULL")
	}
	c := &Case{T: t}
	for i, w := range whens {
		wt := w.Type()
		if isNullT(wt) {
			w = coerce(w, tBoolean)
		} else if wt.Root != row.TypeBoolean {
			return nil, fmt.Errorf("expr: CASE condition %s is of type '%s', not BOOLEAN", w, wt)
		}
		c.Whens = append(c.Whens, w)
		c.Thens = append(c.Thens, coerce(thens[i], t))
	}
	c.Else = coerce(elseExpr, t)
	return c, nil
}

// NewSimpleCase resolves CASE value WHEN v1 THEN r1 ... [ELSE e] END as
// the searched CASE WHEN value = v1 THEN r1 ...
func NewSimpleCase(value Expr, vals, thens []Expr, elseExpr Expr) (Expr, error) {
	whens := make([]Expr, len(vals))
	for i, v := range vals {
		w, err := NewCall("=", value, v)
		if err != nil {
			return nil, err
		}
		whens[i] = w
	}
	return NewCase(whens, thens, elseExpr)
}

func typeList(ts []row.Type) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += t.String()
	}
	return s
}

func compileCase(c *Case) (Evaluator, error) {
	whens := make([]Evaluator, len(c.Whens))
	thens := make([]Evaluator, len(c.Thens))
	for i := range c.Whens {
		var err error
		if whens[i], err = Compile(c.Whens[i]); err != nil {
			return nil, err
		}
		if thens[i], err = Compile(c.Thens[i]); err != nil {
			return nil, err
		}
	}
	els, err := Compile(c.Else)
	if err != nil {
		return nil, err
	}
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		for i, w := range whens {
			v, err := w(ctx, in)
			if err != nil {
				return row.Value{}, err
			}
			if !v.IsNull() && v.Bool() {
				return thens[i](ctx, in)
			}
		}
		return els(ctx, in)
	}, nil
}

// resolveCommonResult brings args[from:] to their common type, which is
// the result type (nullability decided by the caller).
func resolveCommonResult(f *Func, args []Expr, from int) ([]Expr, row.Type, error) {
	ts := types(args[from:])
	t, ok := LeastRestrictive(ts...)
	if !ok || t.Root == row.TypeNull {
		return nil, row.Type{}, cannotApply(f, args)
	}
	out := append([]Expr{}, args...)
	for i := from; i < len(args); i++ {
		out[i] = coerce(args[i], t)
	}
	return out, t, nil
}

func condFuncs() []*Func {
	return []*Func{
		{Name: "COALESCE", Doc: "COALESCE(v1, v2, ...) (and IFNULL(v, default)): the first non-NULL argument, evaluated lazily; NOT NULL if any argument is.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 1 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := resolveCommonResult(f, args, 0)
				if err != nil {
					return nil, row.Type{}, err
				}
				n := true
				for _, a := range out {
					n = n && a.Type().Nullable
				}
				return out, t.WithNullable(n), nil
			},
			build: func(s *site) (Evaluator, error) {
				args := s.args
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					for _, ev := range args {
						v, err := ev(ctx, in)
						if err != nil || !v.IsNull() {
							return v, err
						}
					}
					return row.Value{}, nil
				}, nil
			}},
		{Name: "NULLIF", Doc: "NULLIF(v1, v2): NULL if v1 = v2, else v1.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := resolveCommon(f, args, false)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, t.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				cmp := comparator(s.argTypes[0])
				a0, a1 := s.args[0], s.args[1]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					a, err := a0(ctx, in)
					if err != nil || a.IsNull() {
						return row.Value{}, err
					}
					b, err := a1(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					if !b.IsNull() && cmp(a, b) == 0 {
						return row.Value{}, nil
					}
					return a, nil
				}, nil
			}},
		{Name: "IF", Doc: "IF(cond, a, b): a if cond is TRUE, else b (also when cond is NULL); only the chosen branch is evaluated.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 3 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				ct := args[0].Type()
				if isNullT(ct) {
					args = append([]Expr{coerce(args[0], tBoolean)}, args[1:]...)
				} else if ct.Root != row.TypeBoolean {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := resolveCommonResult(f, args, 1)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, t.WithNullable(out[1].Type().Nullable || out[2].Type().Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				c, a, b := s.args[0], s.args[1], s.args[2]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					v, err := c(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					if !v.IsNull() && v.Bool() {
						return a(ctx, in)
					}
					return b(ctx, in)
				}, nil
			}},
		greatestLeast("GREATEST", 1),
		greatestLeast("LEAST", -1),
	}
}

func greatestLeast(name string, want int) *Func {
	return &Func{Name: name, Doc: name + "(v1, v2, ...): the " + map[int]string{1: "greatest", -1: "least"}[want] + " argument in their common type; NULL if any argument is NULL.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) < 1 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			// The arguments' common type, without the string-to-datetime
			// coercion of comparisons: Flink refuses GREATEST(STRING,
			// TIMESTAMP) ("Invalid function call"), where Weir read the
			// string as a timestamp and gave NULL when it was not one.
			ct, ok := LeastRestrictive(types(args)...)
			if !ok || !orderable(ct) {
				return nil, row.Type{}, cannotApply(f, args)
			}
			if ct.Root == row.TypeNull {
				ct = tString
			}
			out := make([]Expr, len(args))
			for i, a := range args {
				out[i] = coerce(a, ct)
			}
			return out, ct, nil
		},
		build: func(s *site) (Evaluator, error) {
			cmp := comparator(s.argTypes[0])
			return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
				best := a[0]
				for _, v := range a[1:] {
					if cmp(v, best) == want {
						best = v
					}
				}
				return best, nil
			}), nil
		}}
}

// ---- collections -----------------------------------------------------------

func collectionFuncs() []*Func {
	return []*Func{
		{Name: "CARDINALITY", Doc: "CARDINALITY(array or map): the number of elements or entries; INT.",
			resolve: fixed(ret(tInt), 1, param{ok: func(t row.Type) bool { return t.Root == row.TypeArray || t.Root == row.TypeMap }, def: row.ArrayType(tInt)}),
			build: func(s *site) (Evaluator, error) {
				isMap := s.argTypes[0].Root == row.TypeMap
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					if isMap {
						return row.Int(int64(len(a.MapOf().Keys))), nil
					}
					return row.Int(int64(len(a.Elems()))), nil
				}), nil
			}},
		{Name: "ITEM", Doc: "ITEM(array, i) is array[i], 1-based, NULL when out of range; ITEM(map, key) is map[key], NULL when absent; ITEM(variant, key or i) is a field of an object or an element (1-based) of an array variant, NULL when absent, an error on another kind.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				t := args[0].Type()
				switch t.Root {
				case row.TypeArray:
					if !args[1].Type().IsInteger() && !isNullT(args[1].Type()) {
						return nil, row.Type{}, cannotApply(f, args)
					}
					return []Expr{args[0], coerce(args[1], tInt)}, t.Elem.WithNullable(true), nil
				case row.TypeVariant:
					return resolveVariantItem(f, args)
				case row.TypeMap:
					kt, ok := LeastRestrictive(t.Elem.WithNullable(true), args[1].Type())
					if !ok || !sameIgnoringNull(kt, *t.Elem) {
						return nil, row.Type{}, cannotApply(f, args)
					}
					return []Expr{args[0], coerce(args[1], *t.Elem)}, t.Value.WithNullable(true), nil
				}
				return nil, row.Type{}, cannotApply(f, args)
			},
			build: func(s *site) (Evaluator, error) {
				t := s.argTypes[0]
				if t.Root == row.TypeVariant {
					return buildVariantItem(s)
				}
				if t.Root == row.TypeArray {
					return strict2(s, func(_ *EvalContext, a, i row.Value) (row.Value, error) {
						e := a.Elems()
						k := i.Int()
						if k < 1 || k > int64(len(e)) {
							return row.Value{}, nil
						}
						return e[k-1], nil
					}), nil
				}
				kt := *t.Elem
				return strict2(s, func(_ *EvalContext, m, k row.Value) (row.Value, error) {
					md := m.MapOf()
					for i := range md.Keys {
						if row.Compare(md.Keys[i], k, kt) == 0 {
							return md.Values[i], nil
						}
					}
					return row.Value{}, nil
				}), nil
			}},
		{Name: "ELEMENT", Doc: "ELEMENT(array): the only element; NULL for an empty array; an error for more than one element.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 1 || args[0].Type().Root != row.TypeArray {
					return nil, row.Type{}, cannotApply(f, args)
				}
				return args, args[0].Type().Elem.WithNullable(true), nil
			},
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					switch e := a.Elems(); len(e) {
					case 0:
						return row.Value{}, nil
					case 1:
						return e[0], nil
					}
					return row.Value{}, s.errorf("array has more than one element")
				}), nil
			}},
		{Name: "ARRAY", Doc: "ARRAY[v1, v2, ...]: an array of the elements' common type; NOT NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) == 0 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, t, err := resolveCommonResult(f, args, 0)
				if err != nil {
					return nil, row.Type{}, err
				}
				return out, row.ArrayType(t).NotNull(), nil
			},
			build: func(s *site) (Evaluator, error) {
				args := s.args
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					out := make([]row.Value, len(args))
					for i, ev := range args {
						v, err := ev(ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						out[i] = v
					}
					return row.Array(out), nil
				}, nil
			}},
		{Name: "MAP", Doc: "MAP[k1, v1, k2, v2, ...]: a map of the keys' and values' common types; a repeated key keeps its last value; NOT NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) == 0 || len(args)%2 != 0 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				var ks, vs []row.Type
				for i := 0; i < len(args); i += 2 {
					ks, vs = append(ks, args[i].Type()), append(vs, args[i+1].Type())
				}
				kt, ok1 := LeastRestrictive(ks...)
				vt, ok2 := LeastRestrictive(vs...)
				if !ok1 || !ok2 || kt.Root == row.TypeNull || vt.Root == row.TypeNull {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out := make([]Expr, len(args))
				for i := range args {
					if i%2 == 0 {
						out[i] = coerce(args[i], kt)
					} else {
						out[i] = coerce(args[i], vt)
					}
				}
				return out, row.MapType(kt, vt).NotNull(), nil
			},
			build: func(s *site) (Evaluator, error) {
				args, kt := s.args, s.argTypes[0]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					var ks, vs []row.Value
				next:
					for i := 0; i < len(args); i += 2 {
						k, err := args[i](ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						v, err := args[i+1](ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						for j := range ks {
							if row.Compare(ks[j], k, kt) == 0 {
								vs[j] = v
								continue next
							}
						}
						ks, vs = append(ks, k), append(vs, v)
					}
					return row.Map(ks, vs), nil
				}, nil
			}},
		{Name: "ROW", Doc: "ROW(v1, v2, ...): a ROW of fields EXPR$0, EXPR$1, ...; NOT NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				fs := make([]row.Field, len(args))
				out := make([]Expr, len(args))
				for i, a := range args {
					t := a.Type()
					if isNullT(t) {
						a, t = coerce(a, tString), tString
					}
					out[i] = a
					fs[i] = row.Field{Name: fmt.Sprintf("EXPR$%d", i), Type: t}
				}
				return out, row.RowType(fs...).NotNull(), nil
			},
			build: func(s *site) (Evaluator, error) {
				args := s.args
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					out := make([]row.Value, len(args))
					for i, ev := range args {
						v, err := ev(ctx, in)
						if err != nil {
							return row.Value{}, err
						}
						out[i] = v
					}
					return row.Nested(out), nil
				}, nil
			}},
	}
}
