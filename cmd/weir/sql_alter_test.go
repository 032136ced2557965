package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSQLFileAlter runs a job file that alters its table before the
// query: the query reads the renamed and the added columns.
func TestSQLFileAlter(t *testing.T) {
	job := filepath.Join(t.TempDir(), "job.sql")
	script := bidTable(t) + `
ALTER TABLE Bid RENAME supplier_id TO supplier;
ALTER TABLE Bid ADD (
  doubled AS price * 2 AFTER price,
  tag STRING METADATA FROM 'file.name' VIRTUAL FIRST
);
ALTER TABLE Bid DROP tag;
SET 'sql-client.execution.result-mode' = 'tableau';
SELECT item, doubled, supplier FROM Bid WHERE supplier = 'supplier2';
`
	if err := os.WriteFile(job, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runSQL(t, "", "-f", job, "--parallelism", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := `[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
+----+--------------------------------+-------------------------+--------------------------------+
| op |                           item |                 doubled |                       supplier |
+----+--------------------------------+-------------------------+--------------------------------+
| +I |                              D |                   10.00 |                      supplier2 |
| +I |                              B |                    6.00 |                      supplier2 |
| +I |                              F |                   12.00 |                      supplier2 |
+----+--------------------------------+-------------------------+--------------------------------+
Received a total of 3 rows
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestSQLInteractiveAlter types ALTER statements over several lines into
// the interactive client: a refused one reports its error and the session
// goes on with the table unchanged.
func TestSQLInteractiveAlter(t *testing.T) {
	in := bidTable(t) + `ALTER TABLE Bid
  DROP bidtime;
ALTER TABLE Bid
  DROP WATERMARK;
ALTER TABLE Bid DROP (bidtime, supplier_id);
DESCRIBE Bid;
QUIT;
`
	out, stderr, err := runSQL(t, in, "--parallelism", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := `[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
[INFO] Execute statement succeeded.
+-------+----------------+------+--------+--------+-----------+
|  name |           type | null |    key | extras | watermark |
+-------+----------------+------+--------+--------+-----------+
| price | DECIMAL(10, 2) | TRUE | <NULL> | <NULL> |    <NULL> |
|  item |         STRING | TRUE | <NULL> | <NULL> |    <NULL> |
+-------+----------------+------+--------+--------+-----------+
2 rows in set
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "The column `bidtime` is referenced by watermark expression.") {
		t.Errorf("stderr lacks the refused DROP's error:\n%s", stderr)
	}
}
