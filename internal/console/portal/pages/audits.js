// Audit logs: Graph's auditLogs/directoryAudits (directory and resource
// manager changes, refused ones included) filtered by category, activity
// and initiator; one entry's details.

import { graph } from '../api.js';
import { h, replace, section, table, field, input, select, errorBox, link, when, loading } from '../ui.js';
import { props } from './signins.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CATEGORIES = ['UserManagement', 'GroupManagement', 'ApplicationManagement', 'RoleManagement', 'Policy',
  'KeyManagement', 'ResourceManagement', 'DirectoryManagement', 'Other'];

function quote(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

// auditFilter turns the page's filters into a Graph $filter.
export function auditFilter({ category, activity, initiator, result }) {
  const terms = [];
  if (category) terms.push(`category eq ${quote(category)}`);
  const a = (activity || '').trim();
  if (a) terms.push(`startswith(activityDisplayName,${quote(a)})`);
  const i = (initiator || '').trim();
  if (i) terms.push(GUID.test(i) ? `initiatedBy/user/id eq ${quote(i)}` : `startswith(initiatedBy/user/userPrincipalName,${quote(i)})`);
  if (result) terms.push(`result eq ${quote(result)}`);
  return terms.join(' and ');
}

function initiator(e) {
  const by = e.initiatedBy || {};
  if (by.user) return by.user.userPrincipalName || by.user.id;
  if (by.app) return by.app.displayName || by.app.servicePrincipalId;
  return '';
}

function target(e) {
  return (e.targetResources || []).map((t) => t.userPrincipalName || t.displayName || t.id).filter(Boolean).join(', ');
}

export async function listAudits(view, params, query) {
  const results = h('div');
  const category = select('category', [{ value: '', label: 'Any' }, ...CATEGORIES.map((c) => ({ value: c, label: c }))], { id: 'audit-category' });
  const activity = input('activity', { id: 'audit-activity', placeholder: 'Add user, Rotate signing keys…' });
  const by = input('initiator', { id: 'audit-initiator', placeholder: 'admin@… or a user id' });
  const result = select('result', [{ value: '', label: 'Any' }, { value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' }], { id: 'audit-result' });
  for (const [el, k] of [[category, 'category'], [activity, 'activity'], [by, 'initiator'], [result, 'result']]) el.value = query.get(k) || '';
  const load = async () => {
    replace(results, loading());
    const f = auditFilter({ category: category.value, activity: activity.value, initiator: by.value, result: result.value });
    try {
      const r = await graph(`/auditLogs/directoryAudits?$top=100${f ? `&$filter=${encodeURIComponent(f)}` : ''}`);
      const rows = r.value || [];
      replace(results, table([
        { label: 'Time', render: (e) => link(`#/audits/${encodeURIComponent(e.id)}`, when(e.activityDateTime)) },
        { label: 'Activity', render: (e) => e.activityDisplayName },
        { label: 'Category', render: (e) => e.category },
        { label: 'Initiated by', render: initiator },
        { label: 'Target', render: target },
        { label: 'Result', render: (e) => (e.result === 'success' ? h('span', { class: 'ok' }, 'Success') : h('span', { class: 'bad' }, e.result)) },
      ], rows, { caption: `${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} (newest first, at most 100)`, empty: 'No entry matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const filters = h('form', { role: 'search', class: 'toolbar filters', id: 'audit-filters' },
    field('Category', category), field('Activity starts with', activity), field('Initiated by (sign-in name prefix or user id)', by),
    field('Result', result), h('button', { type: 'submit' }, 'Apply filters'));
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  replace(view, h('h1', {}, 'Audit logs'), filters, results);
  await load();
}

export async function showAudit(view, params) {
  const e = await graph(`/auditLogs/directoryAudits/${encodeURIComponent(params.id)}`);
  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/audits', 'Audit logs'), h('span', {}, e.activityDisplayName)),
    h('h1', {}, e.activityDisplayName),
    props([['Time', when(e.activityDateTime)], ['Id', e.id], ['Correlation id', e.correlationId], ['Category', e.category],
      ['Service', e.loggedByService], ['Operation', e.operationType], ['Result', e.result], ['Reason', e.resultReason],
      ['Initiated by', initiator(e)]]),
    section('Targets', table([
      { label: 'Name', render: (t) => t.userPrincipalName || t.displayName || '' },
      { label: 'Id', render: (t) => t.id },
      { label: 'Type', render: (t) => t.type },
    ], e.targetResources || [], { empty: 'No target recorded.' })),
    section('Additional details', table([
      { label: 'Key', render: (d) => d.key },
      { label: 'Value', render: (d) => d.value },
    ], e.additionalDetails || [], { empty: 'None recorded.' })));
}
