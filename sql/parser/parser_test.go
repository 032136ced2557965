package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/weirstream/weir/sql/ast"
)

// ignorePos compares trees without their source positions.
var ignorePos = cmpopts.IgnoreTypes(ast.Pos{})

// checkRoundTrip asserts that the canonical text of stmts re-parses to an equal tree.
func checkRoundTrip(t *testing.T, stmts []ast.Statement) {
	t.Helper()
	text := ast.FormatScript(stmts)
	again, err := Parse(text)
	if err != nil {
		t.Errorf("canonical text does not re-parse: %v\n%s", err.(*Error).Detail(), text)
		return
	}
	if diff := cmp.Diff(stmts, again, ignorePos); diff != "" {
		t.Errorf("re-parsed tree differs (-parsed +reparsed):\n%s\ntext: %s", diff, text)
	}
}

// TestDataDriven runs the scripts in testdata/. Commands:
//
//	parse       parse a script; print each statement's canonical text, one per line
//	expr        parse an expression; print it canonically and fully parenthesised
//	type        parse a data type; print it canonically
//	error       parse a script that must fail; print the error with its caret
//	expr-error  parse an expression that must fail; print the error with its caret
//	walk        parse a script; print every node's position and type, depth-first
//
// Every successful parse is also checked to round-trip through its canonical text.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if strings.Contains(path, "fuzz") {
			return
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "parse":
				stmts, err := Parse(d.Input)
				if err != nil {
					d.Fatalf(t, "%s", err.(*Error).Detail())
				}
				checkRoundTrip(t, stmts)
				var b strings.Builder
				for _, s := range stmts {
					b.WriteString(ast.Format(s) + ";\n")
				}
				return b.String()
			case "expr":
				e, err := ParseExpr(d.Input)
				if err != nil {
					d.Fatalf(t, "%s", err.(*Error).Detail())
				}
				text := ast.Format(e)
				again, err := ParseExpr(text)
				if err != nil {
					d.Fatalf(t, "canonical %q does not re-parse: %v", text, err)
				}
				if diff := cmp.Diff(e, again, ignorePos); diff != "" {
					t.Errorf("re-parsed tree differs:\n%s", diff)
				}
				return text + "\n" + parenthesise(e) + "\n"
			case "type":
				typ, err := ParseType(d.Input)
				if err != nil {
					d.Fatalf(t, "%s", err.(*Error).Detail())
				}
				text := ast.Format(typ)
				again, err := ParseType(text)
				if err != nil {
					d.Fatalf(t, "canonical %q does not re-parse: %v", text, err)
				}
				if diff := cmp.Diff(typ, again, ignorePos); diff != "" {
					t.Errorf("re-parsed tree differs:\n%s", diff)
				}
				return text + "\n"
			case "error", "expr-error":
				var err error
				if d.Cmd == "error" {
					_, err = Parse(d.Input)
				} else {
					_, err = ParseExpr(d.Input)
				}
				if err == nil {
					d.Fatalf(t, "expected an error")
				}
				pe, ok := err.(*Error)
				if !ok {
					d.Fatalf(t, "error is %T, not *Error", err)
				}
				return pe.Detail() + "\n"
			case "walk":
				stmts, err := Parse(d.Input)
				if err != nil {
					d.Fatalf(t, "%s", err.(*Error).Detail())
				}
				var b strings.Builder
				for _, s := range stmts {
					depth := 0
					ast.Walk(visitFunc(func(n ast.Node) bool {
						if n == nil {
							depth--
							return false
						}
						p := n.Position()
						fmt.Fprintf(&b, "%s%d:%d@%d %T\n", strings.Repeat("  ", depth), p.Line,
							p.Column, p.Offset, n)
						depth++
						return true
					}), s)
				}
				return b.String()
			}
			d.Fatalf(t, "unknown command %s", d.Cmd)
			return ""
		})
	})
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}

// parenthesise prints an expression with every operator application in parentheses, to make
// precedence and associativity visible.
func parenthesise(e ast.Expr) string {
	not := func(b bool) string {
		if b {
			return " NOT"
		}
		return ""
	}
	switch e := e.(type) {
	case *ast.BinaryExpr:
		return "(" + parenthesise(e.Left) + " " + string(e.Op) + " " + parenthesise(e.Right) + ")"
	case *ast.UnaryExpr:
		sep := ""
		if e.Op == ast.OpNot {
			sep = " "
		}
		return "(" + string(e.Op) + sep + parenthesise(e.Operand) + ")"
	case *ast.IsExpr:
		return "(" + parenthesise(e.Expr) + " IS" + not(e.Not) + " " + string(e.Test) + ")"
	case *ast.IsDistinctFrom:
		return "(" + parenthesise(e.Left) + " IS" + not(e.Not) + " DISTINCT FROM " +
			parenthesise(e.Right) + ")"
	case *ast.BetweenExpr:
		return "(" + parenthesise(e.Expr) + not(e.Not) + " BETWEEN " + parenthesise(e.Low) +
			" AND " + parenthesise(e.High) + ")"
	case *ast.LikeExpr:
		op := " LIKE "
		if e.Similar {
			op = " SIMILAR TO "
		}
		s := "(" + parenthesise(e.Expr) + not(e.Not) + op + parenthesise(e.Pattern)
		if e.Escape != nil {
			s += " ESCAPE " + parenthesise(e.Escape)
		}
		return s + ")"
	case *ast.InExpr:
		if e.Query != nil {
			return "(" + parenthesise(e.Expr) + not(e.Not) + " IN (" + ast.Format(e.Query) + "))"
		}
		var parts []string
		for _, x := range e.List {
			parts = append(parts, parenthesise(x))
		}
		return "(" + parenthesise(e.Expr) + not(e.Not) + " IN (" + strings.Join(parts, ", ") + "))"
	case *ast.IndexExpr:
		return "(" + parenthesise(e.Expr) + "[" + parenthesise(e.Index) + "])"
	case *ast.FieldAccess:
		return "(" + parenthesise(e.Expr) + "." + e.Field.Name + ")"
	}
	return ast.Format(e)
}
