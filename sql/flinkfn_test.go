package sql_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestFlinkFunctionCases runs the cases of testdata_flinkfn/: Flink's own
// tests of its SQL built-in functions and casts, kept as data, each with
// the result Flink's test gives. A case is evaluated as Flink's
// ExpressionTestBase does: SELECT CAST((expr) AS STRING) FROM testTable,
// a NULL result printing as NULL.
//
// File format, one item a line:
//
//	# text                         a comment (the Flink source of a block)
//	set 'key' = 'value'            a SET statement for the following cases
//	input                          starts the columns of testTable, one
//	f0 INT = 42                    "name TYPE = sql-literal" a line, up to
//	end                            end; without input the SELECT has no FROM
//	expr => expected               a case; expected is the rest of the line
//	expr => ERROR                  Flink fails the expression (validation or
//	                               run time); it must still parse
//	skip(reason): expr => expected a case Weir does not support; it still
//	                               runs and fails the test once it passes,
//	                               so that no skip outlives its reason (a
//	                               reason holds no "): ", which ends it)
func TestFlinkFunctionCases(t *testing.T) {
	files, err := filepath.Glob("testdata_flinkfn/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runFlinkCaseFile(t, f) })
	}
}

type flinkCase struct {
	line             int
	expr, want, skip string
}

func runFlinkCaseFile(t *testing.T, path string) {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sess := sql.NewSession(sql.SessionOptions{})
	var (
		from            string // FROM clause of testTable, "" for none
		inInput         bool
		names, vals     []string
		lineNo          int
		passed, skipped int
		sc              = bufio.NewScanner(fh)
		inputStart      int
	)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case inInput && trimmed == "end":
			inInput = false
			from = fmt.Sprintf(" FROM (VALUES (%s)) AS testTable(%s)", strings.Join(vals, ", "), strings.Join(names, ", "))
			continue
		case inInput:
			name, rest, ok1 := strings.Cut(trimmed, " ")
			typ, lit, ok2 := strings.Cut(rest, " = ")
			if !ok1 || !ok2 {
				t.Fatalf("%s:%d: input line needs name TYPE = literal", path, lineNo)
			}
			names = append(names, name)
			vals = append(vals, fmt.Sprintf("CAST(%s AS %s)", lit, typ))
			continue
		case trimmed == "input":
			inInput, names, vals, inputStart = true, nil, nil, lineNo
			continue
		case strings.HasPrefix(strings.ToLower(trimmed), "set "):
			if err := execStatement(sess, trimmed); err != nil {
				t.Fatalf("%s:%d: %v", path, lineNo, err)
			}
			continue
		}
		c, err := parseFlinkCase(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, lineNo, err)
		}
		c.line = lineNo
		got := evalFlinkCase(t, sess, c.expr, from)
		// Flink's failures are of validation or at run time: an
		// expression that does not parse does not pass as one.
		ok := got == c.want || (c.want == "ERROR" && strings.HasPrefix(got, "ERROR") && !strings.HasPrefix(got, parseErrPrefix))
		switch {
		case c.skip != "" && ok:
			t.Errorf("%s:%d: %s now gives Flink's %s: remove skip(%s)", path, lineNo, c.expr, c.want, c.skip)
		case c.skip != "" && strings.HasPrefix(got, parseErrPrefix) && c.want != "ERROR":
			// A reason holding "): " ends the skip early and leaves the
			// rest of it in the expression, which then never parses.
			t.Errorf("%s:%d: skipped case does not parse (%s): check its skip reason", path, lineNo, got)
		case c.skip != "":
			skipped++
		case !ok:
			t.Errorf("%s:%d: %s\n  got  %s\n  want %s", path, lineNo, c.expr, got, c.want)
		default:
			passed++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inInput {
		t.Fatalf("%s:%d: input without end", path, inputStart)
	}
	t.Logf("%s: %d cases pass, %d skipped", path, passed, skipped)
}

func parseFlinkCase(line string) (flinkCase, error) {
	var c flinkCase
	if strings.HasPrefix(line, "skip(") {
		end := strings.Index(line, "): ")
		if end < 0 {
			return c, fmt.Errorf("skip( without ): ")
		}
		c.skip = line[len("skip("):end]
		line = line[end+len("): "):]
	}
	i := strings.LastIndex(line, " => ")
	if i < 0 {
		return c, fmt.Errorf("case without ' => ': %q", line)
	}
	c.expr, c.want = strings.TrimSpace(line[:i]), line[i+len(" => "):]
	return c, nil
}

func execStatement(sess *sql.Session, stmt string) error {
	stmts, err := parser.Parse(stmt)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if _, _, err := sess.Execute(st); err != nil {
			return err
		}
	}
	return nil
}

// parseErrPrefix starts the result of a case whose SELECT does not parse.
const parseErrPrefix = "ERROR: parse: "

// evalFlinkCase runs SELECT CAST((expr) AS STRING) [FROM testTable] and
// returns its one value, NULL, or "ERROR: ..." when planning or running
// fails.
func evalFlinkCase(t *testing.T, sess *sql.Session, expr, from string) string {
	q := "SELECT CAST((" + expr + ") AS STRING)" + from
	stmts, err := parser.Parse(q)
	if err != nil {
		return parseErrPrefix + err.Error()
	}
	if len(stmts) != 1 {
		return fmt.Sprintf("ERROR: %d statements", len(stmts))
	}
	res, job, err := sess.Execute(stmts[0])
	if err != nil {
		return "ERROR: " + err.Error()
	}
	if res != nil {
		return "ERROR: not a query"
	}
	opts := job.Options()
	opts.Parallelism = 1
	opts.StateBackend = weir.StateHeap
	env := weir.NewEnvironment(opts)
	var out []string
	err = job.Build(env, func(r row.Row) error {
		if len(r.Fields) != 1 {
			return fmt.Errorf("want one column, got %d", len(r.Fields))
		}
		if r.Fields[0].IsNull() {
			out = append(out, "NULL")
		} else {
			out = append(out, r.Fields[0].Str())
		}
		return nil
	})
	if err != nil {
		return "ERROR: " + err.Error()
	}
	if err := env.Execute(t.Context()); err != nil {
		return "ERROR: " + err.Error()
	}
	if len(out) != 1 {
		return fmt.Sprintf("ERROR: %d rows", len(out))
	}
	return out[0]
}
