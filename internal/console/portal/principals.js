// Directory principals as the resource manager sees them: users, groups,
// service principals and managed identities (service principals of type
// ManagedIdentity). Names are read from Graph with the person's token; a
// principal Graph does not show is named by its object id.

import { graph } from './api.js';
import { h, replace, field, input, errorBox, loading, uid } from './ui.js';

// principalKind is the word shown for a directory object, and ARM's
// principalType for it.
export function principalKind(o) {
  const t = (o['@odata.type'] || '').replace('#microsoft.graph.', '');
  if (t === 'user') return { label: 'User', type: 'User' };
  if (t === 'group') return { label: 'Group', type: 'Group' };
  if (t === 'servicePrincipal') {
    return o.servicePrincipalType === 'ManagedIdentity'
      ? { label: 'Managed identity', type: 'ServicePrincipal' }
      : { label: 'Service principal', type: 'ServicePrincipal' };
  }
  return { label: t || 'Object', type: 'Unknown' };
}

// principalName is the best name of a directory object.
export function principalName(o) {
  return o.displayName || o.userPrincipalName || o.appId || o.id;
}

// principalsByID reads the named objects with directoryObjects/getByIds;
// it answers a Map id → object (possibly partial when Graph refuses).
export async function principalsByID(ids) {
  const out = new Map();
  const unique = [...new Set(ids.filter(Boolean).map((id) => id.toLowerCase()))];
  for (let i = 0; i < unique.length; i += 1000) {
    const r = await graph('/directoryObjects/getByIds', { method: 'POST', body: { ids: unique.slice(i, i + 1000), types: ['user', 'group', 'servicePrincipal'] } });
    for (const o of r.value || []) out.set(o.id.toLowerCase(), o);
  }
  return out;
}

// searchPrincipals finds users, groups and service principals (managed
// identities included) whose display name, or sign-in name for users,
// starts with text. Each kind is searched separately: a person who may
// not list one kind still finds the others.
export async function searchPrincipals(text) {
  const t = text.trim().replace(/'/g, "''");
  const q = (f) => `$top=20&$filter=${encodeURIComponent(f)}`;
  const byName = `startswith(displayName,'${t}')`;
  const queries = [
    t.includes('@') ? `/users?${q(`startswith(userPrincipalName,'${t}')`)}` : `/users?${q(byName)}`,
    `/groups?${q(byName)}`,
    `/servicePrincipals?${q(byName)}`,
  ];
  const settled = await Promise.allSettled(queries.map((path) => graph(path)));
  const found = [];
  const errors = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      const kind = ['user', 'group', 'servicePrincipal'][i];
      for (const o of s.value.value || []) found.push({ '@odata.type': `#microsoft.graph.${kind}`, ...o });
    } else errors.push(s.reason);
  });
  return { found, errors };
}

// principalPicker is a search box with a list of matching principals to
// choose from (radio buttons named name). It is a fieldset of a form: the
// chosen principal's id is the form's value under name, and
// picker.selected() answers the chosen object. initial is the object id of
// a principal chosen beforehand.
export function principalPicker(name, { label = 'Principal', idPrefix = name, initial } = {}) {
  const box = input(`${name}-search`, { type: 'search', id: `${idPrefix}-search`, placeholder: 'Name or sign-in name' });
  const results = h('div', { class: 'picker-results', id: `${idPrefix}-results`, 'aria-live': 'polite' });
  const found = new Map();
  const show = (items, errors = []) => {
    found.clear();
    const group = uid('pick');
    replace(results,
      items.length ? h('ul', { class: 'picker' }, items.map((o) => {
        found.set(o.id, o);
        const id = `${idPrefix}-${o.id}`;
        const kind = principalKind(o);
        return h('li', {}, h('input', { type: 'radio', name, value: o.id, id, checked: items.length === 1 && initial === o.id, 'aria-describedby': `${group}-${o.id}` }),
          h('label', { for: id }, principalName(o)),
          h('span', { class: 'muted', id: `${group}-${o.id}` }, ` ${kind.label}${o.userPrincipalName ? ` · ${o.userPrincipalName}` : ''}${o.appId ? ` · app ${o.appId}` : ''}`));
      })) : h('p', { class: 'empty' }, 'No user, group or service principal matches.'),
      errors.map((e) => errorBox(e)));
  };
  const run = async () => {
    if (!box.value.trim()) {
      replace(results, h('p', { class: 'hint' }, 'Type the start of a name, then search.'));
      return;
    }
    replace(results, loading('Searching'));
    try {
      const { found: items, errors } = await searchPrincipals(box.value);
      show(items, errors);
    } catch (err) {
      replace(results, errorBox(err));
    }
  };
  if (initial) {
    principalsByID([initial]).then((m) => show([...m.values()])).catch((err) => replace(results, errorBox(err)));
  }
  const search = h('button', { type: 'button', class: 'secondary', id: `${idPrefix}-search-button` }, 'Search');
  search.addEventListener('click', run);
  // Enter in the search box searches rather than submitting the form.
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      run();
    }
  });
  const fs = h('fieldset', { class: 'picker-box' }, h('legend', {}, label),
    h('div', { class: 'toolbar' }, field('Search users, groups and service principals', box), search), results);
  fs.selected = () => {
    const checked = fs.querySelector(`input[name="${name}"]:checked`);
    return checked ? found.get(checked.value) : null;
  };
  return fs;
}
