package expr

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/weirstream/weir/row"
)

// Func is a built-in function. The registry holds one Func per SQL name;
// a Func resolves its own overloads (checking argument types, inserting
// implicit casts, deriving the result type) and compiles calls of itself.
type Func struct {
	// Name is the SQL name, upper case ("+", "UPPER", "IS NULL").
	Name string
	// Doc states the function's Flink semantics.
	Doc string
	// Volatile marks functions whose value is not a function of their
	// arguments (RAND, CURRENT_TIMESTAMP, UUID): never constant-folded.
	Volatile bool
	// volatileNoArgs marks a function volatile only when called without
	// arguments (UNIX_TIMESTAMP()).
	volatileNoArgs bool
	// zone marks functions whose value depends on the session time zone.
	zone bool
	// symbols marks functions that take Symbol arguments.
	symbols bool
	// infix prints argument types "<A> op <B>" in error messages.
	infix bool
	// resolve checks and coerces the arguments and derives the result type.
	resolve func(f *Func, args []Expr) ([]Expr, row.Type, error)
	// build compiles a resolved call.
	build func(s *site) (Evaluator, error)
}

// Volatile reports whether the call's value may differ between calls on
// the same input (see Func.Volatile).
func (c *Call) Volatile() bool {
	return c.Func.Volatile || (c.Func.volatileNoArgs && len(c.Args) == 0)
}

// site is what a Func's build sees of a call.
type site struct {
	fn       *Func
	args     []Evaluator
	argExprs []Expr
	argTypes []row.Type
	ret      row.Type
}

// constString returns argument i when it is a non-NULL string literal.
func (s *site) constString(i int) (string, bool) {
	if l, ok := s.argExprs[i].(*Literal); ok && !l.Value.IsNull() && l.T.IsString() {
		return l.Value.Str(), true
	}
	return "", false
}

// symbol returns argument i as a symbol name.
func (s *site) symbol(i int) string {
	if sy, ok := s.argExprs[i].(*Symbol); ok {
		return sy.Name
	}
	return ""
}

func (s *site) errorf(format string, args ...any) error {
	return fmt.Errorf("expr: %s: "+format, append([]any{s.fn.Name}, args...)...)
}

func (s *site) wrap(err error) error { return fmt.Errorf("expr: %s: %w", s.fn.Name, err) }

// Registry is a set of built-in functions by name. It is immutable once
// built and safe for concurrent use.
type Registry struct {
	funcs map[string]*Func
}

var builtins = sync.OnceValue(func() *Registry {
	r := &Registry{funcs: map[string]*Func{}}
	for _, f := range allFuncs() {
		r.funcs[f.Name] = f
	}
	// Synonyms.
	for alias, name := range map[string]string{
		"CHARACTER_LENGTH": "CHAR_LENGTH", "SUBSTR": "SUBSTRING", "CEILING": "CEIL",
		"LCASE": "LOWER", "UCASE": "UPPER", "NOW": "CURRENT_TIMESTAMP", "POW": "POWER",
		"!=": "<>", "CHAR": "CHR", "%": "MOD", "IFNULL": "COALESCE", "SHA1": "SHA1",
	} {
		if f, ok := r.funcs[name]; ok && r.funcs[alias] == nil {
			r.funcs[alias] = f
		}
	}
	return r
})

// Builtins returns the registry of Weir's built-in functions.
func Builtins() *Registry { return builtins() }

// Lookup finds a function by SQL name, case-insensitively.
func (r *Registry) Lookup(name string) (*Func, bool) {
	f, ok := r.funcs[strings.ToUpper(name)]
	return f, ok
}

// Names returns the registered names (synonyms included), sorted.
func (r *Registry) Names() []string {
	n := make([]string, 0, len(r.funcs))
	for k := range r.funcs {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// NewCall resolves a call of the built-in called name (case-insensitive)
// on args: it picks the overload, inserts Flink's implicit casts, types
// untyped NULL literals from the other arguments and derives the result
// type. The error names the function and the argument types when no
// overload fits.
func NewCall(name string, args ...Expr) (Expr, error) {
	f, ok := Builtins().Lookup(name)
	if !ok {
		return nil, fmt.Errorf("expr: no function named '%s'", strings.ToUpper(name))
	}
	return f.Call(args...)
}

// MustCall is NewCall for tests and static trees; it panics on error.
func MustCall(name string, args ...Expr) Expr {
	e, err := NewCall(name, args...)
	if err != nil {
		panic(err)
	}
	return e
}

// Call resolves a call of f on args (see NewCall).
func (f *Func) Call(args ...Expr) (Expr, error) {
	for i, a := range args {
		if a == nil {
			return nil, fmt.Errorf("expr: %s: argument %d is nil", f.Name, i)
		}
		if _, ok := a.(*Symbol); ok && !f.symbols {
			return nil, cannotApply(f, args)
		}
	}
	args2, t, err := f.resolve(f, args)
	if err != nil {
		return nil, err
	}
	return &Call{Func: f, Args: args2, T: t}, nil
}

// cannotApply is the error of a call no overload of f accepts, worded as
// Calcite's: Cannot apply '+' to arguments of type '<STRING> + <INT>'.
func cannotApply(f *Func, args []Expr) error {
	ts := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(*Symbol); ok {
			ts[i] = s.Name
		} else {
			ts[i] = "<" + a.Type().WithNullable(true).String() + ">"
		}
	}
	var sig string
	if f.infix && len(ts) == 2 {
		sig = ts[0] + " " + f.Name + " " + ts[1]
	} else {
		sig = f.Name + "(" + strings.Join(ts, ", ") + ")"
	}
	return fmt.Errorf("expr: Cannot apply '%s' to arguments of type '%s'", f.Name, sig)
}
