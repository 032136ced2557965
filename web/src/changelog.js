// Pure helpers of the SQL editor (no DOM): splitting a script into
// statements and applying a changelog to a materialized result.

// splitStatements splits a SQL script at the semicolons that are outside
// quotes and comments. A statement set (BEGIN STATEMENT SET; … END;) is
// kept together as one statement. Empty statements are dropped.
export function splitStatements(script) {
  const out = [];
  let cur = "";
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i];
    const next = script[i + 1];
    if (c === "-" && next === "-") {
      const end = script.indexOf("\n", i);
      const stop = end < 0 ? n : end;
      cur += script.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = script.indexOf("*/", i + 2);
      const stop = end < 0 ? n : end + 2;
      cur += script.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < n) {
        if (script[j] === c) {
          if (script[j + 1] === c) {
            j += 2; // doubled quote
            continue;
          }
          break;
        }
        j++;
      }
      cur += script.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === ";") {
      out.push(cur);
      cur = "";
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  out.push(cur);
  const stmts = out.map((s) => s.trim()).filter((s) => stripComments(s).trim() !== "");
  // Regroup statement sets.
  const grouped = [];
  for (let k = 0; k < stmts.length; k++) {
    if (/^BEGIN\s+STATEMENT\s+SET$/i.test(stripComments(stmts[k]).trim())) {
      const parts = [stmts[k]];
      while (k + 1 < stmts.length) {
        k++;
        parts.push(stmts[k]);
        if (/^END$/i.test(stripComments(stmts[k]).trim())) break;
      }
      grouped.push(parts.join(";\n"));
    } else {
      grouped.push(stmts[k]);
    }
  }
  return grouped;
}

export function stripComments(s) {
  return s.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
}

// Materialized is a query's result as the changelog has built it so far:
// INSERT and UPDATE_AFTER add a row, UPDATE_BEFORE and DELETE remove one
// equal row. An insert-only result keeps its newest `limit` rows.
export class Materialized {
  constructor(limit = 1000) {
    this.rows = [];
    this.limit = limit;
    this.dropped = 0;
    this.changes = 0;
    this.retracting = false;
    this.unmatched = 0;
    this.hole = null;
  }

  apply(data) {
    for (const r of data) {
      this.changes++;
      const key = JSON.stringify(r.fields);
      switch (r.kind) {
        case "INSERT":
          this.rows.push({ key, fields: r.fields });
          break;
        case "UPDATE_AFTER":
          // In the place of the row its UPDATE_BEFORE removed, so an
          // updated row stays where it was.
          if (this.hole != null) this.rows.splice(this.hole, 0, { key, fields: r.fields });
          else this.rows.push({ key, fields: r.fields });
          break;
        case "UPDATE_BEFORE":
        case "DELETE": {
          this.retracting = true;
          const idx = this.rows.findIndex((x) => x.key === key);
          if (idx >= 0) this.rows.splice(idx, 1);
          else this.unmatched++;
          if (r.kind === "UPDATE_BEFORE" && idx >= 0) {
            this.hole = idx;
            continue;
          }
          break;
        }
        default:
          break;
      }
      this.hole = null;
    }
    if (!this.retracting && this.rows.length > this.limit) {
      const n = this.rows.length - this.limit;
      this.rows.splice(0, n);
      this.dropped += n;
    }
  }
}
