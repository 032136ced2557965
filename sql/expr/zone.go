package expr

import "github.com/weirstream/weir/row"

// DependsOnZone reports whether the value of e depends on the session
// time zone (EvalContext.Location): it calls a function that reads the
// zone (UNIX_TIMESTAMP, FROM_UNIXTIME, DATE_FORMAT, ...) or has a
// TIMESTAMP_LTZ operand or result anywhere. An expression evaluated
// without the session's EvalContext (a partition predicate at planning
// time) must not depend on it.
func DependsOnZone(e Expr) bool {
	dep := false
	var walk func(x Expr)
	walk = func(x Expr) {
		if x == nil || dep {
			return
		}
		if x.Type().Root == row.TypeTimestampLTZ {
			dep = true
			return
		}
		switch n := x.(type) {
		case *Call:
			// DATE_FORMAT reads the zone for a TIMESTAMP_LTZ operand
			// only, which the type check above finds.
			if n.Func != nil && n.Func.zone && n.Func.Name != "DATE_FORMAT" {
				dep = true
				return
			}
			for _, a := range n.Args {
				walk(a)
			}
		case *Cast:
			walk(n.Arg)
		case *FieldAccess:
			walk(n.Arg)
		case *Case:
			for i := range n.Whens {
				walk(n.Whens[i])
				walk(n.Thens[i])
			}
			walk(n.Else)
		}
	}
	walk(e)
	return dep
}
