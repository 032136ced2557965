package expr

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/big"
	"strconv"

	"github.com/weirstream/weir/row"
)

func double1(name, doc string, f func(float64) float64) *Func {
	return &Func{Name: name, Doc: doc, resolve: fixed(ret(tDouble), 1, pDouble),
		build: func(s *site) (Evaluator, error) {
			return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) { return row.Float(f(a.Float())), nil }), nil
		}}
}

// roundDecimalType is Flink's LogicalTypeMerging.findRoundDecimalType.
func roundDecimalType(t row.Type, r int) row.Type {
	if r >= t.Scale {
		return t
	}
	rr := max(r, 0)
	return row.DecimalType(min(row.MaxDecimalPrecision, max(1, t.Precision-t.Scale+rr+1)), rr)
}

// constValue returns the value of e when e is a constant: a literal, or
// a call of deterministic functions over constants (-1 is the call
// -(1) before folding).
func constValue(e Expr) (row.Value, bool) {
	if !isConst(e) {
		return row.Value{}, false
	}
	v, err := Eval(&EvalContext{}, e, nil)
	if err != nil {
		return row.Value{}, false
	}
	return v, true
}

func isConst(e Expr) bool {
	switch n := e.(type) {
	case *Literal:
		return true
	case *Call:
		if n.Func == nil || n.Func.Volatile {
			return false
		}
		for _, a := range n.Args {
			if !isConst(a) {
				return false
			}
		}
		return true
	}
	return false
}

// roundRat rounds r to n decimal places HALF_UP (or toward zero when
// trunc).
func roundRat(r *big.Rat, n int, trunc bool) *big.Rat {
	var scale *big.Rat
	if n >= 0 {
		scale = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
	} else {
		scale = new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n)), nil))
	}
	x := new(big.Rat).Mul(r, scale)
	q, m := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if !trunc {
		m.Abs(m).Lsh(m, 1)
		if m.Cmp(x.Denom()) >= 0 {
			if x.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return new(big.Rat).Quo(new(big.Rat).SetInt(q), scale)
}

// resolveRound: ROUND/TRUNCATE(x[, n]); integers keep their type, DOUBLE
// stays DOUBLE, DECIMAL follows findRoundDecimalType when n is a literal
// (else keeps its type).
func resolveRound(f *Func, args []Expr) ([]Expr, row.Type, error) {
	out, err := checkArgs(f, args, 1, pNumber, pInt)
	if err != nil {
		return nil, row.Type{}, err
	}
	t := out[0].Type()
	if t.Root == row.TypeDecimal {
		n := 0
		if len(out) == 2 {
			if v, ok := constValue(out[1]); ok && !v.IsNull() {
				n = int(v.Int())
			} else {
				n = t.Scale
			}
		}
		t = roundDecimalType(t, n).WithNullable(t.Nullable)
	}
	return out, t.WithNullable(anyNullable(types(out)...)), nil
}

func buildRound(trunc bool) func(s *site) (Evaluator, error) {
	return func(s *site) (Evaluator, error) {
		t, rt := s.argTypes[0], s.ret
		return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
			n := 0
			if len(a) == 2 {
				n = int(a[1].Int())
			}
			switch {
			case t.IsInteger():
				if n >= 0 {
					return a[0], nil
				}
				r := roundRat(new(big.Rat).SetInt64(a[0].Int()), n, trunc)
				return row.Int(new(big.Int).Quo(r.Num(), r.Denom()).Int64()), nil
			case t.Root == row.TypeDecimal:
				v, ok := row.DecimalFromRat(roundRat(row.DecimalRat(a[0], t), n, trunc), rt)
				if !ok {
					return row.Value{}, nil
				}
				return v, nil
			}
			f := a[0].Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return a[0], nil
			}
			r, _ := new(big.Rat).SetString(formatG(f))
			out, _ := roundRat(r, n, trunc).Float64()
			return row.Float(out), nil
		}), nil
	}
}

// formatG prints f with the shortest digits that read back as f, the
// digits of Java's Double.toString that BigDecimal.valueOf rounds.
func formatG(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func mathFuncs() []*Func {
	return []*Func{
		{Name: "ABS", Doc: "ABS(n): absolute value, same type.",
			resolve: fixed(retArg0, 1, pNumber),
			build: func(s *site) (Evaluator, error) {
				t := s.argTypes[0]
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					switch {
					case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
						return row.Float(math.Abs(a.Float())), nil
					case t.Root == row.TypeDecimal && !t.IsCompactDecimal():
						return row.BigDecimal(new(big.Int).Abs(row.DecimalUnscaled(a, t))), nil
					}
					if a.Int() < 0 {
						w := wrapInt(t.Root)
						r := -a.Int()
						if w != nil {
							r = w(r)
						}
						return row.Int(r), nil
					}
					return a, nil
				}), nil
			}},
		{Name: "POWER", Doc: "POWER(x, y) (POW): x raised to y as DOUBLE.",
			resolve: fixed(ret(tDouble), 2, pDouble, pDouble),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					return row.Float(math.Pow(a.Float(), b.Float())), nil
				}), nil
			}},
		double1("SQRT", "SQRT(x): square root (NaN for negative x).", math.Sqrt),
		double1("EXP", "EXP(x): e^x.", math.Exp),
		double1("LN", "LN(x): natural logarithm.", math.Log),
		double1("LOG10", "LOG10(x): base-10 logarithm.", math.Log10),
		double1("LOG2", "LOG2(x): base-2 logarithm, as Flink computes it: ln(x) / ln(2).", func(x float64) float64 { return math.Log(x) / math.Ln2 }),
		{Name: "LOG", Doc: "LOG(x) natural logarithm, or LOG(base, x).",
			resolve: fixed(ret(tDouble), 1, pDouble, pDouble),
			build: func(s *site) (Evaluator, error) {
				return strictN(s, func(_ *EvalContext, a []row.Value) (row.Value, error) {
					if len(a) == 1 {
						return row.Float(math.Log(a[0].Float())), nil
					}
					return row.Float(math.Log(a[1].Float()) / math.Log(a[0].Float())), nil
				}), nil
			}},
		double1("SIN", "SIN(x).", math.Sin), double1("COS", "COS(x).", math.Cos), double1("TAN", "TAN(x).", math.Tan),
		double1("ASIN", "ASIN(x), as Java's Math.asin (fdlibm).", fdlibmAsin), double1("ACOS", "ACOS(x), as Java's Math.acos (fdlibm).", fdlibmAcos), double1("ATAN", "ATAN(x), as Java's Math.atan (fdlibm).", fdlibmAtan),
		double1("SINH", "SINH(x), as Java's Math.sinh (fdlibm).", fdlibmSinh), double1("COSH", "COSH(x), as Java's Math.cosh (fdlibm).", fdlibmCosh), double1("TANH", "TANH(x), as Java's Math.tanh (fdlibm).", fdlibmTanh),
		double1("COT", "COT(x): 1/tan(x).", func(x float64) float64 { return 1 / math.Tan(x) }),
		double1("DEGREES", "DEGREES(x): radians to degrees, as Java's Math.toDegrees: one multiplication by 180/pi rounded to a double.", func(x float64) float64 { return x * radiansToDegrees }),
		double1("RADIANS", "RADIANS(x): degrees to radians, as Java's Math.toRadians: one multiplication by pi/180 rounded to a double.", func(x float64) float64 { return x * degreesToRadians }),
		{Name: "ATAN2", Doc: "ATAN2(y, x), as Java's Math.atan2 (fdlibm).", resolve: fixed(ret(tDouble), 2, pDouble, pDouble),
			build: func(s *site) (Evaluator, error) {
				return strict2(s, func(_ *EvalContext, a, b row.Value) (row.Value, error) {
					return row.Float(fdlibmAtan2(a.Float(), b.Float())), nil
				}), nil
			}},
		{Name: "SIGN", Doc: "SIGN(n): -1, 0 or 1 in n's type.",
			resolve: fixed(retArg0, 1, pNumber),
			build: func(s *site) (Evaluator, error) {
				t := s.argTypes[0]
				return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
					switch {
					case t.Root == row.TypeFloat || t.Root == row.TypeDouble:
						f := a.Float()
						switch {
						case f > 0:
							return row.Float(1), nil
						case f < 0:
							return row.Float(-1), nil
						}
						return a, nil
					case t.Root == row.TypeDecimal:
						sg := row.DecimalRat(a, t).Sign()
						v, ok := row.DecimalFromRat(new(big.Rat).SetInt64(int64(sg)), t)
						if !ok {
							return row.Value{}, nil
						}
						return v, nil
					}
					switch {
					case a.Int() > 0:
						return row.Int(1), nil
					case a.Int() < 0:
						return row.Int(-1), nil
					}
					return a, nil
				}), nil
			}},
		{Name: "ROUND", Doc: "ROUND(x[, n]): x rounded HALF_UP to n decimal places (default 0; negative n rounds left of the point).",
			resolve: resolveRound, build: buildRound(false)},
		{Name: "TRUNCATE", Doc: "TRUNCATE(x[, n]): x truncated toward zero to n decimal places.",
			resolve: resolveRound, build: buildRound(true)},
		floorCeilFunc("FLOOR", math.Floor),
		floorCeilFunc("CEIL", math.Ceil),
		{Name: "UUID", Volatile: true, Doc: "UUID(): a random (version 4) UUID as a 36-character STRING.",
			resolve: fixed(retStr, 0),
			build: func(*site) (Evaluator, error) {
				return func(ctx *EvalContext, _ []row.Value) (row.Value, error) {
					var b [16]byte
					r := ctx.rand()
					for i := 0; i < 16; i += 8 {
						binary.LittleEndian.PutUint64(b[i:], r.Uint64())
					}
					b[6] = b[6]&0x0f | 0x40
					b[8] = b[8]&0x3f | 0x80
					h := hex.EncodeToString(b[:])
					return row.Str(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]), nil
				}, nil
			}},
		{Name: "PI", Doc: "PI(): π as DOUBLE.", resolve: fixed(ret(tDouble), 0),
			build: func(*site) (Evaluator, error) {
				return func(*EvalContext, []row.Value) (row.Value, error) { return row.Float(math.Pi), nil }, nil
			}},
		{Name: "E", Doc: "E(): Euler's number as DOUBLE.", resolve: fixed(ret(tDouble), 0),
			build: func(*site) (Evaluator, error) {
				return func(*EvalContext, []row.Value) (row.Value, error) { return row.Float(math.E), nil }, nil
			}},
		{Name: "RAND", Volatile: true, Doc: "RAND([seed]): a pseudorandom DOUBLE in [0, 1); with a seed, java.util.Random(seed)'s sequence as in Flink (per compiled expression); a NULL seed gives NULL.",
			resolve: fixed(ret(tDouble), 0, pInt),
			build: func(s *site) (Evaluator, error) {
				rs := seeded(s, 0)
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					r, err := rs(ctx, in)
					if err != nil || r == nil {
						return row.Value{}, err
					}
					return row.Float(r.Float64()), nil
				}, nil
			}},
		{Name: "RAND_INTEGER", Volatile: true, Doc: "RAND_INTEGER([seed,] bound): a pseudorandom INT in [0, bound); with a seed, java.util.Random(seed).nextInt(bound)'s sequence as in Flink.",
			resolve: fixed(ret(tInt), 1, pInt, pInt),
			build: func(s *site) (Evaluator, error) {
				var rs func(*EvalContext, []row.Value) (randSource, error)
				bound := s.args[0]
				if len(s.args) == 2 {
					rs, bound = seeded(s, 1), s.args[1]
				} else {
					rs = seeded(s, -1)
				}
				return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
					b, err := bound(ctx, in)
					if err != nil || b.IsNull() {
						return row.Value{}, err
					}
					if b.Int() <= 0 {
						return row.Value{}, s.errorf("bound must be positive")
					}
					r, err := rs(ctx, in)
					if err != nil || r == nil {
						return row.Value{}, err
					}
					return row.Int(r.Int64N(b.Int())), nil
				}, nil
			}},
	}
}

type randSource interface {
	Float64() float64
	Int64N(int64) int64
}

// seeded returns the random source of a RAND call: the context's unless
// the call has a seed argument (when want == 1 or args are present), then
// java.util.Random over the seed read at the first call; a NULL seed
// gives a nil source, and the call NULL, as in Flink.
func seeded(s *site, want int) func(*EvalContext, []row.Value) (randSource, error) {
	if want == -1 || (want == 0 && len(s.args) == 0) {
		return func(ctx *EvalContext, _ []row.Value) (randSource, error) { return ctx.rand(), nil }
	}
	var (
		src      randSource
		nullSeed bool
	)
	seedArg := s.args[0]
	return func(ctx *EvalContext, in []row.Value) (randSource, error) {
		if src == nil && !nullSeed {
			v, err := seedArg(ctx, in)
			if err != nil {
				return nil, err
			}
			if v.IsNull() {
				nullSeed = true
				return nil, nil
			}
			src = newJavaRandom(v.Int())
		}
		if nullSeed {
			return nil, nil
		}
		return src, nil
	}
}

// floorCeilFunc is numeric FLOOR/CEIL(x) and, with a unit symbol, the
// temporal FLOOR/CEIL(x TO unit) (see timeFloorCeil).
func floorCeilFunc(name string, f func(float64) float64) *Func {
	up := name == "CEIL"
	return &Func{Name: name, symbols: true, Doc: name + "(n): rounded " + map[bool]string{true: "up", false: "down"}[up] + " to an integer value (DECIMAL(p, s) gives DECIMAL(p-s+1, 0); integers unchanged). " + name + "(t TO unit): a DATE/TIMESTAMP rounded to YEAR, QUARTER, MONTH, WEEK (to Sunday), DAY, HOUR, MINUTE, SECOND or MILLISECOND.",
		resolve: func(fn *Func, args []Expr) ([]Expr, row.Type, error) {
			if len(args) == 2 {
				return fixed(retArg0, 2, pTime, pSym)(fn, args)
			}
			out, err := checkArgs(fn, args, 1, pNumber)
			if err != nil {
				return nil, row.Type{}, err
			}
			t := out[0].Type()
			if t.Root == row.TypeDecimal {
				t = roundDecimalType(t, 0).WithNullable(t.Nullable)
			}
			return out, t, nil
		},
		build: func(s *site) (Evaluator, error) {
			if len(s.args) == 2 {
				return timeFloorCeil(s, up)
			}
			t, rt := s.argTypes[0], s.ret
			return strict1(s, func(_ *EvalContext, a row.Value) (row.Value, error) {
				switch {
				case t.IsInteger():
					return a, nil
				case t.Root == row.TypeDecimal:
					r := row.DecimalRat(a, t)
					q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
					if m.Sign() != 0 && (m.Sign() > 0) == up {
						if up {
							q.Add(q, big.NewInt(1))
						} else {
							q.Sub(q, big.NewInt(1))
						}
					}
					v, ok := row.DecimalFromRat(new(big.Rat).SetInt(q), rt)
					if !ok {
						return row.Value{}, nil
					}
					return v, nil
				}
				return row.Float(f(a.Float())), nil
			}), nil
		}}
}
