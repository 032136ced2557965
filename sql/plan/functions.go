package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/udf"
)

// FunctionKind is the kind of a user-defined function.
type FunctionKind int

// Kinds of user-defined functions.
const (
	ScalarFunction FunctionKind = iota
	TableFunction
	AggregateFunction
)

// String names the kind as SHOW FUNCTIONS' users know it.
func (k FunctionKind) String() string {
	switch k {
	case TableFunction:
		return "TABLE"
	case AggregateFunction:
		return "AGGREGATE"
	}
	return "SCALAR"
}

// Function is a user-defined function of a session: a name bound to a
// function implemented in Go (CREATE FUNCTION name AS 'identifier', or
// registered in code).
type Function struct {
	// Name is the SQL name as created (lookups ignore case, as Flink's).
	Name string
	// Identifier is the Go registration the function was created from
	// (the class name of Flink's CREATE FUNCTION), "" when registered in
	// code under its name.
	Identifier string
	// System marks a temporary system function: it is resolved before
	// the built-in functions (and may shadow one). Catalog functions
	// resolve after them.
	System    bool
	Temporary bool
	Kind      FunctionKind
	// Scalar is the function of a ScalarFunction.
	Scalar *expr.Func
	// Impl is the Go implementation of a ScalarFunction.
	Impl udf.ScalarFunction
	// Table is the function of a TableFunction.
	Table udf.TableFunction
	// Agg is the function of an AggregateFunction.
	Agg udf.AggregateFunction
	// Args names the parameters (udf.NamedArguments), nil when they have
	// no names: calls may then pass arguments by name.
	Args []udf.Argument
	// Overloads are the implementations of an overloaded function
	// (udf.Overloaded), each a Function of the same name and kind, in
	// their order; a call binds to one by its argument types
	// (Function.overload). The fields above hold the first. Nil for a
	// function with one implementation.
	Overloads []*Function
}

// overload returns the implementation of f a call with args binds to:
// f itself unless it is overloaded; else, as Flink's OrInputTypeStrategy,
// the first whose parameter types equal the arguments' (nullability
// included), then the first equal to them but for nullability, then the
// first to which they cast implicitly (an untyped NULL not to a NOT NULL
// parameter). No match is an error listing the signatures.
func (f *Function) overload(args []expr.Expr) (*Function, error) {
	if len(f.Overloads) == 0 {
		return f, nil
	}
	ts := make([]row.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
		ts[i].TimeAttr = row.NoTimeAttr
	}
	match := func(same func(p, a row.Type) bool) *Function {
		for _, o := range f.Overloads {
			ps := o.paramTypes()
			if len(ps) != len(ts) {
				continue
			}
			ok := true
			for i := range ps {
				if !same(ps[i], ts[i]) {
					ok = false
					break
				}
			}
			if ok {
				return o
			}
		}
		return nil
	}
	if o := match(func(p, a row.Type) bool { return p.Equal(a) }); o != nil {
		return o, nil
	}
	if o := match(func(p, a row.Type) bool { return p.WithNullable(true).Equal(a.WithNullable(true)) }); o != nil {
		return o, nil
	}
	for _, o := range f.Overloads {
		if nullIntoNotNull(o.paramTypes(), ts) {
			continue
		}
		if _, err := expr.CoerceArgs(o.Name, o.paramTypes(), args); err == nil {
			return o, nil
		}
	}
	sigs := make([]string, len(f.Overloads))
	for i, o := range f.Overloads {
		sigs[i] = udf.SignatureString(f.Name, o.paramTypes())
	}
	return nil, fmt.Errorf("Invalid function call:\n%s\nInvalid input arguments. Expected signatures are:\n%s", udf.SignatureString(f.Name, ts), strings.Join(sigs, "\n"))
}

// nullIntoNotNull reports whether an untyped NULL argument meets a NOT
// NULL parameter: no implicit cast in Flink ("a NOT NULL type cannot
// store a NULL type", LogicalTypeCasts.supportsImplicitCast), so f(NULL)
// binds to an implementation with a nullable parameter there.
func nullIntoNotNull(ps, ts []row.Type) bool {
	for i := range ps {
		if i < len(ts) && ts[i].Root == row.TypeNull && !ps[i].Nullable {
			return true
		}
	}
	return false
}

// OverloadFor returns the implementation of f a call with arguments of
// the types ts binds to (see overload): f itself unless it is
// overloaded.
func (f *Function) OverloadFor(ts []row.Type) (*Function, error) {
	if len(f.Overloads) == 0 {
		return f, nil
	}
	args := make([]expr.Expr, len(ts))
	for i, t := range ts {
		args[i] = expr.Ref(i, t)
	}
	return f.overload(args)
}

// paramTypes returns the declared parameter types of f (udf.Signature),
// nil when it declares none.
func (f *Function) paramTypes() []row.Type {
	var impl any
	switch f.Kind {
	case ScalarFunction:
		impl = f.Impl
	case TableFunction:
		impl = f.Table
	case AggregateFunction:
		impl = f.Agg
	}
	if sig, ok := impl.(udf.Signature); ok {
		return sig.ParamTypes()
	}
	return nil
}

// hasNamedArg reports whether a call passes an argument by name.
func hasNamedArg(c *ast.Call) bool {
	for _, a := range c.Args {
		if _, ok := a.(*ast.NamedArg); ok {
			return true
		}
	}
	return false
}

// hasDefaultArg reports whether a call passes DEFAULT as an argument.
func hasDefaultArg(c *ast.Call) bool {
	for _, a := range c.Args {
		if na, ok := a.(*ast.NamedArg); ok {
			a = na.Value
		}
		if _, ok := a.(*ast.DefaultArg); ok {
			return true
		}
	}
	return false
}

// errDefaultNotOptional is Calcite's error for DEFAULT given to a
// parameter that is not optional (or to a function whose parameters have
// no names, so none is optional).
const errDefaultNotOptional = "DEFAULT is only allowed for optional parameters"

// callArgs returns the arguments of c in f's positional order (f nil: a
// built-in). A call by name (Flink's named parameters) must name every
// argument, each once, and may leave out only optional parameters: their
// places hold nil, for nullArg to fill. DEFAULT, by name or by position,
// is allowed for an optional parameter only and holds nil too.
func callArgs(c *ast.Call, f *Function) ([]ast.Expr, error) {
	if !hasNamedArg(c) {
		if !hasDefaultArg(c) {
			return c.Args, nil
		}
		out := make([]ast.Expr, len(c.Args))
		for i, a := range c.Args {
			if _, ok := a.(*ast.DefaultArg); ok {
				if f == nil || i >= len(f.Args) || !f.Args[i].Optional {
					return nil, errAt(a, errDefaultNotOptional)
				}
				continue
			}
			out[i] = a
		}
		return out, nil
	}
	if f == nil || f.Args == nil {
		name := c.Name.Last().Name
		if f != nil {
			name = f.Name
		}
		return nil, errAt(c, "function %s does not take named arguments: its parameters have no names (udf.Named, udf.NamedArguments)", name)
	}
	out := make([]ast.Expr, len(f.Args))
	given := make([]bool, len(f.Args))
	for _, a := range c.Args {
		na, ok := a.(*ast.NamedArg)
		if !ok {
			return nil, errAt(a, "Some but not all arguments of %s are named: name every argument or none", f.Name)
		}
		i := -1
		for j, p := range f.Args {
			if strings.EqualFold(p.Name, na.Name.Name) {
				i = j
				break
			}
		}
		if i < 0 {
			names := make([]string, len(f.Args))
			for j, p := range f.Args {
				names[j] = p.Name
			}
			return nil, errAt(na, "function %s has no parameter '%s' (parameters: %s)", f.Name, na.Name.Name, strings.Join(names, ", "))
		}
		if given[i] {
			return nil, errAt(na, "Duplicate argument name '%s' in the call of %s", na.Name.Name, f.Name)
		}
		given[i] = true
		if _, ok := na.Value.(*ast.DefaultArg); ok {
			if !f.Args[i].Optional {
				return nil, errAt(na.Value, errDefaultNotOptional)
			}
			continue // nil: the parameter's default, NULL
		}
		out[i] = na.Value
	}
	for i, p := range f.Args {
		if !given[i] && !p.Optional {
			return nil, errAt(c, "function %s: the argument '%s' is required (it is not optional)", f.Name, p.Name)
		}
	}
	return out, nil
}

// nullArg is the value of the optional parameter i of f left out of a
// call by name: NULL of its declared type.
func nullArg(f *Function, i int) expr.Expr {
	if ts := f.paramTypes(); i < len(ts) {
		return expr.Lit(row.Null(), ts[i].WithNullable(true))
	}
	return expr.NullLit()
}

// bindCallArgs binds the arguments of a call of the user-defined function
// f in its positional order (see callArgs).
func (eb *exprBinder) bindCallArgs(c *ast.Call, f *Function) ([]expr.Expr, error) {
	args, err := callArgs(c, f)
	if err != nil {
		return nil, err
	}
	out := make([]expr.Expr, len(args))
	for i, a := range args {
		if a == nil {
			out[i] = nullArg(f, i)
			continue
		}
		if out[i], err = eb.bind(a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Functions are a session's user-defined functions. The zero value and
// nil hold none. Not safe for concurrent use.
type Functions struct {
	m map[string]*Function
}

func funcKey(name string) string { return strings.ToUpper(name) }

// Add adds f; an existing function of the name is an error unless
// ifNotExists (then nothing changes).
func (fs *Functions) Add(f *Function, ifNotExists bool) error {
	if fs.m == nil {
		fs.m = map[string]*Function{}
	}
	k := funcKey(f.Name)
	if _, ok := fs.m[k]; ok {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Could not register %sfunction '%s': a function of that name already exists", systemWord(f.System), f.Name)
	}
	if !f.System {
		if _, builtin := expr.Builtins().Lookup(f.Name); builtin || aggFuncs[k] {
			// Flink allows it, but the built-in would always win: say so.
			return fmt.Errorf("sql: function '%s' is a built-in function; a catalog function of that name could never be called (use CREATE TEMPORARY SYSTEM FUNCTION to shadow it)", f.Name)
		}
	}
	fs.m[k] = f
	return nil
}

func systemWord(system bool) string {
	if system {
		return "temporary system "
	}
	return ""
}

// Drop removes a function; a missing one is an error unless ifExists.
func (fs *Functions) Drop(name string, ifExists bool) error {
	k := funcKey(name)
	if _, ok := fs.m[k]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("sql: Function '%s' does not exist", name)
	}
	delete(fs.m, k)
	return nil
}

// Lookup finds a function by name, case-insensitively.
func (fs *Functions) Lookup(name string) (*Function, bool) {
	if fs == nil {
		return nil, false
	}
	f, ok := fs.m[funcKey(name)]
	return f, ok
}

// Names returns the functions' names as created, sorted.
func (fs *Functions) Names() []string {
	var n []string
	if fs != nil {
		for _, f := range fs.m {
			n = append(n, f.Name)
		}
	}
	sort.Strings(n)
	return n
}

// resolve finds the user-defined function a call of name refers to, in
// Flink's order: temporary system functions, then built-ins (nil), then
// catalog functions.
func (fs *Functions) resolve(name string) *Function {
	f, ok := fs.Lookup(name)
	if !ok {
		return nil
	}
	if f.System {
		return f
	}
	if _, builtin := expr.Builtins().Lookup(name); builtin || aggFuncs[funcKey(name)] {
		return nil
	}
	return f
}

// isUserAgg reports whether c calls a user-defined aggregate function.
func (fs *Functions) isUserAgg(c *ast.Call) bool {
	if fs == nil || c.Over != nil || c.OverName != nil || len(c.Name.Parts) != 1 {
		return false
	}
	f := fs.resolve(c.Name.Parts[0].Name)
	return f != nil && f.Kind == AggregateFunction
}

// isUserAggName reports whether a call of name (without OVER handling)
// resolves to a user-defined aggregate function.
func (fs *Functions) isUserAggName(name string) bool {
	f := fs.resolve(name)
	return f != nil && f.Kind == AggregateFunction
}

// bindUserCall binds a call of a user-defined scalar function, or reports
// (false) that name is not one. A table or aggregate function called as a
// scalar is an error saying where it may be used.
func (eb *exprBinder) bindUserCall(c *ast.Call, name string) (expr.Expr, bool, error) {
	f := eb.fns.resolve(name)
	if f == nil {
		return nil, false, nil
	}
	switch f.Kind {
	case TableFunction:
		return nil, true, eb.errorf(c, "%s is a table function: call it in FROM, as LATERAL TABLE(%s(..))", f.Name, f.Name)
	case AggregateFunction:
		return nil, true, eb.errorf(c, "aggregate %s is not allowed here", c)
	}
	if c.Filter != nil || c.Distinct {
		return nil, true, eb.errorf(c, "DISTINCT and FILTER apply to aggregate functions only, not %s", name)
	}
	if c.NullTreatment != "" {
		return nil, true, eb.errorf(c, "Cannot specify IGNORE NULLS or RESPECT NULLS following '%s'", strings.ToUpper(name))
	}
	args, err := eb.bindCallArgs(c, f)
	if err != nil {
		return nil, true, err
	}
	if f, err = f.overload(args); err != nil {
		return nil, true, eb.errorf(c, "%v", err)
	}
	out, err := f.Scalar.Call(args...)
	if err != nil {
		return nil, true, eb.errorf(c, "%v", err)
	}
	return out, true, nil
}

// userAgg sets c.UDF when sp calls a user-defined aggregate, casting the
// arguments to its declared parameter types (udf.Signature). An
// overloaded aggregate binds here, by the argument types, to one
// implementation, whose accumulators the operator keeps: the same query
// binds to the same implementation, so a restored state decodes.
func (b *Binder) userAgg(sp *aggSpec, c *AggCall) error {
	f := b.Funcs.resolve(sp.fn)
	if f == nil || f.Kind != AggregateFunction {
		return nil
	}
	f, err := f.overload(sp.args)
	if err != nil {
		return errAt(sp.call, "%v", err)
	}
	c.UDF = f.Agg
	if sig, ok := f.Agg.(udf.Signature); ok {
		args, err := expr.CoerceArgs(f.Name, sig.ParamTypes(), sp.args)
		if err != nil {
			return errAt(sp.call, "%v", err)
		}
		sp.args = args
	}
	return nil
}

// bindQualifiedCall binds a call of a catalog function by its qualified
// name (default_catalog.default_database.f), or reports (false) that c
// names none.
func (eb *exprBinder) bindQualifiedCall(c *ast.Call) (expr.Expr, bool, error) {
	name, err := functionName(c.Name)
	if err != nil {
		return nil, false, nil
	}
	if f, ok := eb.fns.Lookup(name); !ok || f.System {
		return nil, false, nil
	}
	return eb.bindUserCall(c, name)
}

// aggCallArgs returns the arguments of the aggregate call c in their
// positional order (callArgs) and the user-defined aggregate it calls,
// nil for a built-in.
func (b *Binder) aggCallArgs(c *ast.Call) ([]ast.Expr, *Function, error) {
	if !hasNamedArg(c) && !hasDefaultArg(c) {
		return c.Args, nil, nil
	}
	f := b.Funcs.resolve(c.Name.Last().Name)
	if f != nil && f.Kind != AggregateFunction {
		f = nil
	}
	args, err := callArgs(c, f)
	return args, f, err
}

// functionName resolves a possibly qualified function name to the
// function's own name: Weir keeps catalog functions in the built-in
// catalog's default database, so a qualifier must name that one.
func functionName(n *ast.Name) (string, error) {
	p := n.Parts
	switch {
	case len(p) == 1:
		return p[0].Name, nil
	case len(p) == 2 && p[0].Name == DefaultDatabase:
		return p[1].Name, nil
	case len(p) == 3 && p[0].Name == DefaultCatalog && p[1].Name == DefaultDatabase:
		return p[2].Name, nil
	}
	return "", fmt.Errorf("sql: %s: Weir keeps catalog functions in %s.%s only", n, DefaultCatalog, DefaultDatabase)
}
