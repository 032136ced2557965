package sql_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weirstream/weir/sql"
	"github.com/weirstream/weir/sql/parser"
)

// TestShowCreateTableRoundTrip: the text SHOW CREATE TABLE prints is a
// CREATE TABLE statement that, run in a fresh session, makes an equal
// table: the same SHOW CREATE TABLE text and the same DESCRIBE rows. Over
// tables with computed, metadata and quoted columns, comments, every kind
// of type, a watermark, named, unnamed and inline primary keys, partition
// keys, one derived with LIKE and one changed by ALTER TABLE.
func TestShowCreateTableRoundTrip(t *testing.T) {
	dir := t.TempDir()
	setup := strings.ReplaceAll(`
CREATE TABLE events (
  `+"`key`"+` STRING COMMENT 'the key',
  amount DOUBLE NOT NULL,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  part STRING METADATA VIRTUAL,
  `+"`off`"+` BIGINT METADATA FROM 'offset',
  dt STRING,
  big AS amount * 2 COMMENT 'twice',
  m MAP<STRING, ARRAY<BYTES>>,
  `+"`a b`"+` INT,
  `+"`x``y`"+` CHAR(3) NOT NULL,
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND,
  CONSTRAINT my_pk PRIMARY KEY (`+"`key`"+`) NOT ENFORCED
) COMMENT 'it''s events' PARTITIONED BY (dt) WITH ('connector' = 'filesystem', 'path' = '$DIR/events', 'format' = 'json');
CREATE TABLE types (
  `+"`user`"+` BIGINT NOT NULL,
  b BINARY(4), vb VARBINARY(10), c TIME(0), d DATE, l TIMESTAMP_LTZ(6), t TIMESTAMP(9),
  i1 INTERVAL YEAR TO MONTH, i2 INTERVAL DAY TO SECOND(3), g DECIMAL(10, 2),
  r ROW<x INT NOT NULL, `+"`select`"+` STRING>, ms MULTISET<INT NOT NULL>,
  arr ARRAY<INT NOT NULL> NOT NULL, mp MAP<STRING NOT NULL, BIGINT>,
  tiny TINYINT, small SMALLINT, fl FLOAT, db DOUBLE, bo BOOLEAN, vc VARCHAR(20),
  PRIMARY KEY (`+"`user`"+`) NOT ENFORCED
) WITH ('connector' = 'datagen');
CREATE TABLE exprs (
  id BIGINT PRIMARY KEY NOT ENFORCED,
  ms BIGINT,
  s STRING,
  r ROW<x INT, y STRING>,
  mp MAP<STRING, INT>,
  ts AS TO_TIMESTAMP_LTZ(ms, 3),
  c1 AS CAST(id AS DECIMAL(10, 2)),
  c2 AS CASE WHEN id > 0 THEN 'a''b' ELSE NULL END,
  c3 AS s IS NOT NULL AND s LIKE 'x%',
  c4 AS TO_TIMESTAMP(s) + INTERVAL '1' DAY,
  c5 AS mp['k'],
  c6 AS r.x + 1,
  c7 AS UPPER(TRIM(s)) || '-' || CAST(id AS STRING),
  c8 AS COALESCE(s, 'none'),
  c9 AS CURRENT_TIMESTAMP,
  c10 AS EXTRACT(DAY FROM TO_TIMESTAMP(s)),
  c11 AS TIMESTAMPADD(DAY, 1, TO_TIMESTAMP(s)),
  c12 AS JSON_VALUE(s, '$.a' RETURNING INT),
  c13 AS POSITION('a' IN s),
  c14 AS TRIM(BOTH 'x' FROM s),
  c15 AS SUBSTRING(s FROM 1 FOR 2),
  c16 AS CURRENT_DATE,
  c17 AS CEIL(TO_TIMESTAMP(s) TO DAY),
  c18 AS id BETWEEN 1 AND 3 OR s IN ('a', 'b') OR TRUE,
  c19 AS CAST(NULL AS INT),
  c20 AS LOCALTIMESTAMP,
  p AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
CREATE TEMPORARY TABLE derived (extra INT COMMENT 'more')
WITH ('connector' = 'filesystem', 'path' = '$DIR/derived', 'format' = 'csv')
LIKE events (EXCLUDING OPTIONS EXCLUDING PARTITIONS);
CREATE TABLE altered (a BIGINT NOT NULL, b STRING, ts TIMESTAMP(3), d0 DOUBLE) WITH ('connector' = 'datagen');
ALTER TABLE altered ADD (c AS b || 'x' FIRST, PRIMARY KEY (a) NOT ENFORCED, WATERMARK FOR ts AS ts);
ALTER TABLE altered MODIFY WATERMARK FOR ts AS ts - INTERVAL '2' SECOND;
ALTER TABLE altered RENAME d0 TO d1;
ALTER TABLE altered SET ('number-of-rows' = '5');
ALTER TABLE altered ADD d INT COMMENT 'added' AFTER a;
`, "$DIR", dir)
	src := sql.NewSession(sql.SessionOptions{})
	if _, _, err := src.ExecuteScript(setup); err != nil {
		t.Fatal(err)
	}
	views := `
CREATE VIEW v1 (k, a) COMMENT 'a view' AS SELECT ` + "`key`" + `, amount FROM events WHERE amount > 0 AND ` + "`a b`" + ` IS NULL;
CREATE VIEW v2 AS SELECT e.id, COUNT(*) AS n, MAX(x.c7) AS m FROM exprs AS e JOIN exprs x ON e.id = x.id GROUP BY e.id HAVING COUNT(*) > 1;
CREATE VIEW v3 AS SELECT window_start, SUM(id) AS s FROM TABLE(TUMBLE(TABLE exprs, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
CREATE VIEW v4 AS SELECT * FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY s ORDER BY ts DESC) AS rn FROM exprs) WHERE rn <= 2;
CREATE VIEW v5 AS SELECT CAST(n AS STRING) AS s, CASE WHEN n > 0 THEN 'p' END AS c FROM types AS t, UNNEST(t.arr) AS u (n) UNION ALL SELECT 'x', 'y';
`
	if _, _, err := src.ExecuteScript(views); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"events", "types", "exprs", "derived", "altered"} {
		text, desc := showCreateAndDescribe(t, src, name)
		dst := sql.NewSession(sql.SessionOptions{})
		if _, _, err := dst.ExecuteScript(text); err != nil {
			t.Fatalf("%s: the SHOW CREATE TABLE text does not run: %v\n%s", name, err, text)
		}
		text2, desc2 := showCreateAndDescribe(t, dst, name)
		if text2 != text {
			t.Errorf("%s: SHOW CREATE TABLE of the re-created table differs:\n%s\nwas:\n%s", name, text2, text)
		}
		if desc2 != desc {
			t.Errorf("%s: DESCRIBE of the re-created table differs:\n%s\nwas:\n%s", name, desc2, desc)
		}
	}
	// Views: their text runs over the tables re-created from theirs.
	dst := sql.NewSession(sql.SessionOptions{})
	for _, name := range []string{"events", "types", "exprs", "derived", "altered"} {
		text, _ := showCreateAndDescribe(t, src, name)
		if _, _, err := dst.ExecuteScript(text); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"v1", "v2", "v3", "v4", "v5"} {
		text := showCreate(t, src, "VIEW", name)
		if _, _, err := dst.ExecuteScript(text); err != nil {
			t.Errorf("%s: the SHOW CREATE VIEW text does not run: %v\n%s", name, err, text)
			continue
		}
		if text2 := showCreate(t, dst, "VIEW", name); text2 != text {
			t.Errorf("%s: SHOW CREATE VIEW of the re-created view differs:\n%s\nwas:\n%s", name, text2, text)
		}
	}
}

func showCreate(t *testing.T, s *sql.Session, kind, name string) string {
	t.Helper()
	stmts, err := parser.Parse("SHOW CREATE " + kind + " " + name)
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := s.Execute(stmts[0])
	if err != nil {
		t.Fatal(err)
	}
	return res.Text
}

func showCreateAndDescribe(t *testing.T, s *sql.Session, name string) (string, string) {
	t.Helper()
	run := func(q string) *sql.Result {
		stmts, err := parser.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := s.Execute(stmts[0])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	text := run("SHOW CREATE TABLE " + name).Text
	var desc strings.Builder
	for _, r := range run("DESCRIBE " + name).Rows {
		// name, type, null (BOOLEAN), key, extras, watermark
		for i, v := range r.Fields {
			switch {
			case v.IsNull():
				desc.WriteString("<NULL>")
			case i == 2:
				fmt.Fprint(&desc, v.Bool())
			default:
				desc.WriteString(v.Str())
			}
			desc.WriteString(" | ")
		}
		desc.WriteString("\n")
	}
	return text, desc.String()
}
