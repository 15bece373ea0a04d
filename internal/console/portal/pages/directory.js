// What the directory pages share: who may change an object (a directory
// role, or owning it), a search across users, groups and service
// principals to pick one, the owners of an object, links to objects and
// a delete button that asks before it acts.

import { graph, graphAll, directoryRoleReason, GRAPH } from '../api.js';
import { h, replace, section, table, input, field, button, deny, errorBox, notice, link } from '../ui.js';

export const APP_ADMINS = ['Global Administrator', 'Application Administrator', 'Cloud Application Administrator'];
export const GROUP_ADMINS = ['Global Administrator', 'Groups Administrator', 'User Administrator'];
export const APP_ROLE_GRANTERS = ['Global Administrator', 'Privileged Role Administrator', 'Application Administrator', 'Cloud Application Administrator'];

// quote escapes a value for a single-quoted OData string.
export function quote(text) {
  return text.replace(/'/g, "''");
}

// nameFilter is a Graph $filter for display names starting with text ('' for none).
export function nameFilter(text) {
  const t = text.trim();
  return t ? `startswith(displayName,'${quote(t)}')` : '';
}

// ownedIds are the ids of what the signed-in person owns (/me/ownedObjects).
export async function ownedIds() {
  const objs = await graphAll('/me/ownedObjects');
  return new Set(objs.map((o) => String(o.id).toLowerCase()));
}

// manageReason is why the person may not change an object: null when a
// directory role allows it or they own one of ids.
export async function manageReason(ctx, roles, what, ids = []) {
  const reason = await directoryRoleReason(ctx.account.oid, roles, what);
  if (!reason || !ids.length) return reason;
  try {
    const owned = await ownedIds();
    if (ids.some((id) => id && owned.has(String(id).toLowerCase()))) return null;
  } catch {
    // The reason below stands.
  }
  return `${what} needs one of these directory roles: ${roles.join(', ')}; or being one of its owners.`;
}

const KINDS = {
  '#microsoft.graph.user': ['User', (id) => `#/users/${id}`],
  '#microsoft.graph.group': ['Group', (id) => `#/groups/${id}`],
  '#microsoft.graph.servicePrincipal': ['Service principal', (id) => `#/enterprise/${id}`],
  '#microsoft.graph.application': ['Application', (id) => `#/apps/${id}`],
};

export function kindOf(o) {
  return (KINDS[o['@odata.type']] || [(o['@odata.type'] || '').replace('#microsoft.graph.', '')])[0];
}

// objectLink links a directory object to its console page.
export function objectLink(o, text) {
  const k = KINDS[o['@odata.type']];
  const label = text || o.displayName || o.userPrincipalName || o.id;
  return k ? link(k[1](o.id), label) : label;
}

// refBody is the body of a POST .../$ref naming a directory object.
export function refBody(id) {
  return { '@odata.id': `${location.origin}${GRAPH}/directoryObjects/${id}` };
}

// attempt runs a change and shows a refusal in statusEl.
export async function attempt(statusEl, fn) {
  replace(statusEl);
  try {
    await fn();
    return true;
  } catch (err) {
    replace(statusEl, errorBox(err));
    return false;
  }
}

// confirmButton asks in the page (not with window.confirm) before acting.
export function confirmButton(label, question, action, props = {}) {
  const holder = h('span', { class: 'confirm' });
  const start = button(label, () => {
    replace(holder, h('span', { role: 'alert' }, question), ' ',
      button(`Yes, ${label.toLowerCase()}`, async (e) => {
        e.target.disabled = true;
        try {
          await action();
        } finally {
          e.target.disabled = false;
        }
      }, { class: 'danger', id: props.id ? `${props.id}-confirm` : undefined }),
      ' ', button('Cancel', () => replace(holder, start), { class: 'secondary' }));
  }, { class: 'danger', ...props });
  replace(holder, start);
  return holder;
}

const COLLECTIONS = {
  users: 'User', groups: 'Group', servicePrincipals: 'Service principal',
};

// principalPicker searches users, groups and service principals (those of
// kinds) by the start of their name and calls pick(object) for the one the
// person chooses. prefix names its controls: #prefix-q, [data-pick=id].
export function principalPicker({ prefix, label = 'Find a user, group or service principal', kinds = Object.keys(COLLECTIONS), pickLabel = 'Add', pick, reason }) {
  const q = input('q', { type: 'search', id: `${prefix}-q`, placeholder: 'Start of the name' });
  const results = h('div', { class: 'picker-results', id: `${prefix}-results` });
  const status = h('div', { 'aria-live': 'polite' });
  const f = h('form', { role: 'search', class: 'toolbar' }, field(label, q), h('button', { type: 'submit', id: `${prefix}-search` }, 'Search'));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    replace(results, h('p', { class: 'loading', role: 'status' }, 'Searching…'));
    const flt = nameFilter(q.value);
    try {
      const found = (await Promise.all(kinds.map(async (c) => {
        const items = await graphAll(`/${c}?$top=25${flt ? `&$filter=${encodeURIComponent(flt)}` : ''}`, 25);
        return items.map((o) => ({ ...o, '@odata.type': o['@odata.type'] || `#microsoft.graph.${c === 'servicePrincipals' ? 'servicePrincipal' : c.slice(0, -1)}` }));
      }))).flat();
      replace(results, table([
        { label: 'Name', render: (o) => o.displayName },
        { label: 'Kind', render: (o) => kindOf(o) },
        { label: 'Sign-in name or app ID', render: (o) => o.userPrincipalName || o.appId || '' },
        { label: '', render: (o) => deny(button(pickLabel, async (ev) => {
          ev.target.disabled = true;
          await attempt(status, () => pick(o));
          ev.target.disabled = false;
        }, { dataset: { pick: o.id }, 'aria-label': `${pickLabel} ${o.displayName}` }), reason) },
      ], found, { empty: 'Nothing matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  });
  return h('div', { class: 'picker' }, f, status, results);
}

// ownersSection lists, adds and removes the owners of base (a Graph path
// such as /groups/{id}); owners are users or service principals.
export function ownersSection(base, reason, what = 'this object') {
  const listEl = h('div', { id: 'owners-list' });
  const status = h('div', { 'aria-live': 'polite' });
  const load = async () => {
    try {
      const owners = await graphAll(`${base}/owners`);
      replace(listEl, table([
        { label: 'Name', render: (o) => objectLink(o) },
        { label: 'Kind', render: (o) => kindOf(o) },
        { label: 'Sign-in name or app ID', render: (o) => o.userPrincipalName || o.appId || '' },
        { label: '', render: (o) => deny(button('Remove', () => attempt(status, async () => {
          await graph(`${base}/owners/${o.id}/$ref`, { method: 'DELETE' });
          notice(`${o.displayName} no longer owns ${what}.`);
          await load();
        }), { class: 'secondary', dataset: { removeOwner: o.id }, 'aria-label': `Remove owner ${o.displayName}` }), reason) },
      ], owners, { caption: `${owners.length} owner${owners.length === 1 ? '' : 's'}`, empty: 'No owners.' }));
    } catch (err) {
      replace(listEl, errorBox(err));
    }
  };
  const picker = principalPicker({ prefix: 'owner', label: 'Add an owner: find a user or service principal', kinds: ['users', 'servicePrincipals'],
    pickLabel: 'Make owner', reason,
    pick: async (o) => {
      await graph(`${base}/owners/$ref`, { method: 'POST', body: refBody(o.id) });
      notice(`${o.displayName} now owns ${what}.`);
      await load();
    } });
  const el = section('Owners', h('p', { class: 'hint' }, `Owners manage ${what} without a directory role.`), status, listEl, picker);
  return { el, load };
}

// properties renders a list of [label, value, id] rows.
export function properties(rows) {
  return h('dl', { class: 'props' }, rows.filter(Boolean).map(([label, value, id]) => [h('dt', {}, label), h('dd', { id }, value)]));
}

// searchForm is a list page's search box; run(text) loads the results.
export function searchForm(id, label, value, run) {
  const q = input('q', { type: 'search', value, id });
  const f = h('form', { role: 'search', class: 'toolbar' }, field(label, q), h('button', { type: 'submit' }, 'Search'));
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    run(q.value);
  });
  return { form: f, input: q };
}
