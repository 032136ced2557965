// The web UI of `weir server` (docs/ui.md): job list, job detail (graph,
// metrics, watermarks, checkpoints, exceptions, savepoint/stop/cancel) and
// a SQL editor over the SQL Gateway. Routes are in the URL's hash
// (#/jobs/<id>), so every path stays free for the REST API.
import { Component, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get, getToken, onUnauthorized, setToken } from "./api.js";
import { JobList } from "./jobs.jsx";
import { JobDetail } from "./job.jsx";
import { SqlEditor } from "./sql.jsx";
import { usePoll } from "./util.js";
import "uplot/dist/uPlot.min.css";
import "./style.css";

function parseHash() {
  const h = location.hash.replace(/^#\/?/, "");
  const parts = h.split("/").filter(Boolean).map(decodeURIComponent);
  return parts;
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const f = () => setRoute(parseHash());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}

function TokenPrompt({ reason, onClose }) {
  const [value, setValue] = useState(getToken());
  const submit = (e) => {
    e.preventDefault();
    setToken(value.trim());
    onClose(true);
  };
  return (
    <div class="modal-back">
      <form class="modal" onSubmit={submit}>
        <h2>Bearer token</h2>
        {reason && <p class="error">The server refused the call: {reason}</p>}
        <p>
          This server needs a token (<code>weir server --token</code> or <code>WEIR_TOKEN</code>) for this call. It is kept in this
          tab's session storage and sent as <code>Authorization: Bearer …</code>.
        </p>
        <input type="password" autocomplete="off" placeholder="token" value={value} onInput={(e) => setValue(e.target.value)} autofocus />
        <div class="buttons">
          <button type="submit" class="primary">
            Save
          </button>
          <button type="button" onClick={() => onClose(false)}>
            Close
          </button>
          {getToken() && (
            <button
              type="button"
              onClick={() => {
                setToken("");
                onClose(true);
              }}
            >
              Forget token
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

// Guard shows a page's rendering error instead of a frozen page.
class Guard extends Component {
  componentDidCatch(error) {
    console.error(error);
    this.setState({ error });
  }
  render() {
    if (this.state.error) {
      return (
        <section>
          <p class="error">This page failed to render: {String(this.state.error.message || this.state.error)}</p>
          <button onClick={() => this.setState({ error: null })}>Retry</button>
        </section>
      );
    }
    return this.props.children;
  }
}

function Overview() {
  const [ov, setOv] = useState(null);
  usePoll(
    async (run) => {
      const o = await get("/overview").catch(() => null);
      if (run.live) setOv(o);
    },
    3000,
    []
  );
  if (!ov) return null;
  return (
    <span class="overview">
      <span title="running, restarting, initializing or cancelling">{ov["jobs-running"]} running</span>
      <span>{ov["jobs-finished"]} finished</span>
      <span>{ov["jobs-cancelled"]} canceled</span>
      <span>{ov["jobs-failed"]} failed</span>
      {ov["jobs-suspended"] > 0 && <span>{ov["jobs-suspended"]} suspended</span>}
      <span class="version">{ov["weir-version"]}</span>
    </span>
  );
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState(null); // null: no prompt; string: reason
  const [gen, setGen] = useState(0); // bumped when the token changes: pages refetch
  useEffect(() => onUnauthorized((msg) => setAuth(msg)), []);

  let page;
  let section = "jobs";
  if (route[0] === "sql") {
    section = "sql";
    page = <SqlEditor key={gen} />;
  } else if (route[0] === "jobs" && route[1]) {
    page = <JobDetail key={route[1] + "/" + gen} id={route[1]} tab={route[2] || "overview"} />;
  } else {
    page = <JobList key={gen} />;
  }
  return (
    <>
      <header>
        <a class="brand" href="#/">
          Weir
        </a>
        <nav>
          <a href="#/jobs" class={section === "jobs" ? "active" : ""}>
            Jobs
          </a>
          <a href="#/sql" class={section === "sql" ? "active" : ""}>
            SQL
          </a>
        </nav>
        <Overview key={gen} />
        <button class="token" onClick={() => setAuth("")} title="bearer token for this server">
          {getToken() ? "Token set" : "Token"}
        </button>
      </header>
      <main>
        <Guard key={route.join("/")}>{page}</Guard>
      </main>
      {auth !== null && (
        <TokenPrompt
          reason={auth}
          onClose={(changed) => {
            setAuth(null);
            if (changed) setGen((g) => g + 1);
          }}
        />
      )}
    </>
  );
}

render(<App />, document.getElementById("app"));
