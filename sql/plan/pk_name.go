package plan

import "strconv"

// GeneratedPrimaryKeyName is the name Flink gives a primary key CREATE
// TABLE declares without CONSTRAINT name: PK_ and the Java hash code of
// the list of its column names (constraintName), e.g. PK_3599338 for
// (`user`), as SHOW CREATE TABLE and ALTER TABLE DROP CONSTRAINT see it.
func GeneratedPrimaryKeyName(cols []string) string {
	h := int32(1)
	for _, c := range cols {
		h = 31*h + javaStringHash(c)
	}
	return "PK_" + strconv.Itoa(int(h))
}
