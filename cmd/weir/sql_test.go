package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weirstream/weir"
	"github.com/weirstream/weir/nexmark"
)

// runSQL runs `weir sql args...` in process with stdin.
func runSQL(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("HOME", t.TempDir()) // the client's history file
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(append([]string{"sql"}, args...))
	err = cmd.Execute()
	return out.String(), errb.String(), err
}

const bidCSV = `2020-04-15 08:05:00,4.00,C,supplier1
2020-04-15 08:07:00,2.00,A,supplier1
2020-04-15 08:09:00,5.00,D,supplier2
2020-04-15 08:11:00,3.00,B,supplier2
2020-04-15 08:13:00,1.00,E,supplier1
2020-04-15 08:17:00,6.00,F,supplier2
`

func bidTable(t *testing.T) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "bid.csv")
	if err := os.WriteFile(path, []byte(bidCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	return `CREATE TABLE Bid (bidtime TIMESTAMP(3), price DECIMAL(10, 2), item STRING, supplier_id STRING,
  WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND)
  WITH ('connector' = 'filesystem', 'path' = '` + path + `', 'format' = 'csv');
`
}

// TestSQLFile runs a job file: DDL, SET, a window aggregation printed in
// the tableau mode, as Flink's documentation shows its result.
func TestSQLFile(t *testing.T) {
	job := filepath.Join(t.TempDir(), "job.sql")
	script := bidTable(t) + `
SET 'sql-client.execution.result-mode' = 'tableau';
SELECT window_start, window_end, SUM(price) AS total_price
  FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
  GROUP BY window_start, window_end;
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
+----+-------------------------+-------------------------+------------------------------------------+
| op |            window_start |              window_end |                              total_price |
+----+-------------------------+-------------------------+------------------------------------------+
| +I | 2020-04-15 08:00:00.000 | 2020-04-15 08:10:00.000 |                                    11.00 |
| +I | 2020-04-15 08:10:00.000 | 2020-04-15 08:20:00.000 |                                    10.00 |
+----+-------------------------+-------------------------+------------------------------------------+
Received a total of 2 rows
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// TestSQLInteractive feeds statements on stdin: multi-line statements,
// an error that does not end the session, JSON output, QUIT.
func TestSQLInteractive(t *testing.T) {
	in := bidTable(t) + `SELECT item,
  price FROM Bid
  WHERE supplier_id = 'supplier2';
SELECT nope FROM Bid;
SHOW TABLES;
QUIT;
SELECT 1;
`
	out, stderr, err := runSQL(t, in, "--output", "json", "--parallelism", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	want := `[INFO] Execute statement succeeded.
{"item":"D","op":"+I","price":"5.00"}
{"item":"B","op":"+I","price":"3.00"}
{"item":"F","op":"+I","price":"6.00"}
+------------+
| table name |
+------------+
|        Bid |
+------------+
1 row in set
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "[ERROR] Could not execute SQL statement. Reason:\nsql: line 1, column 8: Column 'nope' not found in any table") {
		t.Errorf("stderr lacks the error of the bad statement:\n%s", stderr)
	}
}

func TestSQLInputEndsInsideStatement(t *testing.T) {
	_, _, err := runSQL(t, "SELECT 1", "--parallelism", "1")
	if err == nil || !strings.Contains(err.Error(), "missing ';'") {
		t.Errorf("got %v, want an error about the unfinished statement", err)
	}
}

func TestStatementComplete(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1;":            true,
		"SELECT 1":             false,
		"SELECT ';'":           false,
		"SELECT ';';":          true,
		"SELECT 1 -- done;":    false,
		"SELECT 1; -- done":    true,
		"SELECT `a;b` FROM t":  false,
		"SELECT /* ; */ 1":     false,
		"SELECT 'it''s';":      true,
		"BEGIN STATEMENT SET;": false,
		"BEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;":       false,
		"BEGIN STATEMENT SET;\nINSERT INTO a SELECT 1;\nEND;": true,
	}
	for in, want := range cases {
		if got := statementComplete(in); got != want {
			t.Errorf("statementComplete(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestSQLFileNexmark: `weir sql` sessions have the nexmark connector and
// the nexmark project's count_char, so a Nexmark SQL script (here q14's)
// runs as written; the count of its rows and of their 'c's equals the
// DataStream q14's on the same events.
func TestSQLFileNexmark(t *testing.T) {
	const events = 3000
	script, err := nexmark.SQLScriptIn("q14", events, 7, 10000, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	script += `
SET 'sql-client.execution.result-mode' = 'tableau';
SELECT COUNT(*) AS n, SUM(count_char(extra, 'c')) AS c FROM bid
  WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
`
	job := filepath.Join(t.TempDir(), "q14.sql")
	if err := os.WriteFile(job, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runSQL(t, "", "-f", job, "--parallelism", "1")
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
	var last string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| +I |") || strings.HasPrefix(l, "| +U |") {
			last = l
		}
	}
	t.Logf("final row: %s", last)
	f := strings.Fields(strings.NewReplacer("|", " ").Replace(last))
	if len(f) != 3 {
		t.Fatalf("no final count row in:\n%s", out)
	}

	q, _ := nexmark.Lookup("q14")
	evs, err := nexmark.Generate(nexmark.DefaultConfig(events, 7))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := nexmark.Run(context.Background(), q, evs, weir.Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	var c int64
	for _, r := range ref {
		var row struct {
			C int64 `json:"c_counts"`
		}
		if err := json.Unmarshal(r, &row); err != nil {
			t.Fatal(err)
		}
		c += row.C
	}
	if len(ref) == 0 {
		t.Fatal("the DataStream q14 has no rows: the comparison proves nothing")
	}
	if n, cs := strconv.Itoa(len(ref)), strconv.FormatInt(c, 10); f[1] != n || f[2] != cs {
		t.Errorf("weir sql: %s rows with %s 'c's, DataStream q14: %s rows with %s\n%s", f[1], f[2], n, cs, out)
	}
}
