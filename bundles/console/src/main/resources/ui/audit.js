// The audit trail from /audit (the API decides what the signed-in role may read): filters, newest first, paging.
import {el, table, resourceLink, message} from './dom.js';
import * as api from './api.js';

const ACTIONS = ['', 'fetch', 'update', 'authenticate', 'login', 'check', 'policy', 'batch-fetch', 'password',
  'rotate-key', 'audit-checkpoint'];
const PAGE = 50;

function iso(local) {
  if (!local) return '';
  const d = new Date(local);
  return isNaN(d) ? '' : d.toISOString();
}

function local(isoText) {
  if (!isoText) return '';
  const d = new Date(isoText);
  if (isNaN(d)) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':'
    + pad(d.getMinutes());
}

export async function auditPage({section, query, go}) {
  const f = {};
  for (const k of ['role', 'resource', 'action', 'outcome', 'since', 'until']) f[k] = query.get(k) || '';
  const offset = Math.max(0, parseInt(query.get('offset') || '0', 10) || 0);
  const input = (name, attrs) => el('input', {name, value: f[name], 'data-test': 'audit-' + name, ...attrs});
  const role = input('role', {placeholder: 'role id, e.g. acct:user:alice'});
  const resource = input('resource', {placeholder: 'resource id, e.g. acct:variable:db/pw'});
  const action = el('select', {name: 'action', 'data-test': 'audit-action'},
    ACTIONS.map((a) => el('option', {value: a, selected: a === f.action}, a || 'any action')));
  const outcome = el('select', {name: 'outcome', 'data-test': 'audit-outcome'},
    ['', 'success', 'failure'].map((o) => el('option', {value: o, selected: o === f.outcome}, o || 'any outcome')));
  const since = el('input', {name: 'since', type: 'datetime-local', value: local(f.since)});
  const until = el('input', {name: 'until', type: 'datetime-local', value: local(f.until)});
  section.append(el('h1', {}, 'Audit'), el('form', {class: 'filters', on: {submit: (ev) => {
    ev.preventDefault();
    go('/audit', {role: role.value.trim(), resource: resource.value.trim(), action: action.value,
      outcome: outcome.value, since: iso(since.value), until: iso(until.value)});
  }}}, role, resource, action, outcome, el('label', {}, 'since ', since), el('label', {}, 'until ', until),
  el('button', {type: 'submit', 'data-test': 'audit-go'}, 'Filter')));

  // A resource filter is the path; a role filter with it narrows to events that role acted in.
  let path = '/audit';
  const params = {limit: PAGE, offset, action: f.action, outcome: f.outcome, since: f.since, until: f.until};
  if (f.resource) {
    path += '/resources/' + encodeURIComponent(f.resource);
    if (f.role) params['auth@43868/user'] = f.role;
  } else if (f.role) {
    path += '/roles/' + encodeURIComponent(f.role);
  }
  let events;
  try {
    events = await api.get(path, params);
  } catch (e) {
    section.append(message(e.message, 'error'));
    return;
  }
  if (!events.length) {
    section.append(message(offset ? 'No more events.' : 'No event matches.'));
  } else {
    const sd = (e, id, p) => ((e.sdata || {})[id] || {})[p] || '';
    section.append(table(['Time', 'Action', 'Outcome', 'Role', 'Resource', 'Client', 'Node', 'Message'],
      events.map((e) => {
        const res = sd(e, 'subject@43868', 'resource') || sd(e, 'policy@43868', 'id');
        const user = sd(e, 'auth@43868', 'user');
        return [e.timestamp, e.msgid, sd(e, 'action@43868', 'result'), user ? resourceLink(user) : '',
          res ? resourceLink(res) : '', sd(e, 'client@43868', 'ip'), e.node || e.hostname || '', e.message];
      }), {'data-test': 'audit-rows', class: 'audit'}));
  }
  const pager = el('div', {class: 'pager'});
  const again = (o) => go('/audit', {...f, offset: o});
  if (offset > 0) pager.append(el('button', {type: 'button', on: {click: () => again(Math.max(0, offset - PAGE))}},
    'Newer'));
  if (events.length === PAGE) pager.append(el('button', {type: 'button', on: {click: () => again(offset + PAGE)}},
    'Older'));
  section.append(pager);
}
