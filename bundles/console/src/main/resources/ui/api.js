// The console's backend at /ui/api: the session cookie goes by itself (HttpOnly: this code never sees it); the CSRF
// token the sign-in returned goes as a header on every call.
const CSRF = 'coffer.console.csrf';
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || ('HTTP ' + status));
    this.status = status;
    this.code = code;
  }
}

export function whenSignedOut(fn) { onSignedOut = fn; }
export function hasSession() { return !!sessionStorage.getItem(CSRF); }

async function call(method, path, {query, body, type} = {}) {
  const url = new URL('/ui/api' + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = {'X-Coffer-CSRF': sessionStorage.getItem(CSRF) || '', 'Accept': 'application/json, */*'};
  if (type) headers['Content-Type'] = type;
  const r = await fetch(url, {method, headers, body, credentials: 'same-origin', cache: 'no-store',
    redirect: 'error', referrerPolicy: 'no-referrer'});
  if (r.status === 401) {
    sessionStorage.removeItem(CSRF);
    onSignedOut();
  }
  return r;
}

async function errorOf(r) {
  let code = null, text = null;
  try {
    const j = await r.json();
    if (j && j.error) { code = j.error.code; text = j.error.message; }
  } catch (e) { /* not JSON: the status says it */ }
  return new ApiError(r.status, code, text);
}

/** GET a Conjur route as the signed-in user; JSON back. A 404 whose body is a list (the audit's "none") is []. */
export async function get(path, query) {
  const r = await call('GET', '/conjur' + path, {query});
  if (r.ok) return r.json();
  if (r.status === 404 && path.startsWith('/audit')) {
    const body = await r.clone().json().catch(() => null);
    if (Array.isArray(body)) return [];
  }
  throw await errorOf(r);
}

/** true when a check route answers 2xx, false on 403/404. */
export async function check(path, query) {
  const r = await call('GET', '/conjur' + path, {query});
  if (r.ok) return true;
  if (r.status === 403 || r.status === 404) return false;
  throw await errorOf(r);
}

export async function getText(path) {
  const r = await call('GET', '/conjur' + path);
  if (r.ok) return r.text();
  throw await errorOf(r);
}

export async function post(path, text) {
  const r = await call('POST', '/conjur' + path, {body: text, type: 'text/plain; charset=utf-8'});
  if (!r.ok) throw await errorOf(r);
}

export async function signIn(account, login, secret) {
  const r = await fetch('/ui/api/session', {method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({account, login, secret})});
  if (!r.ok) throw await errorOf(r);
  const me = await r.json();
  sessionStorage.setItem(CSRF, me.csrf);
  delete me.csrf;
  return me;
}

export async function session() {
  const r = await call('GET', '/session');
  if (!r.ok) throw await errorOf(r);
  return r.json();
}

export async function signOut() {
  try { await call('DELETE', '/session'); } finally { sessionStorage.removeItem(CSRF); }
}
