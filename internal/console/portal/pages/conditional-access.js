// Conditional Access: policies (enabled, disabled, or report-only:
// evaluated and logged but not enforced) and named locations, through
// Graph's identity/conditionalAccess. Graph lets Global, Conditional Access
// and Security Administrators change them; others see them read-only (or
// Graph's refusal when they may not even read them).

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, when, loading } from '../ui.js';

const CA_ADMINS = ['Global Administrator', 'Conditional Access Administrator', 'Security Administrator'];
const BASE = '/identity/conditionalAccess';
const STATES = [
  { value: 'enabled', label: 'On' },
  { value: 'enabledForReportingButNotEnforced', label: 'Report-only' },
  { value: 'disabled', label: 'Off' },
];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function list(text) {
  return (text || '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

// userIds resolves "All", object ids and sign-in names to what a policy holds.
async function userIds(text) {
  return Promise.all(list(text).map(async (s) => {
    if (/^all$/i.test(s)) return 'All';
    if (GUID.test(s)) return s;
    const u = await graph(`/users/${encodeURIComponent(s)}?$select=id`);
    return u.id;
  }));
}

function describeUsers(u, names) {
  if (!u) return '';
  const show = (ids) => ids.map((id) => names.get(id) || id).join(', ');
  const parts = [];
  if ((u.includeUsers || []).length) parts.push(`users: ${show(u.includeUsers)}`);
  if ((u.includeGroups || []).length) parts.push(`groups: ${show(u.includeGroups)}`);
  if ((u.includeRoles || []).length) parts.push(`roles: ${u.includeRoles.length}`);
  if ((u.excludeUsers || []).length) parts.push(`except ${show(u.excludeUsers)}`);
  return parts.join('; ');
}

function describeLocations(l, names) {
  if (!l) return 'Any location';
  const show = (ids) => ids.map((id) => (id === 'AllTrusted' ? 'all trusted' : names.get(id) || id)).join(', ');
  let s = (l.includeLocations || []).length ? show(l.includeLocations) : '';
  if ((l.excludeLocations || []).length) s += `${s ? ' ' : ''}except ${show(l.excludeLocations)}`;
  return s;
}

export async function conditionalAccess(view, params, query, ctx) {
  const reason = await directoryRoleReason(ctx.account.oid, CA_ADMINS, 'Changing Conditional Access');
  const policiesEl = h('div');
  const locationsEl = h('div');
  const newPolicyEl = h('div');
  const newLocationEl = h('div');
  let locations = [];
  const newPolicy = button('New policy', () => replace(newPolicyEl, policyForm(locations, () => replace(newPolicyEl), ctx)), { id: 'new-policy' });
  const newLocation = button('New named location', () => replace(newLocationEl, locationForm(() => replace(newLocationEl), ctx)), { id: 'new-location' });
  replace(view, h('h1', {}, 'Conditional Access'),
    section('Policies',
      h('p', { class: 'hint' }, 'A report-only policy is evaluated at every sign-in and its result is written to the sign-in log, but it is not enforced.'),
      h('div', { class: 'toolbar' }, deny(newPolicy, reason)), newPolicyEl, policiesEl),
    section('Named locations', h('div', { class: 'toolbar' }, deny(newLocation, reason)), newLocationEl, locationsEl));

  replace(policiesEl, loading());
  replace(locationsEl, loading());
  try {
    locations = await graphAll(`${BASE}/namedLocations`);
    replace(locationsEl, table([
      { label: 'Name', render: (l) => l.displayName },
      { label: 'IP ranges', render: (l) => (l.ipRanges || []).map((r) => r.cidrAddress).join(', ') },
      { label: 'Trusted', render: (l) => (l.isTrusted ? 'Yes' : 'No') },
      { label: 'Created', render: (l) => when(l.createdDateTime) },
      { label: 'Actions', render: (l) => deny(button('Delete', async (ev) => {
        if (!window.confirm(`Delete the named location ${l.displayName}?`)) return;
        try {
          await graph(`${BASE}/namedLocations/${l.id}`, { method: 'DELETE' });
          notice(`Deleted ${l.displayName}.`);
          ctx.refresh();
        } catch (err) {
          ev.target.closest('td').append(errorBox(err));
        }
      }, { class: 'danger', 'aria-label': `Delete named location ${l.displayName}` }), reason) },
    ], locations, { empty: 'No named location.' }));
  } catch (err) {
    replace(locationsEl, errorBox(err));
  }
  try {
    const policies = await graphAll(`${BASE}/policies`);
    const names = new Map(locations.map((l) => [l.id, l.displayName]));
    const ids = new Set();
    for (const p of policies) {
      const u = (p.conditions && p.conditions.users) || {};
      for (const id of [...(u.includeUsers || []), ...(u.excludeUsers || []), ...(u.includeGroups || [])]) if (GUID.test(id)) ids.add(id);
    }
    if (ids.size) {
      try {
        const objs = await graph('/directoryObjects/getByIds', { method: 'POST', body: { ids: [...ids] } });
        for (const o of objs.value || []) names.set(o.id, o.userPrincipalName || o.displayName);
      } catch {
        // ids are shown as they are
      }
    }
    replace(policiesEl, table([
      { label: 'Name', render: (p) => p.displayName },
      { label: 'State', render: (p) => stateControl(p, reason, ctx) },
      { label: 'Users', render: (p) => describeUsers(p.conditions && p.conditions.users, names) },
      { label: 'Applications', render: (p) => ((p.conditions && p.conditions.applications && p.conditions.applications.includeApplications) || []).join(', ') },
      { label: 'Locations', render: (p) => describeLocations(p.conditions && p.conditions.locations, names) },
      { label: 'Grant', render: (p) => ((p.grantControls && p.grantControls.builtInControls) || []).join(', ') },
      { label: 'Actions', render: (p) => deny(button('Delete', async (ev) => {
        if (!window.confirm(`Delete the policy ${p.displayName}?`)) return;
        try {
          await graph(`${BASE}/policies/${p.id}`, { method: 'DELETE' });
          notice(`Deleted ${p.displayName}.`);
          ctx.refresh();
        } catch (err) {
          ev.target.closest('td').append(errorBox(err));
        }
      }, { class: 'danger', 'aria-label': `Delete policy ${p.displayName}` }), reason) },
    ], policies, { empty: 'No policy: sign-ins need only a password (and a second factor for users who registered one).' }));
  } catch (err) {
    replace(policiesEl, errorBox(err));
  }
}

// stateControl is a select with an Apply button that PATCHes the policy's
// state (a select that saved on change would save at every arrow key).
function stateControl(p, reason, ctx) {
  const s = select('state', STATES.map((o) => ({ ...o, selected: o.value === p.state })),
    { 'aria-label': `State of ${p.displayName}`, class: 'compact' });
  const out = h('span');
  const apply = button('Apply', async () => {
    if (s.value === p.state) return;
    try {
      await graph(`${BASE}/policies/${p.id}`, { method: 'PATCH', body: { state: s.value } });
      notice(`${p.displayName}: ${STATES.find((o) => o.value === s.value).label}.`);
      ctx.refresh();
    } catch (err) {
      replace(out, errorBox(err));
    }
  }, { class: 'secondary', 'aria-label': `Apply the state of ${p.displayName}` });
  if (reason) s.disabled = true;
  return h('span', { class: 'inline-control' }, s, deny(apply, reason), out);
}

function locationOptions(locations, none) {
  return [{ value: '', label: none }, { value: 'AllTrusted', label: 'All trusted locations' },
    ...locations.map((l) => ({ value: l.id, label: l.displayName }))];
}

function policyForm(locations, done, ctx) {
  return section('New policy', form([
    field('Name', input('displayName', { required: true, id: 'policy-name' })),
    field('State', select('state', STATES.map((o) => ({ ...o, selected: o.value === 'enabledForReportingButNotEnforced' })), { id: 'policy-state' })),
    field('Include users', input('includeUsers', { required: true, id: 'policy-include-users', value: 'All' }),
      'All, or sign-in names or object ids separated by commas.'),
    field('Exclude users', input('excludeUsers', { id: 'policy-exclude-users' }), 'Sign-in names or object ids; keep an administrator out of a blocking policy.'),
    field('Target applications', input('applications', { required: true, id: 'policy-apps', value: 'All' }),
      'All, or application (client) ids of resources, separated by commas.'),
    field('Locations', select('includeLocation', locationOptions(locations, 'Any location'), { id: 'policy-location' })),
    field('Except locations', select('excludeLocation', locationOptions(locations, 'None'), { id: 'policy-exclude-location' })),
    field('Grant', select('grant', [{ value: 'mfa', label: 'Require multifactor authentication' }, { value: 'block', label: 'Block access' }], { id: 'policy-grant' })),
  ], 'Create policy', async (v) => {
    const conditions = {
      users: { includeUsers: await userIds(v.includeUsers), excludeUsers: await userIds(v.excludeUsers) },
      applications: { includeApplications: list(v.applications).map((a) => (/^all$/i.test(a) ? 'All' : a)) },
      clientAppTypes: ['all'],
    };
    if (v.includeLocation || v.excludeLocation) {
      conditions.locations = { includeLocations: [v.includeLocation || 'All'], excludeLocations: v.excludeLocation ? [v.excludeLocation] : [] };
    }
    const p = await graph(`${BASE}/policies`, { method: 'POST', body: {
      displayName: v.displayName, state: v.state, conditions, grantControls: { operator: 'OR', builtInControls: [v.grant] },
    } });
    notice(`Created the policy ${p.displayName}.`);
    ctx.refresh();
  }, { cancel: done }));
}

function locationForm(done, ctx) {
  return section('New named location', form([
    field('Name', input('displayName', { required: true, id: 'location-name' })),
    field('IP ranges', input('ranges', { required: true, id: 'location-ranges', placeholder: '10.0.0.0/8, 2001:db8::/32' }), 'CIDR ranges separated by commas.'),
    h('div', { class: 'field inline' }, h('input', { type: 'checkbox', name: 'trusted', id: 'location-trusted' }),
      h('label', { for: 'location-trusted' }, 'Mark as trusted location')),
  ], 'Create location', async (v) => {
    const l = await graph(`${BASE}/namedLocations`, { method: 'POST', body: {
      '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: v.displayName, isTrusted: v.trusted,
      ipRanges: list(v.ranges).map((c) => ({ '@odata.type': c.includes(':') ? '#microsoft.graph.iPv6CidrRange' : '#microsoft.graph.iPv4CidrRange', cidrAddress: c })),
    } });
    notice(`Created the named location ${l.displayName}.`);
    ctx.refresh();
  }, { cancel: done }));
}
