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
	return s.createFunction(name, "", fn, true, true, false)
}

// CreateTemporaryFunction makes fn callable from SQL as name, a temporary
// catalog function (Flink's createTemporaryFunction): it resolves after
// the built-in functions, so it may not take a built-in's name.
func (s *Session) CreateTemporaryFunction(name string, fn any) error {
	return s.createFunction(name, "", fn, false, true, false)
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

func (s *Session) createFunction(name, identifier string, fn any, system, temporary, ifNotExists bool) error {
	if name == "" {
		return fmt.Errorf("sql: a function needs a name")
	}
	kind, err := functionKind(fn)
	if err != nil {
		return fmt.Errorf("sql: function %s: %w", name, err)
	}
	f := &plan.Function{Name: name, Identifier: identifier, System: system, Temporary: temporary, Kind: kind}
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
			fo := &plan.Function{Name: name, Identifier: identifier, System: system, Temporary: temporary, Kind: kind}
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
// EXISTS] name AS 'identifier' [LANGUAGE GO].
func (s *Session) createFunctionStmt(n *ast.CreateFunction) (*Result, *Job, error) {
	name := n.Name.Last().Name
	if len(n.Name.Parts) > 1 {
		if n.System {
			return nil, nil, fmt.Errorf("sql: %s: a temporary system function has no catalog or database", n.Name)
		}
		for i, part := range n.Name.Parts[:len(n.Name.Parts)-1] {
			if want := []string{plan.DefaultCatalog, plan.DefaultDatabase}[i+3-len(n.Name.Parts)]; part.Name != want {
				return nil, nil, fmt.Errorf("sql: %s: only the catalog %s and database %s exist", n.Name, plan.DefaultCatalog, plan.DefaultDatabase)
			}
		}
	}
	if !n.System && len(n.Name.Parts) == 1 {
		if err := s.checkFunctionDatabase(name); err != nil {
			return nil, nil, err
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
	// Weir's catalog lives in the session: non-temporary functions last
	// as long as the session, as temporary ones do.
	if err := s.createFunction(name, n.Class, impl, n.System, n.Temporary, n.IfNotExists); err != nil {
		return nil, nil, err
	}
	return ok(), nil, nil
}

// dropFunction runs DROP [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name.
func (s *Session) dropFunction(n *ast.Drop) (*Result, *Job, error) {
	name := n.Name.Last().Name
	if f, found := s.funcs.names.Lookup(name); found && f.System != n.System {
		if f.System {
			return nil, nil, fmt.Errorf("sql: function %s is a temporary system function: drop it with DROP TEMPORARY SYSTEM FUNCTION", name)
		}
		return nil, nil, fmt.Errorf("sql: function %s is not a temporary system function: drop it with DROP [TEMPORARY] FUNCTION", name)
	}
	return okOr(s.funcs.names.Drop(name, n.IfExists))
}

// showFunctions lists SHOW FUNCTIONS (the built-in and the user-defined
// functions) or SHOW USER FUNCTIONS (the user-defined ones only).
func (s *Session) showFunctions(n *ast.Show) (*Result, *Job, error) {
	names := s.funcs.names.Names()
	if n.From != nil {
		// SHOW FUNCTIONS FROM|IN [catalog.]db: the database's catalog
		// functions (Weir keeps them in the default database only) and
		// the temporary system ones.
		ns, err := s.showFrom(n)
		if err != nil {
			return nil, nil, err
		}
		if ns != (plan.Namespace{Catalog: plan.DefaultCatalog, Database: plan.DefaultDatabase}) {
			var kept []string
			for _, name := range names {
				if f, _ := s.funcs.names.Lookup(name); f.System {
					kept = append(kept, name)
				}
			}
			names = kept
		}
	}
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
func (s *Session) userAggType(fn string, args []row.Type) (row.Type, bool, error) {
	f, found := s.funcs.names.Lookup(fn)
	if !found || f.Kind != plan.AggregateFunction {
		return row.Type{}, false, nil
	}
	// An overloaded aggregate: the implementation the (cast) argument
	// types bind to, as the binder chose it.
	f, err := f.OverloadFor(args)
	if err != nil {
		return row.Type{}, true, err
	}
	if sig, ok := f.Agg.(udf.Signature); ok {
		ps := sig.ParamTypes()
		if len(ps) != len(args) {
			return row.Type{}, true, fmt.Errorf("invalid number of arguments to function '%s'. Was expecting %d arguments, got %d", f.Name, len(ps), len(args))
		}
	}
	t, err := f.Agg.ResultType(args)
	if err != nil {
		return row.Type{}, true, fmt.Errorf("function %s: %w", f.Name, err)
	}
	return t, true, nil
}
