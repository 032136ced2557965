package plan

import (
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// jsonAggCall returns the aggregate call the planner plans for a
// JSON_OBJECTAGG or JSON_ARRAYAGG: Flink's JSON_OBJECTAGG_NULL_ON_NULL,
// JSON_OBJECTAGG_ABSENT_ON_NULL (the default ON NULL is NULL),
// JSON_ARRAYAGG_NULL_ON_NULL or JSON_ARRAYAGG_ABSENT_ON_NULL (default
// ABSENT), over the key and the value serialised as JSON text (the
// internal $JSON_AGG_ITEM, standing for Flink's
// WrapJsonAggFunctionArgumentsRule). The call is built anew each time; it
// is found again by its String().
func jsonAggCall(f *ast.JSONFunc) (*ast.Call, bool) {
	onNull := f.OnNull
	var args []ast.Expr
	switch f.Name {
	case "JSON_OBJECTAGG":
		if len(f.KeyValues) != 1 {
			return nil, false
		}
		if onNull == "" {
			onNull = "NULL"
		}
		kv := f.KeyValues[0]
		args = []ast.Expr{kv.Key, &ast.JSONFunc{Pos: kv.Value.Position(), Name: expr.JSONAggItem, Args: []ast.Expr{kv.Value}}}
	case "JSON_ARRAYAGG":
		if len(f.Args) != 1 {
			return nil, false
		}
		if onNull == "" {
			onNull = "ABSENT"
		}
		args = []ast.Expr{&ast.JSONFunc{Pos: f.Args[0].Position(), Name: expr.JSONAggItem, Args: f.Args}}
	default:
		return nil, false
	}
	name := f.Name + "_" + onNull + "_ON_NULL"
	return &ast.Call{Pos: f.Pos, Name: &ast.Name{Pos: f.Pos, Parts: []*ast.Ident{{Pos: f.Pos, Name: name}}}, Args: args}, true
}

// bindJSONAggItem binds the value of a JSON aggregate (see jsonAggCall)
// as a JSON constructor's value.
func (eb *exprBinder) bindJSONAggItem(n *ast.JSONFunc) (expr.Expr, error) {
	x, raw, err := eb.bindJSONValue(n.Args[0])
	if err != nil {
		return nil, err
	}
	return eb.call(n, expr.JSONAggItem, expr.Sym(map[bool]string{true: "R", false: "-"}[raw]), x)
}
