// The job graph: the vertices and exchanges of GET /jobs/{id}/plan laid
// out with dagre (left to right) and drawn as SVG. Each vertex is coloured
// like Flink's dashboard: by its busiest subtask's busy time (blue idle →
// red busy), or grey to black when backpressure dominates.
import { Graph, layout } from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";
import { fmtRate } from "./util.js";

const W = 250;
const H = 92;

function mix(a, b, t) {
  const pa = [1, 3, 5].map((i) => parseInt(a.slice(i, i + 2), 16));
  const pb = [1, 3, 5].map((i) => parseInt(b.slice(i, i + 2), 16));
  return "#" + pa.map((x, i) => Math.round(x + (pb[i] - x) * t).toString(16).padStart(2, "0")).join("");
}

// vertexColor returns [fill, text colour, what dominates] for busy and
// backpressured ms per second (0..1000); null when not measured yet.
export function vertexColor(busy, bp) {
  if (busy == null && bp == null) return ["#f3f4f6", "#111", "no metrics yet"];
  busy = Math.min(1000, Math.max(0, busy || 0));
  bp = Math.min(1000, Math.max(0, bp || 0));
  if (bp > busy) {
    const t = bp / 1000;
    return [mix("#eceff1", "#263238", t), t > 0.45 ? "#fff" : "#111", "backpressured"];
  }
  const t = busy / 1000;
  return [mix("#e3f0ff", "#d32f2f", t), t > 0.55 ? "#fff" : "#111", "busy"];
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

function layoutPlan(plan) {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const v of plan.vertices) g.setNode(String(v.id), { width: W, height: H });
  const edges = [];
  for (const v of plan.vertices) {
    for (const [i, inp] of (v.inputs || []).entries()) {
      const name = `${inp.from}->${v.id}#${i}`;
      g.setEdge(String(inp.from), String(v.id), { width: 80, height: 16, labelpos: "c" }, name);
      edges.push({ from: String(inp.from), to: String(v.id), name, inp });
    }
  }
  layout(g);
  const nodes = new Map(plan.vertices.map((v) => [String(v.id), { v, ...g.node(String(v.id)) }]));
  const laid = edges.map((e) => ({ ...e, ...g.edge({ v: e.from, w: e.to, name: e.name }) }));
  const gr = g.graph();
  return { nodes, edges: laid, width: gr.width, height: gr.height };
}

// JobGraph draws plan; stats maps a vertex id to {busy, bp, inRate,
// outRate} (ms per second, records per second).
export function JobGraph({ plan, stats, selected, onSelect }) {
  const L = useMemo(() => layoutPlan(plan), [plan]);
  return (
    <div class="graph">
      <svg width={L.width} height={L.height} viewBox={`0 0 ${L.width} ${L.height}`} role="img" aria-label="job graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#78828c" />
          </marker>
        </defs>
        {L.edges.map((e) => (
          <g class="edge" key={e.name}>
            <path d={"M" + e.points.map((p) => p.x + "," + p.y).join(" L")} fill="none" stroke="#78828c" stroke-width="1.5" marker-end="url(#arrow)" />
            <text x={e.x} y={e.y + 4} text-anchor="middle" class="edge-label">
              {e.inp.partitioning}
              {e.inp.sideOutput ? " (" + e.inp.sideOutput + ")" : ""}
            </text>
          </g>
        ))}
        {[...L.nodes.values()].map(({ v, x, y }) => {
          const s = stats[v.id] || {};
          const [fill, ink, dom] = vertexColor(s.busy, s.bp);
          const ops = v.operators || [];
          const title = ops.map((o) => o.name + (o.uid ? " [uid " + o.uid + "]" : "")).join("\n→ ");
          const rates = [];
          if (s.inRate != null && (v.inputs || []).length) rates.push("in " + fmtRate(s.inRate));
          if (s.outRate != null && (s.outRate > 0 || !(v.inputs || []).length)) rates.push("out " + fmtRate(s.outRate));
          return (
            <g
              class={"vertex" + (selected === v.id ? " selected" : "")}
              key={v.id}
              data-vertex={v.id}
              transform={`translate(${x - W / 2},${y - H / 2})`}
              onClick={() => onSelect && onSelect(v.id)}
            >
              <title>{title + "\n" + dom}</title>
              <rect width={W} height={H} rx="6" fill={fill} stroke={selected === v.id ? "#1565c0" : "#90a4ae"} stroke-width={selected === v.id ? 2.5 : 1} />
              <text x="10" y="19" fill={ink} class="v-name">
                {clip(ops.length ? ops[0].name : v.name, 34)}
              </text>
              <text x="10" y="36" fill={ink} class="v-sub">
                {ops.length > 1 ? clip("→ " + ops.slice(1).map((o) => o.name).join(" → "), 40) : " "}
              </text>
              <text x="10" y="57" fill={ink} class="v-rate" data-rate={v.id}>
                {rates.length ? rates.join(" · ") : "measuring…"}
              </text>
              <text x="10" y="78" fill={ink} class="v-sub">
                {"p=" + v.parallelism}
                {s.busy != null ? ` · busy ${Math.round(s.busy / 10)}%` : ""}
                {s.bp != null ? ` · backpressured ${Math.round(s.bp / 10)}%` : ""}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
