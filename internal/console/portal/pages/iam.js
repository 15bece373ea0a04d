// Access control (IAM) at any scope: the role assignments that apply there
// (at the scope or inherited from above) with role and principal names;
// add one (role picker with descriptions, principal search) and remove one;
// and Check access, which shows the assignment that decides a principal's
// action or the roles that would allow it. Everything is ARM's
// Microsoft.Authorization API and Graph, called with the person's token.

import { arm, armAll, API_VERSIONS, permissionsAt, actionAllowed } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, when, loading, link } from '../ui.js';
import { parseScope, typeLabel, breadcrumb, scopeTabs, scopeLink, scopeName, sameScope, checkHref, scopePrefix } from '../scopes.js';
import { principalsByID, principalPicker, principalKind, principalName } from '../principals.js';
import { scopeNames } from './resources.js';

const AUTHZ = 'Microsoft.Authorization';
const V = { apiVersion: API_VERSIONS.authorization };

// newGuid names a new role assignment, as the portal and az do.
function newGuid() {
  return crypto.randomUUID();
}

// roleGuid is the last segment of a roleDefinitionId.
export function roleGuid(roleDefinitionId) {
  return (roleDefinitionId || '').split('/').pop().toLowerCase();
}

// roleDefinitions lists the roles assignable at scope, built-in first.
export async function roleDefinitions(scope) {
  const defs = await armAll(`${scopePrefix(scope)}/providers/${AUTHZ}/roleDefinitions`, V);
  return defs.sort((a, b) => (a.properties.type === b.properties.type ? a.properties.roleName.localeCompare(b.properties.roleName)
    : a.properties.type === 'BuiltInRole' ? -1 : 1));
}

// suggestedActions are operations worth checking at a scope: reading,
// writing and deleting what it is, and what its kind is used for.
export function suggestedActions(type) {
  if (!type) return ['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Resources/subscriptions/read'];
  const t = type.toLowerCase();
  const own = [`${type}/read`, `${type}/write`, `${type}/delete`];
  if (t === 'microsoft.machinelearningservices/workspaces') {
    return [...own, `${type}/computes/write`, `${type}/jobs/write`, 'Microsoft.Authorization/roleAssignments/write'];
  }
  if (t === 'microsoft.machinelearningservices/workspaces/computes') return [...own, `${type}/registerNode/action`];
  if (t === 'microsoft.managedidentity/userassignedidentities') return [...own, `${type}/assign/action`];
  if (t === 'microsoft.resources/subscriptions') {
    return [`${type}/read`, `${type}/resourceGroups/write`, 'Microsoft.MachineLearningServices/workspaces/write', 'Microsoft.Authorization/roleAssignments/write'];
  }
  return [...own, 'Microsoft.MachineLearningServices/workspaces/write', 'Microsoft.Authorization/roleAssignments/write'];
}

export async function iam(view, params, query) {
  const id = query.get('id') || '/';
  const { last } = parseScope(id);
  const scope = last.id;
  const names = await scopeNames(scope);
  const title = names[scope.toLowerCase()] || last.name;
  const listEl = h('div', { id: 'assignments' });
  const addEl = h('div');
  let perms = [];
  let permsErr = null;
  try {
    perms = await permissionsAt(scopePrefix(scope));
  } catch (err) {
    permsErr = err;
  }
  const why = (action, what) => {
    if (permsErr) return `Your permissions here could not be read: ${permsErr.message}`;
    return actionAllowed(perms, `${AUTHZ}/roleAssignments/${action}`) ? null
      : `${what} needs ${AUTHZ}/roleAssignments/${action} at this scope (the Owner, User Access Administrator or Role Based Access Control Administrator role); none of your role assignments grants it.`;
  };
  const writeWhy = why('write', 'Adding a role assignment');
  const deleteWhy = why('delete', 'Removing a role assignment');
  let roles = [];
  const load = async () => {
    replace(listEl, loading());
    try {
      const [assignments, defs] = await Promise.all([
        armAll(`${scopePrefix(scope)}/providers/${AUTHZ}/roleAssignments?$filter=${encodeURIComponent('atScope()')}`, V),
        roleDefinitions(scope),
      ]);
      roles = defs;
      const roleNames = new Map(defs.map((d) => [d.name.toLowerCase(), d.properties.roleName]));
      let principals = new Map();
      let namesErr = null;
      try {
        principals = await principalsByID(assignments.map((a) => a.properties.principalId));
      } catch (err) {
        namesErr = err;
      }
      // One row per assignment, with the names a person reads.
      const rows = assignments.map((a) => {
        const p = a.properties;
        const o = principals.get(p.principalId.toLowerCase());
        const role = roleNames.get(roleGuid(p.roleDefinitionId)) || roleGuid(p.roleDefinitionId);
        const principal = o ? principalName(o) : p.principalId;
        return { a, role, principal, kind: o ? principalKind(o).label : p.principalType || '', inherited: !sameScope(p.scope, scope) };
      }).sort((x, y) => x.role.localeCompare(y.role) || x.principal.localeCompare(y.principal));
      const remove = (r) => {
        const what = `${r.role} role of ${r.principal}`;
        const b = button('Remove', async () => {
          if (!window.confirm(`Remove the ${what}?`)) return;
          try {
            await arm(r.a.id, { method: 'DELETE', ...V });
            notice(`Removed the ${what}.`);
            await load();
          } catch (err) {
            replace(addEl, errorBox(err));
          }
        }, { class: 'danger', id: `remove-${r.a.name}`, 'aria-label': `Remove the ${what}` });
        return deny(b, r.inherited ? `Inherited from ${scopeName(r.a.properties.scope, names)}: remove it there.` : deleteWhy);
      };
      replace(listEl,
        namesErr ? h('p', { class: 'hint' }, `Principal names could not be read from the directory (${namesErr.message}); object ids are shown.`) : null,
        table([
          { label: 'Role', render: (r) => r.role },
          { label: 'Principal', render: (r) => r.principal },
          { label: 'Type', render: (r) => r.kind },
          { label: 'Scope', render: (r) => (r.inherited ? h('span', {}, 'Inherited from ', scopeLink(r.a.properties.scope, names)) : 'This resource') },
          { label: 'Added', render: (r) => when(r.a.properties.createdOn) },
          { label: 'Actions', render: remove },
        ], rows, { caption: `${rows.length} role assignment${rows.length === 1 ? '' : 's'} at this scope or above`, empty: 'No role assignment applies here.' }));
    } catch (err) {
      replace(listEl, errorBox(err));
    }
  };
  const addButton = button('Add role assignment', () => replace(addEl, addForm(scope, roles, () => replace(addEl), load)), { id: 'add-assignment' });
  replace(view, breadcrumb(scope, names, 'Access control (IAM)'),
    h('h1', {}, title, h('span', { class: 'kind' }, ` ${typeLabel(last.type)}`)),
    scopeTabs(scope, 'iam'),
    h('div', { class: 'toolbar' }, deny(addButton, writeWhy), link(checkHref(scope), 'Check access', { class: 'button secondary', id: 'check-access' })),
    addEl,
    section('Role assignments', listEl));
  await load();
}

// roleChooser is a select of roles with the chosen role's description
// under it.
function roleChooser(roles, id) {
  const sel = select('role', roles.map((d) => ({ value: d.name, label: `${d.properties.roleName}${d.properties.type === 'CustomRole' ? ' (custom)' : ''}` })), { id, required: true });
  const desc = h('p', { class: 'hint', id: `${id}-description`, 'aria-live': 'polite' });
  const show = () => {
    const d = roles.find((r) => r.name === sel.value);
    replace(desc, d ? d.properties.description || 'No description.' : '');
  };
  sel.addEventListener('change', show);
  show();
  sel.setAttribute('aria-describedby', desc.id);
  return h('div', { class: 'field' }, h('label', { for: id }, 'Role'), sel, desc);
}

function addForm(scope, roles, done, reload) {
  const picker = principalPicker('principal', { label: 'Assign access to', idPrefix: 'assign-principal' });
  return section('Add role assignment', form([
    roleChooser(roles, 'assign-role'),
    picker,
    field('Description (optional)', input('description', { id: 'assign-description' })),
  ], 'Assign', async (v) => {
    const who = picker.selected();
    if (!who) throw new Error('Choose a principal: search, then pick one from the list.');
    const role = roles.find((r) => r.name === v.role);
    const a = await arm(`${scopePrefix(scope)}/providers/${AUTHZ}/roleAssignments/${newGuid()}`, { method: 'PUT', ...V, body: { properties: {
      roleDefinitionId: role.id, principalId: who.id, principalType: principalKind(who).type, description: v.description || undefined,
    } } });
    notice(`Assigned ${role.properties.roleName} to ${principalName(who)}.`);
    done();
    await reload();
    return a;
  }, { cancel: done }));
}

// checkAccess is the Check access tab: a principal (anyone, or oneself)
// and actions, answered by ARM's checkAccess with the assignment that
// decides each, or the roles that would allow it.
export async function checkAccess(view, params, query) {
  const scope = parseScope(query.get('id') || '/').last.id;
  const { last } = parseScope(scope);
  const names = await scopeNames(scope);
  const picker = principalPicker('checkPrincipal', { label: 'Principal (none chosen: yourself)', idPrefix: 'check-principal', initial: query.get('principal') || undefined });
  const defaults = suggestedActions(last.type);
  const out = h('div', { id: 'check-result', 'aria-live': 'polite' });
  const checks = h('fieldset', { class: 'picker-box' }, h('legend', {}, 'Actions'),
    defaults.map((a, i) => h('div', { class: 'field inline' },
      h('input', { type: 'checkbox', name: `default-${i}`, id: `check-default-${i}`, value: a, checked: true }),
      h('label', { for: `check-default-${i}` }, h('code', {}, a)))),
    field('Another action', input('action', { id: 'check-action', class: 'wide', placeholder: 'Microsoft.MachineLearningServices/workspaces/jobs/read' }),
      'Any operation or data action, wildcards excluded.'),
    h('div', { class: 'field inline' }, h('input', { type: 'checkbox', name: 'isDataAction', id: 'check-data-action' }),
      h('label', { for: 'check-data-action' }, 'The other action is a data action')));
  replace(view, breadcrumb(scope, names, 'Check access'),
    h('h1', {}, names[scope.toLowerCase()] || last.name, h('span', { class: 'kind' }, ` ${typeLabel(last.type)}`)),
    scopeTabs(scope, 'check'),
    section('Check access', h('p', { class: 'hint' }, 'What may a user, group, service principal or managed identity do here, and which role assignment decides it?'),
      form([picker, checks], 'Check', async (v) => {
        const who = picker.selected();
        const actions = defaults.filter((a, i) => v[`default-${i}`]).map((id) => ({ id, isDataAction: false }));
        if (v.action && v.action.trim()) actions.push({ id: v.action.trim(), isDataAction: v.isDataAction });
        if (!actions.length) throw new Error('Choose at least one action.');
        replace(out, loading('Checking'));
        try {
          const r = await arm(`${scopePrefix(scope)}/providers/${AUTHZ}/checkAccess`, { method: 'POST', ...V, body: {
            subject: who ? { principalId: who.id } : {}, actions,
          } });
          replace(out, h('h3', {}, `${who ? principalName(who) : 'You'} at ${scopeName(scope, names)}`),
            h('ul', { class: 'decisions' }, (r.value || []).map((d) => explain(d, who, scope, names))));
        } catch (err) {
          replace(out, errorBox(err));
        }
      })),
    out);
}

// explain turns one checkAccess answer into sentences.
export function explain(d, who, scope, names = {}) {
  const subject = who ? principalName(who) : 'you';
  const attrs = (decision) => ({ class: `decision ${decision === 'Allowed' ? 'allowed' : 'denied-decision'}`, dataset: { action: d.actionId, decision } });
  if (d.accessDecision === 'Allowed') {
    const a = d.roleAssignment || { properties: {} };
    const at = a.properties.scope;
    const viaGroup = who && a.properties.principalId && a.properties.principalId.toLowerCase() !== who.id.toLowerCase();
    return h('li', attrs('Allowed'),
      h('p', {}, h('strong', {}, 'Allowed: '), h('code', {}, d.actionId)),
      h('p', {}, 'Decided by the role ', h('strong', {}, (d.roleDefinition && d.roleDefinition.properties.roleName) || roleGuid(a.properties.roleDefinitionId)),
        viaGroup ? ' assigned to a group of theirs' : ` assigned to ${subject}`,
        sameScope(at, scope) ? ' at this scope' : h('span', {}, ', inherited from ', scopeLink(at, names)),
        a.name ? h('span', { class: 'muted' }, ` (assignment ${a.name})`) : '', '.'));
  }
  const roles = d.suggestedRoles || [];
  return h('li', attrs('NotAllowed'),
    h('p', {}, h('strong', {}, 'Not allowed: '), h('code', {}, d.actionId)),
    h('p', {}, `No role assignment of ${subject} at this scope or above grants it. `,
      roles.length ? ['Roles that would (least privileged first): ', h('span', { class: 'suggested' }, roles.map((r) => r.roleName).join(', ')), '.']
        : 'No built-in role grants it.'));
}
