package ast

import (
	"strings"
	"unicode"
)

// reserved holds the words that cannot be used as unquoted identifiers. It is smaller than
// Flink's list (which follows SQL:2011); it holds the words the grammar needs to tell clauses,
// operators and special forms apart from names.
var reserved = map[string]bool{
	"ALL": true, "AND": true, "ARRAY": true, "AS": true, "ASYMMETRIC": true, "BETWEEN": true,
	"BOTH": true, "BY": true, "CASE": true, "CONSTRAINT": true, "CROSS": true, "CUBE": true,
	"CURRENT_DATE": true, "CURRENT_TIME": true, "CURRENT_TIMESTAMP": true, "DATE": true,
	"DISTINCT": true, "ELSE": true, "END": true, "ESCAPE": true, "EXCEPT": true, "EXISTS": true,
	"FALSE": true, "FETCH": true, "FILTER": true, "FOR": true, "FROM": true, "FULL": true,
	"GROUP": true, "GROUPING": true, "HAVING": true, "IN": true, "INNER": true,
	"INTERSECT": true, "INTERVAL": true, "IS": true, "JOIN": true, "LATERAL": true,
	"LEADING": true, "LEFT": true, "LIKE": true, "LIMIT": true, "LOCALTIME": true,
	"LOCALTIMESTAMP": true, "MAP": true, "MATCH_RECOGNIZE": true, "MINUS": true,
	"MULTISET": true, "NATURAL": true, "NOT": true, "NULL": true, "OFFSET": true, "ON": true,
	"OR": true, "ORDER": true, "OUTER": true, "OVER": true, "PARTITION": true,
	"PRIMARY": true, "RIGHT": true, "ROLLUP": true, "ROW": true, "SELECT": true,
	"SIMILAR": true, "SYMMETRIC": true, "TABLE": true, "THEN": true, "TIME": true,
	"TIMESTAMP": true, "TRAILING": true, "TRUE": true, "UNION": true, "UNKNOWN": true,
	"UNNEST": true, "USING": true, "VALUES": true, "WHEN": true, "WHERE": true,
	"WINDOW": true, "WITH": true,
}

// flinkReserved holds Flink's (Calcite's SQL:2011) reserved words. The parser accepts most of
// them as plain identifiers, but the printer back-quotes them so that its output is also valid
// Flink SQL.
var flinkReserved = map[string]bool{
	"ABS": true, "ALL": true, "ALLOCATE": true, "ALLOW": true, "ALTER": true, "AND": true,
	"ANY": true, "ARE": true, "ARRAY": true, "ARRAY_MAX_CARDINALITY": true, "AS": true,
	"ASENSITIVE": true, "ASYMMETRIC": true, "AT": true, "ATOMIC": true, "AUTHORIZATION": true,
	"AVG": true, "BEGIN": true, "BEGIN_FRAME": true, "BEGIN_PARTITION": true, "BETWEEN": true,
	"BIGINT": true, "BINARY": true, "BIT": true, "BLOB": true, "BOOLEAN": true, "BOTH": true,
	"BY": true, "CALL": true, "CALLED": true, "CARDINALITY": true, "CASCADED": true, "CASE": true,
	"CAST": true, "CEIL": true, "CEILING": true, "CHAR": true, "CHARACTER": true,
	"CHARACTER_LENGTH": true, "CHAR_LENGTH": true, "CHECK": true, "CLASSIFIER": true, "CLOB": true,
	"CLOSE": true, "COALESCE": true, "COLLATE": true, "COLLECT": true, "COLUMN": true,
	"COMMIT": true, "CONDITION": true, "CONNECT": true, "CONSTRAINT": true, "CONTAINS": true,
	"CONVERT": true, "CORR": true, "CORRESPONDING": true, "COUNT": true, "COVAR_POP": true,
	"COVAR_SAMP": true, "CREATE": true, "CROSS": true, "CUBE": true, "CUME_DIST": true,
	"CURRENT": true, "CURRENT_CATALOG": true, "CURRENT_DATE": true,
	"CURRENT_DEFAULT_TRANSFORM_GROUP": true, "CURRENT_PATH": true, "CURRENT_ROLE": true,
	"CURRENT_ROW": true, "CURRENT_SCHEMA": true, "CURRENT_TIME": true, "CURRENT_TIMESTAMP": true,
	"CURRENT_TRANSFORM_GROUP_FOR_TYPE": true, "CURRENT_USER": true, "CURSOR": true, "CYCLE": true,
	"DATE": true, "DAY": true, "DEALLOCATE": true, "DEC": true, "DECIMAL": true, "DECLARE": true,
	"DEFAULT": true, "DEFINE": true, "DELETE": true, "DENSE_RANK": true, "DEREF": true,
	"DESCRIBE": true, "DETERMINISTIC": true, "DISALLOW": true, "DISCONNECT": true, "DISTINCT": true,
	"DOUBLE": true, "DROP": true, "DYNAMIC": true, "EACH": true, "ELEMENT": true, "ELSE": true,
	"EMPTY": true, "END": true, "END_FRAME": true, "END_PARTITION": true, "EQUALS": true,
	"ESCAPE": true, "EVERY": true, "EXCEPT": true, "EXEC": true, "EXECUTE": true, "EXISTS": true,
	"EXP": true, "EXPLAIN": true, "EXTEND": true, "EXTERNAL": true, "EXTRACT": true, "FALSE": true,
	"FETCH": true, "FILTER": true, "FIRST_VALUE": true, "FLOAT": true, "FLOOR": true, "FOR": true,
	"FOREIGN": true, "FRAME_ROW": true, "FREE": true, "FROM": true, "FULL": true, "FUNCTION": true,
	"FUSION": true, "GET": true, "GLOBAL": true, "GRANT": true, "GROUP": true, "GROUPING": true,
	"GROUPS": true, "HAVING": true, "HOLD": true, "HOUR": true, "IDENTITY": true, "IMPORT": true,
	"IN": true, "INDICATOR": true, "INITIAL": true, "INNER": true, "INOUT": true,
	"INSENSITIVE": true, "INSERT": true, "INT": true, "INTEGER": true, "INTERSECT": true,
	"INTERSECTION": true, "INTERVAL": true, "INTO": true, "IS": true, "JOIN": true, "LAG": true,
	"LANGUAGE": true, "LARGE": true, "LAST_VALUE": true, "LATERAL": true, "LEAD": true,
	"LEADING": true, "LEFT": true, "LIKE": true, "LIKE_REGEX": true, "LIMIT": true, "LN": true,
	"LOCAL": true, "LOCALTIME": true, "LOCALTIMESTAMP": true, "LOWER": true, "MATCH": true,
	"MATCHES": true, "MATCH_NUMBER": true, "MATCH_RECOGNIZE": true, "MAX": true, "MEASURES": true,
	"MEMBER": true, "MERGE": true, "METHOD": true, "MIN": true, "MINUS": true, "MINUTE": true,
	"MOD": true, "MODIFIES": true, "MODULE": true, "MONTH": true, "MULTISET": true,
	"NATIONAL": true, "NATURAL": true, "NCHAR": true, "NCLOB": true, "NEW": true, "NEXT": true,
	"NO": true, "NONE": true, "NORMALIZE": true, "NOT": true, "NTH_VALUE": true, "NTILE": true,
	"NULL": true, "NULLIF": true, "NUMERIC": true, "OCCURRENCES_REGEX": true, "OCTET_LENGTH": true,
	"OF": true, "OFFSET": true, "OLD": true, "OMIT": true, "ON": true, "ONE": true, "ONLY": true,
	"OPEN": true, "OR": true, "ORDER": true, "OUT": true, "OUTER": true, "OVER": true,
	"OVERLAPS": true, "OVERLAY": true, "PARAMETER": true, "PARTITION": true, "PATTERN": true,
	"PER": true, "PERCENT": true, "PERCENTILE_CONT": true, "PERCENTILE_DISC": true,
	"PERCENT_RANK": true, "PERIOD": true, "PERMUTE": true, "PORTION": true, "POSITION": true,
	"POSITION_REGEX": true, "POWER": true, "PRECEDES": true, "PRECISION": true, "PREPARE": true,
	"PREV": true, "PRIMARY": true, "PROCEDURE": true, "RANGE": true, "RANK": true, "READS": true,
	"REAL": true, "RECURSIVE": true, "REF": true, "REFERENCES": true, "REFERENCING": true,
	"RELEASE": true, "RESET": true, "RESULT": true, "RETURN": true, "RETURNS": true, "REVOKE": true,
	"RIGHT": true, "ROLLBACK": true, "ROLLUP": true, "ROW": true, "ROWS": true, "ROW_NUMBER": true,
	"RUNNING": true, "SAVEPOINT": true, "SCOPE": true, "SCROLL": true, "SEARCH": true,
	"SECOND": true, "SEEK": true, "SELECT": true, "SENSITIVE": true, "SESSION_USER": true,
	"SET": true, "SHOW": true, "SIMILAR": true, "SKIP": true, "SMALLINT": true, "SOME": true,
	"SPECIFIC": true, "SPECIFICTYPE": true, "SQL": true, "SQLEXCEPTION": true, "SQLSTATE": true,
	"SQLWARNING": true, "SQRT": true, "START": true, "STATIC": true, "STDDEV_POP": true,
	"STDDEV_SAMP": true, "STREAM": true, "SUBMULTISET": true, "SUBSET": true, "SUBSTRING": true,
	"SUBSTRING_REGEX": true, "SUCCEEDS": true, "SUM": true, "SYMMETRIC": true, "SYSTEM": true,
	"SYSTEM_TIME": true, "SYSTEM_USER": true, "TABLE": true, "TABLESAMPLE": true, "THEN": true,
	"TIME": true, "TIMESTAMP": true, "TIMEZONE_HOUR": true, "TIMEZONE_MINUTE": true,
	"TINYINT": true, "TO": true, "TRAILING": true, "TRANSLATE": true, "TRANSLATE_REGEX": true,
	"TRANSLATION": true, "TREAT": true, "TRIGGER": true, "TRIM": true, "TRIM_ARRAY": true,
	"TRUE": true, "TRUNCATE": true, "UESCAPE": true, "UNION": true, "UNIQUE": true, "UNKNOWN": true,
	"UNNEST": true, "UPDATE": true, "UPPER": true, "UPSERT": true, "USER": true, "USING": true,
	"VALUE": true, "VALUES": true, "VALUE_OF": true, "VARBINARY": true, "VARCHAR": true,
	"VARYING": true, "VAR_POP": true, "VAR_SAMP": true, "VERSIONING": true, "WHEN": true,
	"WHENEVER": true, "WHERE": true, "WIDTH_BUCKET": true, "WINDOW": true, "WITH": true,
	"WITHIN": true, "WITHOUT": true, "YEAR": true,
}

// IsReserved reports whether word (in any case) is a reserved word that must be back-quoted
// to be used as an identifier.
func IsReserved(word string) bool { return reserved[strings.ToUpper(word)] }

// IsIdentStart reports whether r may start an unquoted identifier.
func IsIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// IsIdentPart reports whether r may continue an unquoted identifier.
func IsIdentPart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// needsQuote reports whether name must be back-quoted to lex as one identifier.
func needsQuote(name string) bool {
	if name == "" || IsReserved(name) || flinkReserved[strings.ToUpper(name)] {
		return true
	}
	return !lexesAsIdent(name)
}

// lexesAsIdent reports whether name lexes as a single unquoted identifier.
func lexesAsIdent(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if i == 0 && !IsIdentStart(r) || !IsIdentPart(r) {
			return false
		}
	}
	return true
}

// quoteFuncName returns a function name part as it must be written: function names may be
// Flink reserved words (COUNT, SUM, FLOOR), so only the parser's own reserved words and
// non-identifier text are quoted.
func quoteFuncName(name string) string {
	if lexesAsIdent(name) && !IsReserved(name) {
		return name
	}
	return QuoteIdent(name)
}

// QuoteIdent returns name as it must be written in SQL: unchanged when it lexes as one
// non-reserved identifier, else back-quoted with inner back quotes doubled.
func QuoteIdent(name string) string {
	if !needsQuote(name) {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// QuoteString returns s as a SQL string literal, with inner quotes doubled.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
