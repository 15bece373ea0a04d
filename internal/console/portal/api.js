// Calls to Graph and the resource manager with the signed-in person's
// bearer token. A refused request becomes an ApiError carrying the
// server's own code and message (Graph's and ARM's error bodies share the
// {"error":{"code","message"}} shape), which pages show as they are.

import { token, forget } from './auth.js';

export const GRAPH = '/graph/v1.0';
export const API_VERSIONS = {
  authorization: '2022-04-01',
  resources: '2021-04-01',
  subscriptions: '2020-01-01',
  ml: '2023-04-01',
  identity: '2023-01-31',
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Every write answers with the change-feed revision it committed at; reads
// ask to be served at least that fresh, so a list shown after a change
// includes it whichever replica answers.
let revision = 0;

async function call(resource, url, opts = {}, retried = false) {
  const { method = 'GET', body, headers = {} } = opts;
  const bearer = await token(resource);
  const h = { Authorization: `Bearer ${bearer}`, ...headers };
  if (revision) h['x-ms-tessera-min-revision'] = String(revision);
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const resp = await fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (resp.status === 401 && !retried) {
    // The token was refused (expired early, revoked): renew it once.
    forget(resource);
    return call(resource, url, opts, true);
  }
  const rev = Number(resp.headers.get('x-ms-tessera-revision') || 0);
  if (rev > revision) revision = rev;
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || '', e.message || text || `${method} ${url} answered ${resp.status}.`);
  }
  return data;
}

// graph calls a Graph path (below /v1.0).
export function graph(path, opts) {
  return call('graph', GRAPH + path, opts);
}

// graphAll follows @odata.nextLink and returns every item.
export async function graphAll(path, max = 2000) {
  let out = [];
  let page = await graph(path);
  out = out.concat(page.value || []);
  while (page['@odata.nextLink'] && out.length < max) {
    const next = new URL(page['@odata.nextLink'], location.origin);
    page = await call('graph', next.pathname + next.search);
    out = out.concat(page.value || []);
  }
  return out;
}

function withVersion(path, apiVersion) {
  return path + (path.includes('?') ? '&' : '?') + `api-version=${apiVersion}`;
}

// arm calls a resource manager path with an api-version.
export function arm(path, { apiVersion = API_VERSIONS.resources, ...opts } = {}) {
  return call('arm', withVersion(path, apiVersion), opts);
}

// armAll follows nextLink and returns every item.
export async function armAll(path, { apiVersion = API_VERSIONS.resources, max = 2000 } = {}) {
  let page = await arm(path, { apiVersion });
  let out = page.value || [];
  while (page.nextLink && out.length < max) {
    const next = new URL(page.nextLink, location.origin);
    page = await call('arm', next.pathname + next.search);
    out = out.concat(page.value || []);
  }
  return out;
}

// actionAllowed evaluates ARM's permissions answer ({actions, notActions}
// per role) for one action, with ARM's wildcards.
export function actionAllowed(permissions, action) {
  const match = (pattern) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(action);
  return permissions.some((p) => (p.actions || []).some(match) && !(p.notActions || []).some(match));
}

// permissionsAt is what the signed-in person may do at an ARM scope.
export async function permissionsAt(scope) {
  const r = await arm(`${scope}/providers/Microsoft.Authorization/permissions`, { apiVersion: API_VERSIONS.authorization });
  return r.value || [];
}

// myDirectoryRoles are the names of the signed-in person's directory roles
// (Global Administrator, User Administrator, ...), read from Graph.
let rolesPromise = null;
export function myDirectoryRoles(oid) {
  if (!rolesPromise) {
    rolesPromise = (async () => {
      const [defs, assignments] = await Promise.all([
        graphAll('/roleManagement/directory/roleDefinitions'),
        graphAll(`/roleManagement/directory/roleAssignments?$filter=principalId eq '${oid}'`),
      ]);
      const names = new Map(defs.map((d) => [d.id, d.displayName]));
      return new Set(assignments.map((a) => names.get(a.roleDefinitionId)).filter(Boolean));
    })().catch((err) => {
      rolesPromise = null;
      throw err;
    });
  }
  return rolesPromise;
}

// directoryRoleReason is why a directory change is not offered: null when
// the person holds one of the roles that may make it.
export async function directoryRoleReason(oid, allowed, what) {
  try {
    const mine = await myDirectoryRoles(oid);
    if (allowed.some((r) => mine.has(r))) return null;
    return `${what} needs one of these directory roles: ${allowed.join(', ')}.`;
  } catch (err) {
    return `Your directory roles could not be read: ${err.message}`;
  }
}
