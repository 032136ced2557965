package parser

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/weirstream/weir/sql/ast"
)

func TestParseOne(t *testing.T) {
	for _, in := range []string{"SELECT 1", "SELECT 1;", "  SELECT 1 ;  -- done"} {
		s, err := ParseOne(in)
		if err != nil {
			t.Fatalf("ParseOne(%q): %v", in, err)
		}
		if got := ast.Format(s); got != "SELECT 1" {
			t.Errorf("ParseOne(%q) = %q", in, got)
		}
	}
	_, err := ParseOne("SELECT 1; SELECT 2")
	var pe *Error
	if !errors.As(err, &pe) || pe.Column != 11 || pe.Msg != "expected end of input, found 'SELECT'" {
		t.Errorf("two statements: got %v", err)
	}
	if _, err := ParseOne(""); err == nil {
		t.Error("empty input: no error")
	}
}

func TestParseEmptyScript(t *testing.T) {
	for _, in := range []string{"", " ; ;; -- nothing\n"} {
		stmts, err := Parse(in)
		if err != nil || len(stmts) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no statements", in, stmts, err)
		}
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Parse("SELECT a,\n  b FORM t")
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %T is not *Error", err)
	}
	if pe.Line != 2 || pe.Column != 5 || pe.Offset != 14 || pe.SourceLine != "  b FORM t" {
		t.Errorf("got line %d column %d offset %d source %q", pe.Line, pe.Column, pe.Offset,
			pe.SourceLine)
	}
	if want := "sql: syntax error at line 2, column 5: expected FROM, found 'FORM'"; pe.Error() != want {
		t.Errorf("Error() = %q, want %q", pe.Error(), want)
	}
	if want := pe.Error() + "\n  b FORM t\n    ^"; pe.Detail() != want {
		t.Errorf("Detail() = %q, want %q", pe.Detail(), want)
	}
}

func TestParseType(t *testing.T) {
	typ, err := ParseType("DECIMAL(10, 2) NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	if typ.Name != "DECIMAL" || len(typ.Params) != 2 || typ.Params[0] != 10 ||
		typ.Params[1] != 2 || !typ.NotNull {
		t.Errorf("got %+v", typ)
	}
	if _, err := ParseType("INT INT"); err == nil {
		t.Error("trailing tokens accepted")
	}
}

// TestDeepNesting checks that hostile nesting fails with an error instead of exhausting the
// stack.
func TestDeepNesting(t *testing.T) {
	for _, in := range []string{
		"SELECT " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000),
		"SELECT " + strings.Repeat("- ", 10000) + "1",
		"SELECT " + strings.Repeat("NOT ", 10000) + "TRUE",
		strings.Repeat("SELECT * FROM (", 5000) + "SELECT 1" + strings.Repeat(")", 5000),
		"SELECT CAST(x AS " + strings.Repeat("ARRAY<", 5000) + "INT" + strings.Repeat(">", 5000) + ")",
		"SELECT * FROM t MATCH_RECOGNIZE (PATTERN (" + strings.Repeat("(", 5000) + "A" +
			strings.Repeat(")", 5000) + ") DEFINE A AS TRUE)",
	} {
		_, err := Parse(in)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nesting too deep") {
			t.Errorf("got %v", err)
		}
	}
	// Moderate nesting is fine.
	in := "SELECT " + strings.Repeat("(", 50) + "1" + strings.Repeat(")", 50)
	if _, err := Parse(in); err != nil {
		t.Error(err)
	}
}

var placeholder = regexp.MustCompile(`\$\{(\w+)\}`)

// TestNexmarkReference parses the reference Flink SQL files of the Nexmark benchmark
// (nexmark-flink/src/main/resources/queries*/ in github.com/nexmark/nexmark) when the
// environment variable NEXMARK_QUERIES names a directory holding them (searched recursively
// for *.sql). The repository's own testdata/nexmark holds equivalent queries.
func TestNexmarkReference(t *testing.T) {
	dir := os.Getenv("NEXMARK_QUERIES")
	if dir == "" {
		t.Skip("NEXMARK_QUERIES not set")
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		// The files are templates: ${NAME} is replaced by the benchmark runner.
		stmts, err := Parse(placeholder.ReplaceAllString(string(b), "$1"))
		if err != nil {
			t.Errorf("%s: %s", path, err.(*Error).Detail())
			return nil
		}
		checkRoundTrip(t, stmts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no .sql files under %s", dir)
	}
	t.Logf("parsed %d files", n)
}

func TestResultsOnError(t *testing.T) {
	stmts, err := Parse("SELECT 1; SELECT 2; SELECT FROM")
	if err == nil || len(stmts) != 2 {
		t.Errorf("Parse: got %d statements, %v; want the 2 before the error", len(stmts), err)
	}
	if s, err := ParseOne("SELECT 1 2"); s != nil || err == nil {
		t.Errorf("ParseOne: got %v, %v", s, err)
	}
	if e, err := ParseExpr("1 +"); e != nil || err == nil {
		t.Errorf("ParseExpr: got %v, %v", e, err)
	}
	if ty, err := ParseType("INT INT"); ty != nil || err == nil {
		t.Errorf("ParseType: got %v, %v", ty, err)
	}
}
