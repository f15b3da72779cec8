// Every node is built with DOM calls and every datum is set as text: no markup is ever parsed from data, so an id
// like <img src=x onerror=...> shows as the characters it is.

/** el('a', {href: '#/x', class: 'k', on: {click: fn}}, 'text', childNode, [more]) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [event, fn] of Object.entries(v)) e.addEventListener(event, fn);
    } else if (/^on/i.test(k)) {
      throw new Error('event handlers are attached with "on", never as attributes');
    } else if (k === 'class') {
      e.className = v;
    } else {
      e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, children);
  return e;
}

function append(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table from column titles and rows of cells (strings or nodes). */
export function table(columns, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))));
}

/** A link to a resource's page; the id is only ever text and a URI component. */
export function resourceLink(id) {
  return el('a', {href: '#/resource/' + encodeURIComponent(id), class: 'id', 'data-id': id}, id);
}

export function parseId(id) {
  const a = id.indexOf(':');
  const b = id.indexOf(':', a + 1);
  if (a < 1 || b < 0) return null;
  return {account: id.slice(0, a), kind: id.slice(a + 1, b), name: id.slice(b + 1)};
}

/** The API path of a resource id: /account/kind/name with the name percent-encoded (its slashes too). */
export function idPath(id) {
  const p = parseId(id);
  return '/' + encodeURIComponent(p.account) + '/' + encodeURIComponent(p.kind) + '/' + encodeURIComponent(p.name);
}

export function message(text, kind = 'info') {
  return el('p', {class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status'}, text);
}
