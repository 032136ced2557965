package plan

import (
	"fmt"
	"strings"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql/ast"
	"github.com/weirstream/weir/sql/udf"
)

// Aggregate calls by a qualified name (Flink's precise function
// reference, db.f or catalog.db.f): the name resolves, as a scalar call's
// does (bindQualifiedCall), to the temporary catalog function and then
// the catalog function of that identifier, never to a built-in or a
// temporary system function, which have no namespace. A call whose
// qualified name is a user-defined aggregate function is an aggregate
// call like one by the bare name; any other qualified call binds as a
// scalar call (and says there which name no function has).

// userAggOf returns the user-defined aggregate function the call of n
// refers to, or nil: a bare name as resolve, a qualified one as a
// precise reference.
func (fs *Functions) userAggOf(n *ast.Name) *Function {
	if fs == nil || n == nil || len(n.Parts) == 0 {
		return nil
	}
	f, err := fs.resolveName(n)
	if err != nil || f == nil || f.Kind != AggregateFunction {
		return nil
	}
	return f
}

// aggFuncName is the name an aggregate call of n keeps in its AggCall
// (and the plan shows): the upper-case bare name, or for a qualified
// name the full identifier of the function (Flink's
// ObjectIdentifier.asSummaryString, cat.db.name), the same however the
// call qualifies it.
func (fs *Functions) aggFuncName(n *ast.Name) string {
	if len(n.Parts) == 1 {
		return strings.ToUpper(n.Parts[0].Name)
	}
	if fs != nil {
		if id, err := fs.Qualify(n); err == nil {
			return summary(id)
		}
	}
	return n.String()
}

// aggSpecType types an aggregate call: a qualified user-defined one by
// its function (the session's AggType resolves bare names only), any
// other through AggType.
func (b *Binder) aggSpecType(c *ast.Call, fn string, udfn *Function, distinct bool, args []row.Type) (row.Type, error) {
	if udfn != nil && len(c.Name.Parts) > 1 {
		return udfn.AggResultType(args)
	}
	return b.AggType(fn, distinct, args)
}

// AggResultType is the result type of the user-defined aggregate function
// f called with arguments of types args (cast to its parameter types):
// that of the implementation an overloaded f binds to.
func (f *Function) AggResultType(args []row.Type) (row.Type, error) {
	f, err := f.OverloadFor(args)
	if err != nil {
		return row.Type{}, err
	}
	if sig, ok := f.Agg.(udf.Signature); ok {
		if ps := sig.ParamTypes(); len(ps) != len(args) {
			return row.Type{}, fmt.Errorf("invalid number of arguments to function '%s'. Was expecting %d arguments, got %d", f.Name, len(ps), len(args))
		}
	}
	t, err := f.Agg.ResultType(args)
	if err != nil {
		return row.Type{}, fmt.Errorf("function %s: %w", f.Name, err)
	}
	return t, nil
}
