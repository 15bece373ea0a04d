// Users: search, create, disable or enable, reset a password (optionally
// requiring a change at next sign-in), delete, and what a user belongs to.
// Every change is a Graph call the person's own directory roles decide.

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { authMethods } from './auth-methods.js';
import { h, replace, section, table, field, input, form, button, deny, errorBox, notice, link, secretValue, when, loading } from '../ui.js';

const USER_ADMINS = ['Global Administrator', 'Privileged Authentication Administrator', 'User Administrator'];

// searchFilter turns what a person typed into a Graph $filter: a prefix of
// the sign-in name when it looks like one, else of the display name.
export function searchFilter(text) {
  const t = text.trim().replace(/'/g, "''");
  if (!t) return '';
  return t.includes('@') ? `startswith(userPrincipalName,'${t}')` : `startswith(displayName,'${t}')`;
}

function randomPassword() {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return `${s}!7`;
}

export async function listUsers(view, params, query, ctx) {
  const results = h('div');
  const search = input('q', { type: 'search', value: query.get('q') || '', id: 'user-search' });
  const createEl = h('div');
  const reason = await directoryRoleReason(ctx.account.oid, USER_ADMINS, 'Creating users');
  const load = async () => {
    replace(results, loading());
    const f = searchFilter(search.value);
    try {
      const users = await graphAll(`/users?$top=200${f ? `&$filter=${encodeURIComponent(f)}` : ''}`, 500);
      replace(results, table([
        { label: 'Display name', render: (u) => link(`#/users/${u.id}`, u.displayName) },
        { label: 'User principal name', render: (u) => u.userPrincipalName },
        { label: 'Enabled', render: (u) => (u.accountEnabled === false ? 'No' : 'Yes') },
        { label: 'Created', render: (u) => when(u.createdDateTime) },
      ], users, { caption: `${users.length} user${users.length === 1 ? '' : 's'}`, empty: 'No user matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const searchForm = h('form', { role: 'search', class: 'toolbar' },
    field('Search by name or sign-in name', search), h('button', { type: 'submit' }, 'Search'));
  searchForm.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  const newUser = button('New user', () => replace(createEl, createForm(ctx, () => replace(createEl))), { id: 'new-user' });
  replace(view, h('h1', {}, 'Users'), h('div', { class: 'toolbar' }, deny(newUser, reason)), createEl, searchForm, results);
  await load();
}

function createForm(ctx, done) {
  const domain = ctx.tenant.domain;
  const password = randomPassword();
  return section('New user', form([
    field('Display name', input('displayName', { required: true, id: 'new-user-name' })),
    field('User principal name', input('userPrincipalName', { required: true, id: 'new-user-upn', placeholder: `name@${domain}` })),
    field('Initial password', input('password', { required: true, value: password, id: 'new-user-password' }), 'Give it to the user over a trusted channel.'),
    h('div', { class: 'field inline' }, h('input', { type: 'checkbox', name: 'forceChange', id: 'new-user-force', checked: true }),
      h('label', { for: 'new-user-force' }, 'Require a password change at first sign-in')),
  ], 'Create', async (v) => {
    const upn = v.userPrincipalName.includes('@') ? v.userPrincipalName : `${v.userPrincipalName}@${domain}`;
    const u = await graph('/users', { method: 'POST', body: {
      accountEnabled: true, displayName: v.displayName, userPrincipalName: upn, mailNickname: upn.split('@')[0],
      passwordProfile: { password: v.password, forceChangePasswordNextSignIn: v.forceChange },
    } });
    notice(`Created ${u.userPrincipalName}.`);
    location.hash = `#/users/${u.id}`;
  }, { cancel: done }));
}

export async function showUser(view, params, query, ctx) {
  const u = await graph(`/users/${encodeURIComponent(params.id)}?$select=id,displayName,userPrincipalName,mail,accountEnabled,createdDateTime,userType`);
  const reason = await directoryRoleReason(ctx.account.oid, USER_ADMINS, 'Changing users');
  const actionsEl = h('div');
  const groupsEl = h('div');
  const appRolesEl = h('div');
  const methodsEl = h('div', { id: 'auth-methods' });
  const toggle = button(u.accountEnabled === false ? 'Enable sign-in' : 'Disable sign-in', async () => {
    try {
      await graph(`/users/${u.id}`, { method: 'PATCH', body: { accountEnabled: u.accountEnabled === false } });
      notice(u.accountEnabled === false ? 'Sign-in enabled.' : 'Sign-in disabled.');
      ctx.refresh();
    } catch (err) {
      replace(actionsEl, errorBox(err));
    }
  }, { id: 'toggle-user', class: 'secondary' });
  const reset = button('Reset password', () => replace(actionsEl, resetForm(u, () => replace(actionsEl))), { id: 'reset-password', class: 'secondary' });
  const del = button('Delete user', async () => {
    if (!window.confirm(`Delete ${u.userPrincipalName}?`)) return;
    try {
      await graph(`/users/${u.id}`, { method: 'DELETE' });
      notice(`Deleted ${u.userPrincipalName}.`);
      location.hash = '#/users';
    } catch (err) {
      replace(actionsEl, errorBox(err));
    }
  }, { id: 'delete-user', class: 'danger' });
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/users', 'Users'), h('span', {}, u.displayName)),
    h('h1', {}, u.displayName),
    h('dl', { class: 'props' },
      h('dt', {}, 'User principal name'), h('dd', { id: 'user-upn' }, u.userPrincipalName),
      h('dt', {}, 'Object ID'), h('dd', { id: 'user-id' }, u.id),
      h('dt', {}, 'Sign-in'), h('dd', { id: 'user-enabled' }, u.accountEnabled === false ? 'Disabled' : 'Enabled'),
      h('dt', {}, 'Created'), h('dd', {}, when(u.createdDateTime))),
    h('div', { class: 'actions' }, deny(toggle, reason), deny(reset, reason), deny(del, reason)),
    actionsEl,
    section('Authentication methods', methodsEl),
    section('Groups and directory roles', groupsEl),
    section('App role assignments', appRolesEl));
  await Promise.all([
    authMethods(methodsEl, u, ctx),
    (async () => {
      try {
        const items = await graphAll(`/users/${u.id}/memberOf`);
        replace(groupsEl, table([
          { label: 'Name', render: (g) => (g['@odata.type'] === '#microsoft.graph.group' ? link(`#/groups/${g.id}`, g.displayName) : g.displayName) },
          { label: 'Kind', render: (g) => (g['@odata.type'] || '').replace('#microsoft.graph.', '') },
        ], items, { empty: 'Not a member of any group or role.' }));
      } catch (err) {
        replace(groupsEl, errorBox(err));
      }
    })(),
    (async () => {
      try {
        const items = await graphAll(`/users/${u.id}/appRoleAssignments`);
        replace(appRolesEl, table([
          { label: 'Application', render: (a) => a.resourceDisplayName },
          { label: 'Role', render: (a) => a.appRoleId },
          { label: 'Since', render: (a) => when(a.createdDateTime) },
        ], items, { empty: 'No app roles.' }));
      } catch (err) {
        replace(appRolesEl, errorBox(err));
      }
    })(),
  ]);
}

function resetForm(u, done) {
  const password = randomPassword();
  const out = h('div');
  return section('Reset password', form([
    field('New password', input('password', { required: true, value: password, id: 'reset-password-value' }), 'Give it to the user over a trusted channel.'),
    h('div', { class: 'field inline' }, h('input', { type: 'checkbox', name: 'forceChange', id: 'reset-force', checked: true }),
      h('label', { for: 'reset-force' }, 'Require a password change at next sign-in')),
    out,
  ], 'Reset password', async (v) => {
    await graph(`/users/${u.id}`, { method: 'PATCH', body: { passwordProfile: { password: v.password, forceChangePasswordNextSignIn: v.forceChange } } });
    replace(out, h('p', { role: 'status', id: 'reset-done' }, `The password of ${u.userPrincipalName} was reset.`), secretValue(v.password));
    notice('Password reset.');
  }, { cancel: done }));
}
