// Groups: search, create a security group, and a group's page: its
// properties, direct members (add anyone found by name, remove), the
// members reached through nested groups, its owners, delete. Groups
// Administrators and User Administrators manage every group; a group's
// owners manage that group.

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { h, replace, section, table, field, input, form, button, deny, errorBox, notice, link, when, loading } from '../ui.js';
import { GROUP_ADMINS, nameFilter, manageReason, principalPicker, ownersSection, objectLink, kindOf, refBody, attempt, confirmButton, properties, searchForm } from './directory.js';

export async function listGroups(view, params, query, ctx) {
  const results = h('div');
  const createEl = h('div');
  const reason = await directoryRoleReason(ctx.account.oid, GROUP_ADMINS, 'Creating groups');
  const load = async (text) => {
    replace(results, loading());
    const f = nameFilter(text);
    try {
      const groups = await graphAll(`/groups?$top=200${f ? `&$filter=${encodeURIComponent(f)}` : ''}`, 500);
      replace(results, table([
        { label: 'Display name', render: (g) => link(`#/groups/${g.id}`, g.displayName) },
        { label: 'Mail nickname', render: (g) => g.mailNickname },
        { label: 'Security', render: (g) => (g.securityEnabled ? 'Yes' : 'No') },
        { label: 'Created', render: (g) => when(g.createdDateTime) },
      ], groups, { caption: `${groups.length} group${groups.length === 1 ? '' : 's'}`, empty: 'No group matches.' }));
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  const search = searchForm('group-search', 'Search by name', query.get('q') || '', load);
  const newGroup = button('New group', () => replace(createEl, createForm(() => replace(createEl))), { id: 'new-group' });
  replace(view, h('h1', {}, 'Groups'), h('div', { class: 'toolbar' }, deny(newGroup, reason)), createEl, search.form, results);
  await load(search.input.value);
}

function createForm(done) {
  return section('New security group', form([
    field('Display name', input('displayName', { required: true, id: 'new-group-name' })),
    field('Mail nickname', input('mailNickname', { id: 'new-group-nick' }), 'Optional: made from the display name when left empty.'),
  ], 'Create', async (v) => {
    const body = { displayName: v.displayName, mailEnabled: false, securityEnabled: true };
    body.mailNickname = v.mailNickname || v.displayName.replace(/[^A-Za-z0-9._-]/g, '') || 'group';
    const g = await graph('/groups', { method: 'POST', body });
    notice(`Created ${g.displayName}.`);
    location.hash = `#/groups/${g.id}`;
  }, { cancel: done }));
}

export async function showGroup(view, params, query, ctx) {
  const g = await graph(`/groups/${encodeURIComponent(params.id)}`);
  const reason = await manageReason(ctx, GROUP_ADMINS, 'Changing this group', [g.id]);
  const actionsEl = h('div');
  const membersEl = h('div', { id: 'members-list' });
  const nestedEl = h('div', { id: 'nested-list' });
  const memberStatus = h('div', { 'aria-live': 'polite' });

  const loadNested = async () => {
    try {
      replace(nestedEl, await nestedMembers(g));
    } catch (err) {
      replace(nestedEl, errorBox(err));
    }
  };
  const loadMembers = async () => {
    try {
      const members = await graphAll(`/groups/${g.id}/members`);
      replace(membersEl, table([
        { label: 'Name', render: (m) => objectLink(m) },
        { label: 'Kind', render: (m) => kindOf(m) },
        { label: 'Sign-in name or app ID', render: (m) => m.userPrincipalName || m.appId || '' },
        { label: '', render: (m) => deny(button('Remove', () => attempt(memberStatus, async () => {
          await graph(`/groups/${g.id}/members/${m.id}/$ref`, { method: 'DELETE' });
          notice(`Removed ${m.displayName} from ${g.displayName}.`);
          await Promise.all([loadMembers(), loadNested()]);
        }), { class: 'secondary', dataset: { removeMember: m.id }, 'aria-label': `Remove ${m.displayName}` }), reason) },
      ], members, { caption: `${members.length} direct member${members.length === 1 ? '' : 's'}`, empty: 'No members.' }));
    } catch (err) {
      replace(membersEl, errorBox(err));
    }
  };
  const picker = principalPicker({ prefix: 'member', label: 'Add a member: find a user, group or service principal', reason,
    pick: async (o) => {
      await graph(`/groups/${g.id}/members/$ref`, { method: 'POST', body: refBody(o.id) });
      notice(`Added ${o.displayName} to ${g.displayName}.`);
      await Promise.all([loadMembers(), loadNested()]);
    } });
  const owners = ownersSection(`/groups/${g.id}`, reason, 'this group');

  const rename = button('Rename', () => replace(actionsEl, section('Rename group', form([
    field('Display name', input('displayName', { required: true, value: g.displayName, id: 'rename-group-name' })),
  ], 'Save', async (v) => {
    await graph(`/groups/${g.id}`, { method: 'PATCH', body: { displayName: v.displayName } });
    notice('Group renamed.');
    ctx.refresh();
  }, { cancel: () => replace(actionsEl) }))), { id: 'rename-group', class: 'secondary' });
  const del = confirmButton('Delete group', `Delete ${g.displayName}? Its memberships and role assignments go with it.`, () => attempt(actionsEl, async () => {
    await graph(`/groups/${g.id}`, { method: 'DELETE' });
    notice(`Deleted ${g.displayName}.`);
    location.hash = '#/groups';
  }), { id: 'delete-group' });
  const delEl = reason ? deny(button('Delete group', null, { class: 'danger', id: 'delete-group' }), reason) : del;

  replace(view,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, link('#/groups', 'Groups'), h('span', {}, g.displayName)),
    h('h1', { id: 'group-name' }, g.displayName),
    properties([
      ['Object ID', g.id, 'group-id'],
      ['Mail nickname', g.mailNickname],
      ['Security group', g.securityEnabled ? 'Yes' : 'No'],
      ['Created', when(g.createdDateTime)],
    ]),
    h('div', { class: 'actions' }, deny(rename, reason), delEl),
    actionsEl,
    section('Direct members', memberStatus, membersEl, picker),
    section('Members through nested groups', h('p', { class: 'hint' }, 'Everyone the group holds, directly or through the groups it contains (transitive members).'), nestedEl),
    owners.el);
  await Promise.all([loadMembers(), loadNested(), owners.load()]);
}

// nestedMembers shows the group's transitive members with the group each
// is reached through (the first found, nearest first).
async function nestedMembers(g) {
  const all = await graphAll(`/groups/${g.id}/transitiveMembers`);
  const byId = new Map(all.map((o) => [o.id, o]));
  const via = new Map();
  const direct = await graphAll(`/groups/${g.id}/members`);
  for (const m of direct) via.set(m.id, null);
  // Breadth first through the nested groups.
  const queue = direct.filter((m) => m['@odata.type'] === '#microsoft.graph.group');
  const seen = new Set([g.id]);
  while (queue.length) {
    const n = queue.shift();
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    const members = await graphAll(`/groups/${n.id}/members`);
    for (const m of members) {
      if (!via.has(m.id)) via.set(m.id, byId.get(n.id) || n);
      if (m['@odata.type'] === '#microsoft.graph.group') queue.push(m);
    }
  }
  const rows = all.filter((o) => via.get(o.id));
  return table([
    { label: 'Name', render: (o) => objectLink(o) },
    { label: 'Kind', render: (o) => kindOf(o) },
    { label: 'Through group', render: (o) => objectLink(via.get(o.id)) },
  ], rows, { caption: `${all.length} member${all.length === 1 ? '' : 's'} in all, ${rows.length} through nested groups`, empty: 'No member comes through a nested group.' });
}
