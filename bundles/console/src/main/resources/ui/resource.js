// One resource: owner, annotations, permissions, members and memberships of a role, a variable's versions, and the
// value for those allowed to execute it (the API audits that fetch as any other).
import {el, table, resourceLink, parseId, idPath, message} from './dom.js';
import * as api from './api.js';

const ROLE_KINDS = new Set(['user', 'host', 'group', 'layer', 'policy']);

export async function resourcePage({me, section, params}) {
  const id = params[0];
  const parts = parseId(id);
  if (!parts) {
    section.append(message('Not a resource id.', 'error'));
    return;
  }
  const r = await api.get('/resources' + idPath(id));
  section.append(el('h1', {}, el('span', {class: 'kind'}, parts.kind), ' ', el('span', {class: 'id',
    'data-test': 'resource-id'}, id)));
  section.append(el('dl', {class: 'facts'},
    el('dt', {}, 'Owner'), el('dd', {'data-test': 'owner'}, r.owner ? resourceLink(r.owner) : '—'),
    el('dt', {}, 'Policy'), el('dd', {}, r.policy ? resourceLink(r.policy) : '—'),
    el('dt', {}, 'Created'), el('dd', {}, r.created_at || '—')));
  section.append(el('h2', {}, 'Annotations'), (r.annotations || []).length
    ? table(['Name', 'Value'], r.annotations.map((a) => [a.name, a.value]), {'data-test': 'annotations'})
    : message('None.'));
  section.append(el('h2', {}, 'Permissions'), (r.permissions || []).length
    ? table(['Privilege', 'Role', 'Policy'], r.permissions.map((p) => [p.privilege, resourceLink(p.role),
      p.policy ? resourceLink(p.policy) : '']), {'data-test': 'permissions'})
    : message('None granted on it.'));
  if (ROLE_KINDS.has(parts.kind)) {
    await roleSections(section, id);
  }
  if (parts.kind === 'variable') {
    await variableSection(section, me, id, r.secrets || []);
  }
  if (parts.kind === 'policy') {
    section.append(el('p', {}, el('a', {href: '#/policy/' + encodeURIComponent(id), 'data-test': 'policy-versions'},
      'Policy versions and diffs')));
  }
}

async function roleSections(section, id) {
  for (const [title, query, pick] of [['Members', 'members', (m) => m.member], ['Memberships', 'memberships',
    (m) => m.role]]) {
    section.append(el('h2', {}, title));
    try {
      const list = await api.get('/roles' + idPath(id), {[query]: 'true'});
      section.append(list.length ? table(['Role', 'Admin option', 'Ownership'], list.map((m) => [
        resourceLink(pick(m)), m.admin_option ? 'yes' : 'no', m.ownership ? 'yes' : 'no']),
      {'data-test': query}) : message('None.'));
    } catch (e) {
      section.append(message(e.status === 404 ? 'Not visible to you.' : e.message, 'error'));
    }
  }
}

async function variableSection(section, me, id, versions) {
  section.append(el('h2', {}, 'Secret versions'), versions.length
    ? table(['Version', 'Expires'], versions.map((v) => [String(v.version), v.expires_at || 'never']),
      {'data-test': 'versions'})
    : message('No value yet.'));
  const may = versions.length && await api.check('/resources' + idPath(id),
    {check: 'true', privilege: 'execute'}).catch(() => false);
  const out = el('div', {class: 'reveal'});
  if (may) {
    const reveal = el('button', {type: 'button', 'data-test': 'reveal', on: {click: async () => {
      out.replaceChildren(message('Fetching…'));
      try {
        const value = await api.getText('/secrets' + idPath(id));
        out.replaceChildren(el('pre', {class: 'value', 'data-test': 'value'}, value),
          el('button', {type: 'button', on: {click: () => out.replaceChildren()}}, 'Hide'));
      } catch (e) {
        out.replaceChildren(message(e.status === 403 ? 'You may not fetch this value.' : e.message, 'error'));
      }
    }}}, 'Reveal value');
    section.append(el('p', {}, reveal, ' ', el('span', {class: 'muted'},
      'Revealing fetches the value as you; the fetch is audited.')), out);
  } else if (versions.length) {
    section.append(message('You may not fetch this value (no execute privilege).'));
  }
  if (!me.read_only) {
    const value = el('textarea', {rows: 3, 'data-test': 'new-value', autocomplete: 'off'});
    const status = el('div');
    section.append(el('h2', {}, 'Set a new value'), el('form', {class: 'write', on: {submit: async (ev) => {
      ev.preventDefault();
      try {
        await api.post('/secrets' + idPath(id), value.value);
        value.value = '';
        status.replaceChildren(message('Saved as a new version. Reload to see it.'));
      } catch (e) {
        status.replaceChildren(message(e.message, 'error'));
      }
    }}}, value, el('button', {type: 'submit', 'data-test': 'save-value'}, 'Save'), status));
  }
}
