// The SQL editor. "Run" executes the script statement by statement in a
// SQL Gateway session (POST /sessions, …/statements, then the result
// pages) and shows the last query's result as a live table built from
// its changelog. "Submit job" sends the whole script to POST /jobs, as
// `weir job submit` does: the server hosts the job (checkpoints, resume
// after a restart) and the page links to it.
import { useEffect, useRef, useState } from "preact/hooks";
import { APIError, call, del, get, post } from "./api.js";
import { Materialized, splitStatements, stripComments } from "./changelog.js";

const EXAMPLES = [
  {
    name: "Running count per user (query, updating result)",
    sql: `-- Generated clicks: 20 per second over 5 users.
CREATE TABLE clicks (
  user_id INT,
  url STRING
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '20',
  'fields.user_id.min' = '1',
  'fields.user_id.max' = '5',
  'fields.url.length' = '6'
);

-- An updating result: each new click retracts the user's old count.
SELECT user_id, COUNT(*) AS clicks
FROM clicks
GROUP BY user_id;
`,
  },
  {
    name: "Busiest user per 5-second window (job, INSERT INTO)",
    // The ids are epoch milliseconds from the moment the example is
    // loaded, so the event time (and the watermarks) follow the clock.
    sql: () => {
      const start = Date.now();
      return `-- Generated clicks, 1000 per second. The sequence id is an epoch
-- millisecond (starting when this example was loaded), so the event
-- time and the watermarks follow the wall clock.
CREATE TABLE clicks (
  id BIGINT,
  user_id AS CAST(MOD(id, 7) AS INT),
  ts AS TO_TIMESTAMP_LTZ(id, 3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '1000',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '${start}',
  'fields.id.end' = '${start + 1e10}'
);

CREATE TABLE busiest (
  window_end TIMESTAMP(3),
  top_clicks BIGINT
) WITH ('connector' = 'blackhole');

-- Clicks per user and 5-second window, then the highest count of each
-- window (an updating aggregate over the windows' results).
INSERT INTO busiest
SELECT window_end, MAX(clicks) FROM (
  SELECT user_id, window_end, COUNT(*) AS clicks
  FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND))
  GROUP BY user_id, window_start, window_end
) GROUP BY window_end;
`;
    },
  },
];

const SESSION_KEY = "weir.sqlSession";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function isInsert(stmt) {
  const s = stripComments(stmt).trim().toUpperCase();
  return s.startsWith("INSERT") || s.startsWith("EXECUTE INSERT") || s.startsWith("BEGIN STATEMENT SET") || s.startsWith("EXECUTE STATEMENT SET");
}

export function SqlEditor() {
  const [text, setText] = useState(() => {
    try {
      return sessionStorage.getItem("weir.sqlText") || EXAMPLES[0].sql;
    } catch {
      return EXAMPLES[0].sql;
    }
  });
  const [log, setLog] = useState([]);
  const [result, setResult] = useState(null); // {columns, mat, done, changes}
  const [busy, setBusy] = useState(false);
  const [par, setPar] = useState("");
  const runRef = useRef(null); // {cancelled, sh, oh}

  useEffect(() => {
    try {
      sessionStorage.setItem("weir.sqlText", text);
    } catch {
      // storage disabled
    }
  }, [text]);
  useEffect(() => () => stopRun(), []);

  const say = (kind, msg, extra) => setLog((l) => [...l, { kind, msg, ...extra }]);

  // Each Run gets a fresh session (the script's CREATE TABLEs would clash
  // with a previous run's); the previous one is closed.
  async function freshSession() {
    const old = sessionStorage.getItem(SESSION_KEY);
    if (old) {
      sessionStorage.removeItem(SESSION_KEY);
      await del(`/sessions/${old}`).catch(() => {});
    }
    const r = await post("/sessions", {});
    sessionStorage.setItem(SESSION_KEY, r.sessionHandle);
    return r.sessionHandle;
  }

  async function stopRun() {
    const r = runRef.current;
    if (!r) return;
    r.cancelled = true;
    if (r.sh && r.oh) {
      await call("POST", `/sessions/${r.sh}/operations/${r.oh}/cancel`).catch(() => {});
      await del(`/sessions/${r.sh}/operations/${r.oh}/close`).catch(() => {});
    }
  }

  // fetchResults follows the result pages of one operation until EOS,
  // applying the changelog of a query to a live table.
  async function fetchResults(run, sh, oh, stmt) {
    let uri = `/sessions/${sh}/operations/${oh}/result/0?rowFormat=JSON`;
    let mat = null;
    let wait = 100;
    for (;;) {
      if (run.cancelled) return;
      const r = await get(uri);
      if (run.cancelled) return;
      // An INSERT runs as a job of the server (linked); a query's job is
      // the gateway's own preview, not in the job list.
      if (r.jobID && !r.isQueryResult && !run.jobShown) {
        run.jobShown = true;
        say("job", "Job submitted", { job: r.jobID });
      }
      if (r.resultType === "NOT_READY") {
        await sleep(wait);
        wait = Math.min(1000, wait * 2);
        uri = r.nextResultUri || uri;
        continue;
      }
      const res = r.results || { columns: [], data: [] };
      if (r.isQueryResult) {
        if (!mat) mat = new Materialized(1000);
        mat.apply(res.data || []);
        setResult({ columns: res.columns || [], mat, done: r.resultType === "EOS", changes: mat.changes, stmt });
      } else if (res.data && res.data.length) {
        const cols = res.columns || [];
        const rows = res.data.map((d) => d.fields);
        const msg = rows.length === 1 && cols.length === 1 ? String(rows[0][0]) : null;
        if (msg) say("ok", msg, { stmt });
        else say("table", "", { stmt, table: { cols, rows } });
      }
      if (r.resultType === "EOS" || !r.nextResultUri) {
        if (mat) setResult({ columns: res.columns || [], mat, done: true, changes: mat.changes, stmt });
        return;
      }
      wait = (res.data || []).length ? 0 : Math.min(1000, Math.max(100, wait * 2));
      if (wait) await sleep(wait);
      uri = r.nextResultUri;
    }
  }

  async function runScript() {
    await stopRun();
    const run = { cancelled: false };
    runRef.current = run;
    setLog([]);
    setResult(null);
    setBusy(true);
    try {
      const stmts = splitStatements(text);
      if (!stmts.length) {
        say("error", "The editor holds no statement.");
        return;
      }
      const sh = await freshSession();
      run.sh = sh;
      for (const stmt of stmts) {
        if (run.cancelled) return;
        const r = await post(`/sessions/${sh}/statements`, { statement: stmt });
        run.oh = r.operationHandle;
        await fetchResults(run, sh, r.operationHandle, stmt);
      }
    } catch (e) {
      if (!run.cancelled) say("error", e.status === 404 && /sessions/.test(e.message) ? "The SQL Gateway is not available on this server: " + e.message : e.message);
    } finally {
      if (runRef.current === run) {
        setBusy(false);
        runRef.current = null;
      }
    }
  }

  async function submit() {
    setLog([]);
    const stmts = splitStatements(text);
    if (!stmts.some(isInsert)) {
      say("error", "Submit runs a job: the script needs an INSERT INTO (or a statement set). Use Run for a SELECT.");
      return;
    }
    try {
      const body = { sql: text };
      if (par) body.parallelism = Number(par);
      const r = await post("/jobs", body);
      say("job", "Job submitted", { job: r.jobid });
    } catch (e) {
      say("error", e.message);
    }
  }

  return (
    <section class="sql">
      <h1>SQL</h1>
      <div class="sql-bar">
        <label>
          Example:{" "}
          <select
            onChange={(e) => {
              const ex = EXAMPLES[Number(e.target.value)];
              if (ex) setText(typeof ex.sql === "function" ? ex.sql() : ex.sql);
              e.target.value = "";
            }}
          >
            <option value="">choose…</option>
            {EXAMPLES.map((ex, i) => (
              <option value={i} key={i}>
                {ex.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <textarea class="editor" spellcheck={false} value={text} onInput={(e) => setText(e.target.value)} rows={18} aria-label="SQL script" />
      <div class="sql-bar">
        <button class="primary" onClick={runScript} disabled={busy} title="Run the statements in a SQL Gateway session and show the query's result">
          Run
        </button>
        <button onClick={stopRun} disabled={!busy} title="Cancel the running statement">
          Stop
        </button>
        <span class="sep" />
        <button onClick={submit} title="POST /jobs: the server hosts the INSERT INTO as a job">
          Submit job
        </button>
        <label class="small">
          parallelism{" "}
          <input type="number" min="1" max="128" placeholder="default" value={par} onInput={(e) => setPar(e.target.value)} style="width:6em" />
        </label>
      </div>
      <p class="small">
        <b>Run</b> executes each statement in a SQL Gateway session and streams the last query's rows (a changelog applied live). <b>Submit job</b> sends the
        whole script (its DDL and one INSERT INTO or statement set) to the server, which runs it with checkpoints.
      </p>
      {log.length > 0 && (
        <ul class="sql-log">
          {log.map((l, i) => (
            <li key={i} class={l.kind}>
              {l.kind === "job" ? (
                <span data-testid="submitted-job">
                  {l.msg}:{" "}
                  <a href={"#/jobs/" + l.job} class="mono">
                    {l.job}
                  </a>
                </span>
              ) : l.kind === "table" ? (
                <ResultTable columns={l.table.cols} rows={l.table.rows} />
              ) : (
                <span>{l.msg}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {result && <LiveResult result={result} running={busy} />}
    </section>
  );
}

function LiveResult({ result, running }) {
  const m = result.mat;
  return (
    <div class="result">
      <h2>
        Result{" "}
        <span class="small" data-testid="result-status">
          {m.rows.length} rows · {result.changes} changes applied · {result.done ? "complete" : running ? "live" : "stopped"}
          {m.dropped > 0 && ` · insert-only: showing the newest ${m.rows.length}`}
          {m.unmatched > 0 && ` · ${m.unmatched} retractions matched no row`}
        </span>
      </h2>
      {m.rows.length === 0 ? (
        <p class="empty">{result.done ? "The query returned no row." : "No row yet: waiting for the first results."}</p>
      ) : (
        <ResultTable columns={result.columns} rows={m.rows.map((r) => r.fields)} />
      )}
    </div>
  );
}

function cell(v) {
  if (v === null || v === undefined) return <span class="null">NULL</span>;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function ResultTable({ columns, rows }) {
  return (
    <table class="result-table">
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.name} title={c.logicalType ? c.logicalType.type + (c.logicalType.nullable ? "" : " NOT NULL") : ""}>
              {c.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {r.map((v, j) => (
              <td key={j}>{cell(v)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
