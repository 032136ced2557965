package connector

import "strings"

// mysqlQuoteColumn quotes a column name for MySQL/MariaDB as one
// identifier, as Flink's MySQL dialect quotes field names: a dot is part
// of the name (unlike in table-name, where mysqlQuote reads "db.table"),
// and a backtick is doubled.
func mysqlQuoteColumn(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
