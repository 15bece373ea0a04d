// Overview: the tenant, its subscriptions, what the directory holds and the
// latest failed sign-ins, each read with the person's own tokens. A part the
// person may not read says so and the rest still shows.

import { graph, armAll, arm, API_VERSIONS } from '../api.js';
import { h, replace, section, table, when, link, part } from '../ui.js';


async function count(collection) {
  const n = await graph(`/${collection}/$count`, { headers: { ConsistencyLevel: 'eventual' } });
  return Number(n);
}

export async function overview(view, params, query, ctx) {
  const tenantEl = h('div');
  const subsEl = h('div');
  const countsEl = h('div', { class: 'cards' });
  const failedEl = h('div');
  replace(view,
    h('h1', {}, 'Overview'),
    section('Tenant', tenantEl),
    section('Directory', countsEl),
    section('Subscriptions', subsEl),
    section('Recent failed sign-ins', failedEl));
  await Promise.all([
    part(tenantEl, async () => {
      const tenants = await armAll('/tenants', { apiVersion: API_VERSIONS.subscriptions });
      const t = tenants.find((x) => x.tenantId === ctx.tenant.id) || {};
      return h('dl', { class: 'props' },
        h('dt', {}, 'Name'), h('dd', {}, t.displayName || ''),
        h('dt', {}, 'Tenant ID'), h('dd', { id: 'overview-tenant-id' }, ctx.tenant.id),
        h('dt', {}, 'Default domain'), h('dd', {}, t.defaultDomain || ctx.tenant.domain),
        h('dt', {}, 'Signed in as'), h('dd', {}, `${ctx.account.name} (${ctx.account.username})`));
    }),
    part(countsEl, async () => {
      const kinds = [['users', 'Users', '#/users'], ['groups', 'Groups', '#/groups'],
        ['applications', 'App registrations', '#/apps'], ['servicePrincipals', 'Enterprise applications', '#/enterprise']];
      const cards = await Promise.all(kinds.map(async ([c, label, href]) => {
        let value;
        try {
          value = await count(c);
        } catch (err) {
          value = `— (${err.status || ''} ${err.code || err.message})`;
        }
        return h('div', { class: 'card' }, h('span', { class: 'count', id: `count-${c}` }, value), link(href, label));
      }));
      return cards;
    }),
    part(subsEl, async () => {
      const subs = (await arm('/subscriptions', { apiVersion: API_VERSIONS.subscriptions })).value || [];
      return table([
        { label: 'Name', render: (s) => link(`#/resources?id=${encodeURIComponent(s.id)}`, s.displayName) },
        { label: 'Subscription ID', render: (s) => s.subscriptionId },
        { label: 'State', render: (s) => s.state },
      ], subs, { empty: 'You have no role on any subscription.' });
    }),
    part(failedEl, async () => {
      const r = await graph("/auditLogs/signIns?$filter=status/errorCode ne 0&$top=10");
      return table([
        { label: 'Time', render: (e) => when(e.createdDateTime) },
        { label: 'User or app', render: (e) => e.userPrincipalName || e.appDisplayName || e.appId },
        { label: 'Error', render: (e) => `${e.status && e.status.errorCode} ${(e.status && e.status.failureReason) || ''}` },
        { label: 'Address', render: (e) => e.ipAddress },
      ], r.value || [], { empty: 'No failed sign-ins.' });
    }),
  ]);
}
