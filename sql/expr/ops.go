package expr

import (
	"errors"
	"math"
	"math/big"
	"strings"

	"github.com/weirstream/weir/row"
)

func allFuncs() []*Func {
	var fs []*Func
	for _, g := range [][]*Func{compareFuncs(), logicFuncs(), arithFuncs(), mathFuncs(),
		stringFuncs(), flinkStringFuncs(), moreStringFuncs(), printfFuncs(), charsetFuncs(), utf8Funcs(), timeFuncs(), watermarkFuncs(), condFuncs(), collectionFuncs(), arrayFuncs(), jsonFuncs(), jsonBuildFuncs(), jsonAggFuncs(), variantFuncs(), hashFuncs(), typeFuncs(), docsFuncs()} {
		fs = append(fs, g...)
	}
	return fs
}

// errDivideByZero is the error of an integer or DECIMAL division by zero
// (Java's ArithmeticException "/ by zero" in Flink).
var errDivideByZero = errors.New("division by zero")

// ---- comparison ----------------------------------------------------------

// orderable reports whether values of t can be ordered (= works on all;
// a VARIANT is equal to another by its encoding, it has no order).
func orderable(t row.Type) bool {
	switch t.Root {
	case row.TypeMap, row.TypeMultiset, row.TypeArray, row.TypeRow, row.TypeVariant:
		return false
	}
	return true
}

// stringsToDatetime casts string operands to the DATE, TIME, TIMESTAMP or
// TIMESTAMP_LTZ type of another operand: Flink compares DATE '2001-01-01'
// = '2001-01-01' by reading the string as a date (while a number and a
// string do not compare, FLINK-24914). A string that does not parse makes
// the comparison NULL, not an error, as in Flink (ScalarOperatorsTest:
// f15 = uuid() is NULL): the cast is a TRY_CAST.
func stringsToDatetime(args []Expr) []Expr {
	var dt *row.Type
	for _, a := range args {
		t := a.Type()
		switch t.Root {
		case row.TypeDate, row.TypeTime, row.TypeTimestamp, row.TypeTimestampLTZ:
			dt = &t
		}
	}
	if dt == nil {
		return args
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		out[i] = a
		if a.Type().IsString() {
			t := *dt
			t.TimeAttr = row.NoTimeAttr
			if l, ok := a.(*Literal); ok && l.Value.IsNull() {
				out[i] = coerce(a, t)
				continue
			}
			out[i] = &Cast{Arg: a, T: t.WithNullable(true), Try: true, Implicit: true}
		}
	}
	return out
}

// resolveCommon brings all args to their least restrictive common type.
func resolveCommon(f *Func, args []Expr, ordered bool) ([]Expr, row.Type, error) {
	args = stringsToDatetime(args)
	ts := types(args)
	ct, ok := LeastRestrictive(ts...)
	if !ok || (ordered && !orderable(ct)) {
		return nil, row.Type{}, cannotApply(f, args)
	}
	if ct.Root == row.TypeNull {
		ct = tString // NULL = NULL: compare as strings, always NULL
	}
	out := make([]Expr, len(args))
	for i, a := range args {
		out[i] = coerce(a, ct)
	}
	return out, ct, nil
}

func resolveCompare(f *Func, args []Expr) ([]Expr, row.Type, error) {
	if len(args) != 2 {
		return nil, row.Type{}, cannotApply(f, args)
	}
	out, _, err := resolveCommon(f, args, f.Name != "=" && f.Name != "<>")
	if err != nil {
		return nil, row.Type{}, err
	}
	return out, tBoolean.WithNullable(anyNullable(types(out)...)), nil
}

// comparator returns a three-way comparison specialised for t.
func comparator(t row.Type) func(a, b row.Value) int {
	switch t.Root {
	case row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt, row.TypeInt, row.TypeBigInt,
		row.TypeDate, row.TypeTime, row.TypeIntervalYearMonth, row.TypeIntervalDayTime:
		return func(a, b row.Value) int {
			x, y := a.Int(), b.Int()
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case row.TypeFloat, row.TypeDouble:
		// SQL comparison of doubles is Java's primitive comparison: NaN is
		// unordered (every comparison but <> is FALSE); cmpUnordered marks it.
		return func(a, b row.Value) int {
			x, y := a.Float(), b.Float()
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			case x == y:
				return 0
			}
			return cmpUnordered
		}
	case row.TypeChar, row.TypeVarChar, row.TypeBinary, row.TypeVarBinary, row.TypeVariant:
		return func(a, b row.Value) int { return strings.Compare(a.Str(), b.Str()) }
	case row.TypeMultiset:
		return multisetComparator(t)
	}
	return func(a, b row.Value) int { return row.Compare(a, b, t) }
}

const cmpUnordered = 2

func compareFunc(name, doc string, test func(c int) bool) *Func {
	return &Func{Name: name, Doc: doc, infix: true, resolve: resolveCompare,
		build: func(s *site) (Evaluator, error) {
			cmp := comparator(s.argTypes[0])
			return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
				return row.Bool(test(cmp(a, b))), nil
			}), nil
		}}
}

func isFunc(name, doc string, f func(v row.Value) bool, boolArg bool) *Func {
	p := pAny
	if boolArg {
		p = pBool
	}
	return fixNotNull(&Func{Name: name, Doc: doc,
		resolve: fixed(func([]row.Type) row.Type { return tBoolean.NotNull() }, 1, p),
		build: func(s *site) (Evaluator, error) {
			a0 := s.args[0]
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := a0(ctx, in)
				if err != nil {
					return row.Value{}, err
				}
				return row.Bool(f(v)), nil
			}, nil
		}})
}

func fixNotNull(f *Func) *Func {
	r := f.resolve
	f.resolve = func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		a, t, err := r(f, args)
		return a, t.NotNull(), err
	}
	return f
}

func compareFuncs() []*Func {
	distinct := func(name string, want bool) *Func {
		return &Func{Name: name, Doc: "value1 " + name + " value2: like = / <> but NULL-safe: two NULLs are not distinct, NULL and a value are; never NULL.",
			resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
				if len(args) != 2 {
					return nil, row.Type{}, cannotApply(f, args)
				}
				out, _, err := resolveCommon(f, args, false)
				return out, tBoolean.NotNull(), err
			},
			build: func(s *site) (Evaluator, error) {
				cmp := comparator(s.argTypes[0])
				a0, a1 := s.args[0], s.args[1]
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					a, err := a0(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					b, err := a1(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					var d bool
					switch {
					case a.IsNull() || b.IsNull():
						d = a.IsNull() != b.IsNull()
					default:
						d = cmp(a, b) != 0
					}
					return row.Bool(d == want), nil
				}, nil
			}}
	}
	return []*Func{
		compareFunc("=", "value1 = value2: TRUE if equal, NULL if either is NULL. Operands are brought to their common type (numbers widen, strings compare bytewise in UTF-8 order, TIMESTAMPs of different precision compare exactly).", func(c int) bool { return c == 0 }),
		compareFunc("<>", "value1 <> value2: TRUE if not equal, NULL if either is NULL.", func(c int) bool { return c != 0 }),
		compareFunc("<", "value1 < value2; NULL if either is NULL; NaN is unordered.", func(c int) bool { return c == -1 }),
		compareFunc("<=", "value1 <= value2; NULL if either is NULL.", func(c int) bool { return c == -1 || c == 0 }),
		compareFunc(">", "value1 > value2; NULL if either is NULL.", func(c int) bool { return c == 1 }),
		compareFunc(">=", "value1 >= value2; NULL if either is NULL.", func(c int) bool { return c == 1 || c == 0 }),
		isFunc("IS NULL", "value IS NULL: TRUE if value is NULL; never NULL.", func(v row.Value) bool { return v.IsNull() }, false),
		isFunc("IS NOT NULL", "value IS NOT NULL; never NULL.", func(v row.Value) bool { return !v.IsNull() }, false),
		isFunc("IS TRUE", "boolean IS TRUE: TRUE only for TRUE; never NULL.", func(v row.Value) bool { return !v.IsNull() && v.Bool() }, true),
		isFunc("IS NOT TRUE", "boolean IS NOT TRUE: TRUE for FALSE and UNKNOWN.", func(v row.Value) bool { return v.IsNull() || !v.Bool() }, true),
		isFunc("IS FALSE", "boolean IS FALSE: TRUE only for FALSE.", func(v row.Value) bool { return !v.IsNull() && !v.Bool() }, true),
		isFunc("IS NOT FALSE", "boolean IS NOT FALSE: TRUE for TRUE and UNKNOWN.", func(v row.Value) bool { return v.IsNull() || v.Bool() }, true),
		isFunc("IS UNKNOWN", "boolean IS UNKNOWN: TRUE if NULL.", func(v row.Value) bool { return v.IsNull() }, true),
		isFunc("IS NOT UNKNOWN", "boolean IS NOT UNKNOWN: TRUE unless NULL.", func(v row.Value) bool { return !v.IsNull() }, true),
		distinct("IS DISTINCT FROM", true),
		distinct("IS NOT DISTINCT FROM", false),
		betweenFunc("BETWEEN", false),
		betweenFunc("NOT BETWEEN", true),
		inFunc("IN", false),
		inFunc("NOT IN", true),
		likeFunc("LIKE", false, false),
		likeFunc("NOT LIKE", true, false),
		likeFunc("SIMILAR TO", false, true),
		likeFunc("NOT SIMILAR TO", true, true),
	}
}

// and3 is SQL's three-valued AND over (value, isNull) pairs.
func betweenFunc(name string, negate bool) *Func {
	return &Func{Name: name, Doc: "value " + name + " low AND high (ASYMMETRIC): value >= low AND value <= high with three-valued logic.",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) != 3 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			out, _, err := resolveCommon(f, args, true)
			if err != nil {
				return nil, row.Type{}, err
			}
			return out, tBoolean.WithNullable(anyNullable(types(out)...)), nil
		},
		build: func(s *site) (Evaluator, error) {
			cmp := comparator(s.argTypes[0])
			x, lo, hi := s.args[0], s.args[1], s.args[2]
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := x(ctx, in)
				if err != nil || v.IsNull() {
					return row.Value{}, err
				}
				l, err := lo(ctx, in)
				if err != nil {
					return row.Value{}, err
				}
				h, err := hi(ctx, in)
				if err != nil {
					return row.Value{}, err
				}
				// a: v >= l, b: v <= h; each TRUE/FALSE/UNKNOWN.
				a, an := false, l.IsNull()
				if !an {
					c := cmp(v, l)
					a = c == 0 || c == 1
				}
				b, bn := false, h.IsNull()
				if !bn {
					c := cmp(v, h)
					b = c == 0 || c == -1
				}
				r, rn := and3(a, an, b, bn)
				if rn {
					return row.Value{}, nil
				}
				return row.Bool(r != negate), nil
			}, nil
		}}
}

func and3(a, an, b, bn bool) (v, null bool) {
	if (!an && !a) || (!bn && !b) {
		return false, false
	}
	if an || bn {
		return false, true
	}
	return true, false
}

func inFunc(name string, negate bool) *Func {
	return &Func{Name: name, Doc: "value " + name + " (v1, v2, ...): TRUE if value equals some vi; NULL if value is NULL, or if no vi equals it and some vi is NULL; else FALSE (negated for NOT IN).",
		resolve: func(f *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) < 2 {
				return nil, row.Type{}, cannotApply(f, args)
			}
			out, _, err := resolveCommon(f, args, false)
			if err != nil {
				return nil, row.Type{}, err
			}
			return out, tBoolean.WithNullable(anyNullable(types(out)...)), nil
		},
		build: func(s *site) (Evaluator, error) {
			cmp := comparator(s.argTypes[0])
			x, list := s.args[0], s.args[1:]
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := x(ctx, in)
				if err != nil || v.IsNull() {
					return row.Value{}, err
				}
				sawNull := false
				for _, ev := range list {
					w, err := ev(ctx, in)
					if err != nil {
						return row.Value{}, err
					}
					if w.IsNull() {
						sawNull = true
						continue
					}
					if cmp(v, w) == 0 {
						return row.Bool(!negate), nil
					}
				}
				if sawNull {
					return row.Value{}, nil
				}
				return row.Bool(negate), nil
			}, nil
		}}
}

// ---- logical -------------------------------------------------------------

func logicFuncs() []*Func {
	return []*Func{
		{Name: "AND", infix: true, Doc: "b1 AND b2 ...: FALSE if any is FALSE, else NULL if any is NULL, else TRUE. Evaluates left to right and stops at the first FALSE.",
			resolve: variadic(ret(tBoolean), 2, pBool),
			build:   func(s *site) (Evaluator, error) { return logic(s.args, false), nil }},
		{Name: "OR", infix: true, Doc: "b1 OR b2 ...: TRUE if any is TRUE, else NULL if any is NULL, else FALSE. Stops at the first TRUE.",
			resolve: variadic(ret(tBoolean), 2, pBool),
			build:   func(s *site) (Evaluator, error) { return logic(s.args, true), nil }},
		{Name: "NOT", Doc: "NOT b: TRUE for FALSE, FALSE for TRUE, NULL for NULL.",
			resolve: fixed(ret(tBoolean), 1, pBool),
			build: func(s *site) (Evaluator, error) {
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) { return row.Bool(!a.Bool()), nil }), nil
			}},
	}
}

// logic is n-ary AND (stop=false) or OR (stop=true) with short-circuit.
func logic(args []Evaluator, stop bool) Evaluator {
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		sawNull := false
		for _, ev := range args {
			v, err := ev(ctx, in)
			if err != nil {
				return row.Value{}, err
			}
			if v.IsNull() {
				sawNull = true
				continue
			}
			if v.Bool() == stop {
				return row.Bool(stop), nil
			}
		}
		if sawNull {
			return row.Value{}, nil
		}
		return row.Bool(!stop), nil
	}
}

// ---- arithmetic ----------------------------------------------------------

// arithKind names the operation of an arithmetic built-in.
type arithKind byte

const (
	opAdd arithKind = '+'
	opSub arithKind = '-'
	opMul arithKind = '*'
	opDiv arithKind = '/'
	opMod arithKind = '%'
)

// decimalResult derives the DECIMAL result type of a op b as Flink's
// LogicalTypeMerging does.
func decimalResult(op arithKind, a, b row.Type) row.Type {
	p1, s1, p2, s2 := a.Precision, a.Scale, b.Precision, b.Scale
	switch op {
	case opAdd, opSub:
		s := max(s1, s2)
		return adjustDecimal(max(p1-s1, p2-s2)+s+1, s)
	case opMul:
		return adjustDecimal(p1+p2+1, s1+s2)
	case opDiv:
		intDig := p1 - s1 + s2
		s := max(6, s1+p2+1)
		return adjustDecimal(intDig+s, s)
	default: // opMod
		s := max(s1, s2)
		return adjustDecimal(min(p1-s1, p2-s2)+s, s)
	}
}

func isInterval(t row.Type) bool {
	return t.Root == row.TypeIntervalDayTime || t.Root == row.TypeIntervalYearMonth
}

func isDatetime(t row.Type) bool {
	return t.Root == row.TypeDate || t.Root == row.TypeTime || t.IsTimestamp()
}

func resolveArith(op arithKind) func(*Func, []Expr) ([]Expr, row.Type, error) {
	return func(f *Func, args []Expr) ([]Expr, row.Type, error) {
		if op == opSub && len(args) == 1 {
			t := args[0].Type()
			if isNullT(t) {
				return []Expr{coerce(args[0], tInt)}, tInt, nil
			}
			if !t.IsNumeric() && !isInterval(t) {
				return nil, row.Type{}, cannotApply(f, args)
			}
			return args, t, nil
		}
		if len(args) != 2 {
			return nil, row.Type{}, cannotApply(f, args)
		}
		a, b := args[0], args[1]
		ta, tb := a.Type(), b.Type()
		n := ta.Nullable || tb.Nullable
		// Untyped NULL takes the other operand's type.
		if isNullT(ta) && !isNullT(tb) {
			a, ta = coerce(a, tb), tb.WithNullable(true)
		} else if isNullT(tb) && !isNullT(ta) {
			b, tb = coerce(b, ta), ta.WithNullable(true)
		} else if isNullT(ta) && isNullT(tb) {
			a, b, ta, tb = coerce(a, tInt), coerce(b, tInt), tInt, tInt
		}
		switch {
		case ta.IsNumeric() && tb.IsNumeric():
			ct := numericCommon(ta, tb)
			if ct.Root == row.TypeDecimal {
				da, db := asDecimal(ta), asDecimal(tb)
				rt := decimalResult(op, da, db)
				if op == opMod && da.Scale == 0 && db.Scale == 0 {
					// Flink's DecimalModTypeStrategy: of two operands
					// without fraction digits, the divisor's type
					// (MathFunctionsITCase: DECIMAL(19, 0) % INT is INT;
					// DecimalTypeTest: DECIMAL(10, 2) % INT is decimal).
					rt = tb
				}
				return []Expr{coerce(a, da), coerce(b, db)}, rt.WithNullable(n), nil
			}
			rt := ct
			if op == opMod && ct.IsInteger() {
				rt = tb // Calcite: MOD takes the divisor's type
			}
			return []Expr{coerce(a, ct), coerce(b, ct)}, rt.WithNullable(n), nil
		case (op == opAdd || op == opSub) && isDatetime(ta) && isInterval(tb):
			if ta.Root == row.TypeTime && tb.Root == row.TypeIntervalYearMonth {
				break
			}
			rt := ta
			rt.TimeAttr = row.NoTimeAttr
			return []Expr{a, b}, rt.WithNullable(n), nil
		case op == opAdd && isInterval(ta) && isDatetime(tb):
			if tb.Root == row.TypeTime && ta.Root == row.TypeIntervalYearMonth {
				break
			}
			rt := tb
			rt.TimeAttr = row.NoTimeAttr
			return []Expr{b, a}, rt.WithNullable(n), nil // canonical: datetime first
		case (op == opAdd || op == opSub) && isInterval(ta) && ta.Root == tb.Root:
			return []Expr{a, b}, ta.WithNullable(n), nil
		case (op == opMul || op == opDiv) && isInterval(ta) && tb.IsNumeric():
			return []Expr{a, coerce(b, tDouble)}, ta.WithNullable(n), nil
		case op == opMul && ta.IsNumeric() && isInterval(tb):
			return []Expr{b, coerce(a, tDouble)}, tb.WithNullable(n), nil
		}
		return nil, row.Type{}, cannotApply(f, args)
	}
}

// wrapInt truncates x to the width of an integer type, as Java's
// two's-complement arithmetic overflows.
func wrapInt(r row.Root) func(int64) int64 {
	switch r {
	case row.TypeTinyInt:
		return func(x int64) int64 { return int64(int8(x)) }
	case row.TypeSmallInt:
		return func(x int64) int64 { return int64(int16(x)) }
	case row.TypeInt:
		return func(x int64) int64 { return int64(int32(x)) }
	}
	return nil
}

func buildArith(op arithKind) func(s *site) (Evaluator, error) {
	return func(s *site) (Evaluator, error) {
		if len(s.args) == 1 {
			return buildNegate(s), nil
		}
		ta, tb := s.argTypes[0], s.argTypes[1]
		switch {
		case ta.IsInteger() && tb.IsInteger():
			return intArith(s, op, wrapInt(s.ret.Root)), nil
		case ta.Root == row.TypeDouble || ta.Root == row.TypeFloat:
			f32 := s.ret.Root == row.TypeFloat
			a0, a1 := s.args[0], s.args[1]
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				a, err := a0(ctx, in)
				if err != nil || a.IsNull() {
					return row.Value{}, err
				}
				b, err := a1(ctx, in)
				if err != nil || b.IsNull() {
					return row.Value{}, err
				}
				x, y := a.Float(), b.Float()
				var r float64
				switch op {
				case opAdd:
					r = x + y
				case opSub:
					r = x - y
				case opMul:
					r = x * y
				case opDiv:
					r = x / y
				default:
					r = math.Mod(x, y)
				}
				if f32 {
					r = float64(float32(r))
				}
				return row.Float(r), nil
			}, nil
		case ta.Root == row.TypeDecimal && s.ret.IsInteger(): // MOD(DECIMAL, integer)
			ds := *s
			ds.ret = decimalResult(op, ta, tb).WithNullable(s.ret.Nullable)
			ev, conv := decimalArith(&ds, op), castFunc(ds.ret, s.ret)
			return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
				v, err := ev(ctx, in)
				if err != nil || v.IsNull() {
					return v, err
				}
				return conv(ctx, v)
			}, nil
		case ta.Root == row.TypeDecimal:
			return decimalArith(s, op), nil
		case isDatetime(ta):
			return datetimePlus(s, op == opSub), nil
		case isInterval(ta) && isInterval(tb):
			sign := int64(1)
			if op == opSub {
				sign = -1
			}
			return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
				return row.Int(a.Int() + sign*b.Int()), nil
			}), nil
		case isInterval(ta):
			return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
				f := b.Float()
				if op == opDiv {
					if f == 0 {
						return row.Value{}, s.wrap(errDivideByZero)
					}
					return row.Int(int64(float64(a.Int()) / f)), nil
				}
				return row.Int(int64(float64(a.Int()) * f)), nil
			}), nil
		}
		return nil, s.errorf("unsupported operand types %s, %s", ta, tb)
	}
}

func intArith(s *site, op arithKind, wrap func(int64) int64) Evaluator {
	a0, a1 := s.args[0], s.args[1]
	name := s.fn.Name
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		a, err := a0(ctx, in)
		if err != nil || a.IsNull() {
			return row.Value{}, err
		}
		b, err := a1(ctx, in)
		if err != nil || b.IsNull() {
			return row.Value{}, err
		}
		x, y := a.Int(), b.Int()
		var r int64
		switch op {
		case opAdd:
			r = x + y
		case opSub:
			r = x - y
		case opMul:
			r = x * y
		case opDiv:
			if y == 0 {
				return row.Value{}, divZero(name)
			}
			r = x / y
		default:
			if y == 0 {
				return row.Value{}, divZero(name)
			}
			r = x % y
		}
		if wrap != nil {
			r = wrap(r)
		}
		return row.Int(r), nil
	}
}

func divZero(name string) error { return fmtErr("expr: %s: %w", name, errDivideByZero) }

func buildNegate(s *site) Evaluator {
	t := s.ret
	wrap := wrapInt(t.Root)
	return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
		switch {
		case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
			return row.Float(-a.Float()), nil
		case t.Root == row.TypeDecimal && !t.IsCompactDecimal():
			return row.BigDecimal(new(big.Int).Neg(row.DecimalUnscaled(a, t))), nil
		}
		r := -a.Int()
		if wrap != nil {
			r = wrap(r)
		}
		return row.Int(r), nil
	})
}

// decimalArith computes exactly on rationals and rounds HALF_UP to the
// result scale; a result that does not fit the result precision is NULL,
// as Flink's DecimalData arithmetic.
func decimalArith(s *site, op arithKind) Evaluator {
	ta, tb, rt := s.argTypes[0], s.argTypes[1], s.ret
	return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
		if v, ok := decimalArith64(op, a, ta, b, tb, rt); ok {
			return v, nil
		}
		x, y := row.DecimalRat(a, ta), row.DecimalRat(b, tb)
		var r *big.Rat
		switch op {
		case opAdd:
			r = x.Add(x, y)
		case opSub:
			r = x.Sub(x, y)
		case opMul:
			r = x.Mul(x, y)
		case opDiv:
			if y.Sign() == 0 {
				return row.Value{}, s.wrap(errDivideByZero)
			}
			r = x.Quo(x, y)
		default:
			if y.Sign() == 0 {
				return row.Value{}, s.wrap(errDivideByZero)
			}
			q := new(big.Rat).Quo(x, y)
			t := new(big.Int).Quo(q.Num(), q.Denom()) // truncated quotient
			r = x.Sub(x, new(big.Rat).Mul(new(big.Rat).SetInt(t), y))
		}
		v, ok := row.DecimalFromRat(r, rt)
		if !ok {
			return row.Value{}, nil
		}
		return v, nil
	})
}

func arithFuncs() []*Func {
	mk := func(name string, op arithKind, doc string) *Func {
		return &Func{Name: name, Doc: doc, infix: true, resolve: resolveArith(op), build: buildArith(op)}
	}
	return []*Func{
		mk("+", opAdd, "n1 + n2: integers of the wider type (overflow wraps as in Java), DOUBLE/FLOAT if either is approximate, DECIMAL(max(p1-s1,p2-s2)+max(s1,s2)+1, max(s1,s2)) capped at 38; datetime + INTERVAL; INTERVAL + INTERVAL."),
		mk("-", opSub, "n1 - n2, and unary -n; datetime - INTERVAL; INTERVAL - INTERVAL."),
		mk("*", opMul, "n1 * n2: DECIMAL(p1+p2+1, s1+s2) for decimals; INTERVAL * number."),
		mk("/", opDiv, "n1 / n2: INT / INT is an integer division (truncating) in Flink; an integer or DECIMAL division by zero is an error, a DOUBLE one gives Infinity or NaN as Java. DECIMAL result scale max(6, s1+p2+1)."),
		mk("MOD", opMod, "MOD(n1, n2) and n1 % n2: remainder with the sign of n1 (Java %); integer results, and those of two operands without fraction digits (DECIMAL(p, 0) or integer), take n2's type; division by zero is an error."),
	}
}
