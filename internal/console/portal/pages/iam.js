// Access control (IAM) at any scope: the role assignments that apply there
// (at the scope or inherited from above) with role and principal names;
// add one (role picker with descriptions, principal search) and remove one;
// and Check access, which shows the assignment that decides a principal's
// action or the roles that would allow it. Everything is ARM's
// Microsoft.Authorization API and Graph, called with the person's token.

import { arm, armAll, API_VERSIONS, permissionsAt, actionAllowed } from '../api.js';
import { h, replace, section, table, field, input, select, form, button, deny, errorBox, notice, when, loading } from '../ui.js';
import { parseScope, typeLabel, breadcrumb, scopeTabs, scopeLink, sameScope } from '../scopes.js';
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
  const defs = await armAll(`${scope === '/' ? '' : scope}/providers/${AUTHZ}/roleDefinitions`, V);
  return defs.sort((a, b) => (a.properties.type === b.properties.type ? a.properties.roleName.localeCompare(b.properties.roleName)
    : a.properties.type === 'BuiltInRole' ? -1 : 1));
}

// suggestedActions are operations worth checking at a scope of a type.
function suggestedActions(type) {
  const t = (type || '').toLowerCase();
  if (t === 'microsoft.machinelearningservices/workspaces') {
    return ['Microsoft.MachineLearningServices/workspaces/read', 'Microsoft.MachineLearningServices/workspaces/write',
      'Microsoft.MachineLearningServices/workspaces/computes/write', 'Microsoft.MachineLearningServices/workspaces/jobs/write',
      'Microsoft.Authorization/roleAssignments/write'];
  }
  if (t === 'microsoft.machinelearningservices/workspaces/computes') {
    return ['Microsoft.MachineLearningServices/workspaces/computes/read', 'Microsoft.MachineLearningServices/workspaces/computes/write',
      'Microsoft.MachineLearningServices/workspaces/computes/registerNode/action'];
  }
  if (t === 'microsoft.managedidentity/userassignedidentities') {
    return ['Microsoft.ManagedIdentity/userAssignedIdentities/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'];
  }
  return ['Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Resources/subscriptions/resourceGroups/write',
    'Microsoft.MachineLearningServices/workspaces/write', 'Microsoft.Authorization/roleAssignments/write'];
}

export async function iam(view, params, query, ctx) {
  const id = query.get('id') || '/';
  const { last } = parseScope(id);
  const scope = last.id;
  const names = await scopeNames(scope);
  const title = names[scope.toLowerCase()] || last.name;
  const listEl = h('div', { id: 'assignments' });
  const addEl = h('div');
  const checkEl = h('div');
  let perms = [];
  let permsErr = null;
  try {
    perms = await permissionsAt(scope);
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
        armAll(`${scope}/providers/${AUTHZ}/roleAssignments?$filter=${encodeURIComponent('atScope()')}`, V),
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
      assignments.sort((a, b) => (roleNames.get(roleGuid(a.properties.roleDefinitionId)) || '').localeCompare(roleNames.get(roleGuid(b.properties.roleDefinitionId)) || ''));
      replace(listEl,
        namesErr ? h('p', { class: 'hint' }, `Principal names could not be read from the directory (${namesErr.message}); object ids are shown.`) : null,
        table([
          { label: 'Role', render: (a) => roleNames.get(roleGuid(a.properties.roleDefinitionId)) || roleGuid(a.properties.roleDefinitionId) },
          { label: 'Principal', render: (a) => {
            const o = principals.get(a.properties.principalId.toLowerCase());
            return o ? principalName(o) : a.properties.principalId;
          } },
          { label: 'Type', render: (a) => {
            const o = principals.get(a.properties.principalId.toLowerCase());
            return o ? principalKind(o).label : a.properties.principalType || '';
          } },
          { label: 'Scope', render: (a) => (sameScope(a.properties.scope, scope) ? 'This resource'
            : h('span', {}, 'Inherited from ', scopeLink(a.properties.scope, names))) },
          { label: 'Added', render: (a) => when(a.properties.createdOn) },
          { label: 'Actions', render: (a) => {
            const o = principals.get(a.properties.principalId.toLowerCase());
            const who = `${roleNames.get(roleGuid(a.properties.roleDefinitionId)) || 'role'} of ${o ? principalName(o) : a.properties.principalId}`;
            const inherited = !sameScope(a.properties.scope, scope);
            const b = button('Remove', async () => {
              if (!window.confirm(`Remove the ${who}?`)) return;
              try {
                await arm(a.id, { method: 'DELETE', ...V });
                notice(`Removed the ${who}.`);
                await load();
              } catch (err) {
                replace(addEl, errorBox(err));
              }
            }, { class: 'danger', id: `remove-${a.name}`, 'aria-label': `Remove the ${who}` });
            return deny(b, inherited ? `Inherited from ${typeLabel(parseScope(a.properties.scope).last.type).toLowerCase()} ${parseScope(a.properties.scope).last.name}: remove it there.` : deleteWhy);
          } },
        ], assignments, { caption: `${assignments.length} role assignment${assignments.length === 1 ? '' : 's'} at this scope or above`, empty: 'No role assignment applies here.' }));
    } catch (err) {
      replace(listEl, errorBox(err));
    }
  };
  const addButton = button('Add role assignment', () => replace(addEl, addForm(scope, roles, () => replace(addEl), load)), { id: 'add-assignment' });
  const checkButton = button('Check access', () => replace(checkEl, checkForm(scope, last.type, () => replace(checkEl))), { id: 'check-access', class: 'secondary' });
  replace(view, breadcrumb(scope, names, 'Access control (IAM)'),
    h('h1', {}, title, h('span', { class: 'kind' }, ` ${typeLabel(last.type)}`)),
    scope === '/' ? null : scopeTabs(scope, 'iam'),
    h('div', { class: 'toolbar' }, deny(addButton, writeWhy), checkButton),
    addEl, checkEl,
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
    const a = await arm(`${scope}/providers/${AUTHZ}/roleAssignments/${newGuid()}`, { method: 'PUT', ...V, body: { properties: {
      roleDefinitionId: role.id, principalId: who.id, principalType: principalKind(who).type, description: v.description || undefined,
    } } });
    notice(`Assigned ${role.properties.roleName} to ${principalName(who)}.`);
    done();
    await reload();
    return a;
  }, { cancel: done }));
}

// checkForm asks ARM's checkAccess for a principal and an action and shows
// its explanation.
function checkForm(scope, type, done) {
  const picker = principalPicker('checkPrincipal', { label: 'Principal (leave empty for yourself)', idPrefix: 'check-principal' });
  const actions = suggestedActions(type);
  const list = h('datalist', { id: 'check-actions' }, actions.map((a) => h('option', { value: a })));
  const out = h('div', { id: 'check-result', 'aria-live': 'polite' });
  return section('Check access', form([
    picker,
    field('Action', input('action', { id: 'check-action', list: 'check-actions', value: actions[0], required: true, class: 'wide' }),
      'An operation such as Microsoft.MachineLearningServices/workspaces/write; a data action is checked as one when it names dataActions.'),
    list,
    h('div', { class: 'field inline' }, h('input', { type: 'checkbox', name: 'isDataAction', id: 'check-data-action' }),
      h('label', { for: 'check-data-action' }, 'Data action')),
    out,
  ], 'Check', async (v) => {
    const who = picker.selected();
    replace(out, loading('Checking'));
    try {
      const r = await arm(`${scope === '/' ? '' : scope}/providers/${AUTHZ}/checkAccess`, { method: 'POST', ...V, body: {
        subject: who ? { principalId: who.id } : {}, actions: [{ id: v.action.trim(), isDataAction: v.isDataAction }],
      } });
      replace(out, explain((r.value || [])[0], who, scope));
    } catch (err) {
      replace(out, errorBox(err));
    }
  }, { cancel: done }));
}

// explain turns a checkAccess answer into sentences.
export function explain(d, who, scope) {
  if (!d) return h('p', {}, 'No answer.');
  const subject = who ? principalName(who) : 'You';
  if (d.accessDecision === 'Allowed') {
    const a = d.roleAssignment || {};
    const at = a.properties ? a.properties.scope : '';
    return h('div', { class: 'decision allowed', id: 'check-decision', dataset: { decision: 'Allowed' } },
      h('p', {}, h('strong', {}, 'Allowed. '), `${subject} may perform ${d.actionId}.`),
      h('p', {}, 'Decided by the role ', h('strong', {}, (d.roleDefinition && d.roleDefinition.properties.roleName) || ''),
        ' assigned ', sameScope(at, scope) ? 'at this scope' : h('span', {}, 'at ', scopeLink(at)),
        a.properties && a.properties.principalId && who && a.properties.principalId.toLowerCase() !== who.id.toLowerCase()
          ? ' to a group the principal belongs to' : '',
        a.name ? ` (assignment ${a.name}).` : '.'));
  }
  const roles = d.suggestedRoles || [];
  return h('div', { class: 'decision denied-decision', id: 'check-decision', dataset: { decision: 'NotAllowed' } },
    h('p', {}, h('strong', {}, 'Not allowed. '), `No role assignment of ${subject === 'You' ? 'yours' : subject} at this scope or above grants ${d.actionId}.`),
    roles.length ? [h('p', {}, 'These built-in roles would allow it (least privileged first):'),
      h('ul', { id: 'check-suggested' }, roles.map((r) => h('li', {}, r.roleName)))] : h('p', {}, 'No built-in role allows it.'));
}
