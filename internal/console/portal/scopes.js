// Resource manager scopes as the console shows them: an ARM id parsed into
// its levels (subscription, resource group, resources and child
// resources), a short label for each, and links to the console's pages for
// a scope. Shared by the resource, access control, role and identity pages.

import { h, link } from './ui.js';

// parseScope splits an ARM id. levels holds one entry per addressable scope
// from the subscription down: {kind, name, id, type} where type is the
// resource type for resources ("Microsoft.X/a/b").
export function parseScope(id) {
  const segs = (id || '').split('/').filter(Boolean);
  const levels = [];
  let i = 0;
  let path = '';
  if (segs[0] && segs[0].toLowerCase() === 'subscriptions' && segs[1]) {
    path = `/subscriptions/${segs[1]}`;
    levels.push({ kind: 'subscription', name: segs[1], id: path, type: 'Microsoft.Resources/subscriptions' });
    i = 2;
    if (segs[i] && segs[i].toLowerCase() === 'resourcegroups' && segs[i + 1]) {
      path += `/resourceGroups/${segs[i + 1]}`;
      levels.push({ kind: 'resourceGroup', name: segs[i + 1], id: path, type: 'Microsoft.Resources/subscriptions/resourceGroups' });
      i += 2;
      if (segs[i] && segs[i].toLowerCase() === 'providers' && segs[i + 1]) {
        const ns = segs[i + 1];
        path += `/providers/${ns}`;
        let type = ns;
        i += 2;
        while (i + 1 < segs.length) {
          type += `/${segs[i]}`;
          path += `/${segs[i]}/${segs[i + 1]}`;
          levels.push({ kind: 'resource', name: segs[i + 1], id: path, type });
          i += 2;
        }
      }
    }
  }
  const last = levels[levels.length - 1] || { kind: 'root', name: 'Tenant root', id: '/', type: '' };
  return { levels, last, subscriptionId: levels.length ? levels[0].name : '' };
}

const TYPE_LABELS = {
  'Microsoft.Resources/subscriptions': 'Subscription',
  'Microsoft.Resources/subscriptions/resourceGroups': 'Resource group',
  'Microsoft.MachineLearningServices/workspaces': 'Workspace',
  'Microsoft.MachineLearningServices/workspaces/computes': 'Compute',
  'Microsoft.ManagedIdentity/userAssignedIdentities': 'Managed identity',
};

// typeLabel is a person's word for a resource type.
export function typeLabel(type) {
  if (!type) return 'Tenant root';
  const known = Object.entries(TYPE_LABELS).find(([t]) => t.toLowerCase() === type.toLowerCase());
  if (known) return known[1];
  const parts = type.split('/');
  return parts[parts.length - 1];
}

// scopePrefix is what an extension path (/providers/Microsoft.Authorization/…)
// follows for a scope: nothing for the tenant root.
export function scopePrefix(scope) {
  return !scope || scope === '/' ? '' : scope.replace(/\/+$/, '');
}

// sameScope compares ARM ids as ARM does: case-insensitively.
export function sameScope(a, b) {
  return (a || '/').replace(/\/+$/, '').toLowerCase() === (b || '/').replace(/\/+$/, '').toLowerCase() || (!a && b === '/') || (a === '/' && !b);
}

// resourceHref and iamHref are the console's pages for a scope.
export function resourceHref(id) {
  return `#/resources?id=${encodeURIComponent(id)}`;
}
export function iamHref(id) {
  return `#/resources/iam?id=${encodeURIComponent(id)}`;
}
export function checkHref(id, principalId) {
  return `#/resources/check?id=${encodeURIComponent(id)}${principalId ? `&principal=${encodeURIComponent(principalId)}` : ''}`;
}

// scopeName is a scope's kind and name in words ("resource group rg-ml").
export function scopeName(id, names = {}) {
  if (!id || id === '/') return 'the tenant root';
  const { last } = parseScope(id);
  return `${typeLabel(last.type).toLowerCase()} ${names[id.toLowerCase()] || last.name}`;
}

// scopeLink names a scope with its kind ("Resource group rg-ml") and links
// to its page.
export function scopeLink(id, names = {}) {
  if (!id || id === '/') return 'the tenant root';
  const { last } = parseScope(id);
  return link(resourceHref(id), `${typeLabel(last.type)} ${names[id.toLowerCase()] || last.name}`);
}

// breadcrumb is the trail from the subscriptions list down to id; tab names
// the current view after the scope's own name.
export function breadcrumb(id, names = {}, tab) {
  const { levels } = parseScope(id);
  const crumbs = [link('#/resources', 'Subscriptions')];
  levels.forEach((l, i) => {
    const label = names[l.id.toLowerCase()] || l.name;
    crumbs.push(i === levels.length - 1 && !tab ? h('span', {}, label) : link(resourceHref(l.id), label));
  });
  if (tab) crumbs.push(h('span', {}, tab));
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, crumbs);
}

// scopeTabs are the views of one scope: its overview, its access control
// and check access.
export function scopeTabs(id, current) {
  const tabs = [['overview', 'Overview', resourceHref(id)], ['iam', 'Access control (IAM)', iamHref(id)], ['check', 'Check access', checkHref(id)]];
  return h('nav', { class: 'tabs', 'aria-label': 'Scope views' },
    tabs.map(([key, label, href]) => link(href, label, { 'aria-current': key === current ? 'page' : undefined, id: `tab-${key}` })));
}
