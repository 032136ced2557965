package expr

import (
	"testing"
	"time"

	"github.com/weirstream/weir/row"
)

// Cast matrix cases; expectations from Flink's CastFunctionITCase (legacy
// cast behaviour disabled) and the "Casting" table of Flink's data types
// page.
func TestCastMatrix(t *testing.T) {
	runEvalTests(t, []evalTest{
		// to STRING / CHAR / VARCHAR
		{"CAST('abcdef' AS CHAR(3))", "abc", "CHAR(3) NOT NULL"},
		{"CAST('foo' AS CHAR(5))", "foo  ", ""},
		{"CAST('abcdef' AS VARCHAR(3))", "abc", "VARCHAR(3) NOT NULL"},
		{"CAST(DATE '2021-09-24' AS CHAR(3))", "202", ""},
		{"CAST(TRUE AS STRING)", "TRUE", "STRING NOT NULL"},
		{"CAST(X'3031' AS STRING)", "01", ""},
		{"CAST(9.870 AS STRING)", "9.870", ""},
		{"CAST(CAST(123.456 AS FLOAT) AS STRING)", "123.456", ""},
		{"CAST(123.456789e0 AS STRING)", "123.456789", ""},
		{"CAST(1e10 AS STRING)", "1.0E10", ""},
		{"CAST(-12345678901 AS STRING)", "-12345678901", ""},
		{"CAST(DATE '2021-09-24' AS STRING)", "2021-09-24", ""},
		{"CAST(TIME '12:34:56.123' AS STRING)", "12:34:56", ""}, // FLINK-17224: fraction lost
		{"CAST($18 AS STRING)", "2021-09-24 12:34:56.123456789", ""},
		{"CAST(CAST($18 AS TIMESTAMP(4)) AS STRING)", "2021-09-24 12:34:56.1234", ""},
		{"CAST(TIMESTAMP '2021-09-24 12:34:56.1' AS STRING)", "2021-09-24 12:34:56.1", ""},
		{"CAST(INTERVAL '10-4' YEAR TO MONTH AS STRING)", "+10-04", ""},
		{"CAST(INTERVAL '1 10:17:36.789' DAY TO SECOND AS STRING)", "+1 10:17:36.789", ""},
		{"CAST($12 AS STRING)", "[1, 2, 3]", ""},
		{"CAST($5 AS STRING)", "NULL", "STRING"},
		// to BOOLEAN
		{"CAST('true' AS BOOLEAN)", "TRUE", "BOOLEAN NOT NULL"},
		{"CAST('FalsE' AS BOOLEAN)", "FALSE", ""},
		{"CAST('foo' AS BOOLEAN)", "ERROR cannot cast 'foo' to BOOLEAN", ""},
		{"CAST('' AS BOOLEAN)", "ERROR", ""},
		{"CAST(5 AS BOOLEAN)", "TRUE", ""},
		{"CAST(-5 AS BOOLEAN)", "TRUE", ""},
		{"CAST(0 AS BOOLEAN)", "FALSE", ""},
		{"CAST(DATE '2021-09-24' AS BOOLEAN)", "ERROR Cast function cannot convert value of type DATE to type BOOLEAN", ""},
		{"CAST(X'00' AS BOOLEAN)", "ERROR Cast function cannot convert", ""},
		// to BINARY / BYTES: a string's UTF-8 bytes (Flink since 1.15,
		// FLINK-27212), trimmed, BINARY(n) zero-padded
		{"CAST('fo' AS BINARY(2))", "x'666f'", "BINARY(2) NOT NULL"},
		{"CAST('foobar' AS BINARY(2))", "x'666f'", ""},
		{"CAST('f' AS BINARY(2))", "x'6600'", ""},
		{"CAST('é' AS VARBINARY(4))", "x'c3a9'", ""},
		{"CAST(X'6f' AS BINARY(2))", "x'6f00'", ""},
		{"CAST(X'00010203' AS VARBINARY(2))", "x'0001'", ""},
		{"CAST('zz' AS BYTES)", "x'7a7a'", ""},
		// BINARY to STRING: the bytes as UTF-8, failing on invalid UTF-8
		// (Flink 2.4, FLINK-39623); TRY_CAST gives NULL
		{"CAST(X'68656c6c6f' AS STRING)", "hello", "STRING NOT NULL"},
		{"CAST(X'c3a9' AS VARCHAR(4))", "é", ""},
		{"CAST(X'68656c6c6f' AS CHAR(3))", "hel", ""},
		{"CAST(X'80' AS STRING)", "ERROR not valid UTF-8", ""},
		{"TRY_CAST(X'80' AS STRING)", "NULL", ""},
		{"CAST(12.345 AS BYTES)", "ERROR Cast function cannot convert", ""},
		// to DECIMAL
		{"CAST('1.234' AS DECIMAL(5, 3))", "1.234", "DECIMAL(5, 3)"},
		{"CAST('1.2' AS DECIMAL(5, 3))", "1.200", ""},
		{"CAST('foo' AS DECIMAL(5, 3))", "ERROR not a number", ""},
		{"CAST(TRUE AS DECIMAL(5, 3))", "1.000", ""},
		{"CAST(9.87 AS DECIMAL(5, 3))", "9.870", ""},
		{"CAST(-1 AS DECIMAL(5, 3))", "-1.000", ""},
		{"CAST(CAST(-12.345 AS FLOAT) AS DECIMAL(5, 3))", "-12.345", ""},
		{"CAST(12.678e0 AS DECIMAL(5, 3))", "12.678", ""},
		{"CAST(1.005 AS DECIMAL(3, 2))", "1.01", ""}, // HALF_UP
		{"CAST(-1.005 AS DECIMAL(3, 2))", "-1.01", ""},
		{"CAST(123.45 AS DECIMAL(3, 1))", "NULL", "DECIMAL(3, 1)"}, // overflow is NULL
		{"CAST(9.99 AS DECIMAL(2, 1))", "NULL", "DECIMAL(2, 1)"},   // rounding overflows
		{"CAST(1.25 AS DECIMAL(4, 1))", "1.3", "DECIMAL(4, 1) NOT NULL"},
		{"CAST(42 AS DECIMAL(12, 2))", "42.00", "DECIMAL(12, 2) NOT NULL"},
		{"CAST(42 AS DECIMAL(11, 2))", "42.00", "DECIMAL(11, 2)"}, // INT may not fit
		{"CAST(12345678901234567890123 AS DECIMAL(38, 2))", "12345678901234567890123.00", ""},
		// to integers: narrowing wraps (FLINK-24420), strings are checked
		{"CAST('1.234' AS TINYINT)", "1", "TINYINT NOT NULL"},
		{"CAST('123' AS TINYINT)", "123", ""},
		{"CAST('-130' AS TINYINT)", "ERROR out of range", ""},
		{"CAST('foo' AS TINYINT)", "ERROR not a number", ""},
		{"CAST(9.87 AS TINYINT)", "9", ""},
		{"CAST(9123.87 AS TINYINT)", "-93", ""},
		{"CAST(12345 AS TINYINT)", "57", ""},
		{"CAST(1234567 AS TINYINT)", "-121", ""},
		{"CAST(12345678901 AS TINYINT)", "53", ""},
		{"CAST(123.456e0 AS TINYINT)", "123", ""},
		{"CAST(-123.456e0 AS TINYINT)", "-123", ""},
		{"CAST(32780 AS SMALLINT)", "-32756", ""},
		{"CAST(123456.78e0 AS SMALLINT)", "-7616", ""},
		{"CAST(91235.87 AS SMALLINT)", "25699", ""},
		{"CAST('-32769' AS SMALLINT)", "ERROR out of range", ""},
		{"CAST(TRUE AS INT)", "1", ""},
		{"CAST(12345678901 AS INT)", "-539222987", ""},
		{"CAST(1e20 AS INT)", "2147483647", ""},
		{"CAST(1e20 AS BIGINT)", "9223372036854775807", ""},
		{"CAST(CAST('NaN' AS DOUBLE) AS INT)", "0", ""},
		{"CAST(' 42 ' AS INT)", "42", ""},
		{"CAST(DATE '2021-09-24' AS INT)", "ERROR Cast function cannot convert", ""},
		// to FLOAT / DOUBLE
		{"CAST('1.5' AS DOUBLE)", "1.5", "DOUBLE NOT NULL"},
		{"CAST('1e3' AS DOUBLE)", "1000.0", ""},
		{"CAST('-Infinity' AS DOUBLE)", "-Infinity", ""},
		{"CAST('x' AS DOUBLE)", "ERROR not a number", ""},
		{"CAST(12.345 AS DOUBLE)", "12.345", ""},
		{"CAST(0.1 AS FLOAT)", "0.1", "FLOAT NOT NULL"},
		{"CAST(TRUE AS DOUBLE)", "1.0", ""},
		// temporal
		{"CAST('2021-09-24' AS DATE)", "2021-09-24", "DATE NOT NULL"},
		{"CAST('2021-9-4' AS DATE)", "2021-09-04", ""},
		{"CAST('2021-02-30' AS DATE)", "ERROR not a date", ""},
		{"CAST('12:34:56.123' AS TIME(3))", "12:34:56.123", "TIME(3) NOT NULL"},
		{"CAST('25:00:00' AS TIME)", "ERROR not a time", ""},
		{"CAST('2021-09-24 12:34:56.1234567' AS TIMESTAMP(6))", "2021-09-24 12:34:56.123456", "TIMESTAMP(6) NOT NULL"},
		{"CAST('2021-09-24T12:34:56' AS TIMESTAMP(0))", "2021-09-24 12:34:56", ""},
		{"CAST('2021-09-24' AS TIMESTAMP(3))", "2021-09-24 00:00:00.000", ""},
		{"CAST('2021-09-24 xx' AS TIMESTAMP(3))", "ERROR not a timestamp", ""},
		{"CAST($6 AS DATE)", "2021-09-24", "DATE"},
		{"CAST($6 AS TIME(0))", "12:34:56", "TIME(0)"},
		{"CAST($10 AS TIMESTAMP(3))", "2021-09-24 00:00:00.000", ""},
		{"CAST($18 AS TIMESTAMP(3))", "2021-09-24 12:34:56.123", ""},
		{"CAST($18 AS TIMESTAMP(0))", "2021-09-24 12:34:56", ""},
		{"CAST(TIME '12:00:00' AS DATE)", "ERROR Cast function cannot convert", ""},
		{"CAST(TIMESTAMP '1969-12-31 23:59:59.999' AS DATE)", "1969-12-31", ""},
		{"CAST(TIMESTAMP '1969-12-31 23:59:59.999' AS TIME(3))", "23:59:59.999", ""},
		// constructed
		{"CAST($12 AS ARRAY<BIGINT>)", "[1, 2, 3]", "ARRAY<BIGINT>"},
		{"CAST(ARRAY('1', 'x') AS ARRAY<INT>)", "ERROR not a number", ""},
		{"CAST($13 AS MAP<STRING, DOUBLE>)", "{a=1.0, b=2.0}", ""},
		// NULL
		{"CAST(NULL AS INT)", "NULL", "INT"},
		{"CAST($4 AS STRING)", "NULL", "STRING"},
		// TRY_CAST: NULL instead of an error, always nullable
		{"TRY_CAST('foo' AS INT)", "NULL", "INT"},
		{"TRY_CAST('42' AS INT)", "42", "INT"},
		{"TRY_CAST('2021-02-30' AS DATE)", "NULL", "DATE"},
		{"TRY_CAST('x' AS BOOLEAN)", "NULL", ""},
		{"TRY_CAST(DATE '2021-09-24' AS INT)", "ERROR Cast function cannot convert", ""},
	}, nil)
}

func TestCanCast(t *testing.T) {
	ok := [][2]row.Type{
		{row.IntType(), row.String()}, {row.String(), row.IntType()}, {row.Double(), row.TinyInt()},
		{row.Boolean(), row.DecimalType(5, 2)}, {row.IntType(), row.Boolean()},
		{row.DateType(), row.TimestampLTZType(3)}, {row.TimestampLTZType(3), row.TimeType(0)},
		{row.String(), row.BytesType()}, {row.BytesType(), row.String()}, {row.NullType(), row.DateType()},
		{row.ArrayType(row.IntType()), row.ArrayType(row.String())},
		{row.RowType(row.Col("a", row.IntType())), row.RowType(row.Col("b", row.BigInt()))},
	}
	bad := [][2]row.Type{
		{row.DateType(), row.IntType()}, {row.TimeType(0), row.DateType()}, {row.BytesType(), row.Boolean()},
		{row.BytesType(), row.IntType()}, {row.IntType(), row.TimestampType(3)}, {row.Boolean(), row.DateType()},
		{row.ArrayType(row.IntType()), row.IntType()}, {row.String(), row.ArrayType(row.IntType())},
		{row.IntervalDayTime(), row.IntervalYearMonth()}, {row.IntType(), row.BytesType()},
	}
	for _, c := range ok {
		if !CanCast(c[0], c[1]) {
			t.Errorf("CanCast(%s, %s) = false, want true", c[0], c[1])
		}
	}
	for _, c := range bad {
		if CanCast(c[0], c[1]) {
			t.Errorf("CanCast(%s, %s) = true, want false", c[0], c[1])
		}
	}
}

// A TRY_CAST inside a larger expression yields NULL there too, and a CAST
// error names CAST.
func TestCastErrorsAreErrors(t *testing.T) {
	e, err := NewCast(StringLiteral("nope"), row.IntType())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Eval(&EvalContext{Location: time.UTC}, e, nil)
	if err == nil || err.Error() != "expr: CAST: cannot cast 'nope' to INT: not a number" {
		t.Fatalf("err = %v", err)
	}
}

func TestUTF8Functions(t *testing.T) {
	tests := []struct{ in, valid, made string }{
		{"Hello", "TRUE", "Hello"},
		{"\x80", "FALSE", "\uFFFD"},
		{"a\xe2\x82b", "FALSE", "a\uFFFDb"},             // truncated 3-byte sequence: one U+FFFD
		{"\xe0\x80\x80", "FALSE", "\uFFFD\uFFFD\uFFFD"}, // overlong: E0 takes A0..BF next
		{"\xed\xa0\x80", "FALSE", "\uFFFD\uFFFD\uFFFD"}, // surrogate U+D800
		{"\xf4\x90\x80\x80", "FALSE", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xf0\x9f\x98", "FALSE", "\uFFFD"},
		{"\xc3\xa9\xff", "FALSE", "\u00e9\uFFFD"},
	}
	for _, tc := range tests {
		v := Lit(row.BytesString(tc.in), row.BytesType().NotNull())
		for fn, want := range map[string]string{"IS_VALID_UTF8": tc.valid, "MAKE_VALID_UTF8": tc.made} {
			e, err := NewCall(fn, v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Eval(nil, e, nil)
			if err != nil {
				t.Fatalf("%s(%q): %v", fn, tc.in, err)
			}
			if s := row.Format(got, e.Type()); s != want {
				t.Errorf("%s(%q) = %q, want %q", fn, tc.in, s, want)
			}
		}
	}
}
