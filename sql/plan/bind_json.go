package plan

import (
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/expr"
)

// bindJSONConstructor binds JSON_OBJECT (default NULL ON NULL) and
// JSON_ARRAY (default ABSENT ON NULL), as Flink. A value that is a
// JSON_OBJECT, JSON_ARRAY or JSON(..) call is inserted as JSON: the call
// gets a mask naming those values (see expr's JSON_OBJECT), so that
// constant folding of the inner call does not turn it into a string.
func (eb *exprBinder) bindJSONConstructor(n *ast.JSONFunc) (expr.Expr, error) {
	onNull := n.OnNull
	if onNull == "" {
		onNull = "NULL"
		if n.Name == "JSON_ARRAY" {
			onNull = "ABSENT"
		}
	}
	var mask []byte
	args := []expr.Expr{expr.Sym(onNull), nil}
	value := func(v ast.Expr) error {
		x, raw, err := eb.bindJSONValue(v)
		if err != nil {
			return err
		}
		args = append(args, x)
		mask = append(mask, map[bool]byte{true: 'R', false: '-'}[raw])
		return nil
	}
	if n.Name == "JSON_OBJECT" {
		for _, kv := range n.KeyValues {
			if c, ok := kv.Key.(*ast.Call); ok && isJSONCall(c) {
				return nil, eb.errorf(c, "The JSON() function is currently only supported inside JSON_ARRAY() or as the VALUE param of JSON_OBJECT()")
			}
			k, err := eb.bind(kv.Key)
			if err != nil {
				return nil, err
			}
			args = append(args, k)
			if err := value(kv.Value); err != nil {
				return nil, err
			}
		}
	} else {
		for _, v := range n.Args {
			if err := value(v); err != nil {
				return nil, err
			}
		}
	}
	args[1] = expr.Sym(string(mask))
	return eb.call(n, n.Name, args...)
}

// bindJSONValue binds a value of a JSON constructor (or JSON aggregate)
// and reports whether it is inserted as JSON (raw): a JSON_OBJECT,
// JSON_ARRAY or JSON(..) call.
func (eb *exprBinder) bindJSONValue(v ast.Expr) (x expr.Expr, raw bool, err error) {
	if c, ok := v.(*ast.Call); ok && isJSONCall(c) {
		if len(c.Args) != 1 || c.Distinct {
			return nil, false, eb.errorf(c, "JSON takes one argument, a JSON text")
		}
		a, err := eb.bind(c.Args[0])
		if err != nil {
			return nil, false, err
		}
		j, err := eb.call(c, "JSON", a)
		return j, true, err
	}
	if f, ok := v.(*ast.JSONFunc); ok && (f.Name == "JSON_OBJECT" || f.Name == "JSON_ARRAY") {
		raw = true
	}
	x, err = eb.bind(v)
	return x, raw, err
}

// isJSONCall reports whether c calls the JSON(..) function.
func isJSONCall(c *ast.Call) bool {
	return len(c.Name.Parts) == 1 && strings.EqualFold(c.Name.Parts[0].Name, "JSON") && c.Over == nil && c.OverName == nil
}

// bindIsJSON binds x IS [NOT] JSON [VALUE|SCALAR|ARRAY|OBJECT].
func (eb *exprBinder) bindIsJSON(n *ast.IsJSONExpr) (expr.Expr, error) {
	x, err := eb.bind(n.Expr)
	if err != nil {
		return nil, err
	}
	kind := n.Kind
	if kind == "" {
		kind = "VALUE"
	}
	out, err := eb.call(n, "IS JSON", expr.Sym(kind), x)
	if err != nil || !n.Not {
		return out, err
	}
	return eb.call(n, "NOT", out)
}

// bindJSON binds JSON_VALUE (RETURNING, ON EMPTY, ON ERROR), JSON_QUERY
// (RETURNING STRING or ARRAY<STRING>, wrapper, ON EMPTY, ON ERROR) and
// JSON_EXISTS (ON ERROR) to the built-ins of package expr; the default
// behaviours (NULL ON EMPTY / NULL ON ERROR, WITHOUT ARRAY WRAPPER, FALSE
// ON ERROR) bind to the plain two-argument calls.
func (eb *exprBinder) bindJSON(n *ast.JSONFunc) (expr.Expr, error) {
	behaviour := func(b *ast.JSONBehavior, def string) bool { return b == nil || b.Kind == def }
	switch n.Name {
	case "JSON_VALUE", "JSON_QUERY", "JSON_EXISTS":
	case "JSON_OBJECT", "JSON_ARRAY":
		return eb.bindJSONConstructor(n)
	case expr.JSONAggItem:
		return eb.bindJSONAggItem(n)
	case "JSON_OBJECTAGG", "JSON_ARRAYAGG":
		return nil, eb.errorf(n, "aggregate %s is not allowed here", n.Name)
	default:
		return nil, eb.errorf(n, "%s is not supported yet", n.Name)
	}
	if len(n.Args) != 2 {
		return nil, eb.errorf(n, "%s takes a JSON value and a path", n.Name)
	}
	args, err := eb.bindAll(n.Args...)
	if err != nil {
		return nil, err
	}
	kind := func(b *ast.JSONBehavior, def string) string {
		if b == nil {
			return def
		}
		return b.Kind
	}
	var out expr.Expr
	switch n.Name {
	case "JSON_VALUE":
		t := row.String()
		if n.Returning != nil {
			if t, err = ResolveType(n.Returning); err != nil {
				return nil, err
			}
			// Flink's JSON_VALUE returns a character string, a boolean
			// or a number only (SqlJsonUtils' SUPPORTED_JSON_RETURNING_TYPES;
			// its code generator refuses the rest), where Weir cast the
			// text to any type (RETURNING DATE of 1 was 0001-01-01).
			switch t.Root {
			case row.TypeChar, row.TypeVarChar, row.TypeBoolean, row.TypeTinyInt, row.TypeSmallInt,
				row.TypeInt, row.TypeBigInt, row.TypeFloat, row.TypeDouble, row.TypeDecimal:
			default:
				return nil, eb.errorf(n, "Unsupported type '%s' for RETURNING in JSON_VALUE().", t)
			}
		}
		if behaviour(n.OnEmpty, "NULL") && behaviour(n.OnError, "NULL") {
			out, err = expr.NewJSONValue(args[0], args[1], t)
			break
		}
		var bs [2]expr.JSONBehavior
		for i, b := range []*ast.JSONBehavior{n.OnEmpty, n.OnError} {
			bs[i].Kind = kind(b, "NULL")
			if bs[i].Kind == "DEFAULT" {
				if bs[i].Default, err = eb.bind(b.Default); err != nil {
					return nil, err
				}
			}
		}
		out, err = expr.NewJSONValueFull(args[0], args[1], t, bs[0], bs[1])
	case "JSON_QUERY":
		wrapper := n.Wrapper
		if wrapper == "" {
			wrapper = "WITHOUT ARRAY"
		}
		if behaviour(n.OnEmpty, "NULL") && behaviour(n.OnError, "NULL") && wrapper == "WITHOUT ARRAY" && n.Returning == nil {
			return eb.call(n, n.Name, args...)
		}
		t := row.String()
		if n.Returning != nil {
			if t, err = ResolveType(n.Returning); err != nil {
				return nil, err
			}
		}
		out, err = expr.NewJSONQueryFull(args[0], args[1], t, wrapper, kind(n.OnEmpty, "NULL"), kind(n.OnError, "NULL"))
	default: // JSON_EXISTS
		if behaviour(n.OnError, "FALSE") {
			return eb.call(n, n.Name, args...)
		}
		out, err = expr.NewJSONExistsFull(args[0], args[1], n.OnError.Kind)
	}
	if err != nil {
		return nil, eb.errorf(n, "%v", err)
	}
	return out, nil
}
