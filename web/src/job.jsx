// The job detail page: header with state and actions, then tabs.
// Overview: the job graph (GET /jobs/{id}/plan) coloured by busy and
// backpressured time (…/subtasks/metrics), records per second from the
// counter deltas between polls of GET /jobs/{id}, throughput sparklines,
// per-subtask watermarks and their lag (…/watermarks). Checkpoints: GET
// /jobs/{id}/checkpoints. Exceptions: GET /jobs/{id}/exceptions.
import { useMemo, useRef, useState } from "preact/hooks";
import { call, get, post } from "./api.js";
import { Chart, sparkOpts } from "./chart.jsx";
import { JobGraph } from "./graph.jsx";
import { fmtBytes, fmtCount, fmtDuration, fmtRate, fmtTime, NO_WATERMARK, stateClass, usePoll } from "./util.js";

const POLL_MS = 2000;
// The server rate-limits each client (20 requests/s by default): a poll
// of a large job (two calls per vertex) waits longer, so the UI stays
// under REQ_PER_S.
const REQ_PER_S = 6;
const HISTORY = 90; // points per sparkline (3 minutes at 2 s)
const ENDED = new Set(["FINISHED", "CANCELED", "FAILED", "SUSPENDED"]);

// useRates turns the job's cumulative vertex counters into records per
// second: the delta between two polls over the time between them. A
// counter that went down (the job restarted) starts over.
function useRates() {
  const prev = useRef(new Map());
  const hist = useRef(new Map());
  return (job) => {
    const now = job.now || Date.now();
    const out = {};
    for (const v of job.vertices || []) {
      const cur = { t: now, rin: v.metrics["read-records"], rout: v.metrics["write-records"] };
      const p = prev.current.get(v.id);
      prev.current.set(v.id, cur);
      if (!p || cur.t <= p.t || cur.rin < p.rin || cur.rout < p.rout) continue;
      const dt = (cur.t - p.t) / 1000;
      const r = { inRate: (cur.rin - p.rin) / dt, outRate: (cur.rout - p.rout) / dt };
      out[v.id] = r;
      let h = hist.current.get(v.id);
      if (!h) hist.current.set(v.id, (h = { t: [], in: [], out: [] }));
      h.t.push(now / 1000);
      h.in.push(r.inRate);
      h.out.push(r.outRate);
      if (h.t.length > HISTORY) {
        h.t.shift();
        h.in.shift();
        h.out.shift();
      }
    }
    return { rates: out, hist: hist.current };
  };
}

export function JobDetail({ id, tab }) {
  const [job, setJob] = useState(null);
  const [err, setErr] = useState("");
  const [plan, setPlan] = useState(null);
  const planKey = useRef("");
  const [rates, setRates] = useState({});
  const [hist, setHist] = useState(new Map());
  const [load, setLoad] = useState({});
  const [wms, setWms] = useState({});
  const [cps, setCps] = useState(null);
  const [exc, setExc] = useState(null);
  const [ops, setOps] = useState([]);
  const [selected, setSelected] = useState(null);
  const rate = useRates();

  usePoll(
    async (run) => {
      let j;
      try {
        j = await get(`/jobs/${id}`);
      } catch (e) {
        if (run.live) setErr(e.message);
        return;
      }
      if (!run.live) return;
      setErr("");
      setJob(j);
      const r = rate(j);
      setRates(r.rates);
      setHist(new Map(r.hist));
      const key = (j.vertices || []).map((v) => v.id + ":" + v.parallelism).join(",") + "/" + j.attempts;
      if (key !== planKey.current) {
        const p = await get(`/jobs/${id}/plan`).catch(() => null);
        if (p && run.live) {
          planKey.current = key;
          setPlan(p.plan);
        }
      }
      const live = !ENDED.has(j.state);
      let calls = 3;
      if (tab === "overview" && live) {
        calls += 2 * (j.vertices || []).length;
        const vs = j.vertices || [];
        const metrics = await Promise.all(
          vs.map((v) => get(`/jobs/${id}/vertices/${v.id}/subtasks/metrics?get=busyTimeMsPerSecond,backPressuredTimeMsPerSecond,idleTimeMsPerSecond`).catch(() => null))
        );
        const wm = await Promise.all(vs.map((v) => get(`/jobs/${id}/vertices/${v.id}/watermarks`).catch(() => null)));
        if (!run.live) return;
        const l = {};
        const w = {};
        vs.forEach((v, i) => {
          const m = metrics[i];
          if (m) {
            const by = Object.fromEntries(m.map((a) => [a.id, a]));
            l[v.id] = { busy: by.busyTimeMsPerSecond?.max, bp: by.backPressuredTimeMsPerSecond?.max, idle: by.idleTimeMsPerSecond?.avg, busyAvg: by.busyTimeMsPerSecond?.avg };
          }
          if (wm[i]) w[v.id] = { now: j.now, subtasks: wm[i] };
        });
        setLoad(l);
        setWms(w);
      }
      // Every poll: the tabs show the counts.
      const [c, x] = await Promise.all([get(`/jobs/${id}/checkpoints`).catch(() => null), get(`/jobs/${id}/exceptions`).catch(() => null)]);
      if (!run.live) return;
      if (c) setCps(c);
      if (x) setExc(x);
      return Math.max(POLL_MS, (calls * 1000) / REQ_PER_S);
    },
    POLL_MS,
    [id, tab]
  );

  const addOp = (o) => setOps((list) => [o, ...list.filter((x) => x.key !== o.key)].slice(0, 5));

  // operation starts a savepoint or stop and polls its request until it
  // completed.
  const operation = async (label, path, body) => {
    const key = label + " " + Date.now();
    addOp({ key, label, status: "requested" });
    try {
      const r = await post(path, body);
      const rid = r["request-id"];
      addOp({ key, label, status: "IN_PROGRESS", rid });
      for (;;) {
        await new Promise((res) => setTimeout(res, 500));
        const s = await get(`/jobs/${id}/savepoints/${rid}`);
        if (s.status.id === "COMPLETED") {
          const f = s.operation && s.operation["failure-cause"];
          addOp({ key, label, rid, status: f ? "FAILED" : "COMPLETED", detail: f ? f["stack-trace"] : s.operation.location });
          return;
        }
      }
    } catch (e) {
      addOp({ key, label, status: "FAILED", detail: e.message });
    }
  };
  const cancel = async () => {
    if (!confirm(`Cancel job ${id} without a savepoint?`)) return;
    const key = "cancel " + Date.now();
    try {
      await call("PATCH", `/jobs/${id}?mode=cancel`);
      addOp({ key, label: "Cancel", status: "COMPLETED", detail: "cancellation requested" });
    } catch (e) {
      addOp({ key, label: "Cancel", status: "FAILED", detail: e.message });
    }
  };

  if (!job) {
    return <section>{err ? <p class="error">Job {id}: {err}</p> : <p class="empty">Loading job {id}…</p>}</section>;
  }
  const running = job.isStoppable;
  const stats = {};
  for (const v of job.vertices || []) stats[v.id] = { ...(load[v.id] || {}), ...(rates[v.id] || {}) };
  const tabs = [
    ["overview", "Overview"],
    ["checkpoints", `Checkpoints${cps ? " (" + cps.counts.completed + ")" : ""}`],
    ["exceptions", `Exceptions${exc ? " (" + exc.exceptionHistory.entries.length + ")" : ""}`],
  ];
  return (
    <section>
      <div class="job-head">
        <div>
          <h1>
            {job.name} <span class={stateClass(job.state)} data-testid="job-state">{job.state}</span>
          </h1>
          <div class="meta">
            <span class="mono">{job.jid}</span>
            <span>started {fmtTime(job["start-time"])}</span>
            <span>duration {fmtDuration(job.duration)}</span>
            <span>parallelism {job.parallelism || "default"}</span>
            <span>attempts {job.attempts}</span>
            {job["last-savepoint"] && <span class="mono">last savepoint {job["last-savepoint"]}</span>}
          </div>
          {err && <p class="error">Refreshing failed: {err}</p>}
          {job.failure && <p class="error">Failure: {job.failure}</p>}
        </div>
        <div class="actions">
          <button disabled={!running} onClick={() => operation("Savepoint", `/jobs/${id}/savepoints`, {})} title="POST /jobs/{id}/savepoints">
            Trigger savepoint
          </button>
          <button disabled={!running} onClick={() => operation("Stop with savepoint", `/jobs/${id}/stop`, {})} title="POST /jobs/{id}/stop">
            Stop with savepoint
          </button>
          <button disabled={!running} onClick={() => operation("Stop with drain", `/jobs/${id}/stop`, { drain: true })}
            title="POST /jobs/{id}/stop with drain: the sources emit the final watermark first, so every open window fires (Flink's stop --drain)">
            Stop with drain
          </button>
          <button class="danger" disabled={ENDED.has(job.state) || job.state === "CANCELLING"} onClick={cancel} title="PATCH /jobs/{id}?mode=cancel">
            Cancel
          </button>
        </div>
      </div>
      {ops.length > 0 && (
        <ul class="ops">
          {ops.map((o) => (
            <li key={o.key} data-op={o.label} data-status={o.status}>
              <b>{o.label}</b>: <span class={o.status === "FAILED" ? "error" : ""}>{o.status}</span>
              {o.detail && <span class="mono small"> {o.detail}</span>}
            </li>
          ))}
        </ul>
      )}
      <nav class="tabs">
        {tabs.map(([k, label]) => (
          <a key={k} href={`#/jobs/${id}${k === "overview" ? "" : "/" + k}`} class={tab === k ? "active" : ""}>
            {label}
          </a>
        ))}
      </nav>
      {tab === "overview" && <Overview job={job} plan={plan} stats={stats} hist={hist} wms={wms} selected={selected} onSelect={setSelected} />}
      {tab === "checkpoints" && <Checkpoints cps={cps} running={running} />}
      {tab === "exceptions" && <Exceptions exc={exc} />}
    </section>
  );
}

function Overview({ job, plan, stats, hist, wms, selected, onSelect }) {
  const ended = ENDED.has(job.state);
  return (
    <>
      <h2>Job graph</h2>
      {plan && plan.vertices && plan.vertices.length ? (
        <JobGraph plan={plan} stats={stats} selected={selected} onSelect={onSelect} />
      ) : (
        <p class="empty">The plan is not known yet: the job has not started (state {job.state}).</p>
      )}
      <p class="legend">
        Colour: the busiest subtask's busy time (<span class="sw" style="background:#e3f0ff" /> idle → <span class="sw" style="background:#d32f2f" /> busy), grey to black when
        backpressured time dominates. Rates: records per second between polls. {ended && "The job has ended: the numbers are its last ones."}
      </p>
      <h2>Vertices</h2>
      <table class="vertices">
        <thead>
          <tr>
            <th>Vertex</th>
            <th class="num">Parallelism</th>
            <th class="num">Records in</th>
            <th class="num">Records out</th>
            <th class="num">In/s</th>
            <th class="num">Out/s</th>
            <th>Throughput (last 3 min)</th>
            <th class="num">Busy (max)</th>
            <th class="num">Backpressured (max)</th>
            <th>Input watermark (min)</th>
          </tr>
        </thead>
        <tbody>
          {(job.vertices || []).map((v) => {
            const s = stats[v.id] || {};
            const h = hist.get(v.id);
            const isSource = v.metrics["read-records"] === 0 && v.metrics["write-records"] > 0;
            const wm = v.metrics["current-input-watermark"];
            return (
              <tr key={v.id} class={selected === Number(v.id) ? "selected" : ""} onClick={() => onSelect(Number(v.id))} data-vertex-row={v.id}>
                <td class="vname" title={v.name}>
                  {v.name}
                </td>
                <td class="num">{v.parallelism}</td>
                <td class="num">{fmtCount(v.metrics["read-records"])}</td>
                <td class="num">{fmtCount(v.metrics["write-records"])}</td>
                <td class="num">{fmtRate(s.inRate)}</td>
                <td class="num" data-outrate={v.id}>
                  {fmtRate(s.outRate)}
                </td>
                <td class="spark-cell">
                  {h && h.t.length > 1 ? <Spark h={h} series={isSource ? "out" : "in"} /> : <span class="small">measuring…</span>}
                </td>
                <td class="num">{s.busy != null ? Math.round(s.busy / 10) + "%" : "–"}</td>
                <td class="num">{s.bp != null ? Math.round(s.bp / 10) + "%" : "–"}</td>
                <td class="small">{wm == null || wm < NO_WATERMARK ? "none" : fmtTime(wm)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <Watermarks job={job} wms={wms} ended={ended} />
    </>
  );
}

function Spark({ h, series }) {
  const opts = useMemo(() => sparkOpts(series === "out" ? "#2e7d32" : "#1565c0"), [series]);
  return <Chart opts={opts} data={[h.t, h[series]]} height={34} class="spark" />;
}

function Watermarks({ job, wms, ended }) {
  const rows = [];
  for (const v of job.vertices || []) {
    const w = wms[v.id];
    if (!w) continue;
    for (const s of w.subtasks) {
      const val = Number(s.value);
      rows.push({ v, sub: s.id.split(".")[0], val, lag: val < NO_WATERMARK ? null : w.now - val });
    }
  }
  return (
    <>
      <h2>Watermarks</h2>
      {ended ? (
        <p class="empty">The job has ended: watermarks are shown while it runs.</p>
      ) : rows.length === 0 ? (
        <p class="empty">No subtask reports an input watermark yet (sources have no input watermark; operators show one once a watermark reached them).</p>
      ) : (
        <table class="watermarks">
          <thead>
            <tr>
              <th>Vertex</th>
              <th class="num">Subtask</th>
              <th>Current input watermark</th>
              <th class="num">Lag behind server time</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.v.id + "." + r.sub}>
                <td class="vname">{r.v.name}</td>
                <td class="num">{r.sub}</td>
                <td>{r.lag == null ? "no watermark yet" : fmtTime(r.val)}</td>
                <td class="num">{r.lag == null ? "–" : fmtDuration(Math.max(0, r.lag))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const cpOpts = {
  legend: { show: true },
  scales: { x: { time: false }, ms: {}, bytes: {} },
  axes: [
    // Ids are integers: no ticks between them.
    { label: "checkpoint id", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] },
    { scale: "ms", label: "duration (ms)" },
    { scale: "bytes", side: 1, label: "state size", values: (u, vals) => vals.map((v) => fmtBytes(v)), grid: { show: false }, size: 70 },
  ],
  series: [
    { label: "id" },
    { label: "duration", scale: "ms", stroke: "#1565c0", width: 1.5, value: (u, v) => (v == null ? "–" : v + " ms") },
    { label: "size", scale: "bytes", stroke: "#ef6c00", width: 1.5, value: (u, v) => fmtBytes(v) },
  ],
};

function Checkpoints({ cps, running }) {
  const data = useMemo(() => {
    if (!cps) return null;
    const done = cps.history.filter((c) => c.status === "COMPLETED").slice().reverse();
    return [done.map((c) => c.id), done.map((c) => c.end_to_end_duration), done.map((c) => c.state_size)];
  }, [cps]);
  if (!cps) return <p class="empty">Loading checkpoints…</p>;
  const latest = cps.latest;
  const c = cps.counts;
  return (
    <>
      <div class="cards">
        <Card label="Completed" value={c.completed} />
        <Card label="Failed" value={c.failed} />
        <Card label="Restored" value={c.restored} />
        <Card label="Latest completed" value={latest.completed ? "#" + latest.completed.id : "–"} sub={latest.completed ? fmtTime(latest.completed.latest_ack_timestamp) : "no checkpoint yet"} />
        <Card label="Latest savepoint" value={latest.savepoint ? "#" + latest.savepoint.id : "–"} sub={latest.savepoint ? latest.savepoint.external_path : "no savepoint yet"} />
        <Card label="Restored from" value={latest.restored ? "#" + latest.restored.id : "–"} sub={latest.restored ? latest.restored.external_path : "started fresh"} />
      </div>
      {latest.failed && <p class="error">Latest failed checkpoint #{latest.failed.id}: {latest.failed.failure_message}</p>}
      <h2>Duration and size</h2>
      {data[0].length > 1 ? (
        <Chart opts={cpOpts} data={data} height={220} />
      ) : (
        <p class="empty">{data[0].length ? "One completed checkpoint so far: the chart needs two." : running ? "No checkpoint completed yet." : "The job completed no checkpoint."}</p>
      )}
      <h2>History</h2>
      {cps.history.length === 0 ? (
        <p class="empty">No checkpoint yet{running ? ": the first one is taken after the checkpoint interval." : "."}</p>
      ) : (
        <table class="checkpoints">
          <thead>
            <tr>
              <th class="num">ID</th>
              <th>Status</th>
              <th>Type</th>
              <th>Triggered</th>
              <th class="num">End to end</th>
              <th class="num">State size</th>
              <th>Path / failure</th>
            </tr>
          </thead>
          <tbody>
            {cps.history.slice(0, 100).map((cp) => (
              <tr key={cp.id + (cp.is_savepoint ? "s" : "")}>
                <td class="num">{cp.id}</td>
                <td>
                  <span class={stateClass(cp.status === "COMPLETED" ? "finished" : "failed")}>{cp.status}</span>
                </td>
                <td>{cp.is_savepoint ? "savepoint" : "checkpoint"}</td>
                <td>{fmtTime(cp.trigger_timestamp)}</td>
                <td class="num">{cp.end_to_end_duration == null ? "–" : fmtDuration(cp.end_to_end_duration)}</td>
                <td class="num">{fmtBytes(cp.state_size)}</td>
                <td class="mono small">{cp.failure_message ? <span class="error">{cp.failure_message}</span> : cp.external_path || "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cps.history.length > 100 && <p class="small">Showing the newest 100 of {cps.history.length}.</p>}
    </>
  );
}

function Card({ label, value, sub }) {
  return (
    <div class="card">
      <div class="card-label">{label}</div>
      <div class="card-value">{value}</div>
      {sub && <div class="card-sub mono small">{sub}</div>}
    </div>
  );
}

function Exceptions({ exc }) {
  if (!exc) return <p class="empty">Loading exceptions…</p>;
  const entries = exc.exceptionHistory.entries;
  if (!entries.length) return <p class="empty">No exception: the job has not failed or restarted.</p>;
  return (
    <>
      {exc["root-exception"] && (
        <>
          <h2>Root exception</h2>
          <pre class="exception">{exc["root-exception"]}</pre>
        </>
      )}
      <h2>History (newest first)</h2>
      <table class="exceptions">
        <thead>
          <tr>
            <th>Time</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e, i) => (
            <tr key={i}>
              <td class="nowrap">{fmtTime(e.timestamp)}</td>
              <td>
                <pre class="exception">{e.stacktrace}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {exc.exceptionHistory.truncated && <p class="small">Older exceptions were dropped.</p>}
    </>
  );
}
