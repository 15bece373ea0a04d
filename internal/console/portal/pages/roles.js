// Roles: the resource manager's role definitions, built-in and custom; a
// role's permissions and assignable scopes; a custom role made from a copy
// of another; deleting a custom role. Microsoft.Authorization calls with the
// person's token: whether they may write a role is what ARM's permissions
// say at its assignable scopes.

import { arm, armAll, API_VERSIONS, permissionsAt, actionAllowed } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, link, loading } from '../ui.js';
import { scopeLink, iamHref } from '../scopes.js';

const AUTHZ = 'Microsoft.Authorization';
const V = { apiVersion: API_VERSIONS.authorization };
const KINDS = { BuiltInRole: 'Built-in', CustomRole: 'Custom' };

async function subscriptionIDs() {
  const subs = await armAll('/subscriptions', { apiVersion: API_VERSIONS.subscriptions });
  return subs.map((s) => s.id);
}

// writeReason is why the person may not write (or delete) a role
// assignable at scopes, or null.
async function writeReason(scopes, verb) {
  for (const s of scopes) {
    try {
      if (!actionAllowed(await permissionsAt(s), `${AUTHZ}/roleDefinitions/${verb}`)) {
        return `${verb === 'write' ? 'Writing' : 'Deleting'} a custom role needs ${AUTHZ}/roleDefinitions/${verb} at each of its assignable scopes (the Owner or User Access Administrator role); you do not have it at ${s}.`;
      }
    } catch (err) {
      return `Your permissions at ${s} could not be read: ${err.message}`;
    }
  }
  return null;
}

export async function listRoles(view, params, query) {
  const results = h('div', { id: 'roles' });
  const text = input('q', { type: 'search', id: 'role-search', value: query.get('q') || '' });
  const kind = select('type', [{ value: '', label: 'All' }, { value: 'BuiltInRole', label: 'Built-in' }, { value: 'CustomRole', label: 'Custom' }], { id: 'role-type' });
  kind.value = query.get('type') || '';
  let roles = [];
  const show = () => {
    const t = text.value.trim().toLowerCase();
    const rows = roles.filter((d) => (!kind.value || d.properties.type === kind.value)
      && (!t || d.properties.roleName.toLowerCase().includes(t) || (d.properties.description || '').toLowerCase().includes(t)));
    replace(results, table([
      { label: 'Name', render: (d) => link(`#/roles/${d.name}`, d.properties.roleName) },
      { label: 'Type', render: (d) => KINDS[d.properties.type] || d.properties.type },
      { label: 'Description', render: (d) => d.properties.description || '' },
      { label: 'Assignable scopes', render: (d) => (d.properties.type === 'CustomRole' ? d.properties.assignableScopes.map((s) => h('div', {}, scopeLink(s))) : 'Any') },
    ], rows, { caption: `${rows.length} role${rows.length === 1 ? '' : 's'}`, empty: 'No role matches.' }));
  };
  const filters = h('form', { role: 'search', class: 'toolbar' }, field('Search by name or description', text), field('Type', kind));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    show();
  });
  text.addEventListener('input', show);
  kind.addEventListener('change', show);
  replace(view, h('h1', {}, 'Roles'),
    h('p', { class: 'hint' }, 'Role definitions of the resource manager. Give one to a user, group or service principal in the Access control (IAM) tab of a subscription, resource group or resource.'),
    h('div', { class: 'toolbar' }, link('#/roles/new', 'New custom role', { class: 'button', id: 'new-role' })),
    filters, results);
  replace(results, loading());
  try {
    roles = (await armAll(`/providers/${AUTHZ}/roleDefinitions`, V))
      .sort((a, b) => (a.properties.type === b.properties.type ? a.properties.roleName.localeCompare(b.properties.roleName)
        : a.properties.type === 'BuiltInRole' ? -1 : 1));
    show();
  } catch (err) {
    replace(results, errorBox(err));
  }
}

function permissionList(title, items, id) {
  return [h('dt', {}, title), h('dd', { id }, items && items.length ? h('ul', { class: 'plain' }, items.map((a) => h('li', {}, h('code', {}, a)))) : 'None')];
}

export async function showRole(view, params) {
  const d = await arm(`/providers/${AUTHZ}/roleDefinitions/${encodeURIComponent(params.id)}`, V);
  const p = d.properties;
  const custom = p.type === 'CustomRole';
  const out = h('div');
  const del = button('Delete', async () => {
    if (!window.confirm(`Delete the custom role ${p.roleName}?`)) return;
    try {
      await arm(`/providers/${AUTHZ}/roleDefinitions/${d.name}`, { method: 'DELETE', ...V });
      notice(`Deleted ${p.roleName}.`);
      location.hash = '#/roles';
    } catch (err) {
      replace(out, errorBox(err));
    }
  }, { class: 'danger', id: 'delete-role' });
  const delWhy = custom ? await writeReason(p.assignableScopes, 'delete') : 'A built-in role cannot be deleted.';
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/roles', 'Roles'), h('span', {}, p.roleName)),
    h('h1', { id: 'role-name' }, p.roleName, h('span', { class: 'kind' }, ` ${KINDS[p.type] || p.type} role`)),
    h('p', { id: 'role-description' }, p.description || ''),
    h('div', { class: 'actions' }, link(`#/roles/new?from=${d.name}`, 'Copy to a new custom role', { class: 'button secondary', id: 'copy-role' }), deny(del, delWhy)),
    out,
    section('Permissions', (p.permissions || []).map((perm, i) => h('dl', { class: 'props' },
      permissionList('Actions', perm.actions, `role-actions-${i}`), permissionList('Not actions', perm.notActions),
      permissionList('Data actions', perm.dataActions), permissionList('Not data actions', perm.notDataActions)))),
    section('Assignable scopes', custom ? h('ul', { id: 'role-scopes' }, p.assignableScopes.map((s) => h('li', {}, scopeLink(s), ' · ', link(iamHref(s), 'Access control (IAM)'))))
      : h('p', {}, 'A built-in role can be assigned at any scope.')),
    h('dl', { class: 'props' }, h('dt', {}, 'Role ID'), h('dd', { id: 'role-id' }, d.name)));
}

const lines = (s) => (s || '').split('\n').map((x) => x.trim()).filter(Boolean);

function textarea(name, value, props = {}) {
  const t = h('textarea', { name, rows: 4, ...props });
  t.value = (value || []).join('\n');
  return t;
}

export async function newRole(view, params, query) {
  const from = query.get('from');
  const [source, subs] = await Promise.all([
    from ? arm(`/providers/${AUTHZ}/roleDefinitions/${encodeURIComponent(from)}`, V) : null,
    subscriptionIDs(),
  ]);
  const sp = source ? source.properties : { permissions: [{}] };
  const perm = sp.permissions[0] || {};
  const scopes = sp.type === 'CustomRole' ? sp.assignableScopes : subs.slice(0, 1);
  const why = await writeReason(scopes, 'write');
  const f = form([
    field('Role name', input('roleName', { required: true, id: 'role-new-name', value: source ? `Copy of ${sp.roleName}` : '' })),
    field('Description', input('description', { id: 'role-new-description', class: 'wide', value: sp.description || '' })),
    field('Actions', textarea('actions', perm.actions, { id: 'role-new-actions' }), 'One operation per line; * matches any run of characters, as in Microsoft.MachineLearningServices/workspaces/*/read.'),
    field('Not actions', textarea('notActions', perm.notActions, { id: 'role-new-not-actions' })),
    field('Data actions', textarea('dataActions', perm.dataActions, { id: 'role-new-data-actions' })),
    field('Not data actions', textarea('notDataActions', perm.notDataActions, { id: 'role-new-not-data-actions' })),
    field('Assignable scopes', textarea('assignableScopes', scopes, { id: 'role-new-scopes', rows: 2 }), 'One per line: subscriptions, resource groups or resources where the role may be assigned.'),
  ], 'Create role', async (v) => {
    const assignable = lines(v.assignableScopes);
    if (!assignable.length) throw new Error('Give at least one assignable scope.');
    const id = crypto.randomUUID();
    const d = await arm(`${assignable[0]}/providers/${AUTHZ}/roleDefinitions/${id}`, { method: 'PUT', ...V, body: { properties: {
      roleName: v.roleName.trim(), description: v.description, type: 'CustomRole', assignableScopes: assignable,
      permissions: [{ actions: lines(v.actions), notActions: lines(v.notActions), dataActions: lines(v.dataActions), notDataActions: lines(v.notDataActions) }],
    } } });
    notice(`Created the custom role ${d.properties.roleName}.`);
    location.hash = `#/roles/${d.name}`;
  }, { cancel: () => { location.hash = from ? `#/roles/${from}` : '#/roles'; } });
  const submit = f.querySelector('button[type=submit]');
  if (why) {
    const place = h('span');
    submit.replaceWith(place);
    place.replaceWith(deny(submit, why));
  }
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/roles', 'Roles'), h('span', {}, 'New custom role')),
    h('h1', {}, 'New custom role'),
    source ? h('p', {}, 'Starting from a copy of ', link(`#/roles/${source.name}`, sp.roleName), '.') : null,
    section('Definition', f));
}
