package connector_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestPostgresCDCTimestampsOutsideUnixNano reads DATE, TIME, TIMESTAMP and
// TIMESTAMPTZ values outside 1677-2262 (where nanoseconds since 1970
// overflow an int64) with postgres-cdc, in the snapshot and from the
// replication stream, into declared types of several precisions: each
// reads as itself, its fraction cut to the declared precision as within
// that range (a TIMESTAMP(0) of 1000-01-01 00:00:00.5 kept the 500 ms).
func TestPostgresCDCTimestampsOutsideUnixNano(t *testing.T) {
	c := pgConn(t)
	name := uniqueName("sqlcdcts")
	pgExec(t, c, fmt.Sprintf(`CREATE TABLE %s (id INT PRIMARY KEY, dt DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, ts0 TIMESTAMP, tz1 TIMESTAMPTZ)`, name))
	pgExec(t, c, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL", name))
	t.Cleanup(func() {
		pgDropSlot(name)
		c.Exec(context.Background(), "DROP PUBLICATION IF EXISTS "+name+"_pub")
		c.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	})
	ins := fmt.Sprintf("INSERT INTO %s VALUES ($1, $2::date, $3::time, $4::timestamp, $5::timestamptz, $4::timestamp, $5::timestamptz)", name)
	// Read by the snapshot.
	pgExec(t, c, ins, 1, "1000-01-01", "23:59:59.999999", "1000-01-01 00:00:00.567891", "1000-01-01 00:00:00.567891+00")
	pgExec(t, c, ins, 2, "1677-09-21", "00:00:00.5", "1677-09-21 00:12:43.145224", "1677-09-21 00:12:43.145224+00")
	script := fmt.Sprintf(`
CREATE TABLE src (
  id INT, dt DATE, tm TIME(3), ts TIMESTAMP(6), tz TIMESTAMP_LTZ(6), ts0 TIMESTAMP(0), tz1 TIMESTAMP_LTZ(1),
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'postgres-cdc', 'hostname' = '127.0.0.1', 'username' = 'postgres', 'database-name' = 'test',
  'schema-name' = 'public', 'table-name' = '%s', 'slot.name' = '%s'
);
SELECT id, dt, tm, ts, tz, CAST(ts0 AS TIMESTAMP(6)), CAST(tz1 AS TIMESTAMP_LTZ(6)) FROM src;`, name, name)
	want := []string{
		"+I[1, 1000-01-01, 23:59:59.999, 1000-01-01 00:00:00.567891, 1000-01-01 00:00:00.567891, 1000-01-01 00:00:00.000000, 1000-01-01 00:00:00.500000]",
		"+I[2, 1677-09-21, 00:00:00.500, 1677-09-21 00:12:43.145224, 1677-09-21 00:12:43.145224, 1677-09-21 00:12:43.000000, 1677-09-21 00:12:43.100000]",
		"+I[3, 2262-04-12, 12:00:00.000, 2262-04-12 00:00:00.999999, 2262-04-12 00:00:00.999999, 2262-04-12 00:00:00.000000, 2262-04-12 00:00:00.900000]",
		"+I[4, 9999-12-31, 00:00:00.000, 9999-12-31 23:59:59.999999, 9999-12-31 23:59:59.999999, 9999-12-31 23:59:59.000000, 9999-12-31 23:59:59.900000]",
		"-D[1, 1000-01-01, 23:59:59.999, 1000-01-01 00:00:00.567891, 1000-01-01 00:00:00.567891, 1000-01-01 00:00:00.000000, 1000-01-01 00:00:00.500000]",
	}
	log := runLiveN(t, script, len(want), func(l *liveResult) {
		l.waitRows(t, 2) // the snapshot's rows
		// Read from the replication stream.
		pgExec(t, c, ins, 3, "2262-04-12", "12:00:00", "2262-04-12 00:00:00.999999", "2262-04-12 00:00:00.999999+00")
		pgExec(t, c, ins, 4, "9999-12-31", "00:00:00", "9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999999+00")
		pgExec(t, c, fmt.Sprintf("DELETE FROM %s WHERE id = 1", name))
	}, func() []string { return nil })
	if strings.Join(log, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changelog:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
}
