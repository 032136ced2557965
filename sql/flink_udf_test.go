package sql_test

import (
	"strings"
	"testing"

	"github.com/weirstream/weir/row"
	"github.com/weirstream/weir/sql"
)

// registerFlinkTestFunctions registers Flink's test functions the
// flink_itcase_*.txt scripts bind by CREATE FUNCTION to their Java class
// names (as the ITCases' createTemporarySystemFunction does).
func registerFlinkTestFunctions(t testing.TB, s *sql.Session) {
	t.Helper()
	if err := s.RegisterFunction("org.apache.flink.table.planner.runtime.utils.JavaUserDefinedTableFunctions$StringSplit", stringSplit{}); err != nil {
		t.Fatal(err)
	}
}

// stringSplit is Flink's test table function StringSplit
// (JavaUserDefinedTableFunctions.StringSplit, used by CorrelateITCase):
// STRING_SPLIT() emits a, b, c; STRING_SPLIT(s) splits on commas;
// STRING_SPLIT(s, chars) splits as Apache Commons' StringUtils.split does:
// on any of chars, adjacent separators as one, no empty tokens (so an
// empty string emits nothing); a NULL s emits nothing.
type stringSplit struct{}

func (stringSplit) ResultType([]row.Type) ([]row.Field, error) {
	return []row.Field{{Name: "f0", Type: row.String()}}, nil
}

func (stringSplit) Eval(args []row.Value, emit func(...row.Value)) error {
	if len(args) == 0 {
		for _, s := range []string{"a", "b", "c"} {
			emit(row.Str(s))
		}
		return nil
	}
	if args[0].IsNull() {
		return nil
	}
	seps := ","
	if len(args) > 1 && !args[1].IsNull() {
		seps = args[1].Str()
	}
	for _, s := range strings.FieldsFunc(args[0].Str(), func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		emit(row.Str(s))
	}
	return nil
}
