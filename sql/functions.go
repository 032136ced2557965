package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
	"github.com/weirstream/weir/sql/plan"
	"github.com/weirstream/weir/sql/udf"
)

// sessionFuncs are a session's user-defined functions: the Go
// implementations registered under identifiers, and the SQL names bound
// to them.
type sessionFuncs struct {
	// impls maps an identifier (what a Flink user writes as the class
	// name in CREATE FUNCTION .. AS '..') to its Go implementation.
	impls map[string]any
	// names are the functions SQL can call.
	names plan.Functions
}

// RegisterFunction makes a Go implementation of a user-defined function
// available under identifier, for CREATE FUNCTION name AS 'identifier'
// [LANGUAGE GO] to bind a SQL name to (in Flink the identifier is a
// class name; in Weir it is any string, e.g. "com.example.SubstringFunction"
// or "strings.sub"). fn is a udf.ScalarFunction, udf.TableFunction or
// udf.AggregateFunction (see package udf for helpers that build them).
func (s *Session) RegisterFunction(identifier string, fn any) error {
	if identifier == "" {
		return fmt.Errorf("sql: RegisterFunction: empty identifier")
	}
	if _, err := functionKind(fn); err != nil {
		return fmt.Errorf("sql: RegisterFunction %s: %w", identifier, err)
	}
	if s.funcs.impls == nil {
		s.funcs.impls = map[string]any{}
	}
	if _, dup := s.funcs.impls[identifier]; dup {
		return fmt.Errorf("sql: RegisterFunction: a function is already registered under the identifier '%s'", identifier)
	}
	s.funcs.impls[identifier] = fn
	return nil
}

// CreateTemporarySystemFunction makes fn callable from SQL as name, as
// Flink's TableEnvironment.createTemporarySystemFunction: it resolves
// before the built-in functions (and may shadow one) and is dropped with
// DROP TEMPORARY SYSTEM FUNCTION.
func (s *Session) CreateTemporarySystemFunction(name string, fn any) error {
	return s.createFunction(plan.ObjectID{Name: name}, "", fn, true, true, false)
}

// CreateTemporaryFunction makes fn callable from SQL as name, a temporary
// catalog function of the current catalog and database (Flink's
// createTemporaryFunction): an unqualified call resolves to it after the
// built-in functions; it shadows a catalog function of its identifier.
func (s *Session) CreateTemporaryFunction(name string, fn any) error {
	cur := s.cat.Current()
	return s.createFunction(plan.ObjectID{Catalog: cur.Catalog, Database: cur.Database, Name: name}, "", fn, false, true, false)
}

func functionKind(fn any) (plan.FunctionKind, error) {
	if n, ok := fn.(udf.NamedFunction); ok {
		fn = n.Func
	}
	if o, ok := fn.(udf.Overloaded); ok {
		fns := o.Functions()
		if len(fns) == 0 {
			return 0, fmt.Errorf("an empty udf.Overloaded (build it with udf.Overload)")
		}
		fn = fns[0]
	}
	switch fn.(type) {
	case udf.ScalarFunction:
		return plan.ScalarFunction, nil
	case udf.TableFunction:
		return plan.TableFunction, nil
	case udf.AggregateFunction:
		return plan.AggregateFunction, nil
	case nil:
		return 0, fmt.Errorf("nil function")
	}
	return 0, fmt.Errorf("%T is not a udf.ScalarFunction, udf.TableFunction or udf.AggregateFunction", fn)
}

// createFunction adds fn as a function at id (a temporary system
// function's catalog and database are empty).
func (s *Session) createFunction(id plan.ObjectID, identifier string, fn any, system, temporary, ifNotExists bool) error {
	name := id.Name
	if name == "" {
		return fmt.Errorf("sql: a function needs a name")
	}
	kind, err := functionKind(fn)
	if err != nil {
		return fmt.Errorf("sql: function %s: %w", name, err)
	}
	f := &plan.Function{Name: name, Identifier: identifier, System: system, Temporary: temporary, Kind: kind, Catalog: id.Catalog, Database: id.Database}
	if n, ok := fn.(udf.NamedArguments); ok {
		if inner, wrapped := fn.(udf.NamedFunction); wrapped {
			fn = inner.Func
		}
		f.Args = n.Arguments()
		if err := udf.CheckArguments(fn, f.Args); err != nil {
			return fmt.Errorf("sql: function %s: %w", name, err)
		}
	}
	if o, ok := fn.(udf.Overloaded); ok {
		// Each implementation is a Function of the name; calls choose
		// one by their argument types (plan.Function.Overloads).
		for _, impl := range o.Functions() {
			fo := &plan.Function{Name: name, Identifier: identifier, System: system, Temporary: temporary, Kind: kind, Catalog: id.Catalog, Database: id.Database}
			setImpl(fo, impl)
			f.Overloads = append(f.Overloads, fo)
		}
		fn = o.Functions()[0]
	}
	setImpl(f, fn)
	return s.funcs.names.Add(f, ifNotExists)
}

// setImpl sets the implementation fields of f (of f.Kind) to fn.
func setImpl(f *plan.Function, fn any) {
	switch f.Kind {
	case plan.ScalarFunction:
		f.Impl = fn.(udf.ScalarFunction)
		f.Scalar = expr.NewUserFunc(f.Name, f.Impl)
	case plan.TableFunction:
		f.Table = fn.(udf.TableFunction)
	case plan.AggregateFunction:
		f.Agg = fn.(udf.AggregateFunction)
	}
}

// createFunctionStmt runs CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT
// EXISTS] name AS 'identifier' [LANGUAGE GO], as Flink: a temporary
// system function by its name; a temporary catalog function or a catalog
// function at its 1, 2 or 3 part identifier, relative to the current
// catalog and database. A catalog function needs its catalog and
// database; a temporary one, as a temporary table, does not.
func (s *Session) createFunctionStmt(n *ast.CreateFunction) (*Result, *Job, error) {
	name := n.Name.Last().Name
	var id plan.ObjectID
	if n.System {
		if len(n.Name.Parts) > 1 {
			return nil, nil, fmt.Errorf("sql: %s: a temporary system function has no catalog or database", n.Name)
		}
		id.Name = name
	} else {
		var err error
		if id, err = s.funcs.names.Qualify(n.Name); err != nil {
			return nil, nil, err
		}
		if !n.Temporary {
			if err := s.checkFunctionDatabase(id); err != nil {
				return nil, nil, err
			}
		}
	}
	if n.Language != "" && n.Language != "GO" {
		return nil, nil, fmt.Errorf("sql: CREATE FUNCTION %s: LANGUAGE %s is not supported: Weir runs functions written in Go (LANGUAGE GO), registered with Session.RegisterFunction under the identifier written after AS", name, n.Language)
	}
	impl, found := s.funcs.impls[n.Class]
	if !found {
		ids := make([]string, 0, len(s.funcs.impls))
		for id := range s.funcs.impls {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return nil, nil, fmt.Errorf("sql: CREATE FUNCTION %s: no Go function is registered under the identifier '%s' (register it with Session.RegisterFunction); registered identifiers: [%s]", name, n.Class, strings.Join(ids, ", "))
	}
	// Weir's catalogs live in the session: non-temporary functions last
	// as long as the session, as temporary ones do.
	if err := s.createFunction(id, n.Class, impl, n.System, n.Temporary, n.IfNotExists); err != nil {
		return nil, nil, err
	}
	return ok(), nil, nil
}

// dropFunction runs DROP [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name
// as Flink's FunctionCatalog: DROP TEMPORARY SYSTEM FUNCTION drops a
// temporary system function by name; DROP TEMPORARY FUNCTION the
// temporary catalog function, DROP FUNCTION the catalog function at the
// (qualified) identifier.
func (s *Session) dropFunction(n *ast.Drop) (*Result, *Job, error) {
	if n.System {
		if len(n.Name.Parts) > 1 {
			return nil, nil, fmt.Errorf("sql: %s: a temporary system function has no catalog or database", n.Name)
		}
		return okOr(s.funcs.names.DropSystem(n.Name.Parts[0].Name, n.IfExists))
	}
	id, err := s.funcs.names.Qualify(n.Name)
	if err != nil {
		return nil, nil, err
	}
	if n.Temporary {
		return okOr(s.funcs.names.DropTemporary(id, n.IfExists))
	}
	return okOr(s.funcs.names.DropCatalog(id, n.IfExists))
}

// showFunctions lists SHOW FUNCTIONS (the built-in and the user-defined
// functions) or SHOW USER FUNCTIONS (the user-defined ones only) of the
// current database, or of the one of FROM|IN [catalog.]db: as Flink's
// getFunctions(catalog, database), the temporary system functions and the
// database's temporary catalog functions and catalog functions.
func (s *Session) showFunctions(n *ast.Show) (*Result, *Job, error) {
	ns := s.cat.Current()
	if n.From != nil {
		var err error
		if ns, err = s.showFrom(n); err != nil {
			return nil, nil, err
		}
	}
	names := s.funcs.names.UserNames(ns)
	if !n.User {
		seen := map[string]bool{}
		for _, u := range names {
			seen[strings.ToUpper(u)] = true
		}
		for _, b := range expr.Builtins().Names() {
			if !seen[b] && isFunctionName(b) {
				names = append(names, strings.ToLower(b))
			}
		}
		for _, a := range []string{"avg", "count", "first_value", "last_value", "listagg", "max", "min", "sum"} {
			if !seen[strings.ToUpper(a)] {
				names = append(names, a)
			}
		}
		sort.Strings(names)
	}
	if n.Like != nil {
		var kept []string
		for _, x := range names {
			if likeMatch(x, *n.Like, n.ILike) != n.NotLike {
				kept = append(kept, x)
			}
		}
		names = kept
	}
	return nameList("function name", names), nil, nil
}

// isFunctionName reports whether a registry name is a function name
// rather than an operator ("+", "IS NULL").
func isFunctionName(n string) bool {
	for _, r := range n {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// likeMatch matches SHOW's LIKE pattern: % any run, _ one character.
func likeMatch(s, pattern string, fold bool) bool {
	if fold {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	var match func(s, p string) bool
	match = func(s, p string) bool {
		for p != "" {
			switch p[0] {
			case '%':
				for i := 0; i <= len(s); i++ {
					if match(s[i:], p[1:]) {
						return true
					}
				}
				return false
			case '_':
				if s == "" {
					return false
				}
			default:
				if s == "" || s[0] != p[0] {
					return false
				}
			}
			s, p = s[1:], p[1:]
		}
		return s == ""
	}
	return match(s, pattern)
}

// aggType types an aggregate call: a user-defined aggregate's
// ResultType, or the runtime's built-in (see binder).
func userAggType(fs *plan.Functions, fn string, args []row.Type) (row.Type, bool, error) {
	f := fs.Resolve(fn)
	if f == nil || f.Kind != plan.AggregateFunction {
		return row.Type{}, false, nil
	}
	// An overloaded aggregate: the implementation the (cast) argument
	// types bind to, as the binder chose it.
	t, err := f.AggResultType(args)
	return t, true, err
}
