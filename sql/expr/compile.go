package expr

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/weirstream/weir/row"
)

// Evaluator computes an expression over one input row. It returns a NULL
// Value for SQL NULL and an error (prefixed "expr: <FUNCTION>:") for a
// runtime failure such as a failing CAST or an integer division by zero;
// it never panics on data.
type Evaluator func(ctx *EvalContext, in []row.Value) (row.Value, error)

// EvalContext is what an evaluation may read besides the input row. One
// EvalContext belongs to one goroutine (one operator subtask); it is not
// safe for concurrent use. The zero value works: UTC, wall-clock time.
type EvalContext struct {
	// Location is the session time zone (Flink's table.local-time-zone);
	// nil means UTC. It drives TIMESTAMP_LTZ <-> TIMESTAMP casts,
	// CURRENT_DATE/LOCALTIMESTAMP, DATE_FORMAT of a TIMESTAMP_LTZ,
	// FROM_UNIXTIME, UNIX_TIMESTAMP and TO_TIMESTAMP_LTZ display.
	Location *time.Location
	// Now is the instant CURRENT_TIMESTAMP, NOW(), LOCALTIMESTAMP,
	// CURRENT_DATE, CURRENT_TIME and UNIX_TIMESTAMP() return. The operator
	// sets it: Flink evaluates these per record in streaming mode and
	// once per query in batch mode, so a streaming operator sets Now
	// before each record (or batch of records) and a batch query once.
	// When zero, the wall clock is read at each call.
	// CURRENT_ROW_TIMESTAMP() always reads the wall clock.
	Now time.Time

	rng *rand.Rand
	// watermark is the operator's watermark for CURRENT_WATERMARK, set
	// (hasWatermark) by SetWatermark.
	watermark    int64
	hasWatermark bool
	// shared holds the values of Shared expressions for the row of
	// generation gen (NextRow).
	shared []sharedValue
	gen    uint64
}

func (c *EvalContext) loc() *time.Location {
	if c == nil || c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c *EvalContext) now() time.Time {
	if c == nil || c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

func (c *EvalContext) rand() *rand.Rand {
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15))
	}
	return c.rng
}

// Compile turns a resolved expression into an Evaluator: a tree of Go
// closures, one per node, each specialised at compile time for its
// operand types. Evaluating a compiled arithmetic or comparison over
// scalar columns allocates nothing. An Evaluator holds no per-call state
// except the sequence of a seeded RAND(seed)/RAND_INTEGER(seed, n); do not
// share one Evaluator between goroutines — compile once per subtask.
func Compile(e Expr) (Evaluator, error) {
	switch n := e.(type) {
	case *InputRef:
		i := n.Index
		if i < 0 {
			return nil, fmt.Errorf("expr: negative input reference $%d", i)
		}
		return func(_ *EvalContext, in []row.Value) (row.Value, error) {
			if i >= len(in) {
				return row.Value{}, fmt.Errorf("expr: input reference $%d out of range (row has %d fields)", i, len(in))
			}
			return in[i], nil
		}, nil
	case *Literal:
		v := n.Value
		return func(*EvalContext, []row.Value) (row.Value, error) { return v, nil }, nil
	case *Symbol:
		// A symbol evaluates to its name, so that strict argument checks
		// do not take it for NULL.
		v := row.Str(n.Name)
		return func(*EvalContext, []row.Value) (row.Value, error) { return v, nil }, nil
	case *Cast:
		arg, err := Compile(n.Arg)
		if err != nil {
			return nil, err
		}
		return compileCast(arg, n.Arg.Type(), n.T, n.Try)
	case *Case:
		return compileCase(n)
	case *Shared:
		return compileShared(n)
	case *FieldAccess:
		arg, err := Compile(n.Arg)
		if err != nil {
			return nil, err
		}
		idx := n.Index
		return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
			v, err := arg(ctx, in)
			if err != nil || v.IsNull() {
				return row.Value{}, err
			}
			f := v.Elems()
			if idx >= len(f) {
				return row.Value{}, nil
			}
			return f[idx], nil
		}, nil
	case *Call:
		if ev, ok, err := compileLowerEquals(n); ok || err != nil {
			return ev, err
		}
		if ev, ok := compileRefEqualsInt(n); ok {
			return ev, nil
		}
		s := &site{fn: n.Func, argExprs: n.Args, ret: n.T}
		s.args = make([]Evaluator, len(n.Args))
		s.argTypes = make([]row.Type, len(n.Args))
		for i, a := range n.Args {
			ev, err := Compile(a)
			if err != nil {
				return nil, err
			}
			s.args[i] = ev
			s.argTypes[i] = a.Type()
		}
		return n.Func.build(s)
	case nil:
		return nil, fmt.Errorf("expr: cannot compile a nil expression")
	}
	return nil, fmt.Errorf("expr: cannot compile %T", e)
}

// Eval compiles e and evaluates it once over in (a convenience for tests
// and constant folding; operators compile once and call the Evaluator).
func Eval(ctx *EvalContext, e Expr, in []row.Value) (row.Value, error) {
	ev, err := Compile(e)
	if err != nil {
		return row.Value{}, err
	}
	if ctx == nil {
		ctx = &EvalContext{}
	}
	return ev(ctx, in)
}

// IsDeterministic reports whether e always yields the same value for the
// same input row: false if it calls a volatile built-in (RAND,
// RAND_INTEGER, UUID, CURRENT_TIMESTAMP, NOW, LOCALTIMESTAMP,
// CURRENT_DATE, CURRENT_TIME, UNIX_TIMESTAMP(), CURRENT_ROW_TIMESTAMP).
func IsDeterministic(e Expr) bool {
	ok := true
	walk(e, func(x Expr) {
		if c, is := x.(*Call); is && c.Volatile() {
			ok = false
		}
	})
	return ok
}

func walk(e Expr, f func(Expr)) {
	f(e)
	switch n := e.(type) {
	case *Call:
		for _, a := range n.Args {
			walk(a, f)
		}
	case *Cast:
		walk(n.Arg, f)
	case *FieldAccess:
		walk(n.Arg, f)
	case *Case:
		for i := range n.Whens {
			walk(n.Whens[i], f)
			walk(n.Thens[i], f)
		}
		walk(n.Else, f)
	}
}

// Fold evaluates, bottom-up, every deterministic call, cast and CASE whose
// arguments are all literals and replaces it with a literal of the same
// type. Nodes whose value depends on the session time zone (casts to or
// from TIMESTAMP_LTZ, DATE_FORMAT of an LTZ, ...) are left alone; use
// FoldIn to fold those for a known zone. A node whose evaluation fails
// (1 / 0, CAST('x' AS INT)) is kept, so the error surfaces at run time as
// in Flink.
func Fold(e Expr) (Expr, error) { return fold(e, nil) }

// FoldIn is Fold for a session time zone: zone-dependent nodes fold too.
func FoldIn(e Expr, loc *time.Location) (Expr, error) {
	if loc == nil {
		loc = time.UTC
	}
	return fold(e, loc)
}

func fold(e Expr, loc *time.Location) (Expr, error) {
	switch n := e.(type) {
	case *Call:
		args := make([]Expr, len(n.Args))
		allLit := true
		for i, a := range n.Args {
			f, err := fold(a, loc)
			if err != nil {
				return nil, err
			}
			args[i] = f
			switch f.(type) {
			case *Literal, *Symbol:
			default:
				allLit = false
			}
		}
		c := &Call{Func: n.Func, Args: args, T: n.T}
		zone := n.Func.zone
		for _, a := range args {
			zone = zone || a.Type().Root == row.TypeTimestampLTZ
		}
		if !allLit || c.Volatile() || (zone && loc == nil) {
			return c, nil
		}
		return evalConst(c, loc), nil
	case *Cast:
		a, err := fold(n.Arg, loc)
		if err != nil {
			return nil, err
		}
		c := &Cast{Arg: a, T: n.T, Try: n.Try, Implicit: n.Implicit}
		if _, ok := a.(*Literal); !ok {
			return c, nil
		}
		zone := n.T.Root == row.TypeTimestampLTZ || a.Type().Root == row.TypeTimestampLTZ
		if zone && loc == nil {
			return c, nil
		}
		return evalConst(c, loc), nil
	case *Case:
		c := &Case{T: n.T, Whens: make([]Expr, len(n.Whens)), Thens: make([]Expr, len(n.Thens))}
		allLit := true
		for i := range n.Whens {
			w, err := fold(n.Whens[i], loc)
			if err != nil {
				return nil, err
			}
			t, err := fold(n.Thens[i], loc)
			if err != nil {
				return nil, err
			}
			c.Whens[i], c.Thens[i] = w, t
			_, l1 := w.(*Literal)
			_, l2 := t.(*Literal)
			allLit = allLit && l1 && l2
		}
		el, err := fold(n.Else, loc)
		if err != nil {
			return nil, err
		}
		c.Else = el
		if _, ok := el.(*Literal); !ok || !allLit {
			return c, nil
		}
		return evalConst(c, loc), nil
	case *FieldAccess:
		a, err := fold(n.Arg, loc)
		if err != nil {
			return nil, err
		}
		return &FieldAccess{Arg: a, Index: n.Index, T: n.T}, nil
	}
	return e, nil
}

func evalConst(e Expr, loc *time.Location) Expr {
	v, err := Eval(&EvalContext{Location: loc}, e, nil)
	if err != nil {
		return e
	}
	return &Literal{Value: v, T: e.Type()}
}
