package expr

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/row"
)

// Flink's collection functions over ARRAY and MAP (Flink docs, System
// (Built-in) Functions, "Collection Functions"; BuiltInFunctionDefinitions
// ARRAY_* / MAP_* / SPLIT with their runtime classes in
// flink-table-runtime .../functions/scalar). Element equality is Flink's
// equals on internal data: NULL equals NULL, ROW and ARRAY elements are
// equal field by field, MAP elements entry by entry in any order.
// ARRAY_DISTINCT, ARRAY_UNION, ARRAY_EXCEPT and ARRAY_INTERSECT keep the
// first occurrence of each element in input order. Each evaluator
// allocates only its result (the element slice, the joined string); the
// set operations keep a reusable valueSet (hashing integer-like and string
// elements of inputs of 16 or more, else comparing by scanning).

func arrayFuncs() []*Func {
	return []*Func{
		{Name: "ARRAY_APPEND", Doc: "ARRAY_APPEND(array, element): the array with element appended; NULL if array is NULL; element must be implicitly castable to the element type.",
			resolve: resolveArrayAddElem("ARRAY_APPEND(array <ARRAY>, element <ARRAY ELEMENT>)"),
			build:   func(s *site) (Evaluator, error) { return buildArrayAdd(s, false), nil }},
		{Name: "ARRAY_PREPEND", Doc: "ARRAY_PREPEND(array, element): the array with element prepended; NULL if array is NULL; element must be implicitly castable to the element type.",
			resolve: resolveArrayAddElem("ARRAY_PREPEND(array <ARRAY>, element <ARRAY ELEMENT>)"),
			build:   func(s *site) (Evaluator, error) { return buildArrayAdd(s, true), nil }},
		{Name: "ARRAY_CONTAINS", Doc: "ARRAY_CONTAINS(haystack, needle): whether the array holds an element equal to needle (a NULL needle finds a NULL element); NULL if haystack is NULL.",
			resolve: resolveArrayNeedle("ARRAY_CONTAINS(haystack <ARRAY>, needle <ARRAY ELEMENT>)", func(arr, _ row.Type) row.Type {
				return tBoolean.WithNullable(arr.Nullable)
			}),
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(*s.argTypes[0].Elem)
				return arrayNeedle(s, false, func(e []row.Value, x row.Value) (row.Value, error) {
					return row.Bool(slices.IndexFunc(e, func(v row.Value) bool { return eq(v, x) }) >= 0), nil
				}), nil
			}},
		{Name: "ARRAY_POSITION", Doc: "ARRAY_POSITION(haystack, needle): the 1-based position of the first element equal to needle, 0 if there is none; NULL if either argument is NULL.",
			resolve: resolveArrayNeedle("ARRAY_POSITION(haystack <ARRAY>, needle <ARRAY ELEMENT>)", func(arr, needle row.Type) row.Type {
				return tInt.WithNullable(arr.Nullable || needle.Nullable)
			}),
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(*s.argTypes[0].Elem)
				return arrayNeedle(s, true, func(e []row.Value, x row.Value) (row.Value, error) {
					return row.Int(int64(slices.IndexFunc(e, func(v row.Value) bool { return eq(v, x) }) + 1)), nil
				}), nil
			}},
		{Name: "ARRAY_REMOVE", Doc: "ARRAY_REMOVE(haystack, needle): the array without the elements equal to needle (a NULL needle removes the NULL elements); NULL if haystack is NULL.",
			resolve: resolveArrayNeedle("ARRAY_REMOVE(haystack <ARRAY>, needle <ARRAY ELEMENT>)", func(arr, _ row.Type) row.Type { return arr }),
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(*s.argTypes[0].Elem)
				return arrayNeedle(s, false, func(e []row.Value, x row.Value) (row.Value, error) {
					n := 0
					for _, v := range e {
						if !eq(v, x) {
							n++
						}
					}
					out := make([]row.Value, 0, n)
					for _, v := range e {
						if !eq(v, x) {
							out = append(out, v)
						}
					}
					return row.Array(out), nil
				}), nil
			}},
		{Name: "ARRAY_DISTINCT", Doc: "ARRAY_DISTINCT(array): the array without duplicates, first occurrences in order (one NULL kept); NULL if array is NULL.",
			resolve: resolveArray1("ARRAY_DISTINCT(<ARRAY>)", nil),
			build: func(s *site) (Evaluator, error) {
				set := newValueSet(*s.argTypes[0].Elem)
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					e := a.Elems()
					set.reset(len(e))
					return row.Array(set.appendNew(make([]row.Value, 0, len(e)), e)), nil
				}), nil
			}},
		{Name: "ARRAY_REVERSE", Doc: "ARRAY_REVERSE(array): the elements in reverse order; NULL if array is NULL.",
			resolve: resolveArray1("ARRAY_REVERSE(<ARRAY>)", nil),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					e := a.Elems()
					out := make([]row.Value, len(e))
					for i, v := range e {
						out[len(e)-1-i] = v
					}
					return row.Array(out), nil
				}), nil
			}},
		{Name: "ARRAY_SLICE", Doc: "ARRAY_SLICE(array, start [, end]): the elements from start to end inclusive, 1-based; 0 means the first element, a negative offset counts from the end, end defaults to the length; an empty array when start is after end or both lie outside; NULL if any argument is NULL.",
			resolve: resolveArraySlice,
			build:   buildArraySlice},
		{Name: "ARRAY_SORT", Doc: "ARRAY_SORT(array [, ascending [, nullFirst]]): the elements sorted (ascending by default); NULLs first when ascending, last when descending, unless nullFirst says otherwise; NULL if any argument is NULL.",
			resolve: resolveArraySort,
			build:   buildArraySort},
		{Name: "ARRAY_UNION", Doc: "ARRAY_UNION(array1, array2): the distinct elements of both arrays, in order of first occurrence; NULL if either is NULL; the arrays must have a common type.",
			resolve: resolveArrayCommon("ARRAY_UNION(<COMMON>, <COMMON>)", 2, 2),
			build: func(s *site) (Evaluator, error) {
				set := newValueSet(*s.ret.Elem)
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					x, y := a.Elems(), b.Elems()
					set.reset(len(x) + len(y))
					out := set.appendNew(make([]row.Value, 0, len(x)+len(y)), x)
					return row.Array(set.appendNew(out, y)), nil
				}), nil
			}},
		{Name: "ARRAY_CONCAT", Doc: "ARRAY_CONCAT(array1, ...): the arrays concatenated; NULL if any is NULL; the arrays must have a common type.",
			resolve: resolveArrayCommon("ARRAY_CONCAT(<COMMON>, <COMMON>...)", 1, -1),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, as []row.Value) (row.Value, error) {
					n := 0
					for _, a := range as {
						n += len(a.Elems())
					}
					out := make([]row.Value, 0, n)
					for _, a := range as {
						out = append(out, a.Elems()...)
					}
					return row.Array(out), nil
				}), nil
			}},
		{Name: "ARRAY_EXCEPT", Doc: "ARRAY_EXCEPT(array1, array2): the distinct elements of array1 not in array2, in order; NULL if either is NULL; the arrays must have a common type.",
			resolve: resolveArrayCommon("ARRAY_EXCEPT(<COMMON>, <COMMON>)", 2, 2),
			build:   func(s *site) (Evaluator, error) { return buildArraySetOp(s, false), nil }},
		{Name: "ARRAY_INTERSECT", Doc: "ARRAY_INTERSECT(array1, array2): the distinct elements of array1 also in array2, in order; NULL if either is NULL; the arrays must have a common type.",
			resolve: resolveArrayCommon("ARRAY_INTERSECT(<COMMON>, <COMMON>)", 2, 2),
			build:   func(s *site) (Evaluator, error) { return buildArraySetOp(s, true), nil }},
		arrayMinMax("ARRAY_MAX", 1),
		arrayMinMax("ARRAY_MIN", -1),
		{Name: "ARRAY_JOIN", Doc: "ARRAY_JOIN(array, delimiter [, nullReplacement]): the string elements joined by delimiter; NULL elements are skipped, or replaced by nullReplacement when given; NULL if any argument is NULL.",
			resolve: resolveArrayJoin,
			build:   buildArrayJoin},
		{Name: "SPLIT", Doc: "SPLIT(string, delimiter): the substrings between occurrences of delimiter (empty strings kept); an empty delimiter splits into characters; NULL if either argument is NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 2 {
					return nil, row.Type{}, noMatch(f, args)
				}
				out, err := checkArgs(f, args, 2, pStrCast, pStrCast)
				if err != nil {
					return nil, row.Type{}, invalidInput(f, "SPLIT(<CHARACTER_STRING>, <CHARACTER_STRING>)")
				}
				return out, row.ArrayType(tString).WithNullable(anyNullable(types(out)...)), nil
			},
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, d row.Value) (row.Value, error) {
					str, sep := a.Str(), d.Str()
					if sep == "" {
						// One element per character.
						out := make([]row.Value, 0, utf8.RuneCountInString(str))
						for i, w := 0, 0; i < len(str); i += w {
							_, w = utf8.DecodeRuneInString(str[i:])
							out = append(out, row.Str(str[i:i+w]))
						}
						return row.Array(out), nil
					}
					out := make([]row.Value, 0, strings.Count(str, sep)+1)
					for {
						i := strings.Index(str, sep)
						if i < 0 {
							break
						}
						out = append(out, row.Str(str[:i]))
						str = str[i+len(sep):]
					}
					return row.Array(append(out, row.Str(str))), nil
				}), nil
			}},
		{Name: "MAP_KEYS", Doc: "MAP_KEYS(map): the keys as an array, in the map's order; NULL if map is NULL.",
			resolve: resolveMap1(func(m row.Type) row.Type { return row.ArrayType(*m.Elem) }),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, m row.Value) (row.Value, error) {
					return row.Array(slices.Clone(m.MapOf().Keys)), nil
				}), nil
			}},
		{Name: "MAP_VALUES", Doc: "MAP_VALUES(map): the values as an array, in the map's order; NULL if map is NULL.",
			resolve: resolveMap1(func(m row.Type) row.Type { return row.ArrayType(*m.Value) }),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, m row.Value) (row.Value, error) {
					return row.Array(slices.Clone(m.MapOf().Values)), nil
				}), nil
			}},
		{Name: "MAP_ENTRIES", Doc: "MAP_ENTRIES(map): the entries as an array of ROW<key, value>; NULL if map is NULL.",
			resolve: resolveMap1(func(m row.Type) row.Type {
				return row.ArrayType(row.RowType(row.Field{Name: "key", Type: *m.Elem}, row.Field{Name: "value", Type: *m.Value}))
			}),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, m row.Value) (row.Value, error) {
					md := m.MapOf()
					// One backing slice for all the entries' fields.
					fields := make([]row.Value, 2*len(md.Keys))
					out := make([]row.Value, len(md.Keys))
					for i := range md.Keys {
						fields[2*i], fields[2*i+1] = md.Keys[i], md.Values[i]
						out[i] = row.Nested(fields[2*i : 2*i+2 : 2*i+2])
					}
					return row.Array(out), nil
				}), nil
			}},
		{Name: "MAP_FROM_ARRAYS", Doc: "MAP_FROM_ARRAYS(keys, values): the map of keys[i] to values[i] (a repeated key keeps its last value); NULL if either is NULL; an error if the lengths differ.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 2 {
					return nil, row.Type{}, noMatch(f, args)
				}
				out := append([]Expr{}, args...)
				for i, a := range out {
					t := a.Type()
					if isNullT(t) {
						out[i] = coerce(a, row.ArrayType(tString))
						continue
					}
					if t.Root != row.TypeArray {
						return nil, row.Type{}, invalidInput(f, "MAP_FROM_ARRAYS(<ARRAY>, <ARRAY>)")
					}
				}
				k, v := out[0].Type(), out[1].Type()
				return out, row.MapType(*k.Elem, *v.Elem).WithNullable(k.Nullable || v.Nullable), nil
			},
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(*s.argTypes[0].Elem)
				return strict2(s, func(_ *EvalContext, k, v row.Value) (row.Value, error) {
					ks, vs := k.Elems(), v.Elems()
					if len(ks) != len(vs) {
						return row.Value{}, fmt.Errorf("expr: Invalid function MAP_FROM_ARRAYS call:\nThe length of the keys array %d is not equal to the length of the values array %d", len(ks), len(vs))
					}
					mk, mv := mapPutAll(nil, nil, ks, vs, eq)
					return row.Map(mk, mv), nil
				}), nil
			}},
		{Name: "MAP_UNION", Doc: "MAP_UNION(map1, ...): the maps merged, a later map's value winning for a repeated key; NULL if any map is NULL; the maps must have a common type.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) < 1 {
					return nil, row.Type{}, noMatch(f, args)
				}
				for _, a := range args {
					if t := a.Type(); t.Root != row.TypeMap && !isNullT(t) {
						return nil, row.Type{}, invalidInput(f, "MAP_UNION(<COMMON>, <COMMON>...)")
					}
				}
				t, ok := LeastRestrictive(types(args)...)
				if !ok || t.Root != row.TypeMap {
					return nil, row.Type{}, invalidInput(f, "MAP_UNION(<COMMON>, <COMMON>...)")
				}
				out := make([]Expr, len(args))
				for i, a := range args {
					out[i] = coerce(a, t)
				}
				return out, t, nil
			},
			build: func(s *site) (Evaluator, error) {
				eq := valueEq(*s.ret.Elem)
				return strictN(s, func(_ *EvalContext, ms []row.Value) (row.Value, error) {
					var ks, vs []row.Value
					for _, m := range ms {
						md := m.MapOf()
						ks, vs = mapPutAll(ks, vs, md.Keys, md.Values, eq)
					}
					return row.Map(ks, vs), nil
				}), nil
			}},
	}
}

// mapPutAll adds the entries of ks and vs to the map dk/dv: a key already
// there takes the new value, a new key is appended.
func mapPutAll(dk, dv, ks, vs []row.Value, eq func(a, b row.Value) bool) ([]row.Value, []row.Value) {
	if dk == nil {
		dk, dv = make([]row.Value, 0, len(ks)), make([]row.Value, 0, len(ks))
	}
next:
	for i, k := range ks {
		for j := range dk {
			if eq(dk[j], k) {
				dv[j] = vs[i]
				continue next
			}
		}
		dk, dv = append(dk, k), append(dv, vs[i])
	}
	return dk, dv
}

// appendNew appends the elements of src not yet in the set to dst,
// adding them to the set.
func (s *valueSet) appendNew(dst, src []row.Value) []row.Value {
	for _, v := range src {
		if s.add(v) {
			dst = append(dst, v)
		}
	}
	return dst
}

func containsValue(s []row.Value, x row.Value, eq func(a, b row.Value) bool) bool {
	for _, v := range s {
		if eq(v, x) {
			return true
		}
	}
	return false
}

// valueEq returns Flink's equality of two internal values of type t:
// NULL equals NULL; numbers, strings and times by value (DOUBLE as Java's
// Double.equals); ARRAY and ROW element by element; MAP as a set of
// entries.
func valueEq(t row.Type) func(a, b row.Value) bool {
	switch t.Root {
	case row.TypeMap, row.TypeMultiset:
		keq, veq := valueEq(*t.Elem), valueEq(*t.Value)
		return func(a, b row.Value) bool {
			if a.IsNull() || b.IsNull() {
				return a.IsNull() && b.IsNull()
			}
			am, bm := a.MapOf(), b.MapOf()
			if len(am.Keys) != len(bm.Keys) {
				return false
			}
		next:
			for i := range am.Keys {
				for j := range bm.Keys {
					if keq(am.Keys[i], bm.Keys[j]) {
						if !veq(am.Values[i], bm.Values[j]) {
							return false
						}
						continue next
					}
				}
				return false
			}
			return true
		}
	case row.TypeArray, row.TypeRow:
		var elem func(a, b row.Value) bool
		var fields []func(a, b row.Value) bool
		if t.Root == row.TypeArray {
			elem = valueEq(*t.Elem)
		} else {
			for _, f := range t.Fields {
				fields = append(fields, valueEq(f.Type))
			}
		}
		return func(a, b row.Value) bool {
			if a.IsNull() || b.IsNull() {
				return a.IsNull() && b.IsNull()
			}
			x, y := a.Elems(), b.Elems()
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				eq := elem
				if eq == nil {
					eq = fields[i]
				}
				if !eq(x[i], y[i]) {
					return false
				}
			}
			return true
		}
	}
	return func(a, b row.Value) bool { return row.Compare(a, b, t) == 0 }
}

// invalidInput is Flink's error for arguments no signature accepts.
func invalidInput(f *Func, sigs ...string) error {
	return fmt.Errorf("expr: %s: Invalid input arguments. Expected signatures are:\n%s", f.Name, strings.Join(sigs, "\n"))
}

// invalidCall is Flink's "Invalid function call" error naming the
// argument types.
func invalidCall(f *Func, args []Expr) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = a.Type().String()
	}
	return fmt.Errorf("expr: Invalid function call:\n%s(%s)", f.Name, strings.Join(ts, ", "))
}

// noMatch is Calcite's error for a call with the wrong number of
// arguments.
func noMatch(f *Func, args []Expr) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = "<" + a.Type().WithNullable(true).String() + ">"
	}
	return fmt.Errorf("expr: No match found for function signature %s(%s)", f.Name, strings.Join(ts, ", "))
}

// implicitlyCastable reports whether Flink casts from to to implicitly
// (LogicalTypeCasts.supportsImplicitCast): the same type family
// (character strings, binary strings, and so on, any length or
// precision), a number to a wider number, and constructed types whose
// parts are castable so.
func implicitlyCastable(from, to row.Type) bool {
	if isNullT(from) {
		return true
	}
	switch {
	case from.IsString() && to.IsString(), from.IsBinary() && to.IsBinary():
		return true
	case from.IsNumeric() && to.IsNumeric():
		return numericRank(from.Root) <= numericRank(to.Root)
	case from.Root != to.Root:
		return false
	}
	switch from.Root {
	case row.TypeArray:
		return implicitlyCastable(*from.Elem, *to.Elem)
	case row.TypeMap, row.TypeMultiset:
		return implicitlyCastable(*from.Elem, *to.Elem) && implicitlyCastable(*from.Value, *to.Value)
	case row.TypeRow:
		if len(from.Fields) != len(to.Fields) {
			return false
		}
		for i := range from.Fields {
			if !implicitlyCastable(from.Fields[i].Type, to.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

func numericRank(r row.Root) int {
	switch r {
	case row.TypeDecimal:
		return 5
	case row.TypeFloat:
		return 6
	case row.TypeDouble:
		return 7
	}
	return integerRank(r)
}

// arrayArg reports whether args[0] is an ARRAY.
func arrayArg(args []Expr) bool { return len(args) > 0 && args[0].Type().Root == row.TypeArray }

// resolveArrayAddElem types ARRAY_APPEND and ARRAY_PREPEND: the element
// is cast to the element type, whose nullability it may widen.
func resolveArrayAddElem(sig string) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if len(args) != 2 {
			return nil, row.Type{}, noMatch(f, args)
		}
		if !arrayArg(args) || !implicitlyCastable(args[1].Type(), *args[0].Type().Elem) {
			return nil, row.Type{}, invalidInput(f, sig)
		}
		at := args[0].Type()
		et := at.Elem.WithNullable(at.Elem.Nullable || args[1].Type().Nullable)
		t := row.ArrayType(et).WithNullable(at.Nullable)
		// The array keeps its values: only its element nullability widens.
		return []Expr{args[0], coerce(args[1], et)}, t, nil
	}
}

func buildArrayAdd(s *site, prepend bool) Evaluator {
	a0, a1 := s.args[0], s.args[1]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		a, err := a0(ctx, in)
		if err != nil || a.IsNull() {
			return row.Value{}, err
		}
		x, err := a1(ctx, in)
		if err != nil {
			return row.Value{}, err
		}
		e := a.Elems()
		out := make([]row.Value, len(e)+1)
		if prepend {
			out[0] = x
			copy(out[1:], e)
		} else {
			copy(out, e)
			out[len(e)] = x
		}
		return row.Array(out), nil
	}
}

// resolveArrayNeedle types f(haystack ARRAY<T>, needle) with needle cast
// to T.
func resolveArrayNeedle(sig string, ret func(arr, needle row.Type) row.Type) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if len(args) != 2 {
			return nil, row.Type{}, noMatch(f, args)
		}
		if !arrayArg(args) || !implicitlyCastable(args[1].Type(), *args[0].Type().Elem) {
			return nil, row.Type{}, invalidInput(f, sig)
		}
		at := args[0].Type()
		needle := coerce(args[1], *at.Elem)
		return []Expr{args[0], needle}, ret(at, needle.Type()), nil
	}
}

// arrayNeedle evaluates a haystack/needle function: NULL for a NULL
// haystack, and for a NULL needle when strictNeedle.
func arrayNeedle(s *site, strictNeedle bool, f func(e []row.Value, x row.Value) (row.Value, error)) Evaluator {
	a0, a1 := s.args[0], s.args[1]
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		a, err := a0(ctx, in)
		if err != nil || a.IsNull() {
			return row.Value{}, err
		}
		x, err := a1(ctx, in)
		if err != nil || (strictNeedle && x.IsNull()) {
			return row.Value{}, err
		}
		return f(a.Elems(), x)
	}
}

// resolveArray1 types f(array) returning the array's type; elemOK, when
// set, restricts the element type.
func resolveArray1(sig string, elemOK func(row.Type) bool) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if len(args) != 1 {
			return nil, row.Type{}, noMatch(f, args)
		}
		if !arrayArg(args) || (elemOK != nil && !elemOK(*args[0].Type().Elem)) {
			return nil, row.Type{}, invalidInput(f, sig)
		}
		return args, args[0].Type(), nil
	}
}

// resolveArrayCommon types a function over arrays of a common type (at
// least minArgs, at most maxArgs, -1 for any number).
func resolveArrayCommon(sig string, minArgs, maxArgs int) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if len(args) < minArgs || (maxArgs >= 0 && len(args) > maxArgs) {
			return nil, row.Type{}, noMatch(f, args)
		}
		for _, a := range args {
			if t := a.Type(); t.Root != row.TypeArray && !isNullT(t) {
				return nil, row.Type{}, invalidInput(f, sig)
			}
		}
		t, ok := LeastRestrictive(types(args)...)
		if !ok {
			return nil, row.Type{}, invalidCall(f, args)
		}
		if t.Root != row.TypeArray {
			return nil, row.Type{}, invalidInput(f, sig)
		}
		out := make([]Expr, len(args))
		for i, a := range args {
			out[i] = coerce(a, t)
		}
		return out, t, nil
	}
}

func buildArraySetOp(s *site, intersect bool) Evaluator {
	other, seen := newValueSet(*s.ret.Elem), newValueSet(*s.ret.Elem)
	return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
		x, y := a.Elems(), b.Elems()
		other.reset(len(y))
		for _, v := range y {
			other.add(v)
		}
		seen.reset(len(x))
		out := make([]row.Value, 0, len(x))
		for _, v := range x {
			if other.has(v) == intersect && seen.add(v) {
				out = append(out, v)
			}
		}
		return row.Array(out), nil
	})
}

func resolveArraySlice(f *Func, args []Expr) ([]Expr, row.Type, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, row.Type{}, fmt.Errorf("%w.\nSupported signatures are:\nARRAY_SLICE(<ARRAY>, <INTEGER>, <INTEGER>)\nARRAY_SLICE(<ARRAY>, <INTEGER>)", noMatch(f, args))
	}
	if !arrayArg(args) {
		return nil, row.Type{}, invalidInput(f, "ARRAY_SLICE(<ARRAY>, <INTEGER>, <INTEGER>)")
	}
	out := []Expr{args[0]}
	for _, a := range args[1:] {
		t := a.Type()
		if !isNullT(t) && (!t.IsInteger() || t.Root == row.TypeBigInt) {
			return nil, row.Type{}, invalidInput(f, "ARRAY_SLICE(<ARRAY>, <INTEGER>, <INTEGER>)")
		}
		out = append(out, coerce(a, tInt))
	}
	return out, args[0].Type().WithNullable(anyNullable(types(out)...)), nil
}

func buildArraySlice(s *site) (Evaluator, error) {
	return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
		e := a[0].Elems()
		n := int64(len(e))
		start, end := a[1].Int(), n
		if len(a) > 2 {
			end = a[2].Int()
		}
		// 0 is the first element; negative offsets count from the end.
		norm := func(i int64) int64 {
			switch {
			case i == 0:
				return 1
			case i < 0:
				return i + n + 1
			}
			return i
		}
		start, end = max(norm(start), 1), min(norm(end), n)
		if start > end {
			return row.Array(nil), nil
		}
		return row.Array(slices.Clone(e[start-1 : end])), nil
	}), nil
}

// sortable reports whether ARRAY_SORT orders elements of type t (Flink's
// COMPARABLE: not ROW, MAP, ARRAY or MULTISET).
func sortable(t row.Type) bool {
	switch t.Root {
	case row.TypeRow, row.TypeMap, row.TypeMultiset, row.TypeArray, row.TypeNull:
		return false
	}
	return true
}

func resolveArraySort(f *Func, args []Expr) ([]Expr, row.Type, error) {
	sigs := []string{"ARRAY_SORT(<ARRAY<COMPARABLE>>)", "ARRAY_SORT(<ARRAY<COMPARABLE>>, <BOOLEAN>)", "ARRAY_SORT(<ARRAY<COMPARABLE>>, <BOOLEAN>, <BOOLEAN>)"}
	if len(args) < 1 || len(args) > 3 {
		return nil, row.Type{}, noMatch(f, args)
	}
	if !arrayArg(args) {
		return nil, row.Type{}, invalidInput(f, sigs...)
	}
	if !sortable(*args[0].Type().Elem) {
		return nil, row.Type{}, invalidCall(f, args)
	}
	out := []Expr{args[0]}
	for _, a := range args[1:] {
		t := a.Type()
		if !isNullT(t) && t.Root != row.TypeBoolean {
			return nil, row.Type{}, invalidInput(f, sigs...)
		}
		out = append(out, coerce(a, tBoolean))
	}
	return out, args[0].Type().WithNullable(anyNullable(types(out)...)), nil
}

func buildArraySort(s *site) (Evaluator, error) {
	et := *s.argTypes[0].Elem
	return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
		asc := len(a) < 2 || a[1].Bool()
		nullsFirst := asc
		if len(a) > 2 {
			nullsFirst = a[2].Bool()
		}
		e := a[0].Elems()
		out := make([]row.Value, 0, len(e))
		nulls := 0
		for _, v := range e {
			if v.IsNull() {
				nulls++
			} else {
				out = append(out, v)
			}
		}
		slices.SortStableFunc(out, func(x, y row.Value) int {
			if asc {
				return row.Compare(x, y, et)
			}
			return row.Compare(y, x, et)
		})
		if nulls > 0 {
			out = append(out, make([]row.Value, nulls)...)
			if nullsFirst {
				copy(out[nulls:], out[:len(out)-nulls])
				clear(out[:nulls])
			}
		}
		return row.Array(out), nil
	}), nil
}

// arrayMinMax is ARRAY_MAX (want 1) or ARRAY_MIN (want -1): the largest or
// smallest non-NULL element; NULL for a NULL or empty array or one of
// NULLs only. Elements must be ordered scalars other than BOOLEAN, as in
// Flink's ArrayComparableElementTypeStrategy.
func arrayMinMax(name string, want int) *Func {
	return &Func{Name: name, Doc: name + "(array): the " + map[int]string{1: "largest", -1: "smallest"}[want] + " non-NULL element; NULL if the array is NULL, empty or all NULL. Elements must be numbers, strings, binary strings or date-times.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) != 1 {
				return nil, row.Type{}, noMatch(f, args)
			}
			if !arrayArg(args) {
				return nil, row.Type{}, invalidCall(f, args)
			}
			et := *args[0].Type().Elem
			if !sortable(et) || et.Root == row.TypeBoolean {
				return nil, row.Type{}, invalidCall(f, args)
			}
			return args, et.WithNullable(true), nil
		},
		build: func(s *site) (Evaluator, error) {
			et := *s.argTypes[0].Elem
			return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
				var best row.Value
				for _, v := range a.Elems() {
					if !v.IsNull() && (best.IsNull() || row.Compare(v, best, et) == want) {
						best = v
					}
				}
				return best, nil
			}), nil
		}}
}

var arrayJoinSigs = []string{"ARRAY_JOIN(ARRAY<STRING>, <CHARACTER_STRING>)", "ARRAY_JOIN(ARRAY<STRING>, <CHARACTER_STRING>, <CHARACTER_STRING>)"}

func resolveArrayJoin(f *Func, args []Expr) ([]Expr, row.Type, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, row.Type{}, fmt.Errorf("%w.\nSupported signatures are:\n%s", noMatch(f, args), strings.Join(arrayJoinSigs, "\n"))
	}
	if !arrayArg(args) || !args[0].Type().Elem.IsString() {
		return nil, row.Type{}, invalidInput(f, arrayJoinSigs...)
	}
	out := []Expr{args[0]}
	for _, a := range args[1:] {
		t := a.Type()
		if !isNullT(t) && !t.IsString() {
			return nil, row.Type{}, invalidInput(f, arrayJoinSigs...)
		}
		out = append(out, coerce(a, tString))
	}
	return out, tString.WithNullable(anyNullable(types(out)...)), nil
}

func buildArrayJoin(s *site) (Evaluator, error) {
	var buf []byte
	return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
		sep := a[1].Str()
		replace := len(a) > 2
		buf = buf[:0]
		first := true
		for _, v := range a[0].Elems() {
			var str string
			switch {
			case !v.IsNull():
				str = v.Str()
			case replace:
				str = a[2].Str()
			default:
				continue
			}
			if !first {
				buf = append(buf, sep...)
			}
			first = false
			buf = append(buf, str...)
		}
		return row.Str(string(buf)), nil
	}), nil
}

// resolveMap1 types f(map) with the result type ret(map type), nullable
// as the map.
func resolveMap1(ret func(m row.Type) row.Type) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if len(args) != 1 || args[0].Type().Root != row.TypeMap {
			return nil, row.Type{}, invalidCall(f, args)
		}
		return args, ret(args[0].Type()).WithNullable(args[0].Type().Nullable), nil
	}
}

// valueSet is a set of values of one type that the set operations reuse
// from call to call (an Evaluator belongs to one goroutine). Integers,
// booleans, dates, times and intervals are keyed by their int64 and
// character and binary strings by their bytes, in typed maps cleared on
// reset; other types (and small inputs) are kept in a slice and compared
// with Flink's equality. Steady state allocates nothing.
type valueSet struct {
	eq   func(a, b row.Value) bool
	key  int // keyScan, keyInt or keyStr
	ints map[int64]struct{}
	strs map[string]struct{}
	null bool
	scan []row.Value
	hash bool // this round uses the map
}

const (
	keyScan = iota
	keyInt
	keyStr
)

// hashFrom is the input size from which a valueSet hashes (a variable
// for the benchmark that compares with scanning).
var hashFrom = 16

func newValueSet(t row.Type) *valueSet {
	s := &valueSet{eq: valueEq(t)}
	switch t.Root {
	case row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
		row.TypeDate, row.TypeTime, row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		s.key = keyInt
	case row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary, row.TypeVariant:
		s.key = keyStr
	}
	return s
}

// reset empties the set for a round of about n values.
func (s *valueSet) reset(n int) {
	clear(s.scan)
	s.scan, s.null = s.scan[:0], false
	s.hash = s.key != keyScan && n >= hashFrom
	if !s.hash {
		return
	}
	switch s.key {
	case keyInt:
		if s.ints == nil {
			s.ints = make(map[int64]struct{}, n)
		}
		clear(s.ints)
	case keyStr:
		if s.strs == nil {
			s.strs = make(map[string]struct{}, n)
		}
		clear(s.strs)
	}
}

// add adds v and reports whether it was not there yet.
func (s *valueSet) add(v row.Value) bool {
	if s.has(v) {
		return false
	}
	switch {
	case v.IsNull() && s.hash:
		s.null = true
	case !s.hash:
		s.scan = append(s.scan, v)
	case s.key == keyInt:
		s.ints[v.Int()] = struct{}{}
	default:
		s.strs[v.Str()] = struct{}{}
	}
	return true
}

func (s *valueSet) has(v row.Value) bool {
	switch {
	case !s.hash:
		return containsValue(s.scan, v, s.eq)
	case v.IsNull():
		return s.null
	case s.key == keyInt:
		_, ok := s.ints[v.Int()]
		return ok
	}
	_, ok := s.strs[v.Str()]
	return ok
}
