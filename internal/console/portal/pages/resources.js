// Resources: subscriptions → resource groups → resources (workspaces,
// managed identities) → child resources (computes) → compute nodes. One
// page per scope (?id=<ARM id>), each with its Access control (IAM) tab.
// Every read and action is an ARM call with the person's token; what their
// role assignments do not allow is shown disabled with the reason.

import { arm, armAll, API_VERSIONS, permissionsAt, actionAllowed } from '../api.js';
import { h, replace, section, table, button, deny, errorBox, notice, link, when, loading, secretValue, part } from '../ui.js';
import { parseScope, typeLabel, breadcrumb, scopeTabs, resourceHref, iamHref, sameScope } from '../scopes.js';

const ML = 'Microsoft.MachineLearningServices';
const COMPUTE = `${ML}/workspaces/computes`;

// apiVersionFor is the api-version the console reads a resource type with.
export function apiVersionFor(type) {
  const t = (type || '').toLowerCase();
  if (t.startsWith('microsoft.machinelearningservices/')) return API_VERSIONS.ml;
  if (t.startsWith('microsoft.managedidentity/')) return API_VERSIONS.identity;
  if (t === 'microsoft.resources/subscriptions') return API_VERSIONS.subscriptions;
  return API_VERSIONS.resources;
}

// scopeNames reads the display name of the subscription in id, for
// breadcrumbs: {lowercased id → name}.
export async function scopeNames(id) {
  const { levels } = parseScope(id);
  const names = {};
  if (levels.length) {
    try {
      const s = await arm(levels[0].id, { apiVersion: API_VERSIONS.subscriptions });
      names[levels[0].id.toLowerCase()] = s.displayName;
    } catch {
      // The subscription's id stands for its name.
    }
  }
  return names;
}


export async function resources(view, params, query) {
  const id = query.get('id') || '';
  const { last } = parseScope(id);
  if (!id || last.kind === 'root') {
    await subscriptions(view);
    return;
  }
  const scope = last.id;
  const names = await scopeNames(scope);
  const title = names[scope.toLowerCase()] || last.name;
  const props = h('div');
  const children = h('div');
  replace(view, breadcrumb(scope, names), h('h1', {}, title, h('span', { class: 'kind' }, ` ${typeLabel(last.type)}`)),
    scopeTabs(scope, 'overview'), section('Essentials', props), children);
  let doc;
  try {
    doc = await arm(scope, { apiVersion: apiVersionFor(last.type) });
  } catch (err) {
    // Not found or not readable: ARM's answer, under the page's own trail.
    replace(props, errorBox(err));
    return;
  }
  replace(props, essentials(doc, last));
  const type = last.type.toLowerCase();
  if (last.kind === 'subscription') await resourceGroups(children, scope);
  else if (last.kind === 'resourceGroup') await resourcesIn(children, scope);
  else if (type === `${ML}/workspaces`.toLowerCase()) await computes(children, scope);
  else if (type === COMPUTE.toLowerCase()) await nodes(children, scope);
  else if (type === 'microsoft.managedidentity/userassignedidentities') await attachedTo(children, doc);
}

async function subscriptions(view) {
  const el = h('div');
  replace(view, h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('span', {}, 'Subscriptions')),
    h('h1', {}, 'Subscriptions'),
    h('p', { class: 'hint' }, 'Role assignments at the tenant root apply to every subscription: ', link(iamHref('/'), 'Access control (IAM) at the tenant root', { id: 'root-iam' }), '.'),
    el);
  await part(el, async () => {
    const subs = await armAll('/subscriptions', { apiVersion: API_VERSIONS.subscriptions });
    return table([
      { label: 'Name', render: (s) => link(resourceHref(s.id), s.displayName) },
      { label: 'Subscription ID', render: (s) => s.subscriptionId },
      { label: 'State', render: (s) => s.state },
    ], subs, { caption: `${subs.length} subscription${subs.length === 1 ? '' : 's'}`, empty: 'You have no role on any subscription.' });
  });
}

function essentials(doc, level) {
  const p = doc.properties || {};
  const rows = [];
  const add = (label, value, id) => {
    if (value !== undefined && value !== null && value !== '') rows.push(h('dt', {}, label), h('dd', id ? { id } : {}, String(value)));
  };
  add('Name', doc.displayName || doc.name);
  add('Type', typeLabel(level.type));
  add('Resource ID', doc.id || level.id, 'resource-id');
  add('Location', doc.location);
  add('State', doc.state || p.provisioningState);
  if (level.kind === 'subscription') add('Tenant', doc.tenantId);
  if (doc.identity) {
    add('Identity', doc.identity.type);
    add('Identity principal', doc.identity.principalId, 'identity-principal');
    const attached = Object.keys(doc.identity.userAssignedIdentities || {});
    if (attached.length) {
      rows.push(h('dt', {}, 'User-assigned identities'),
        h('dd', {}, attached.map((a) => h('div', {}, link(resourceHref(a), parseScope(a).last.name)))));
    }
  }
  add('Client ID', p.clientId, 'identity-client-id');
  add('Principal ID', p.principalId, 'identity-principal-id');
  add('Compute type', p.computeType);
  add('Friendly name', p.friendlyName);
  return h('dl', { class: 'props' }, rows);
}

function resourceTable(items, empty) {
  return table([
    { label: 'Name', render: (r) => link(resourceHref(r.id), r.name) },
    { label: 'Type', render: (r) => typeLabel(r.type) },
    { label: 'Location', render: (r) => r.location || '' },
  ], items, { empty });
}

async function resourceGroups(el, id) {
  const s = h('div');
  replace(el, section('Resource groups', s));
  await part(s, async () => resourceTable(await armAll(`${id}/resourceGroups`), 'No resource group you may read.'));
}

async function resourcesIn(el, id) {
  const s = h('div');
  replace(el, section('Resources', s));
  await part(s, async () => resourceTable(await armAll(`${id}/resources`), 'No resource you may read.'));
}

async function computes(el, id) {
  const s = h('div');
  replace(el, section('Computes', s));
  await part(s, async () => {
    const items = await armAll(`${id}/computes`, { apiVersion: API_VERSIONS.ml });
    return table([
      { label: 'Name', render: (r) => link(resourceHref(r.id), r.name) },
      { label: 'Compute type', render: (r) => (r.properties && r.properties.computeType) || '' },
      { label: 'State', render: (r) => (r.properties && r.properties.provisioningState) || '' },
      { label: 'Identity', render: (r) => (r.identity && r.identity.type) || 'None' },
    ], items, { empty: 'No compute in this workspace.' });
  });
}

// nodes: the compute's registered nodes, with rotate and revoke. A new
// secret is shown once.
async function nodes(el, id) {
  const list = h('div');
  const out = h('div', { id: 'node-result' });
  replace(el, section('Nodes', h('p', { class: 'hint' }, 'Machines registered to run as this compute. A node proves it is one with its secret; rotating replaces the secret at once, revoking removes the node.'), out, list));
  let perms = [];
  try {
    perms = await permissionsAt(id);
  } catch (err) {
    replace(out, errorBox(err));
  }
  const why = (action, what) => (actionAllowed(perms, `${COMPUTE}/${action}/action`) ? null
    : `${what} needs ${COMPUTE}/${action}/action on this compute, which none of your role assignments grants.`);
  const listWhy = why('listNodes', 'Listing the nodes');
  if (listWhy) {
    replace(list, h('p', { class: 'reason', id: 'nodes-denied' }, listWhy));
    return;
  }
  const act = async (action, nodeId) => arm(`${id}/${action}`, { method: 'POST', body: nodeId ? { nodeId } : {}, apiVersion: API_VERSIONS.ml });
  const load = () => part(list, async () => {
    const r = await act('listNodes');
    const items = r.nodes || [];
    return table([
      { label: 'Name', render: (n) => n.name || n.nodeId },
      { label: 'Node ID', render: (n) => h('code', {}, n.nodeId) },
      { label: 'Registered', render: (n) => when(n.createdAt) },
      { label: 'Secret rotated', render: (n) => when(n.rotatedAt) },
      { label: 'Expires', render: (n) => (n.expiresAt ? when(n.expiresAt) : 'Never') },
      { label: 'Actions', render: (n) => h('div', { class: 'actions' },
        deny(button('Rotate secret', async () => {
          try {
            const reg = await act('rotateNodeSecret', n.nodeId);
            replace(out, h('p', { role: 'status' }, `New secret of ${reg.name || reg.nodeId}:`), secretValue(reg.secret));
            notice('Secret rotated; the old one no longer works.');
            await load();
          } catch (err) {
            replace(out, errorBox(err));
          }
        }, { class: 'secondary', id: `rotate-${n.nodeId}`, 'aria-label': `Rotate the secret of ${n.name || n.nodeId}` }), why('rotateNodeSecret', 'Rotating a secret')),
        deny(button('Revoke', async () => {
          if (!window.confirm(`Revoke node ${n.name || n.nodeId}? Its secret stops working at once.`)) return;
          try {
            await act('revokeNode', n.nodeId);
            replace(out, h('p', { role: 'status', id: 'node-revoked' }, `Node ${n.name || n.nodeId} revoked.`));
            notice('Node revoked.');
            await load();
          } catch (err) {
            replace(out, errorBox(err));
          }
        }, { class: 'danger', id: `revoke-${n.nodeId}`, 'aria-label': `Revoke ${n.name || n.nodeId}` }), why('revokeNode', 'Revoking a node'))) },
    ], items, { caption: `${items.length} node${items.length === 1 ? '' : 's'}`, empty: 'No node is registered. Register one with tessera ml compute register-node.' });
  });
  await load();
}

// identityHolders lists the resources of a subscription the person may
// read that carry a managed identity: top-level resources and the computes
// of its workspaces.
export async function identityHolders(subscriptionID) {
  const all = await armAll(`${subscriptionID}/resources`);
  const workspaces = all.filter((r) => (r.type || '').toLowerCase() === `${ML}/workspaces`.toLowerCase());
  const computeLists = await Promise.all(workspaces.map((w) => armAll(`${w.id}/computes`, { apiVersion: API_VERSIONS.ml }).catch(() => [])));
  // The subscription's list may hold child resources too: each once.
  const byID = new Map(all.concat(...computeLists).map((r) => [r.id.toLowerCase(), r]));
  return [...byID.values()].filter((r) => r.identity && r.identity.type && r.identity.type !== 'None');
}

// attachedIdentities are the user-assigned identity ids a resource carries.
export function attachedIdentities(r) {
  return Object.keys((r.identity && r.identity.userAssignedIdentities) || {});
}

// attachedTo lists the resources a user-assigned identity is attached to,
// among those the person may read.
async function attachedTo(el, doc) {
  const s = h('div', { id: 'attached-to' });
  replace(el, section('Attached to', s));
  await part(s, async () => {
    const holders = await identityHolders(parseScope(doc.id).levels[0].id);
    return resourceTable(holders.filter((r) => attachedIdentities(r).some((k) => sameScope(k, doc.id))), 'Not attached to any resource you may read.');
  });
}
