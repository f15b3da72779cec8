// Policies, their versions (the API keeps the newest 20 with their text), and a line diff between two.
import {el, table, resourceLink, idPath, message} from './dom.js';
import * as api from './api.js';
import {diffLines} from './diff.js';

export async function policiesPage({me, section, params, query, go}) {
  if (!params.length) {
    section.append(el('h1', {}, 'Policies'));
    const list = await api.get('/resources/' + encodeURIComponent(me.account) + '/policy', {limit: 200});
    section.append(list.length ? table(['Policy', 'Versions', 'Owner'], list.map((p) => [
      el('a', {href: '#/policy/' + encodeURIComponent(p.id), class: 'id', 'data-id': p.id}, p.id),
      String((p.policy_versions || []).length), p.owner ? resourceLink(p.owner) : '']), {'data-test': 'policies'})
      : message('No policy is visible to you.'));
    return;
  }
  const id = params[0];
  const r = await api.get('/resources' + idPath(id));
  const versions = (r.policy_versions || []).slice().sort((x, y) => x.version - y.version);
  section.append(el('h1', {}, 'Policy ', el('span', {class: 'id', 'data-test': 'policy-id'}, id)),
    el('p', {}, resourceLink(id), ' (the resource)'));
  if (!versions.length) {
    section.append(message('No version of this policy was loaded (or none is visible to you).'));
    return;
  }
  section.append(table(['Version', 'Loaded', 'By', 'From', 'SHA-256'], versions.map((v) => [String(v.version),
    v.created_at || '', v.role ? resourceLink(v.role) : '', v.client_ip || '', (v.policy_sha256 || '').slice(0, 16)]),
  {'data-test': 'versions'}));
  const last = versions[versions.length - 1].version;
  const to = parseInt(query.get('to') || last, 10);
  const from = parseInt(query.get('from') || (versions.length > 1 ? versions[versions.length - 2].version : last), 10);
  const pick = (name, value) => el('select', {name, 'data-test': 'diff-' + name},
    versions.map((v) => el('option', {value: v.version, selected: v.version === value}, 'v' + v.version)));
  const fromSel = pick('from', from);
  const toSel = pick('to', to);
  section.append(el('h2', {}, 'Diff'), el('form', {class: 'filters', on: {submit: (ev) => {
    ev.preventDefault();
    go('/policy/' + encodeURIComponent(id), {from: fromSel.value, to: toSel.value});
  }}}, 'from ', fromSel, ' to ', toSel, el('button', {type: 'submit', 'data-test': 'diff-go'}, 'Compare')));
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  if (!a || !b) {
    section.append(message('Pick two versions.', 'error'));
    return;
  }
  const lines = diffLines(a.policy_text || '', b.policy_text || '');
  const cls = {' ': 'same', '-': 'del', '+': 'add'};
  section.append(el('pre', {class: 'diff', 'data-test': 'diff'}, lines.map((l) =>
    el('div', {class: cls[l.op]}, l.op + ' ' + l.text))));
}
