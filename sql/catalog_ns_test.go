package sql_test

import (
	"testing"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/udf"
)

// registerTagFunctions registers, for testdata/catalog_ns.txt, scalar
// functions that tag their argument with which one ran ('A:x', 'B:x',
// 'C:x'), so a script shows which of several functions of one name a
// call resolved to.
func registerTagFunctions(t *testing.T, s *sql.Session) {
	t.Helper()
	for _, tag := range []string{"A", "B", "C"} {
		fn, err := udf.Func1(func(x string) (string, error) { return tag + ":" + x, nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RegisterFunction("test.Tag"+tag, fn); err != nil {
			t.Fatal(err)
		}
	}
}
