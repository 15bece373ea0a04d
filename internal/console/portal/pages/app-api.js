// The parts of an app registration that protect or call APIs: the
// delegated scopes it exposes and the token version its API accepts (on
// the Expose an API tab), the permissions it asks for with their admin
// consent (API permissions), and the claims its tokens carry (Token
// configuration). Consent is a tenant-wide grant, so granting it needs a
// role that may grant app roles, not owning the application.

import { graph, graphAll, armAll, API_VERSIONS } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, link } from '../ui.js';
import { APP_ROLE_GRANTERS, quote, manageReason, attempt } from './directory.js';

// disableForm disables a form's controls when the person may not use it;
// the page shows the reason once, above the tabs.
function disableForm(f, reason) {
  if (reason) for (const c of f.querySelectorAll('input, select, textarea, button')) c.disabled = true;
  return f;
}

// servicePrincipalOf is the service principal of an application id in this
// directory, or null.
export async function servicePrincipalOf(appId) {
  const sps = await graphAll(`/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${quote(appId)}'`)}`);
  return sps[0] || null;
}

// tenantName is what Entra calls the tenant in "Granted for …": its display
// name when the resource manager tells it, else its domain.
export async function tenantName(ctx) {
  try {
    const t = (await armAll('/tenants', { apiVersion: API_VERSIONS.subscriptions })).find((x) => x.tenantId === ctx.tenant.id);
    if (t && t.displayName) return t.displayName;
  } catch {
    // The domain below is as good a name.
  }
  return ctx.tenant.domain || ctx.tenant.id;
}

function scopeList(text) {
  return (text || '').split(/\s+/).filter(Boolean);
}

function hasScope(list, value) {
  return list.some((s) => s.toLowerCase() === value.toLowerCase());
}

// --- Expose an API: scopes and token version ---

const CONSENT_TYPES = [
  { value: 'Admin', label: 'Admins only' },
  { value: 'User', label: 'Admins and users' },
];

// scopesSection lists, adds, enables, disables and deletes the delegated
// scopes of app. A scope is named by clients as {identifier URI}/{value}:
// an application without an identifier URI gets api://{appId} with its
// first scope, as Entra offers.
export function scopesSection(app, reason, reload, onURIs) {
  const listEl = h('div', { id: 'app-scopes' });
  const status = h('div', { 'aria-live': 'polite' });
  const prefixOf = (a) => ((a.identifierUris || [])[0] || `api://${a.appId}`);

  const patchScopes = async (change, extra = {}) => {
    const fresh = await reload();
    const scopes = change((fresh.api && fresh.api.oauth2PermissionScopes) || []);
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { api: { oauth2PermissionScopes: scopes }, ...extra } });
    const after = await reload();
    draw(after);
    return after;
  };
  const setEnabled = (s, on) => attempt(status, async () => {
    await patchScopes((scopes) => scopes.map((x) => (x.id === s.id ? { ...x, isEnabled: on } : x)));
    notice(`Scope ${s.value} ${on ? 'enabled' : 'disabled'}.`);
  });
  const draw = (a) => {
    const prefix = prefixOf(a);
    replace(listEl, table([
      { label: 'Scope', render: (s) => h('code', {}, `${prefix.replace(/\/+$/, '')}/${s.value}`) },
      { label: 'Who can consent', render: (s) => (s.type === 'Admin' ? 'Admins only' : 'Admins and users') },
      { label: 'Admin consent display name', render: (s) => s.adminConsentDisplayName || '' },
      { label: 'User consent display name', render: (s) => s.userConsentDisplayName || '' },
      { label: 'State', render: (s) => (s.isEnabled ? 'Enabled' : 'Disabled') },
      { label: '', render: (s) => (s.isEnabled
        ? deny(button('Disable', () => setEnabled(s, false), { class: 'secondary', dataset: { disableScope: s.value }, 'aria-label': `Disable ${s.value}` }), reason)
        : h('span', { class: 'inline-control' },
          deny(button('Enable', () => setEnabled(s, true), { class: 'secondary', dataset: { enableScope: s.value }, 'aria-label': `Enable ${s.value}` }), reason),
          deny(button('Delete', () => attempt(status, async () => {
            await patchScopes((scopes) => scopes.filter((x) => x.id !== s.id));
            notice(`Scope ${s.value} deleted.`);
          }), { class: 'danger', dataset: { deleteScope: s.value }, 'aria-label': `Delete ${s.value}` }), reason))) },
    ], (a.api && a.api.oauth2PermissionScopes) || [], { empty: 'No scopes: no client can ask for delegated access to this API.' }));
  };

  const add = form([
    field('Scope name', input('value', { required: true, id: 'scope-value', placeholder: 'Files.Read' }), 'What the scp claim of a token holds; no spaces.'),
    field('Who can consent', select('type', CONSENT_TYPES, { id: 'scope-type' })),
    field('Admin consent display name', input('adminConsentDisplayName', { required: true, id: 'scope-admin-name', placeholder: 'Read files' })),
    field('Admin consent description', input('adminConsentDescription', { required: true, id: 'scope-admin-description' })),
    field('User consent display name', input('userConsentDisplayName', { id: 'scope-user-name' })),
    field('User consent description', input('userConsentDescription', { id: 'scope-user-description' })),
  ], 'Add scope', async (v, f) => {
    const fresh = await reload();
    // Without an identifier URI no client could name the scope.
    const extra = (fresh.identifierUris || []).length ? {} : { identifierUris: [`api://${fresh.appId}`] };
    const after = await patchScopes((scopes) => [...scopes, {
      id: crypto.randomUUID(), value: v.value.trim(), type: v.type, isEnabled: true,
      adminConsentDisplayName: v.adminConsentDisplayName, adminConsentDescription: v.adminConsentDescription,
      userConsentDisplayName: v.userConsentDisplayName || null, userConsentDescription: v.userConsentDescription || null,
    }], extra);
    if (extra.identifierUris && onURIs) onURIs(after);
    notice(`Scope ${v.value} added${extra.identifierUris ? `, with the identifier URI ${extra.identifierUris[0]}` : ''}.`);
    f.reset();
  });
  disableForm(add, reason);
  draw(app);
  return section('Scopes defined by this API',
    h('p', { class: 'hint' }, 'Delegated permissions: what a client may do on behalf of a signed-in user. A scope is disabled before it is deleted.'),
    status, listEl, h('h3', {}, 'Add a scope'), add);
}

// tokenVersionSection sets api.requestedAccessTokenVersion.
export function tokenVersionSection(app, reason) {
  const current = app.api && app.api.requestedAccessTokenVersion;
  const f = form([
    field('Access token version', select('version', [
      { value: '1', label: 'v1 (sts.windows.net issuer, resource in aud)', selected: current !== 2 },
      { value: '2', label: 'v2 (login.microsoftonline.com/…/v2.0 issuer, app ID in aud)', selected: current === 2 },
    ], { id: 'token-version' }), current ? `Currently v${current}.` : 'Currently not set: v1 tokens.'),
  ], 'Save', async (v) => {
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { api: { requestedAccessTokenVersion: Number(v.version) } } });
    notice(`Access tokens for this API are now v${v.version}.`);
  });
  disableForm(f, reason);
  return section('Access token version', h('p', { class: 'hint' }, 'The version of the access tokens issued for this API, whichever endpoint the client used.'), f);
}

// --- API permissions ---

export async function tabPermissions(el, app, reason, reload, ctx) {
  const [grantReason, tenant, clientSP] = await Promise.all([
    manageReason(ctx, APP_ROLE_GRANTERS, 'Granting admin consent'),
    tenantName(ctx),
    servicePrincipalOf(app.appId),
  ]);
  const listEl = h('div', { id: 'api-permissions' });
  const status = h('div', { 'aria-live': 'polite' });
  const consentEl = h('div', { class: 'actions' });
  const addEl = h('div', { id: 'add-permission' });
  const otherEl = h('div', { id: 'other-permissions' });
  const resources = new Map();
  const resourceOf = async (appId) => {
    if (!resources.has(appId)) resources.set(appId, servicePrincipalOf(appId).catch(() => null));
    return resources.get(appId);
  };

  // rows resolves requiredResourceAccess to names, with each permission's
  // consent status.
  const rows = async (a) => {
    const [grants, assignments] = clientSP ? await Promise.all([
      graphAll(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${clientSP.id}'`)}`),
      graphAll(`/servicePrincipals/${clientSP.id}/appRoleAssignments`),
    ]) : [[], []];
    const out = [];
    for (const rra of a.requiredResourceAccess || []) {
      const sp = await resourceOf(rra.resourceAppId);
      const granted = sp ? grants.filter((g) => g.consentType === 'AllPrincipals' && g.resourceId === sp.id).flatMap((g) => scopeList(g.scope)) : [];
      for (const ra of rra.resourceAccess || []) {
        const def = sp && (ra.type === 'Scope' ? sp.oauth2PermissionScopes : sp.appRoles || []).find((x) => x.id === ra.id);
        const value = def ? def.value : ra.id;
        const ok = ra.type === 'Scope'
          ? !!def && hasScope(granted, value)
          : !!sp && assignments.some((x) => x.resourceId === sp.id && x.appRoleId === ra.id);
        out.push({ rra, ra, sp, def, value, ok,
          admin: ra.type === 'Role' || (def && def.type === 'Admin') });
      }
    }
    // Granted scopes the registration no longer asks for, as Entra's
    // "Other permissions granted": they stay until revoked.
    const others = [];
    for (const g of grants.filter((x) => x.consentType === 'AllPrincipals')) {
      const asked = out.filter((r) => r.sp && r.sp.id === g.resourceId && r.ra.type === 'Scope').map((r) => r.value);
      const extra = scopeList(g.scope).filter((v) => !hasScope(asked, v));
      if (extra.length) others.push({ grant: g, scopes: extra });
    }
    return { out, others };
  };

  const removePermission = (r) => attempt(status, async () => {
    const fresh = await reload();
    const next = (fresh.requiredResourceAccess || []).map((x) => (x.resourceAppId === r.rra.resourceAppId
      ? { ...x, resourceAccess: x.resourceAccess.filter((y) => !(y.id === r.ra.id && y.type === r.ra.type)) } : x))
      .filter((x) => x.resourceAccess.length);
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { requiredResourceAccess: next } });
    notice(`Removed ${r.value}. Consent already granted stays until it is revoked on the enterprise application.`);
    await draw();
  });

  const grantConsent = () => attempt(status, async () => {
    if (!clientSP) throw new Error('The application has no enterprise application here: create it on the Overview tab first.');
    const fresh = await reload();
    const grants = await graphAll(`/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${clientSP.id}'`)}`);
    let done = 0;
    for (const rra of fresh.requiredResourceAccess || []) {
      const sp = await resourceOf(rra.resourceAppId);
      if (!sp) throw new Error(`The API ${rra.resourceAppId} has no service principal in this directory: nothing can be granted for it.`);
      const values = (rra.resourceAccess || []).filter((x) => x.type === 'Scope')
        .map((x) => ((sp.oauth2PermissionScopes || []).find((s) => s.id === x.id) || {}).value).filter(Boolean);
      if (values.length) {
        const existing = grants.find((g) => g.consentType === 'AllPrincipals' && g.resourceId === sp.id);
        if (existing) {
          // What was granted before stays: consent is withdrawn by revoking it.
          const had = scopeList(existing.scope);
          const scope = [...had, ...values.filter((v) => !hasScope(had, v))].join(' ');
          if (scope !== existing.scope) await graph(`/oauth2PermissionGrants/${existing.id}`, { method: 'PATCH', body: { scope } });
        } else {
          await graph('/oauth2PermissionGrants', { method: 'POST', body: { clientId: clientSP.id, consentType: 'AllPrincipals', resourceId: sp.id, scope: values.join(' ') } });
        }
        done += 1;
      }
      const assigned = await graphAll(`/servicePrincipals/${clientSP.id}/appRoleAssignments`);
      for (const role of (rra.resourceAccess || []).filter((x) => x.type === 'Role')) {
        if (assigned.some((x) => x.resourceId === sp.id && x.appRoleId === role.id)) continue;
        await graph(`/servicePrincipals/${clientSP.id}/appRoleAssignments`, { method: 'POST', body: { principalId: clientSP.id, resourceId: sp.id, appRoleId: role.id } });
        done += 1;
      }
    }
    notice(done ? `Admin consent granted for ${tenant}.` : 'There is nothing to consent to.');
    await draw();
  });

  const draw = async () => {
    try {
      const a = await reload();
      const { out: rs, others } = await rows(a);
      const otherRows = await Promise.all(others.map(async (o) => ({ ...o,
        name: await graph(`/servicePrincipals/${o.grant.resourceId}`).then((sp) => sp.displayName).catch(() => o.grant.resourceId) })));
      replace(otherEl, otherRows.length ? [h('h3', {}, `Other permissions granted for ${tenant}`),
        h('p', { class: 'hint' }, 'Consented to but not configured on this registration: revoke them on the enterprise application\'s Permissions tab.'),
        table([
          { label: 'API', render: (o) => link(`#/enterprise/${o.grant.resourceId}`, o.name) },
          { label: 'Permissions', render: (o) => h('code', {}, o.scopes.join(' ')) },
          { label: 'Status', render: () => `Granted for ${tenant}` },
        ], otherRows)] : []);
      replace(listEl, table([
        { label: 'API', render: (r) => (r.sp ? link(`#/enterprise/${r.sp.id}`, r.sp.displayName) : r.rra.resourceAppId) },
        { label: 'Permission', render: (r) => h('code', {}, r.value) },
        { label: 'Type', render: (r) => (r.ra.type === 'Scope' ? 'Delegated' : 'Application') },
        { label: 'Description', render: (r) => (r.def ? (r.def.adminConsentDisplayName || r.def.displayName || '') : 'Not defined by the API') },
        { label: 'Admin consent required', render: (r) => (r.admin ? 'Yes' : 'No') },
        { label: 'Status', render: (r) => h('span', { class: r.ok ? 'ok' : 'muted', dataset: { permissionStatus: r.value } }, r.ok ? `Granted for ${tenant}` : 'Not granted') },
        { label: '', render: (r) => deny(button('Remove', () => removePermission(r), { class: 'secondary', dataset: { removePermission: r.value }, 'aria-label': `Remove permission ${r.value}` }), reason) },
      ], rs, { empty: 'No permissions configured.' }));
      const why = grantReason || (clientSP ? null : 'Granting consent needs the application\'s enterprise application: create it on the Overview tab.');
      replace(consentEl, deny(button(`Grant admin consent for ${tenant}`, grantConsent, { id: 'grant-consent', disabled: rs.length ? undefined : true }), why));
    } catch (err) {
      replace(listEl, errorBox(err));
    }
  };

  // The picker offers the APIs of this directory that expose enabled scopes.
  const addForm = async () => {
    const sps = (await graphAll('/servicePrincipals?$top=200', 2000))
      .filter((s) => (s.oauth2PermissionScopes || []).some((x) => x.isEnabled));
    if (!sps.length) return h('p', { class: 'empty' }, 'No API in this directory exposes a delegated scope yet: add one on an application\'s Expose an API tab.');
    const api = select('resource', sps.map((s) => ({ value: s.appId, label: `${s.displayName} (${s.appId})` })), { id: 'permission-api' });
    const boxes = h('fieldset', { class: 'picker-box', id: 'permission-scopes' });
    const showScopes = () => {
      const sp = sps.find((s) => s.appId === api.value);
      replace(boxes, h('legend', {}, 'Delegated permissions'), h('ul', { class: 'picker' }, (sp.oauth2PermissionScopes || []).filter((x) => x.isEnabled).map((s) => {
        const id = `permission-scope-${s.value.replace(/[^A-Za-z0-9_-]/g, '_')}`;
        return h('li', {}, h('input', { type: 'checkbox', name: 'scope', value: s.id, id, dataset: { scopeValue: s.value } }),
          h('label', { for: id }, h('code', {}, s.value), ` ${s.adminConsentDisplayName || ''}${s.type === 'Admin' ? ' (admin consent required)' : ''}`));
      })));
      disableForm(boxes, reason);
    };
    api.addEventListener('change', showScopes);
    showScopes();
    const f = form([field('API', api), boxes], 'Add permissions', async () => {
      const chosen = [...boxes.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
      if (!chosen.length) throw new Error('Choose at least one permission.');
      const fresh = await reload();
      const list = (fresh.requiredResourceAccess || []).map((x) => ({ ...x, resourceAccess: [...(x.resourceAccess || [])] }));
      let entry = list.find((x) => x.resourceAppId === api.value);
      if (!entry) {
        entry = { resourceAppId: api.value, resourceAccess: [] };
        list.push(entry);
      }
      for (const id of chosen) {
        if (!entry.resourceAccess.some((x) => x.id === id && x.type === 'Scope')) entry.resourceAccess.push({ id, type: 'Scope' });
      }
      await graph(`/applications/${app.id}`, { method: 'PATCH', body: { requiredResourceAccess: list } });
      notice(`Added ${chosen.length} permission${chosen.length === 1 ? '' : 's'}: an administrator grants consent next.`);
      showScopes();
      await draw();
    });
    return disableForm(f, reason);
  };

  replace(el,
    section('Configured permissions',
      h('p', { class: 'hint' }, `Applications are authorized to call APIs when they are granted permissions by users or administrators. "Grant admin consent" consents for everyone in ${tenant}.`),
      status, consentEl, listEl, otherEl),
    section('Add a permission', addEl));
  await draw();
  try {
    replace(addEl, await addForm());
  } catch (err) {
    replace(addEl, errorBox(err));
  }
}

// --- Token configuration ---

const GROUP_CLAIMS = [
  { value: '', label: 'None' },
  { value: 'SecurityGroup', label: 'Security groups' },
  { value: 'All', label: 'All (security groups and directory roles)' },
  { value: 'ApplicationGroup', label: 'Groups assigned to the application' },
  { value: 'DirectoryRole', label: 'Directory roles' },
];

const TOKEN_TYPES = [
  { value: 'idToken', label: 'ID' },
  { value: 'accessToken', label: 'Access' },
  { value: 'saml2Token', label: 'SAML' },
];

const OPTIONAL_CLAIMS = [
  { value: 'upn', label: 'upn — the user principal name' },
  { value: 'acct', label: 'acct — the user\'s account status in the tenant' },
  { value: 'idtyp', label: 'idtyp — whether the token is for an app or a user' },
  { value: 'ipaddr', label: 'ipaddr — the address the user signed in from' },
  { value: 'email', label: 'email — the user\'s email address' },
  { value: 'family_name', label: 'family_name — the user\'s last name' },
  { value: 'given_name', label: 'given_name — the user\'s first name' },
  { value: 'groups', label: 'groups — the groups claim, as set above' },
];

export async function tabToken(el, app, reason, reload) {
  const claimsEl = h('div', { id: 'optional-claims' });
  const status = h('div', { 'aria-live': 'polite' });
  const current = app.groupMembershipClaims && app.groupMembershipClaims !== 'None' ? app.groupMembershipClaims : '';
  const groups = form([
    field('Groups claim', select('claims', GROUP_CLAIMS.map((o) => ({ ...o, selected: o.value === current })), { id: 'group-claims' }),
      'Which groups and roles the groups and wids claims list in the tokens issued to this application.'),
  ], 'Save', async (v) => {
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { groupMembershipClaims: v.claims || null } });
    notice(`Groups claim: ${GROUP_CLAIMS.find((o) => o.value === v.claims).label}.`);
  });
  disableForm(groups, reason);

  const patchClaims = async (change) => {
    const fresh = await reload();
    const oc = fresh.optionalClaims || {};
    const next = {};
    for (const t of TOKEN_TYPES) next[t.value] = change(t.value, [...(oc[t.value] || [])]);
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { optionalClaims: next } });
    draw(await reload());
  };
  const draw = (a) => {
    const oc = a.optionalClaims || {};
    const list = TOKEN_TYPES.flatMap((t) => (oc[t.value] || []).map((c) => ({ ...c, tokenType: t })));
    replace(claimsEl, table([
      { label: 'Claim', render: (c) => h('code', {}, c.name) },
      { label: 'Token type', render: (c) => c.tokenType.label },
      { label: 'Description', render: (c) => ((OPTIONAL_CLAIMS.find((o) => o.value === c.name) || { label: '' }).label.split(' — ')[1] || '') },
      { label: '', render: (c) => deny(button('Remove', () => attempt(status, async () => {
        await patchClaims((type, claims) => (type === c.tokenType.value ? claims.filter((x) => x.name !== c.name) : claims));
        notice(`Removed ${c.name} from the ${c.tokenType.label} token.`);
      }), { class: 'secondary', dataset: { removeClaim: `${c.tokenType.value}:${c.name}` }, 'aria-label': `Remove ${c.name} from the ${c.tokenType.label} token` }), reason) },
    ], list, { empty: 'No optional claims.' }));
  };
  const add = form([
    field('Token type', select('tokenType', TOKEN_TYPES, { id: 'claim-token-type' })),
    field('Claim', select('name', OPTIONAL_CLAIMS, { id: 'claim-name' })),
  ], 'Add optional claim', async (v) => {
    const fresh = await reload();
    const type = TOKEN_TYPES.find((t) => t.value === v.tokenType);
    if (((fresh.optionalClaims || {})[v.tokenType] || []).some((c) => c.name === v.name)) {
      throw new Error(`The ${type.label} token already has the claim ${v.name}.`);
    }
    await patchClaims((t, claims) => (t === v.tokenType ? [...claims, { name: v.name, source: null, essential: false, additionalProperties: [] }] : claims));
    notice(`Added ${v.name} to the ${type.label} token.`);
  });
  disableForm(add, reason);
  draw(app);
  replace(el,
    section('Groups claim', groups),
    section('Optional claims', h('p', { class: 'hint' }, 'Claims beyond the default set, per token type.'), status, claimsEl, add));
}
