import { useEffect, useRef, useState } from "preact/hooks";

// usePoll calls fn now and then every ms milliseconds (waiting for the
// previous call to end) until the component unmounts or deps change.
// fn gets an object whose `live` turns false when the poll is stopped; if
// it returns a number, the next call waits that long instead.
export function usePoll(fn, ms, deps) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const run = { live: true };
    let timer = null;
    const tick = async () => {
      let wait = ms;
      try {
        const d = await ref.current(run);
        if (typeof d === "number" && d > 0) wait = d;
      } catch (e) {
        console.warn(e);
      }
      if (run.live) timer = setTimeout(tick, wait);
    };
    tick();
    return () => {
      run.live = false;
      clearTimeout(timer);
    };
  }, deps);
}

export function fmtDuration(ms) {
  if (ms == null || ms < 0) return "–";
  if (ms < 1000) return ms + " ms";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m ${sec}s`;
  if (m) return `${m}m ${sec}s`;
  return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + " s";
}

export function fmtTime(ms) {
  if (ms == null || ms <= 0) return "–";
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtBytes(n) {
  if (n == null || n < 0) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(n < 10 ? 2 : 1) : n) + " " + u[i];
}

export function fmtRate(r) {
  if (r == null || !isFinite(r)) return "–";
  if (r >= 1e6) return (r / 1e6).toFixed(2) + "M/s";
  if (r >= 1e4) return (r / 1e3).toFixed(1) + "k/s";
  if (r >= 100) return Math.round(r) + "/s";
  return r.toFixed(1) + "/s";
}

export function fmtCount(n) {
  if (n == null) return "–";
  return Math.round(n).toLocaleString("en-US");
}

// Watermarks: Long.MIN_VALUE (no watermark yet) comes as a huge negative.
export const NO_WATERMARK = -9e15;

export function stateClass(s) {
  return "state state-" + String(s || "").toLowerCase();
}

export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
