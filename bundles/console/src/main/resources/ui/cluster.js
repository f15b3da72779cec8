// The cluster as this node sees it (GET /cluster/status), sampled every few seconds while the page is open.
import {el, table, message} from './dom.js';
import * as api from './api.js';
import {lagChart} from './chart.js';

const EVERY = 3000;
const SPAN = 180000;

function fmt(v, digits = 1) {
  return v === null || v === undefined ? '—' : typeof v === 'number' ? v.toFixed(digits) : String(v);
}

export async function clusterPage({section}) {
  section.append(el('h1', {}, 'Cluster'));
  const body = el('div');
  const chart = el('div', {class: 'chart-box'});
  section.append(body, el('h2', {}, 'Replication lag'), chart);
  const series = new Map();
  let stopped = false;

  async function sample() {
    let s;
    try {
      s = await api.get('/cluster/status');
    } catch (e) {
      body.replaceChildren(message(e.message, 'error'));
      return;
    }
    if (stopped) return;
    const now = Date.now();
    for (const n of s.nodes) {
      if (typeof n.lag_seconds !== 'number') continue;
      const points = series.get(n.name) || [];
      points.push({t: now, v: n.lag_seconds});
      while (points.length && now - points[0].t > SPAN) points.shift();
      series.set(n.name, points);
    }
    const e = s.election;
    body.replaceChildren(
      table(['Node', 'Role', 'Health', 'Replication', 'Lag (s)', 'Lag (bytes)', 'State'], s.nodes.map((n) => [
        n.name + (n.self ? ' (this node)' : ''), n.role,
        n.self ? (n.healthy ? 'healthy' : 'unhealthy') : '—',
        n.self ? (n.mode || '—') : (n.sync_state === 'sync' || n.sync_state === 'quorum' ? 'synchronous'
          : 'asynchronous'),
        fmt(n.lag_seconds), n.lag_bytes === undefined || n.lag_bytes === null ? '—' : String(n.lag_bytes),
        n.self ? (n.streaming === undefined ? '' : (n.streaming ? 'streaming' : 'not streaming')) : (n.state || ''),
      ]), {'data-test': 'nodes'}),
      el('dl', {class: 'facts', 'data-test': 'cluster-facts'},
        el('dt', {}, 'Leader key (etcd)'), el('dd', {'data-test': 'etcd-leader'}, e ? (e.leader || 'vacant')
          + ' · epoch ' + fmt(e.epoch, 0) + ' · etcd ' + (e.etcd || '?') : 'no election (standalone or manual failover)'),
        el('dt', {}, 'etcd Raft leader'), el('dd', {'data-test': 'etcd-raft-leader'},
          e ? (e.etcd_leader || 'unknown') : '—'),
        el('dt', {}, 'Members'), el('dd', {}, e && e.members ? e.members.join(', ') : '—'),
        el('dt', {}, 'Keys'), el('dd', {'data-test': 'keys'}, s.keys ? s.keys.state : 'unknown'),
        el('dt', {}, 'Checks'), el('dd', {}, Object.entries(s.checks).map(([k, ok]) =>
          el('span', {class: 'check ' + (ok ? 'ok' : 'bad')}, k + (ok ? ' ✓' : ' ✗')))),
        el('dt', {}, 'Sampled'), el('dd', {}, s.sampled_at)));
    chart.replaceChildren(lagChart(series, SPAN, now));
  }

  await sample();
  const timer = setInterval(sample, EVERY);
  return () => { stopped = true; clearInterval(timer); };
}
