// A uPlot chart as a Preact component: created once, fed new data.
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";

// Chart draws data ([xs, ys1, ys2, ...]) with opts (uPlot's, without
// width); it resizes with its container.
export function Chart({ opts, data, height = 160, class: cls }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const el = box.current;
    const u = new uPlot({ ...opts, width: Math.max(100, el.clientWidth), height }, data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(100, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [opts, height]);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data]);
  return <div class={"chart " + (cls || "")} ref={box} />;
}

// Sparkline is a small line chart without axes: xs are seconds.
export function sparkOpts(color) {
  return {
    cursor: { show: false },
    legend: { show: false },
    select: { show: false },
    axes: [{ show: false }, { show: false }],
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [{}, { stroke: color, fill: color + "22", width: 1.5, points: { show: false } }],
  };
}
