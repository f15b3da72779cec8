// Browse and search resources by kind.
import {el, table, resourceLink, message} from './dom.js';
import * as api from './api.js';

const KINDS = ['', 'variable', 'policy', 'user', 'host', 'group', 'layer', 'webservice', 'host_factory'];
const PAGE = 50;

export async function resourcesPage({me, section, query, go}) {
  const kind = query.get('kind') || '';
  const search = query.get('search') || '';
  const offset = Math.max(0, parseInt(query.get('offset') || '0', 10) || 0);
  const kindSelect = el('select', {name: 'kind', 'data-test': 'kind'},
    KINDS.map((k) => el('option', {value: k, selected: k === kind}, k || 'all kinds')));
  const searchBox = el('input', {name: 'search', type: 'search', value: search, placeholder: 'search ids and annotations',
    'data-test': 'search'});
  section.append(el('h1', {}, 'Resources'),
    el('form', {class: 'filters', on: {submit: (ev) => {
      ev.preventDefault();
      go('/resources', {kind: kindSelect.value, search: searchBox.value.trim()});
    }}}, kindSelect, searchBox, el('button', {type: 'submit', 'data-test': 'search-go'}, 'Search')));
  const path = '/resources/' + encodeURIComponent(me.account) + (kind ? '/' + encodeURIComponent(kind) : '');
  const list = await api.get(path, {search, limit: PAGE, offset});
  if (!list.length) {
    section.append(message(offset ? 'No more resources.' : 'No resource matches.'));
  } else {
    section.append(table(['Id', 'Kind', 'Owner'], list.map((r) => [resourceLink(r.id), r.id.split(':')[1],
      r.owner ? resourceLink(r.owner) : '']), {'data-test': 'results'}));
  }
  const pager = el('div', {class: 'pager'});
  if (offset > 0) {
    pager.append(el('button', {type: 'button', on: {click: () => go('/resources', {kind, search,
      offset: Math.max(0, offset - PAGE)})}}, 'Previous'));
  }
  if (list.length === PAGE) {
    pager.append(el('button', {type: 'button', on: {click: () => go('/resources', {kind, search,
      offset: offset + PAGE})}}, 'Next'));
  }
  section.append(pager);
}
