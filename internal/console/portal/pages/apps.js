// App registrations: list, register, and an application's page in tabs:
// overview, authentication (redirect URIs per platform, public client
// flows), certificates & secrets (client secrets, certificates uploaded
// from a file, federated credentials), expose an API (identifier URIs,
// scopes, app roles, token version), API permissions, token configuration,
// owners. Application Administrators and Cloud Application Administrators
// manage every registration; its owners manage theirs.

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, link, when, loading, secretValue } from '../ui.js';
import { scopesSection, tokenVersionSection, tabPermissions, tabToken } from './app-api.js';
import { APP_ADMINS, nameFilter, quote, manageReason, ownersSection, attempt, confirmButton, properties, searchForm } from './directory.js';

const AUDIENCES = [
  { value: 'AzureADMyOrg', label: 'Accounts in this directory only' },
  { value: 'AzureADMultipleOrgs', label: 'Accounts in any organizational directory' },
  { value: 'AzureADandPersonalMicrosoftAccount', label: 'Organizational and personal accounts' },
];

function audienceLabel(value) {
  const a = AUDIENCES.find((x) => x.value === value);
  return a ? `${a.label} (${value})` : value;
}

export async function listApps(view, params, query, ctx) {
  const results = h('div');
  const createEl = h('div');
  const reason = await directoryRoleReason(ctx.account.oid, APP_ADMINS, 'Registering applications');
  const load = async (text) => {
    replace(results, loading());
    const f = nameFilter(text);
    try {
      const apps = await graphAll(`/applications?$top=200${f ? `&$filter=${encodeURIComponent(f)}` : ''}`, 500);
      replace(results, table([
        { label: 'Display name', render: (a) => link(`#/apps/${a.id}`, a.displayName) },
        { label: 'Application (client) ID', render: (a) => a.appId },
        { label: 'Sign-in audience', render: (a) => audienceLabel(a.signInAudience) },
        { label: 'Created', render: (a) => when(a.createdDateTime) },
      ], apps, { caption: `${apps.length} registration${apps.length === 1 ? '' : 's'}`, empty: 'No application matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const search = searchForm('app-search', 'Search by name', query.get('q') || '', load);
  const newApp = button('New registration', () => replace(createEl, createForm(() => replace(createEl))), { id: 'new-app' });
  replace(view, h('h1', {}, 'App registrations'), h('div', { class: 'toolbar' }, deny(newApp, reason)), createEl, search.form, results);
  await load(search.input.value);
}

function createForm(done) {
  return section('Register an application', form([
    field('Display name', input('displayName', { required: true, id: 'new-app-name' })),
    field('Who can sign in', select('signInAudience', AUDIENCES, { id: 'new-app-audience' })),
  ], 'Register', async (v) => {
    const app = await graph('/applications', { method: 'POST', body: { displayName: v.displayName, signInAudience: v.signInAudience } });
    notice(`Registered ${app.displayName}.`);
    location.hash = `#/apps/${app.id}`;
  }, { cancel: done }));
}

const TABS = [
  ['overview', 'Overview', tabOverview],
  ['authentication', 'Authentication', tabAuthentication],
  ['credentials', 'Certificates & secrets', tabCredentials],
  ['api', 'Expose an API', tabAPI],
  ['permissions', 'API permissions', tabPermissions],
  ['token', 'Token configuration', tabToken],
  ['owners', 'Owners', tabOwners],
];

export async function showApp(view, params, query, ctx) {
  const id = encodeURIComponent(params.id);
  const app = await graph(`/applications/${id}`);
  const reason = await manageReason(ctx, APP_ADMINS, 'Changing this registration', [app.id]);
  const tab = TABS.find((t) => t[0] === query.get('tab')) || TABS[0];
  const body = h('div', { id: `tab-${tab[0]}` });
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/apps', 'App registrations'), h('span', {}, app.displayName)),
    h('h1', { id: 'app-name' }, app.displayName),
    h('nav', { class: 'tabs', 'aria-label': 'Application' }, TABS.map(([key, title]) =>
      h('a', { href: `#/apps/${app.id}?tab=${key}`, id: `tab-link-${key}`, 'aria-current': key === tab[0] ? 'page' : undefined }, title))),
    reason ? h('p', { class: 'reason', id: 'app-reason' }, reason) : null,
    body);
  const reload = () => graph(`/applications/${app.id}`);
  await tab[2](body, app, reason, reload, ctx);
}

async function tabOverview(el, app, reason) {
  const status = h('div');
  const spEl = h('div');
  const del = reason
    ? deny(button('Delete application', null, { class: 'danger', id: 'delete-app' }), reason)
    : confirmButton('Delete application', `Delete ${app.displayName}? Its enterprise application, credentials and role assignments go with it.`, () => attempt(status, async () => {
      await graph(`/applications/${app.id}`, { method: 'DELETE' });
      notice(`Deleted ${app.displayName}.`);
      location.hash = '#/apps';
    }), { id: 'delete-app' });
  replace(el,
    properties([
      ['Application (client) ID', app.appId, 'app-appid'],
      ['Object ID', app.id, 'app-id'],
      ['Sign-in audience', audienceLabel(app.signInAudience), 'app-audience'],
      ['Identifier URIs', (app.identifierUris || []).join(', ') || '—'],
      ['Created', when(app.createdDateTime)],
    ]),
    section('Enterprise application', spEl),
    h('div', { class: 'actions' }, del),
    status);
  const showSP = async () => {
    try {
      const sps = await graphAll(`/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${quote(app.appId)}'`)}`);
      if (sps.length) {
        replace(spEl, h('p', {}, 'Its service principal in this directory: ', link(`#/enterprise/${sps[0].id}`, sps[0].displayName, { id: 'app-sp-link' }), '.'));
        return;
      }
      const spStatus = h('div');
      replace(spEl, h('p', {}, 'The application has no service principal here yet: it cannot sign in or be assigned roles until it has one.'),
        deny(button('Create enterprise application', () => attempt(spStatus, async () => {
          await graph('/servicePrincipals', { method: 'POST', body: { appId: app.appId } });
          notice('Enterprise application created.');
          await showSP();
        }), { id: 'create-sp' }), reason), spStatus);
    } catch (err) {
      replace(spEl, errorBox(err));
    }
  };
  await showSP();
}

// --- Authentication ---

const PLATFORMS = [
  { key: 'web', title: 'Web', hint: 'Server-side applications that keep a secret or certificate. https, or http://localhost.' },
  { key: 'spa', title: 'Single-page application', hint: 'Browser applications: authorization code with PKCE, redeemed from the page\'s origin.' },
  { key: 'publicClient', title: 'Mobile and desktop applications', hint: 'Public clients: http://localhost, custom schemes, https://login.microsoftonline.com/common/oauth2/nativeclient.' },
];

async function tabAuthentication(el, app, reason, reload) {
  const parts = PLATFORMS.map((p) => {
    const listEl = h('div', { id: `redirects-${p.key}` });
    const status = h('div', { 'aria-live': 'polite' });
    const draw = (uris) => replace(listEl, uris.length
      ? h('ul', { class: 'uris' }, uris.map((u) => h('li', {}, h('code', {}, u), ' ',
        deny(button('Remove', () => attempt(status, async () => {
          await graph(`/applications/${app.id}`, { method: 'PATCH', body: { [p.key]: { redirectUris: uris.filter((x) => x !== u) } } });
          notice(`Removed ${u}.`);
          const fresh = await reload();
          draw((fresh[p.key] && fresh[p.key].redirectUris) || []);
        }), { class: 'secondary', dataset: { removeUri: u }, 'aria-label': `Remove ${u}` }), reason))))
      : h('p', { class: 'empty' }, 'No redirect URIs.'));
    const add = form([field('Redirect URI', input('uri', { required: true, id: `redirect-${p.key}`, type: 'url', placeholder: 'https://' }))], 'Add URI', async (v, f) => {
      const fresh = await reload();
      const uris = (fresh[p.key] && fresh[p.key].redirectUris) || [];
      const uri = v.uri.trim();
      await graph(`/applications/${app.id}`, { method: 'PATCH', body: { [p.key]: { redirectUris: [...uris, uri] } } });
      const after = await reload();
      const kept = (after[p.key] && after[p.key].redirectUris) || [];
      draw(kept);
      // A server that does not know the platform ignores it.
      if (!kept.includes(uri)) throw new Error(`The server accepted the change but does not list ${uri} among the ${p.title} redirect URIs: it may not support this platform.`);
      notice(`Added ${uri}.`);
      f.reset();
    });
    if (reason) for (const c of add.querySelectorAll('input, button')) c.disabled = true;
    draw((app[p.key] && app[p.key].redirectUris) || []);
    return section(p.title, h('p', { class: 'hint' }, p.hint), status, listEl, add);
  });
  const fallback = h('input', { type: 'checkbox', name: 'isFallbackPublicClient', id: 'fallback-public-client', checked: app.isFallbackPublicClient === true, disabled: reason ? true : undefined });
  const flows = form([
    h('div', { class: 'field inline' }, fallback, h('label', { for: 'fallback-public-client' }, 'Allow public client flows (device code, username and password)')),
    h('p', { class: 'hint' }, 'With this on, the application is treated as a public client when no redirect URI tells.'),
  ], 'Save', async (v) => {
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { isFallbackPublicClient: v.isFallbackPublicClient } });
    notice(v.isFallbackPublicClient ? 'Public client flows allowed.' : 'Public client flows not allowed.');
  });
  if (reason) for (const c of flows.querySelectorAll('button')) c.disabled = true;
  replace(el, parts, section('Advanced settings', flows));
}

// --- Certificates & secrets ---

const MONTHS = [
  { value: '6', label: '6 months' }, { value: '12', label: '12 months', selected: true }, { value: '24', label: '24 months' },
];

// readFile reads a chosen file's bytes.
function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(new Uint8Array(r.result));
    r.onerror = () => reject(new Error(`The file ${file.name} could not be read.`));
    r.readAsArrayBuffer(file);
  });
}

// certificateBase64 is the base64 DER of a certificate file in PEM or DER form.
export function certificateBase64(bytes) {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (pem) return pem[1].replace(/\s+/g, '');
  if (text.includes('-----BEGIN')) {
    throw new Error('The file holds no certificate (-----BEGIN CERTIFICATE-----): upload the public certificate, never a private key.');
  }
  if (bytes.length < 16 || bytes[0] !== 0x30) throw new Error('The file is neither a PEM nor a DER certificate.');
  return btoa(text);
}

async function tabCredentials(el, app, reason, reload) {
  const secretsEl = h('div', { id: 'secrets-list' });
  const secretOut = h('div', { id: 'new-secret' });
  const secretStatus = h('div', { 'aria-live': 'polite' });
  const certsEl = h('div', { id: 'certificates-list' });
  const certStatus = h('div', { 'aria-live': 'polite' });
  const ficEl = h('div', { id: 'federated-list' });
  const ficStatus = h('div', { 'aria-live': 'polite' });

  const drawSecrets = (a) => replace(secretsEl, table([
    { label: 'Description', render: (p) => p.displayName || '' },
    { label: 'Value', render: (p) => (p.hint ? `${p.hint}…` : '') },
    { label: 'Expires', render: (p) => when(p.endDateTime) },
    { label: 'Secret ID', render: (p) => p.keyId },
    { label: '', render: (p) => deny(button('Delete', () => attempt(secretStatus, async () => {
      await graph(`/applications/${app.id}/removePassword`, { method: 'POST', body: { keyId: p.keyId } });
      notice('Secret deleted.');
      drawSecrets(await reload());
    }), { class: 'secondary', dataset: { removeSecret: p.keyId }, 'aria-label': `Delete secret ${p.displayName || p.keyId}` }), reason) },
  ], a.passwordCredentials || [], { empty: 'No client secrets.' }));

  const addSecret = form([
    field('Description', input('displayName', { id: 'secret-description' })),
    field('Expires after', select('months', MONTHS, { id: 'secret-months' })),
  ], 'Add client secret', async (v) => {
    const end = new Date();
    end.setMonth(end.getMonth() + Number(v.months));
    const cred = await graph(`/applications/${app.id}/addPassword`, { method: 'POST', body: { passwordCredential: { displayName: v.displayName || undefined, endDateTime: end.toISOString() } } });
    replace(secretOut, h('p', { role: 'status' }, `New secret ${cred.displayName || ''} (ID ${cred.keyId}):`), secretValue(cred.secretText));
    notice('Client secret added.');
    drawSecrets(await reload());
  });

  const drawCerts = (a) => replace(certsEl, table([
    { label: 'Name', render: (k) => k.displayName || '' },
    { label: 'Thumbprint', render: (k) => h('code', {}, k.customKeyIdentifier || '') },
    { label: 'Valid from', render: (k) => when(k.startDateTime) },
    { label: 'Expires', render: (k) => when(k.endDateTime) },
    { label: 'Certificate ID', render: (k) => k.keyId },
    { label: '', render: (k) => deny(button('Delete', () => attempt(certStatus, async () => {
      const keys = await currentKeys();
      await graph(`/applications/${app.id}`, { method: 'PATCH', body: { keyCredentials: keys.filter((x) => x.keyId !== k.keyId) } });
      notice('Certificate deleted.');
      drawCerts(await reload());
    }), { class: 'secondary', dataset: { removeCertificate: k.keyId }, 'aria-label': `Delete certificate ${k.displayName || k.keyId}` }), reason) },
  ], a.keyCredentials || [], { empty: 'No certificates.' }));

  // currentKeys are the certificates with their keys: PATCH keyCredentials
  // replaces the whole list, so it is sent with every current key.
  const currentKeys = async () => {
    const a = await graph(`/applications/${app.id}?$select=id,keyCredentials`);
    return (a.keyCredentials || []).map((k) => ({
      keyId: k.keyId, type: k.type, usage: k.usage, key: k.key, displayName: k.displayName,
      startDateTime: k.startDateTime, endDateTime: k.endDateTime,
    }));
  };
  const certFile = h('input', { type: 'file', name: 'certificate', id: 'certificate-file', accept: '.cer,.crt,.pem,.der', required: true });
  const addCert = form([
    field('Certificate file (.cer, .crt, .pem or .der)', certFile, 'The public certificate only, in PEM or DER form.'),
    field('Description', input('displayName', { id: 'certificate-description' }), 'Optional: the certificate\'s subject when left empty.'),
  ], 'Upload certificate', async (v, f) => {
    const file = certFile.files[0];
    if (!file) throw new Error('Choose a certificate file first.');
    const key = certificateBase64(await readFile(file));
    const keys = await currentKeys();
    keys.push({ type: 'AsymmetricX509Cert', usage: 'Verify', key, displayName: v.displayName || undefined });
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { keyCredentials: keys } });
    notice(`Certificate ${file.name} uploaded.`);
    f.reset();
    drawCerts(await reload());
  });

  const loadFics = async () => {
    try {
      const fics = await graphAll(`/applications/${app.id}/federatedIdentityCredentials`);
      replace(ficEl, table([
        { label: 'Name', render: (c) => c.name },
        { label: 'Issuer', render: (c) => c.issuer },
        { label: 'Subject', render: (c) => c.subject },
        { label: 'Audiences', render: (c) => (c.audiences || []).join(', ') },
        { label: '', render: (c) => deny(button('Delete', () => attempt(ficStatus, async () => {
          await graph(`/applications/${app.id}/federatedIdentityCredentials/${c.id}`, { method: 'DELETE' });
          notice(`Federated credential ${c.name} deleted.`);
          await loadFics();
        }), { class: 'secondary', dataset: { removeFic: c.name }, 'aria-label': `Delete federated credential ${c.name}` }), reason) },
      ], fics, { empty: 'No federated credentials.' }));
    } catch (err) {
      replace(ficEl, errorBox(err));
    }
  };
  const addFic = form([
    field('Name', input('name', { required: true, id: 'fic-name' })),
    field('Issuer', input('issuer', { required: true, id: 'fic-issuer', placeholder: 'https://token.actions.githubusercontent.com' })),
    field('Subject', input('subject', { required: true, id: 'fic-subject', placeholder: 'repo:org/repo:ref:refs/heads/main' })),
    field('Audiences', input('audiences', { required: true, id: 'fic-audiences', value: 'api://AzureADTokenExchange' }), 'Comma-separated.'),
    field('Description', input('description', { id: 'fic-description' })),
  ], 'Add federated credential', async (v, f) => {
    await graph(`/applications/${app.id}/federatedIdentityCredentials`, { method: 'POST', body: {
      name: v.name, issuer: v.issuer, subject: v.subject, description: v.description || undefined,
      audiences: v.audiences.split(',').map((s) => s.trim()).filter(Boolean),
    } });
    notice(`Federated credential ${v.name} added.`);
    f.reset();
    await loadFics();
  });
  for (const f of [addSecret, addCert, addFic]) {
    if (reason) for (const c of f.querySelectorAll('input, select, button')) c.disabled = true;
  }

  drawSecrets(app);
  drawCerts(app);
  replace(el,
    section('Client secrets', h('p', { class: 'hint' }, 'A secret is shown once, when it is added.'), secretStatus, secretsEl, secretOut, addSecret),
    section('Certificates', certStatus, certsEl, addCert),
    section('Federated credentials', h('p', { class: 'hint' }, 'Tokens of another identity provider (a CI system, Kubernetes) that this application accepts instead of a secret.'), ficStatus, ficEl, addFic));
  await loadFics();
}

// --- Expose an API ---

const MEMBER_TYPES = [
  { value: 'User', label: 'Users and groups' },
  { value: 'Application', label: 'Applications' },
  { value: 'Both', label: 'Both' },
];

async function tabAPI(el, app, reason, reload) {
  const urisEl = h('div', { id: 'identifier-uris' });
  const uriStatus = h('div', { 'aria-live': 'polite' });
  const rolesEl = h('div', { id: 'app-roles' });
  const roleStatus = h('div', { 'aria-live': 'polite' });

  const drawURIs = (a) => {
    const uris = a.identifierUris || [];
    replace(urisEl, uris.length ? h('ul', { class: 'uris' }, uris.map((u) => h('li', {}, h('code', {}, u), ' ',
      deny(button('Remove', () => attempt(uriStatus, async () => {
        const fresh = await reload();
        await graph(`/applications/${app.id}`, { method: 'PATCH', body: { identifierUris: (fresh.identifierUris || []).filter((x) => x !== u) } });
        notice(`Removed ${u}.`);
        drawURIs(await reload());
      }), { class: 'secondary', dataset: { removeIdentifier: u }, 'aria-label': `Remove ${u}` }), reason))))
      : h('p', { class: 'empty' }, 'No identifier URIs: the application cannot be requested as a resource.'));
  };
  const addURI = form([
    field('Application ID URI', input('uri', { required: true, id: 'identifier-uri', value: (app.identifierUris || []).length ? '' : `api://${app.appId}` }),
      'api://{appId} or a URI in a verified domain of the directory.'),
  ], 'Add', async (v, f) => {
    const fresh = await reload();
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { identifierUris: [...(fresh.identifierUris || []), v.uri.trim()] } });
    notice(`Added ${v.uri}.`);
    f.reset();
    drawURIs(await reload());
  });

  const patchRoles = async (change) => {
    const fresh = await reload();
    await graph(`/applications/${app.id}`, { method: 'PATCH', body: { appRoles: change(fresh.appRoles || []) } });
    drawRoles(await reload());
  };
  const drawRoles = (a) => replace(rolesEl, table([
    { label: 'Display name', render: (r) => r.displayName },
    { label: 'Value', render: (r) => h('code', {}, r.value || '') },
    { label: 'Allowed member types', render: (r) => (r.allowedMemberTypes || []).join(', ') },
    { label: 'Description', render: (r) => r.description },
    { label: 'State', render: (r) => (r.isEnabled ? 'Enabled' : 'Disabled') },
    { label: '', render: (r) => (r.isEnabled
      ? deny(button('Disable', () => attempt(roleStatus, async () => {
        await patchRoles((roles) => roles.map((x) => (x.id === r.id ? { ...x, isEnabled: false } : x)));
        notice(`App role ${r.displayName} disabled.`);
      }), { class: 'secondary', dataset: { disableRole: r.value }, 'aria-label': `Disable ${r.displayName}` }), reason)
      : deny(button('Delete', () => attempt(roleStatus, async () => {
        await patchRoles((roles) => roles.filter((x) => x.id !== r.id));
        notice(`App role ${r.displayName} deleted.`);
      }), { class: 'secondary', dataset: { deleteRole: r.value }, 'aria-label': `Delete ${r.displayName}` }), reason)) },
  ], a.appRoles || [], { empty: 'No app roles.' }));
  const addRole = form([
    field('Display name', input('displayName', { required: true, id: 'role-name' })),
    field('Value', input('value', { required: true, id: 'role-value', placeholder: 'Data.Read' }), 'What the roles claim of a token holds.'),
    field('Allowed member types', select('memberTypes', MEMBER_TYPES, { id: 'role-member-types' })),
    field('Description', input('description', { required: true, id: 'role-description' })),
  ], 'Add app role', async (v, f) => {
    const types = v.memberTypes === 'Both' ? ['User', 'Application'] : [v.memberTypes];
    await patchRoles((roles) => [...roles, { id: crypto.randomUUID(), displayName: v.displayName, value: v.value, description: v.description, allowedMemberTypes: types, isEnabled: true }]);
    notice(`App role ${v.displayName} added.`);
    f.reset();
  });
  for (const f of [addURI, addRole]) {
    if (reason) for (const c of f.querySelectorAll('input, select, button')) c.disabled = true;
  }
  drawURIs(app);
  drawRoles(app);
  replace(el,
    section('Identifier URIs', h('p', { class: 'hint' }, 'How clients name this application when they ask for a token for it (the audience).'), uriStatus, urisEl, addURI),
    scopesSection(app, reason, reload, drawURIs),
    section('App roles', h('p', { class: 'hint' }, 'Roles granted to users, groups or applications, sent in the roles claim. A role is disabled before it is deleted.'), roleStatus, rolesEl, addRole),
    tokenVersionSection(app, reason));
}

async function tabOwners(el, app, reason) {
  const owners = ownersSection(`/applications/${app.id}`, reason, 'this application');
  replace(el, owners.el);
  await owners.load();
}
