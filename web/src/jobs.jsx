// The job list: GET /jobs/overview, polled.
import { useState } from "preact/hooks";
import { get } from "./api.js";
import { fmtDuration, fmtTime, stateClass, usePoll } from "./util.js";

export function JobList() {
  const [jobs, setJobs] = useState(null);
  const [err, setErr] = useState("");
  usePoll(
    async (run) => {
      try {
        const o = await get("/jobs/overview");
        if (!run.live) return;
        setJobs(o.jobs);
        setErr("");
      } catch (e) {
        if (run.live) setErr(e.message);
      }
    },
    2000,
    []
  );
  const sorted = (jobs || []).slice().sort((a, b) => b["start-time"] - a["start-time"]);
  return (
    <section>
      <h1>Jobs</h1>
      {err && <p class="error">Could not list the jobs: {err}</p>}
      {jobs && jobs.length === 0 && (
        <p class="empty">
          No job yet. Submit one from the <a href="#/sql">SQL editor</a>, or with <code>weir job submit job.sql</code>.
        </p>
      )}
      {sorted.length > 0 && (
        <table class="jobs">
          <thead>
            <tr>
              <th>Name</th>
              <th>Job ID</th>
              <th>State</th>
              <th>Kind</th>
              <th class="num">Parallelism</th>
              <th>Started</th>
              <th class="num">Duration</th>
              <th class="num">Attempts</th>
              <th>Last savepoint / failure</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((j) => (
              <tr key={j.jid} data-job={j.jid}>
                <td>
                  <a href={"#/jobs/" + j.jid}>{j.name}</a>
                </td>
                <td class="mono">
                  <a href={"#/jobs/" + j.jid}>{j.jid}</a>
                </td>
                <td>
                  <span class={stateClass(j.state)}>{j.state}</span>
                </td>
                <td>{j["job-kind"]}</td>
                <td class="num">{j.parallelism || "default"}</td>
                <td>{fmtTime(j["start-time"])}</td>
                <td class="num">{fmtDuration(j.duration)}</td>
                <td class="num">{j.attempts}</td>
                <td class="mono small">{j.failure ? <span class="error">{j.failure}</span> : j["last-savepoint"] || "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
