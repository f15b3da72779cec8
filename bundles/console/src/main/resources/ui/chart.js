// A small SVG line chart of replication lag over time: one line per node, the newest sample on the right.
const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989'];

function svg(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** series: Map name -> [{t: ms, v: seconds}]; span: how many ms the x axis shows. */
export function lagChart(series, span, now) {
  const w = 600, h = 160, left = 40, bottom = 20;
  let max = 1;
  for (const points of series.values()) for (const p of points) max = Math.max(max, p.v);
  max = Math.ceil(max);
  const root = svg('svg', {viewBox: `0 0 ${w} ${h}`, class: 'chart', role: 'img', 'data-test': 'lag-chart'});
  const title = svg('title', {});
  title.textContent = 'Replication lag (seconds) over the last ' + Math.round(span / 1000) + ' s';
  root.append(title);
  root.append(svg('line', {x1: left, y1: h - bottom, x2: w, y2: h - bottom, class: 'axis'}));
  root.append(svg('line', {x1: left, y1: 0, x2: left, y2: h - bottom, class: 'axis'}));
  for (const [y, label] of [[h - bottom, '0'], [4, max + ' s']]) {
    const t = svg('text', {x: left - 4, y: y + 4, 'text-anchor': 'end', class: 'tick'});
    t.textContent = label;
    root.append(t);
  }
  const x = (t) => left + (w - left) * (1 - (now - t) / span);
  const y = (v) => (h - bottom) - (h - bottom - 4) * (v / max);
  let i = 0;
  for (const [name, points] of series) {
    const colour = COLOURS[i % COLOURS.length];
    const visible = points.filter((p) => now - p.t <= span);
    if (visible.length) {
      root.append(svg('polyline', {points: visible.map((p) => x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1)).join(' '),
        fill: 'none', stroke: colour, 'stroke-width': 2, 'data-node': name}));
    }
    const key = svg('text', {x: left + 8 + 110 * i, y: h - 4, fill: colour, class: 'key'});
    key.textContent = name;
    root.append(key);
    i++;
  }
  return root;
}
