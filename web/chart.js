// The per-day chart of present, late and absent (Reports): stacked bars in a
// hand-made SVG, no chart library. `days` is [{date, present, late, absent}];
// present counts everyone who came, late those of them who came late.
const kNs = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(kNs, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function dayChart(days, title) {
  const width = 900;
  const height = 300;
  const pad = {left: 40, right: 10, top: 24, bottom: 50};
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(1, ...days.map((d) => d.present + d.absent));
  const step = plotW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(40, step * 0.7));
  const y = (n) => pad.top + plotH - (n / max) * plotH;
  const root = svg('svg', {viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img'});
  root.append(svg('title', {}, title));
  root.append(svg('text', {x: pad.left, y: 16}, title));
  for (const n of [0, Math.ceil(max / 2), max]) {
    root.append(svg('line', {x1: pad.left, x2: width - pad.right, y1: y(n), y2: y(n), stroke: '#e3e7ec'}));
    root.append(svg('text', {x: pad.left - 6, y: y(n) + 4, 'text-anchor': 'end'}, String(n)));
  }
  days.forEach((d, i) => {
    const x = pad.left + i * step + (step - barW) / 2;
    // Bottom to top: on time (present - late), late, absent.
    const parts = [['present', d.present - d.late], ['late', d.late], ['absent', d.absent]];
    let base = 0;
    for (const [cls, n] of parts) {
      if (n <= 0) continue;
      const bar = svg('rect', {x, width: barW, y: y(base + n), height: y(base) - y(base + n), class: cls});
      bar.append(svg('title', {}, `${d.date} ${cls}: ${n}`));
      root.append(bar);
      base += n;
    }
    // Every label when they fit, else about twelve of them.
    if (days.length <= 14 || i % Math.ceil(days.length / 12) === 0)
      root.append(svg('text', {x: x + barW / 2, y: height - pad.bottom + 16, 'text-anchor': 'middle'},
                      d.date.slice(5)));
  });
  root.dataset.days = String(days.length);
  return root;
}

// Per-day counts from GET /attendance/summary's rows (one per person and day).
export function countDays(rows) {
  const byDate = new Map();
  for (const r of rows) {
    const d = byDate.get(r.date) || {date: r.date, present: 0, late: 0, absent: 0};
    if (r.absent) d.absent += 1;
    else {
      d.present += 1;
      if (r.late) d.late += 1;
    }
    byDate.set(r.date, d);
  }
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
}
