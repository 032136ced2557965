package row

import "testing"

// TestSerializableString: Flink's LogicalType.asSerializableString of each
// type (what SHOW CREATE TABLE prints), next to its summary (String).
func TestSerializableString(t *testing.T) {
	ltz := TimestampLTZType(3)
	ltz.TimeAttr = Rowtime
	cases := []struct {
		t               Type
		serial, summary string
	}{
		{ltz, "TIMESTAMP(3) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(3) *ROWTIME*"},
		{TimestampLTZType(6).NotNull(), "TIMESTAMP(6) WITH LOCAL TIME ZONE NOT NULL", "TIMESTAMP_LTZ(6) NOT NULL"},
		{ArrayType(TimestampLTZType(9)), "ARRAY<TIMESTAMP(9) WITH LOCAL TIME ZONE>", "ARRAY<TIMESTAMP_LTZ(9)>"},
		{TimestampType(3), "TIMESTAMP(3)", "TIMESTAMP(3)"},
		{TimeType(0), "TIME(0)", "TIME(0)"},
		{Type{Root: TypeChar, Nullable: false, Precision: 3}, "CHAR(3) NOT NULL", "CHAR(3) NOT NULL"},
		{Type{Root: TypeBinary, Nullable: true, Precision: 4}, "BINARY(4)", "BINARY(4)"},
		{DecimalType(10, 2), "DECIMAL(10, 2)", "DECIMAL(10, 2)"},
		{String(), "VARCHAR(2147483647)", "STRING"},
		{BytesType(), "VARBINARY(2147483647)", "BYTES"},
		{ArrayType(IntType().NotNull()).NotNull(), "ARRAY<INT NOT NULL> NOT NULL", "ARRAY<INT NOT NULL> NOT NULL"},
		{MapType(String().NotNull(), BigInt()), "MAP<VARCHAR(2147483647) NOT NULL, BIGINT>", "MAP<STRING NOT NULL, BIGINT>"},
		{MultisetType(IntType().NotNull()), "MULTISET<INT NOT NULL>", "MULTISET<INT NOT NULL>"},
		{RowType(Field{Name: "a`b", Type: TimestampLTZType(3)}), "ROW<`a``b` TIMESTAMP(3) WITH LOCAL TIME ZONE>", "ROW<`a``b` TIMESTAMP_LTZ(3)>"},
	}
	for _, c := range cases {
		if got := c.t.SerializableString(); got != c.serial {
			t.Errorf("SerializableString: got %q, want %q", got, c.serial)
		}
		if got := c.t.String(); got != c.summary {
			t.Errorf("String: got %q, want %q", got, c.summary)
		}
	}
}
