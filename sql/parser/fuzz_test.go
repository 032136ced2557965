package parser

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/google/go-cmp/cmp"

	"github.com/weirstream/weir/sql/ast"
)

// FuzzParse checks that the parser never panics and that, whenever a script parses, its
// canonical text parses again to an equal tree (positions ignored) that prints identically
// (print → parse → print is a fixpoint).
// The seed corpus is every input of the datadriven scripts in testdata/ plus testdata/fuzz.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, path := range files {
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			continue
		}
		datadriven.RunTestAny(f, path, func(_ testing.TB, d *datadriven.TestData) string {
			f.Add(d.Input)
			return d.Expected
		})
	}
	// ALTER statements whose canonical text must quote names that are keywords where an
	// action or component starts (more are in testdata/alter).
	for _, seed := range []string{
		"ALTER TABLE t RENAME `to` TO `to`", "ALTER TABLE t DROP (`watermark`, `primary`)",
		"ALTER TABLE IF EXISTS `if` MODIFY (`watermark` AS `first` + 1 FIRST, `first` INT AFTER `after`)",
		"ALTER TABLE t ADD (WATERMARK FOR ts AS ts, c INT PRIMARY KEY NOT ENFORCED AFTER b)",
		"ALTER TEMPORARY SYSTEM FUNCTION IF EXISTS f AS 'x' LANGUAGE GO; ALTER CATALOG c RESET ()",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		text := ast.FormatScript(stmts)
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("canonical text does not re-parse: %v\ninput: %q\ncanonical: %s", err, sql, text)
		}
		if text2 := ast.FormatScript(again); text2 != text {
			t.Fatalf("not a fixpoint\ninput: %q\nfirst:  %s\nsecond: %s", sql, text, text2)
		}
		if diff := cmp.Diff(stmts, again, ignorePos); diff != "" {
			t.Fatalf("re-parsed tree differs\ninput: %q\ncanonical: %s\n%s", sql, text, diff)
		}
		// Expressions and types go through their own entry points too.
		if e, err := ParseExpr(sql); err == nil {
			if _, err := ParseExpr(ast.Format(e)); err != nil {
				t.Fatalf("expression %q does not re-parse: %v", ast.Format(e), err)
			}
		}
	})
}
