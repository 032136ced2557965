package expr

import (
	"strings"

	"github.com/weirstream/weir/row"
)

// compileLowerEquals compiles =(LOWER(x), 'literal') (either order) over
// STRINGs without building the lower-case string when x is ASCII: each
// byte is lowered and compared in place (the same result as
// strings.ToLower, which for ASCII input lowers A-Z only). A non-ASCII x
// is lowered by LOWER itself. It reports false for any other call.
func compileLowerEquals(n *Call) (Evaluator, bool, error) {
	low, want, ok := matchLowerEquals(n)
	if !ok {
		return nil, false, nil
	}
	arg, err := Compile(low.Args[0])
	if err != nil {
		return nil, false, err
	}
	return func(ctx *EvalContext, in []row.Value) (row.Value, error) {
		v, err := arg(ctx, in)
		if err != nil || v.IsNull() {
			return row.Value{}, err
		}
		s := v.Str()
		if !isASCII(s) {
			return row.Bool(strings.ToLower(s) == want), nil
		}
		if len(s) != len(want) {
			return row.Bool(false), nil
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != want[i] {
				return row.Bool(false), nil
			}
		}
		return row.Bool(true), nil
	}, true, nil
}

// lowerEquals reports whether n is =(LOWER(x), 'ascii literal') over
// STRINGs (compileLowerEquals).
func lowerEquals(n *Call) bool {
	_, _, ok := matchLowerEquals(n)
	return ok
}

func matchLowerEquals(n *Call) (*Call, string, bool) {
	if n.Func == nil || n.Func.Name != "=" || len(n.Args) != 2 {
		return nil, "", false
	}
	low, ok := n.Args[0].(*Call)
	lit, ok2 := n.Args[1].(*Literal)
	if !ok || !ok2 {
		low, ok = n.Args[1].(*Call)
		lit, ok2 = n.Args[0].(*Literal)
	}
	if !ok || !ok2 || low.Func == nil || low.Func.Name != "LOWER" || len(low.Args) != 1 ||
		lit.Value.IsNull() || lit.T.Root != row.TypeVarChar || low.T.Root != row.TypeVarChar ||
		low.Args[0].Type().Root != row.TypeVarChar {
		return nil, "", false
	}
	want := lit.Value.Str()
	if !isASCII(want) {
		return nil, "", false
	}
	return low, want, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
