package plan

import (
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// bindJSON binds JSON_VALUE, JSON_QUERY and JSON_EXISTS with their default
// behaviours (Flink's: NULL ON EMPTY / NULL ON ERROR, WITHOUT ARRAY
// WRAPPER, FALSE ON ERROR), JSON_VALUE with an optional RETURNING type, to
// the built-ins of package expr. Other clauses and the JSON constructors
// (JSON_OBJECT, JSON_ARRAY and their aggregates) are refused.
func (eb *exprBinder) bindJSON(n *ast.JSONFunc) (expr.Expr, error) {
	behaviour := func(b *ast.JSONBehavior, def string) bool { return b == nil || b.Kind == def }
	switch n.Name {
	case "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS":
	default:
		return nil, eb.errorf(n, "%s is not supported yet", n.Name)
	}
	if len(n.Args) != 2 {
		return nil, eb.errorf(n, "%s takes a JSON value and a path", n.Name)
	}
	ok := true
	switch n.Name {
	case "JSON_VALUE":
		ok = behaviour(n.OnEmpty, "NULL") && behaviour(n.OnError, "NULL")
	case "JSON_QUERY":
		ok = behaviour(n.OnEmpty, "NULL") && behaviour(n.OnError, "NULL") && (n.Wrapper == "" || n.Wrapper == "WITHOUT ARRAY") && n.Returning == nil
	case "JSON_EXISTS":
		ok = n.OnEmpty == nil && behaviour(n.OnError, "FALSE")
	}
	if !ok {
		return nil, eb.errorf(n, "%s with clauses other than the defaults is not supported yet", n.Name)
	}
	args, err := eb.bindAll(n.Args...)
	if err != nil {
		return nil, err
	}
	if n.Name == "JSON_VALUE" && n.Returning != nil {
		t, err := ResolveType(n.Returning)
		if err != nil {
			return nil, err
		}
		out, err := expr.NewJSONValue(args[0], args[1], t)
		if err != nil {
			return nil, eb.errorf(n, "%v", err)
		}
		return out, nil
	}
	return eb.call(n, n.Name, args...)
}
