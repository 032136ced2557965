package nexmark

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/connector"
	"github.com/weirstream/weir/sql/udf"
)

// CountCharClass is the identifier q14's count_char is registered under
// in a session of SQLSession: the nexmark project's class name, so the
// project's CREATE FUNCTION statement runs unchanged.
const CountCharClass = "com.github.nexmark.flink.udf.CountChar"

// SQLSession returns a SQL session for the Nexmark SQL jobs: opts with
// the 'nexmark' connector registered (beside the default connectors when
// opts.Connectors is nil) and the nexmark project's functions registered
// for CREATE FUNCTION (count_char, CountCharClass).
func SQLSession(opts sql.SessionOptions) (*sql.Session, error) {
	if opts.Connectors == nil {
		opts.Connectors = connector.Default()
	}
	opts.Connectors.Register(TableFactory{})
	sess := sql.NewSession(opts)
	if err := RegisterSQLFunctions(sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// RegisterSQLFunctions registers the nexmark project's user-defined
// functions on sess: count_char under CountCharClass.
func RegisterSQLFunctions(sess *sql.Session) error {
	fn, err := udf.Func2(countChar)
	if err != nil {
		return fmt.Errorf("nexmark: count_char: %w", err)
	}
	return sess.RegisterFunction(CountCharClass, fn)
}

// countChar is the nexmark project's CountChar: how many times the first
// character of c occurs in s (0 for a NULL s).
func countChar(s *string, c string) (int64, error) {
	if s == nil {
		return 0, nil
	}
	r, n := utf8.DecodeRuneInString(c)
	if n == 0 {
		return 0, fmt.Errorf("count_char: the character to count is empty")
	}
	return int64(strings.Count(*s, string(r))), nil
}
