// Enterprise applications (service principals): search, whether users may
// consent to applications (the tenant's authorization policy), and a
// service principal's page: its properties, enabling or disabling its
// sign-in, the app roles granted to it, the users, groups and applications
// granted its own app roles (grant and revoke), its owners; and on a
// second tab the delegated permissions granted to it (revoke).

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { h, replace, section, table, field, select, button, deny, errorBox, notice, link, when, loading } from '../ui.js';
import { APP_ADMINS, APP_ROLE_GRANTERS, nameFilter, quote, manageReason, principalPicker, ownersSection, objectLink, attempt, properties, searchForm } from './directory.js';

// USER_CONSENT is the permission grant policy that lets users consent to
// applications for themselves; without it only administrators consent.
const USER_CONSENT = 'ManagePermissionGrantsForSelf.microsoft-user-default-legacy';

// consentSettings shows and changes the authorization policy's user
// consent; Graph lets only Global Administrators change it.
async function consentSettings(ctx) {
  const el = h('div', { id: 'consent-settings' });
  const status = h('div', { 'aria-live': 'polite' });
  const [reason, policy] = await Promise.all([
    directoryRoleReason(ctx.account.oid, ['Global Administrator'], 'Changing the consent settings'),
    graph('/policies/authorizationPolicy').catch((err) => err),
  ]);
  if (policy instanceof Error) return section('Consent and permissions', errorBox(policy));
  const allowed = (policy.defaultUserRolePermissions.permissionGrantPoliciesAssigned || []).some((p) => p.toLowerCase().startsWith('managepermissiongrantsforself.'));
  const box = h('input', { type: 'checkbox', id: 'user-consent', checked: allowed });
  const save = async () => {
    // A second click before the answer would race the first PATCH.
    box.disabled = true;
    const ok = await attempt(status, async () => {
      await graph('/policies/authorizationPolicy', { method: 'PATCH', body: { defaultUserRolePermissions: { permissionGrantPoliciesAssigned: box.checked ? [USER_CONSENT] : [] } } });
      notice(box.checked ? 'Users can consent to apps.' : 'Users can no longer consent to apps: an administrator consents for them.');
    });
    box.disabled = false;
    if (!ok) box.checked = !box.checked;
  };
  box.addEventListener('change', save);
  // The reason goes below the setting rather than between the checkbox and its label.
  const why = reason ? h('p', { class: 'reason', id: 'user-consent-reason' }, reason) : null;
  if (why) {
    box.disabled = true;
    box.title = reason;
    box.setAttribute('aria-describedby', why.id);
  }
  replace(el, h('div', { class: 'field inline' }, box, h('label', { for: 'user-consent' }, 'Users can consent to apps')), why,
    h('p', { class: 'hint' }, 'When on, users consent to the delegated permissions an application asks for that need no administrator; when off, an administrator grants consent for everyone.'),
    status);
  return section('Consent and permissions', el);
}

export async function listEnterprise(view, params, query, ctx) {
  const results = h('div');
  const load = async (text) => {
    replace(results, loading());
    const f = nameFilter(text);
    try {
      const sps = await graphAll(`/servicePrincipals?$top=200${f ? `&$filter=${encodeURIComponent(f)}` : ''}`, 500);
      replace(results, table([
        { label: 'Name', render: (s) => link(`#/enterprise/${s.id}`, s.displayName) },
        { label: 'Application ID', render: (s) => s.appId },
        { label: 'Type', render: (s) => s.servicePrincipalType },
        { label: 'Sign-in', render: (s) => (s.accountEnabled === false ? 'Disabled' : 'Enabled') },
      ], sps, { caption: `${sps.length} enterprise application${sps.length === 1 ? '' : 's'}`, empty: 'No enterprise application matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const search = searchForm('sp-search', 'Search by name', query.get('q') || '', load);
  replace(view, h('h1', {}, 'Enterprise applications'),
    h('p', { class: 'hint' }, 'The service principals of this directory: an application\'s identity here. Register an application under App registrations, then create its enterprise application from its overview.'),
    await consentSettings(ctx), search.form, results);
  await load(search.input.value);
}

// roleNames maps app role ids to names, per resource service principal.
function roleNamer() {
  const cache = new Map();
  return async (resourceId) => {
    if (!cache.has(resourceId)) {
      cache.set(resourceId, graph(`/servicePrincipals/${resourceId}`).then((sp) => new Map((sp.appRoles || []).map((r) => [r.id, r]))).catch(() => new Map()));
    }
    return cache.get(resourceId);
  };
}

export async function showEnterprise(view, params, query, ctx) {
  const sp = await graph(`/servicePrincipals/${encodeURIComponent(params.id)}`);
  let app = null;
  try {
    app = (await graphAll(`/applications?$filter=${encodeURIComponent(`appId eq '${quote(sp.appId)}'`)}`))[0] || null;
  } catch {
    app = null;
  }
  const tab = TABS.find((t) => t[0] === query.get('tab')) || TABS[0];
  const body = h('div', { id: `sp-tab-${tab[0]}` });
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/enterprise', 'Enterprise applications'), h('span', {}, sp.displayName)),
    h('h1', { id: 'sp-name' }, sp.displayName),
    h('nav', { class: 'tabs', 'aria-label': 'Enterprise application' }, TABS.map(([key, title]) =>
      h('a', { href: `#/enterprise/${sp.id}?tab=${key}`, id: `sp-tab-link-${key}`, 'aria-current': key === tab[0] ? 'page' : undefined }, title))),
    body);
  await tab[2](body, sp, app, ctx);
}

const TABS = [
  ['overview', 'Overview', tabOverview],
  ['permissions', 'Permissions', tabPermissions],
];

async function tabOverview(view, sp, app, ctx) {
  const [reason, assignReason] = await Promise.all([
    manageReason(ctx, APP_ADMINS, 'Changing this enterprise application', [sp.id, app && app.id]),
    manageReason(ctx, APP_ROLE_GRANTERS, 'Granting its app roles'),
  ]);
  const status = h('div', { 'aria-live': 'polite' });
  const grantedEl = h('div', { id: 'granted-roles' });
  const assignedEl = h('div', { id: 'assigned-to' });
  const assignStatus = h('div', { 'aria-live': 'polite' });
  const names = roleNamer();

  const toggle = button(sp.accountEnabled === false ? 'Enable sign-in' : 'Disable sign-in', () => attempt(status, async () => {
    await graph(`/servicePrincipals/${sp.id}`, { method: 'PATCH', body: { accountEnabled: sp.accountEnabled === false } });
    notice(sp.accountEnabled === false ? 'Sign-in enabled.' : 'Sign-in disabled.');
    ctx.refresh();
  }), { id: 'toggle-sp', class: 'secondary' });

  const loadGranted = async () => {
    try {
      const items = await graphAll(`/servicePrincipals/${sp.id}/appRoleAssignments`);
      const rows = await Promise.all(items.map(async (a) => ({ ...a, role: (await names(a.resourceId)).get(a.appRoleId) })));
      replace(grantedEl, table([
        { label: 'Resource', render: (a) => link(`#/enterprise/${a.resourceId}`, a.resourceDisplayName) },
        { label: 'App role', render: (a) => (a.role ? `${a.role.displayName} (${a.role.value})` : a.appRoleId) },
        { label: 'Granted', render: (a) => when(a.createdDateTime) },
      ], rows, { empty: 'No app roles are granted to this application.' }));
    } catch (err) {
      replace(grantedEl, errorBox(err));
    }
  };
  const ownRoles = new Map((sp.appRoles || []).map((r) => [r.id, r]));
  const loadAssigned = async () => {
    try {
      const items = await graphAll(`/servicePrincipals/${sp.id}/appRoleAssignedTo`);
      replace(assignedEl, table([
        { label: 'Name', render: (a) => objectLink({ id: a.principalId, displayName: a.principalDisplayName, '@odata.type': `#microsoft.graph.${a.principalType === 'ServicePrincipal' ? 'servicePrincipal' : (a.principalType || '').toLowerCase()}` }) },
        { label: 'Kind', render: (a) => a.principalType },
        { label: 'App role', render: (a) => { const r = ownRoles.get(a.appRoleId); return r ? `${r.displayName} (${r.value})` : a.appRoleId; } },
        { label: 'Granted', render: (a) => when(a.createdDateTime) },
        { label: '', render: (a) => deny(button('Remove', () => attempt(assignStatus, async () => {
          await graph(`/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}`, { method: 'DELETE' });
          notice(`${a.principalDisplayName} no longer holds that role.`);
          await loadAssigned();
        }), { class: 'secondary', dataset: { removeAssignment: a.principalId }, 'aria-label': `Remove the role of ${a.principalDisplayName}` }), assignReason) },
      ], items, { caption: `${items.length} assignment${items.length === 1 ? '' : 's'}`, empty: 'Nobody holds its app roles.' }));
    } catch (err) {
      replace(assignedEl, errorBox(err));
    }
  };

  const enabledRoles = (sp.appRoles || []).filter((r) => r.isEnabled);
  let assignPart;
  if (!enabledRoles.length) {
    assignPart = h('p', { class: 'empty' }, app
      ? ['The application defines no enabled app role: add one under ', link(`#/apps/${app.id}?tab=api`, 'Expose an API'), '.']
      : 'The application defines no enabled app role.');
  } else {
    const roleSelect = select('appRoleId', enabledRoles.map((r) => ({ value: r.id, label: `${r.displayName} (${r.value}) — ${(r.allowedMemberTypes || []).join(', ')}` })), { id: 'assign-role' });
    if (assignReason) roleSelect.disabled = true;
    const picker = principalPicker({ prefix: 'assignee', label: 'To: find a user, group or service principal', pickLabel: 'Assign', reason: assignReason,
      pick: async (o) => {
        const role = ownRoles.get(roleSelect.value);
        const wants = o['@odata.type'] === '#microsoft.graph.servicePrincipal' ? 'Application' : 'User';
        if (role && !(role.allowedMemberTypes || []).includes(wants)) {
          throw new Error(`The role ${role.displayName} may be granted to ${(role.allowedMemberTypes || []).join(' and ')} only, not to ${o.displayName}.`);
        }
        await graph(`/servicePrincipals/${sp.id}/appRoleAssignedTo`, { method: 'POST', body: { principalId: o.id, resourceId: sp.id, appRoleId: roleSelect.value } });
        notice(`Granted ${role ? role.displayName : 'the role'} to ${o.displayName}.`);
        await loadAssigned();
      } });
    assignPart = h('div', {}, h('h3', {}, 'Grant an app role'), field('App role', roleSelect), picker);
  }
  const owners = ownersSection(`/servicePrincipals/${sp.id}`, reason, 'this enterprise application');

  replace(view,
    properties([
      ['Application ID', sp.appId, 'sp-appid'],
      ['Object ID', sp.id, 'sp-id'],
      ['Type', sp.servicePrincipalType],
      ['Sign-in', sp.accountEnabled === false ? 'Disabled' : 'Enabled', 'sp-enabled'],
      ['App registration', app ? link(`#/apps/${app.id}`, app.displayName, { id: 'sp-app-link' }) : 'Registered in another directory'],
      ['Created', when(sp.createdDateTime)],
    ]),
    h('div', { class: 'actions' }, deny(toggle, reason)),
    status,
    section('App roles granted to this application', grantedEl),
    section('Users, groups and applications granted its app roles', assignStatus, assignedEl, assignPart),
    owners.el);
  await Promise.all([loadGranted(), loadAssigned(), owners.load()]);
}

// tabPermissions lists the delegated permissions granted to the
// application (it is the grants' client): by an administrator for
// everyone, or by a user for themself.
async function tabPermissions(view, sp, app, ctx) {
  const reason = await manageReason(ctx, APP_ROLE_GRANTERS, 'Revoking permissions');
  const listEl = h('div', { id: 'sp-grants' });
  const status = h('div', { 'aria-live': 'polite' });
  const names = new Map();
  const nameOf = (path) => {
    if (!names.has(path)) names.set(path, graph(path).then((o) => o.displayName || o.userPrincipalName || o.id).catch(() => null));
    return names.get(path);
  };
  const load = async () => {
    try {
      const grants = await graphAll(`/servicePrincipals/${sp.id}/oauth2PermissionGrants`);
      const rows = await Promise.all(grants.map(async (g) => ({ ...g,
        resource: await nameOf(`/servicePrincipals/${g.resourceId}`),
        principal: g.principalId ? await nameOf(`/users/${g.principalId}`) : null })));
      replace(listEl, table([
        { label: 'API', render: (g) => link(`#/enterprise/${g.resourceId}`, g.resource || g.resourceId) },
        { label: 'Permissions', render: (g) => h('code', {}, g.scope) },
        { label: 'Granted through', render: (g) => (g.consentType === 'AllPrincipals' ? 'Admin consent' : 'User consent') },
        { label: 'Granted for', render: (g) => (g.consentType === 'AllPrincipals' ? 'All users' : link(`#/users/${g.principalId}`, g.principal || g.principalId)) },
        { label: '', render: (g) => deny(button('Revoke', () => attempt(status, async () => {
          await graph(`/oauth2PermissionGrants/${g.id}`, { method: 'DELETE' });
          notice(`Revoked ${g.scope} on ${g.resource || g.resourceId}${g.principal ? ` for ${g.principal}` : ''}.`);
          await load();
        }), { class: 'secondary', dataset: { revokeGrant: g.id }, 'aria-label': `Revoke ${g.scope} on ${g.resource || g.resourceId}${g.principal ? ` for ${g.principal}` : ''}` }), reason) },
      ], rows, { caption: `${rows.length} grant${rows.length === 1 ? '' : 's'}`, empty: 'No delegated permissions are granted to this application.' }));
    } catch (err) {
      replace(listEl, errorBox(err));
    }
  };
  replace(view,
    section('Delegated permissions granted',
      h('p', { class: 'hint' }, 'What the application may do on behalf of signed-in users. A revoked grant makes users or an administrator consent again.',
        app ? [' Permissions are asked for on the registration\'s ', link(`#/apps/${app.id}?tab=permissions`, 'API permissions', { id: 'sp-app-permissions' }), ' tab.'] : null),
      status, listEl));
  await load();
}
