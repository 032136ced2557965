// Unit tests of the SQL editor's pure helpers (node --test); run by
// TestUIChangelogJS in server/ui_e2e_test.go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Materialized, splitStatements } from "../src/changelog.js";

test("splitStatements: quotes, comments, statement sets", () => {
  const script = `-- a comment; with a semicolon
CREATE TABLE t (s STRING) WITH ('connector' = 'datagen', 'x' = 'a;b''c');
/* block; comment */ SELECT 'x;y' AS "we;ird" FROM t;
BEGIN STATEMENT SET;
INSERT INTO a SELECT * FROM t;
INSERT INTO b SELECT * FROM t;
END;
  ;  -- trailing
`;
  const got = splitStatements(script);
  assert.equal(got.length, 3);
  assert.match(got[0], /'a;b''c'\)$/);
  assert.match(got[1], /^\/\* block; comment \*\/ SELECT 'x;y' AS "we;ird" FROM t$/);
  assert.match(got[2], /^BEGIN STATEMENT SET;\nINSERT INTO a[\s\S]*INSERT INTO b[\s\S]*;\nEND$/);
});

test("Materialized: retractions remove one equal row, updates keep their place", () => {
  const m = new Materialized();
  m.apply([
    { kind: "INSERT", fields: [1, 1] },
    { kind: "INSERT", fields: [2, 1] },
    { kind: "INSERT", fields: [3, 1] },
    { kind: "UPDATE_BEFORE", fields: [2, 1] },
    { kind: "UPDATE_AFTER", fields: [2, 2] },
    { kind: "INSERT", fields: [1, 1] },
    { kind: "DELETE", fields: [1, 1] },
    { kind: "DELETE", fields: [9, 9] },
  ]);
  assert.deepEqual(
    m.rows.map((r) => r.fields),
    [
      [2, 2],
      [3, 1],
      [1, 1],
    ]
  );
  assert.equal(m.changes, 8);
  assert.equal(m.unmatched, 1);
});

test("Materialized: an insert-only result keeps its newest rows", () => {
  const m = new Materialized(3);
  m.apply([1, 2, 3, 4, 5].map((i) => ({ kind: "INSERT", fields: [i] })));
  assert.deepEqual(
    m.rows.map((r) => r.fields[0]),
    [3, 4, 5]
  );
  assert.equal(m.dropped, 2);
});
