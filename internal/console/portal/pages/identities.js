// Managed identities: the user-assigned identities of every subscription
// the person can see, with their client and principal ids and the resources
// they are attached to, and the resources that carry a system-assigned
// identity. Each links to its access control and to Check access for its
// principal. ARM calls only, with the person's token.

import { armAll, API_VERSIONS } from '../api.js';
import { h, replace, section, table, errorBox, link, loading } from '../ui.js';
import { parseScope, resourceHref, iamHref, checkHref, typeLabel, sameScope } from '../scopes.js';
import { identityHolders, attachedIdentities } from './resources.js';

const UAMI = 'Microsoft.ManagedIdentity/userAssignedIdentities';

function where(r) {
  return link(resourceHref(r.id), `${typeLabel(r.type)} ${r.name}`);
}

export async function listIdentities(view) {
  const userEl = h('div', { id: 'user-assigned' });
  const systemEl = h('div', { id: 'system-assigned' });
  replace(view, h('h1', {}, 'Managed identities'),
    h('p', { class: 'hint' }, 'Identities that workloads on a compute sign in as, without a secret. Give one access in the Access control (IAM) tab of what it should reach.'),
    section('User-assigned', userEl), section('System-assigned', systemEl));
  replace(userEl, loading());
  replace(systemEl, loading());
  let subs;
  try {
    subs = await armAll('/subscriptions', { apiVersion: API_VERSIONS.subscriptions });
  } catch (err) {
    replace(userEl, errorBox(err));
    replace(systemEl);
    return;
  }
  const perSub = await Promise.all(subs.map(async (s) => {
    const [ids, holders] = await Promise.allSettled([
      armAll(`${s.id}/providers/${UAMI}`, { apiVersion: API_VERSIONS.identity }),
      identityHolders(s.id),
    ]);
    return { ids, holders };
  }));
  const identities = [];
  const holders = [];
  const errors = [];
  for (const p of perSub) {
    if (p.ids.status === 'fulfilled') identities.push(...p.ids.value);
    else errors.push(p.ids.reason);
    if (p.holders.status === 'fulfilled') holders.push(...p.holders.value);
    else errors.push(p.holders.reason);
  }
  const principalActions = (principalId, scope, name) => h('div', { class: 'actions' },
    link(iamHref(scope), 'Access control (IAM)', { 'aria-label': `Access control of ${name}` }),
    principalId ? link(checkHref(parseScope(scope).levels[0].id, principalId), 'Check its access', { 'aria-label': `Check the access of ${name}` }) : null);
  replace(userEl, errors.map((e) => errorBox(e)), table([
    { label: 'Name', render: (i) => link(resourceHref(i.id), i.name) },
    { label: 'Resource group', render: (i) => parseScope(i.id).levels[1].name },
    { label: 'Client ID', render: (i) => h('code', {}, (i.properties && i.properties.clientId) || '') },
    { label: 'Principal ID', render: (i) => h('code', {}, (i.properties && i.properties.principalId) || '') },
    { label: 'Attached to', render: (i) => {
      const used = holders.filter((r) => attachedIdentities(r).some((k) => sameScope(k, i.id)));
      return used.length ? used.map((r) => h('div', {}, where(r))) : h('span', { class: 'muted' }, 'Nothing');
    } },
    { label: 'Access', render: (i) => principalActions(i.properties && i.properties.principalId, i.id, i.name) },
  ], identities, { caption: `${identities.length} user-assigned identit${identities.length === 1 ? 'y' : 'ies'}`, empty: 'No user-assigned identity you may read.' }));
  const system = holders.filter((r) => /systemassigned/i.test(r.identity.type) && r.identity.principalId);
  replace(systemEl, table([
    { label: 'Resource', render: where },
    { label: 'Principal ID', render: (r) => h('code', {}, r.identity.principalId) },
    { label: 'Access', render: (r) => principalActions(r.identity.principalId, r.id, r.name) },
  ], system, { empty: 'No resource you may read has a system-assigned identity.' }));
}
