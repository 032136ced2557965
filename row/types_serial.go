package row

import "strings"

// SerializableString prints t as Flink's LogicalType.asSerializableString
// does, the form SHOW CREATE TABLE writes: STRING and BYTES as
// VARCHAR(2147483647) and VARBINARY(2147483647), TIMESTAMP_LTZ(p) as
// TIMESTAMP(p) WITH LOCAL TIME ZONE, ROW fields with
// back-quoted names, NOT NULL where not nullable, no time attribute marks.
func (t Type) SerializableString() string {
	var b strings.Builder
	t.write(&b, true)
	return b.String()
}
