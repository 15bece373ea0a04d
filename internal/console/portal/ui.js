// Small DOM helpers shared by every page. Everything is built with
// createElement and textContent: no HTML strings, so nothing a directory
// object's name holds can run as markup.

let ids = 0;

// uid returns an id unique on the page, for label/control pairs.
export function uid(prefix = 'c') {
  ids += 1;
  return `${prefix}-${ids}`;
}

// h builds an element. props: attributes, plus on* for listeners, class,
// and dataset; children: nodes, strings, numbers, arrays, null (skipped).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// replace empties el and appends children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// field wraps a control with its label; the control gets an id if it has none.
export function field(label, control, hint) {
  if (!control.id) control.id = uid('f');
  const hintEl = hint ? h('p', { class: 'hint', id: control.id + '-hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

export function input(name, props = {}) {
  return h('input', { name, type: 'text', autocomplete: 'off', ...props });
}

export function select(name, options, props = {}) {
  return h('select', { name, ...props },
    options.map((o) => h('option', { value: o.value, selected: o.selected || undefined }, o.label)));
}

// button makes a button; a disabled one carries its reason as a tooltip and
// as text for assistive technology.
export function button(label, onclick, props = {}) {
  const b = h('button', { type: 'button', onclick, ...props }, label);
  return b;
}

// deny disables a control and says why, next to it and to screen readers.
export function deny(control, reason) {
  if (!reason) return control;
  control.disabled = true;
  control.title = reason;
  const note = h('span', { class: 'reason', id: uid('why') }, reason);
  control.setAttribute('aria-describedby', note.id);
  return h('span', { class: 'denied' }, control, note);
}

// table renders rows under labelled columns: [{label, render(row) → node|string}].
export function table(columns, rows, { caption, empty = 'Nothing to show.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', {}, c.render(r)))))));
}

// errorBox shows a refused or failed request with the server's own message.
export function errorBox(err) {
  const code = err && err.code ? ` (${err.code})` : '';
  const status = err && err.status ? `${err.status}` : '';
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, status ? `Request refused: ${status}${code}` : 'Something went wrong'),
    h('p', { class: 'message' }, (err && err.message) || String(err)));
}

// notice shows a transient status message in the page's live region.
export function notice(text) {
  const region = document.getElementById('notice');
  if (region) replace(region, text);
}

// form builds a form whose submit runs action(values) with the submit button
// busy, and shows the outcome (a refused request keeps the form and shows
// the error above its buttons).
export function form(fields, submitLabel, action, { cancel } = {}) {
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, submitLabel);
  // method=post: should a script ever fail, the browser posts (and is refused)
  // rather than putting the values in the address bar.
  const f = h('form', { method: 'post' }, fields, status,
    h('div', { class: 'actions' }, submit, cancel ? button('Cancel', cancel, { class: 'secondary' }) : null));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    replace(status);
    submit.disabled = true;
    try {
      const values = Object.fromEntries(new FormData(f).entries());
      for (const c of f.querySelectorAll('input[type=checkbox]')) values[c.name] = c.checked;
      await action(values, f);
    } catch (err) {
      replace(status, errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  return f;
}

// section is a titled region of a page.
export function section(title, ...children) {
  const id = uid('s');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), children);
}

export function link(href, text, props = {}) {
  return h('a', { href, ...props }, text);
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// copyable shows a value once with a button that copies it.
export function secretValue(value, label = 'Copy') {
  const code = h('code', { class: 'secret', id: uid('secret') }, value);
  return h('div', { class: 'secret-box' }, code,
    button(label, () => navigator.clipboard && navigator.clipboard.writeText(value)),
    h('p', { class: 'hint' }, 'Copy it now: it is not shown again.'));
}

// loading is a placeholder while a page fetches its data.
export function loading(what = 'Loading') {
  return h('p', { class: 'loading', role: 'status' }, `${what}…`);
}

// part fills el with what fn renders, showing progress meanwhile and the
// server's refusal if fn fails: one part of a page failing leaves the rest.
export async function part(el, fn) {
  replace(el, loading());
  try {
    replace(el, await fn());
  } catch (err) {
    replace(el, errorBox(err));
  }
}
