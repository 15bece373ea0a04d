// Sign-in logs: Graph's auditLogs/signIns with filters on the outcome, the
// user or application, the Conditional Access result and whether a second
// factor was used; one sign-in's details. Reading the log needs a directory
// role that reads reports, which Graph decides.

import { graph, graphAll } from '../api.js';
import { h, replace, section, table, field, input, select, errorBox, link, when, loading } from '../ui.js';

// REPORT_ONLY selects the sign-ins a report-only policy would have blocked
// or prompted for a second factor: a result of one of the sign-in's
// appliedConditionalAccessPolicies, which $filter cannot reach, so the
// page picks them from the newest 1,000 that match the other filters.
const REPORT_ONLY = 'reportOnly';
const reportOnlyHit = (e) => (e.appliedConditionalAccessPolicies || [])
  .some((p) => p.result === 'reportOnlyFailure' || p.result === 'reportOnlyInterrupted');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function quote(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

// signInFilter turns the page's filters into a Graph $filter.
// whoKind says which property the user-or-application text matches:
// user (a prefix of userPrincipalName), appName (a prefix of
// appDisplayName, an application's own sign-ins) or appId (the client id).
export function signInFilter({ status, whoKind = 'user', who, ca, mfa }) {
  const terms = [];
  if (status === 'success') terms.push('status/errorCode eq 0');
  if (status === 'failure') terms.push('status/errorCode ne 0');
  const w = (who || '').trim();
  if (w && whoKind === 'appId') terms.push(`appId eq ${quote(w)}`);
  else if (w && whoKind === 'appName') terms.push(`startswith(appDisplayName,${quote(w)})`);
  else if (w) terms.push(`startswith(userPrincipalName,${quote(w)})`);
  if (ca && ca !== REPORT_ONLY) terms.push(`conditionalAccessStatus eq ${quote(ca)}`);
  if (mfa) terms.push(`authenticationRequirement eq ${quote(mfa)}`);
  return terms.join(' and ');
}

function outcome(e) {
  const s = e.status || {};
  return s.errorCode === 0 ? h('span', { class: 'ok' }, 'Success') : h('span', { class: 'bad' }, `Failure ${s.errorCode}`);
}

// appNames maps application ids to their service principals' names (what
// the person may not read stays an id).
async function appNames(ids) {
  const names = new Map();
  const list = [...new Set(ids.filter((id) => GUID.test(id || '')))].slice(0, 100);
  if (!list.length) return names;
  try {
    const f = `appId in (${list.map(quote).join(',')})`;
    const sps = await graphAll(`/servicePrincipals?$select=appId,displayName&$filter=${encodeURIComponent(f)}`);
    for (const sp of sps) names.set(sp.appId, sp.displayName);
  } catch {
    // ids are shown as they are
  }
  return names;
}

function who(e) {
  return e.userPrincipalName || e.servicePrincipalName || e.appDisplayName || e.appId || '';
}

const MFA_LABELS = { multiFactorAuthentication: 'Multifactor', singleFactorAuthentication: 'Single factor' };

export async function listSignIns(view, params, query) {
  const results = h('div');
  const status = select('status', [{ value: '', label: 'Any' }, { value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' }], { id: 'signin-status' });
  const whoKind = select('whoKind', [{ value: 'user', label: 'User sign-in name starts with' },
    { value: 'appName', label: 'Application name starts with' }, { value: 'appId', label: 'Application id is' }], { id: 'signin-who-kind' });
  const whoEl = input('who', { id: 'signin-who' });
  const ca = select('ca', [{ value: '', label: 'Any' }, { value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' },
    { value: 'notApplied', label: 'Not applied' }, { value: REPORT_ONLY, label: 'Report-only: would have blocked or prompted' }], { id: 'signin-ca' });
  const mfa = select('mfa', [{ value: '', label: 'Any' }, { value: 'multiFactorAuthentication', label: 'Multifactor' },
    { value: 'singleFactorAuthentication', label: 'Single factor' }], { id: 'signin-mfa' });
  for (const [el, k] of [[status, 'status'], [whoEl, 'who'], [ca, 'ca'], [mfa, 'mfa']]) el.value = query.get(k) || '';
  whoKind.value = query.get('whoKind') || (GUID.test(whoEl.value) ? 'appId' : 'user');
  const load = async () => {
    replace(results, loading());
    const f = signInFilter({ status: status.value, whoKind: whoKind.value, who: whoEl.value, ca: ca.value, mfa: mfa.value });
    try {
      const reportOnly = ca.value === REPORT_ONLY;
      const r = await graph(`/auditLogs/signIns?$top=${reportOnly ? 1000 : 100}${f ? `&$filter=${encodeURIComponent(f)}` : ''}`);
      const rows = reportOnly ? (r.value || []).filter(reportOnlyHit).slice(0, 100) : (r.value || []);
      const names = await appNames(rows.map((e) => e.appId));
      replace(results, table([
        { label: 'Time', render: (e) => link(`#/signins/${encodeURIComponent(e.id)}`, when(e.createdDateTime)) },
        { label: 'User or application', render: who },
        { label: 'Application', render: (e) => h('span', { title: e.appId }, names.get(e.appId) || e.appId) },
        { label: 'Status', render: outcome },
        { label: 'Conditional Access', render: (e) => e.conditionalAccessStatus },
        { label: 'Authentication', render: (e) => MFA_LABELS[e.authenticationRequirement] || '' },
        { label: 'Address', render: (e) => e.ipAddress },
      ], rows, { caption: `${rows.length} sign-in${rows.length === 1 ? '' : 's'} (newest first, at most 100)`, empty: 'No sign-in matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const filters = h('form', { role: 'search', class: 'toolbar filters', id: 'signin-filters' },
    field('Status', status), field('Match', whoKind), field('User or application', whoEl),
    field('Conditional Access', ca), field('Authentication', mfa), h('button', { type: 'submit' }, 'Apply filters'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  replace(view, h('h1', {}, 'Sign-in logs'), filters, results);
  await load();
}

// props renders [label, value] pairs as a definition list.
export function props(pairs) {
  return h('dl', { class: 'props' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function showSignIn(view, params) {
  const e = await graph(`/auditLogs/signIns/${encodeURIComponent(params.id)}`);
  const s = e.status || {};
  const policies = e.appliedConditionalAccessPolicies || [];
  const names = await appNames([e.appId]);
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/signins', 'Sign-in logs'), h('span', {}, when(e.createdDateTime))),
    h('h1', {}, `Sign-in of ${who(e) || 'an unknown account'}`),
    props([['Time', when(e.createdDateTime)], ['Request id', e.id], ['Correlation id', e.correlationId],
      ['User', e.userPrincipalName], ['User id', e.userId], ['Application id', e.appId], ['Application', names.get(e.appId) || e.appDisplayName],
      ['Service principal', e.servicePrincipalName], ['Resource', e.resourceDisplayName || e.resourceId],
      ['Client app', e.clientAppUsed], ['Interactive', e.isInteractive ? 'Yes' : 'No'], ['IP address', e.ipAddress],
      ['Status', s.errorCode === 0 ? 'Success' : `Failure (error ${s.errorCode})`], ['Failure reason', s.failureReason],
      ['Conditional Access', e.conditionalAccessStatus], ['Authentication', MFA_LABELS[e.authenticationRequirement]]]),
    section('Conditional Access policies', table([
      { label: 'Policy', render: (p) => p.displayName },
      { label: 'Result', render: (p) => p.result },
      { label: 'Grant controls', render: (p) => (p.enforcedGrantControls || []).join(', ') },
    ], policies, { empty: 'No policy applied to this sign-in.' })),
    section('Additional details', table([
      { label: 'Key', render: (d) => d.key },
      { label: 'Value', render: (d) => d.value },
    ], e.additionalDetails || [], { empty: 'None recorded.' })));
}
