// The console's shell: sign-in, the header, and a hash router over the pages.
import {el, message} from './dom.js';
import * as api from './api.js';
import {resourcesPage} from './resources.js';
import {resourcePage} from './resource.js';
import {policiesPage} from './policies.js';
import {auditPage} from './audit.js';
import {clusterPage} from './cluster.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;
let cleanup = null;

const routes = [
  [/^\/resources$/, resourcesPage],
  [/^\/resource\/(.+)$/, resourcePage],
  [/^\/policies$/, policiesPage],
  [/^\/policy\/(.+)$/, policiesPage],
  [/^\/audit$/, auditPage],
  [/^\/cluster$/, clusterPage],
];

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/resources';
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  return {path, query};
}

/** Go to a page with query parameters (empty ones left out). */
export function go(path, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  const target = '#' + path + (s ? '?' + s : '');
  // The same page asked again (Filter, Search with unchanged fields) is fetched again.
  if (location.hash === target) render(); else location.hash = target;
}

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  if (!me) { signInPage(); return; }
  const {path, query} = parseHash();
  const top = {resource: 'resources', policy: 'policies'}[path.split('/')[1]] || path.split('/')[1];
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === '#/' + top);
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const section = el('section', {class: 'page'});
    view.replaceChildren(section);
    try {
      cleanup = (await page({me, section, params: m.slice(1).map(decodeURIComponent), query, go})) || null;
    } catch (e) {
      section.append(message(e.message || String(e), 'error'));
    }
    return;
  }
  view.replaceChildren(message('No such page.', 'error'));
}

function header() {
  nav.hidden = !me;
  if (!me) { who.replaceChildren(); return; }
  const badges = [el('span', {class: 'badge', 'data-test': 'node'}, me.node.name + ' · ' + me.node.role)];
  if (me.read_only) badges.push(el('span', {class: 'badge ro', 'data-test': 'read-only'}, 'read-only'));
  who.replaceChildren(...badges, el('span', {class: 'user', 'data-test': 'user'}, me.role_id),
    el('button', {type: 'button', 'data-test': 'sign-out', on: {click: async () => {
      await api.signOut();
      me = null;
      header();
      location.hash = '#/resources';
      render();
    }}}, 'Sign out'));
}

function signInPage() {
  header();
  const account = el('input', {name: 'account', required: true, autocomplete: 'organization',
    value: localStorage.getItem('coffer.console.account') || ''});
  const login = el('input', {name: 'login', required: true, autocomplete: 'username'});
  const secret = el('input', {name: 'secret', type: 'password', required: true, autocomplete: 'current-password'});
  const status = el('div', {class: 'status'});
  const form = el('form', {class: 'signin', 'data-test': 'sign-in', on: {submit: async (ev) => {
    ev.preventDefault();
    status.replaceChildren(message('Signing in…'));
    try {
      me = await api.signIn(account.value.trim(), login.value.trim(), secret.value);
      secret.value = '';
      localStorage.setItem('coffer.console.account', account.value.trim());
      header();
      render();
    } catch (e) {
      secret.value = '';
      status.replaceChildren(message(e.status === 401 ? 'Sign-in failed: check the account, login and password '
        + 'or API key.' : (e.message || String(e)), 'error'));
    }
  }}},
  el('h1', {}, 'Sign in'),
  el('label', {}, 'Account', account),
  el('label', {}, 'Login', login),
  el('label', {}, 'Password or API key', secret),
  el('button', {type: 'submit'}, 'Sign in'),
  status);
  view.replaceChildren(form);
  (account.value ? login : account).focus();
}

api.whenSignedOut(() => {
  if (me) { me = null; render(); }
});
window.addEventListener('hashchange', render);

(async () => {
  if (api.hasSession()) {
    try { me = await api.session(); } catch (e) { me = null; }
  }
  header();
  render();
})();
