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
	// Catalog and Database hold a temporary catalog function or catalog
	// function (empty for a temporary system function).
	Catalog, Database string
	Kind              FunctionKind
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

// Functions are a session's user-defined functions, kept as Flink's
// FunctionCatalog keeps them: temporary system functions by name,
// temporary catalog functions and catalog functions by full identifier
// (catalog, database, name). Names are case-insensitive. The zero value
// and nil hold none. Not safe for concurrent use.
type Functions struct {
	system map[string]*Function
	temp   map[ObjectID]*Function
	perm   map[ObjectID]*Function
	// Current returns the catalog and database unqualified names resolve
	// in (nil: the built-in default database).
	Current func() Namespace
}

func funcKey(name string) string { return strings.ToUpper(name) }

func funcID(id ObjectID) ObjectID {
	return ObjectID{Catalog: id.Catalog, Database: id.Database, Name: funcKey(id.Name)}
}

// summary is Flink's ObjectIdentifier.asSummaryString: cat.db.name.
func summary(id ObjectID) string { return id.Catalog + "." + id.Database + "." + id.Name }

// current returns the namespace unqualified names resolve in.
func (fs *Functions) current() Namespace {
	if fs == nil || fs.Current == nil {
		return Namespace{Catalog: DefaultCatalog, Database: DefaultDatabase}
	}
	return fs.Current()
}

// In returns fs resolving unqualified names in ns (a view's query binds
// in the namespace it was created in); it shares fs's functions.
func (fs *Functions) In(ns Namespace) *Functions {
	if fs == nil {
		return nil
	}
	c := *fs
	c.Current = func() Namespace { return ns }
	return &c
}

// Qualify returns the full identifier of a function name of 1, 2 or 3
// parts relative to the current catalog and database.
func (fs *Functions) Qualify(n *ast.Name) (ObjectID, error) {
	ns := fs.current()
	p := n.Parts
	switch len(p) {
	case 1:
		return ObjectID{ns.Catalog, ns.Database, p[0].Name}, nil
	case 2:
		return ObjectID{ns.Catalog, p[0].Name, p[1].Name}, nil
	case 3:
		return ObjectID{p[0].Name, p[1].Name, p[2].Name}, nil
	}
	return ObjectID{}, fmt.Errorf("sql: %s: an identifier has at most 3 parts (catalog.database.object)", n)
}

// Add adds f: a temporary system function (f.System) by its name, else a
// temporary catalog function or catalog function at f's identifier
// (f.Catalog, f.Database; set by the caller). An existing function is an
// error unless ifNotExists (then nothing changes), with Flink's
// FunctionCatalog messages: a catalog function may not be created while a
// temporary one has its identifier; a temporary catalog function may
// shadow a catalog function.
func (fs *Functions) Add(f *Function, ifNotExists bool) error {
	if fs.system == nil {
		fs.system, fs.temp, fs.perm = map[string]*Function{}, map[ObjectID]*Function{}, map[ObjectID]*Function{}
	}
	if f.System {
		k := funcKey(f.Name)
		if _, ok := fs.system[k]; ok {
			if ifNotExists {
				return nil
			}
			return fmt.Errorf("sql: Could not register temporary system function. A function named '%s' does already exist.", f.Name)
		}
		fs.system[k] = f
		return nil
	}
	id := f.ID()
	k := funcID(id)
	if f.Temporary {
		if _, ok := fs.temp[k]; ok {
			if ifNotExists {
				return nil
			}
			return fmt.Errorf("sql: Could not register temporary catalog function. A function '%s' does already exist.", summary(id))
		}
		fs.temp[k] = f
		return nil
	}
	if _, ok := fs.temp[k]; ok {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Could not register catalog function. A temporary function '%s' does already exist. Please drop the temporary function first.", summary(id))
	}
	if _, ok := fs.perm[k]; ok {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("sql: Could not register catalog function. A function '%s' does already exist.", summary(id))
	}
	fs.perm[k] = f
	return nil
}

// ID returns a catalog function's full identifier (a temporary system
// function's catalog and database are empty).
func (f *Function) ID() ObjectID {
	return ObjectID{Catalog: f.Catalog, Database: f.Database, Name: f.Name}
}

// DropSystem removes a temporary system function; a missing one is an
// error unless ifExists.
func (fs *Functions) DropSystem(name string, ifExists bool) error {
	k := funcKey(name)
	if _, ok := fs.system[k]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("sql: Could not drop temporary system function. A function named '%s' doesn't exist.", name)
	}
	delete(fs.system, k)
	return nil
}

// DropTemporary removes the temporary catalog function at id; a missing
// one is an error unless ifExists.
func (fs *Functions) DropTemporary(id ObjectID, ifExists bool) error {
	k := funcID(id)
	if _, ok := fs.temp[k]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("sql: Temporary catalog function %s doesn't exist", id)
	}
	delete(fs.temp, k)
	return nil
}

// DropCatalog removes the catalog function at id; a missing one is an
// error unless ifExists, and, as in Flink, so is one a temporary catalog
// function shadows (even with ifExists).
func (fs *Functions) DropCatalog(id ObjectID, ifExists bool) error {
	k := funcID(id)
	if _, ok := fs.temp[k]; ok {
		return fmt.Errorf("sql: Could not drop catalog function. A temporary function '%s' does already exist. Please drop the temporary function first.", summary(id))
	}
	if _, ok := fs.perm[k]; !ok {
		if ifExists {
			return nil
		}
		return fmt.Errorf("sql: Could not drop catalog function. A function '%s' doesn't exist.", summary(id))
	}
	delete(fs.perm, k)
	return nil
}

// Catalog returns the catalog function (not a temporary one) at id.
func (fs *Functions) Catalog(id ObjectID) (*Function, bool) {
	if fs == nil {
		return nil, false
	}
	f, ok := fs.perm[funcID(id)]
	return f, ok
}

// CatalogFunctionsIn returns the catalog functions (not temporary ones) of
// the database ns.
func (fs *Functions) CatalogFunctionsIn(ns Namespace) []*Function {
	var out []*Function
	if fs != nil {
		for id, f := range fs.perm {
			if id.Catalog == ns.Catalog && id.Database == ns.Database {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UserNames returns the names of the functions SHOW USER FUNCTIONS lists
// for the database ns (Flink's getUserDefinedFunctions): the temporary
// system functions and ns's temporary catalog functions and catalog
// functions, each name once, sorted.
func (fs *Functions) UserNames(ns Namespace) []string {
	var n []string
	if fs == nil {
		return n
	}
	seen := map[string]bool{}
	add := func(f *Function) {
		if k := funcKey(f.Name); !seen[k] {
			seen[k] = true
			n = append(n, f.Name)
		}
	}
	for _, f := range fs.system {
		add(f)
	}
	for _, m := range []map[ObjectID]*Function{fs.temp, fs.perm} {
		for id, f := range m {
			if id.Catalog == ns.Catalog && id.Database == ns.Database {
				add(f)
			}
		}
	}
	sort.Strings(n)
	return n
}

// isBuiltin reports whether name is a built-in (system) function.
func isBuiltin(name string) bool {
	_, builtin := expr.Builtins().Lookup(name)
	return builtin || aggFuncs[funcKey(name)]
}

// resolve finds the user-defined function an unqualified call of name
// refers to, in Flink's order (FunctionCatalog's ambiguous reference):
// temporary system functions, then built-ins (nil), then the temporary
// catalog functions and the catalog functions of the current catalog and
// database.
func (fs *Functions) resolve(name string) *Function {
	if fs == nil {
		return nil
	}
	if f, ok := fs.system[funcKey(name)]; ok {
		return f
	}
	if isBuiltin(name) {
		return nil
	}
	ns := fs.current()
	return fs.precise(ObjectID{ns.Catalog, ns.Database, name})
}

// Resolve is resolve for the session: the user-defined function an
// unqualified call of name refers to, or nil.
func (fs *Functions) Resolve(name string) *Function { return fs.resolve(name) }

// precise finds the function at a full identifier (Flink's precise
// reference): a temporary catalog function, then a catalog function.
func (fs *Functions) precise(id ObjectID) *Function {
	if fs == nil {
		return nil
	}
	k := funcID(id)
	if f, ok := fs.temp[k]; ok {
		return f
	}
	return fs.perm[k]
}

// resolveName finds the user-defined function a call of n refers to: an
// unqualified name as resolve, a qualified one (database.name or
// catalog.database.name, relative to the current catalog) as a precise
// reference. Nil: n names no user-defined function.
func (fs *Functions) resolveName(n *ast.Name) (*Function, error) {
	if len(n.Parts) == 1 {
		return fs.resolve(n.Parts[0].Name), nil
	}
	id, err := fs.Qualify(n)
	if err != nil {
		return nil, err
	}
	return fs.precise(id), nil
}

// isUserAgg reports whether c calls a user-defined aggregate function.
func (fs *Functions) isUserAgg(c *ast.Call) bool {
	if fs == nil || c.Over != nil || c.OverName != nil {
		return false
	}
	return fs.userAggOf(c.Name) != nil // qualified_agg.go
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
	return eb.bindUserFunc(c, f)
}

// bindUserFunc binds the call c of the user-defined function f.
func (eb *exprBinder) bindUserFunc(c *ast.Call, f *Function) (expr.Expr, bool, error) {
	name := c.Name.String()
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
	f := b.Funcs.userAggOf(sp.call.Name)
	if f == nil {
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
// name (db.f or catalog.db.f, Flink's precise function reference). A name
// no function has is Calcite's "No match found for function signature".
func (eb *exprBinder) bindQualifiedCall(c *ast.Call) (expr.Expr, error) {
	f, err := eb.fns.resolveName(c.Name)
	if err != nil {
		return nil, eb.errorf(c, "%v", err)
	}
	if f == nil {
		return nil, eb.errorf(c, "No match found for function signature %s()", c.Name)
	}
	out, _, err := eb.bindUserFunc(c, f)
	return out, err
}

// aggCallArgs returns the arguments of the aggregate call c in their
// positional order (callArgs) and the user-defined aggregate it calls,
// nil for a built-in.
func (b *Binder) aggCallArgs(c *ast.Call) ([]ast.Expr, *Function, error) {
	if !hasNamedArg(c) && !hasDefaultArg(c) {
		return c.Args, nil, nil
	}
	f := b.Funcs.userAggOf(c.Name)
	args, err := callArgs(c, f)
	return args, f, err
}

// DropCatalogFunctionsIn removes the catalog functions (not temporary
// ones) of the database ns, as a catalog drops them with the database
// (DROP DATABASE .. CASCADE).
func (fs *Functions) DropCatalogFunctionsIn(ns Namespace) {
	for id := range fs.perm {
		if id.Catalog == ns.Catalog && id.Database == ns.Database {
			delete(fs.perm, id)
		}
	}
}
