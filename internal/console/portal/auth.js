// Sign-in for the console: the authorization code flow with PKCE as a
// single-page application (RFC 6749, RFC 7636; Entra's SPA platform).
// Access tokens live in memory only; the refresh token and the signed-in
// account survive a reload in sessionStorage, which the browser scopes to
// this tab and clears with it.

const STORE = 'tessera.portal';
const PENDING = `${STORE}.pending`;

// The resources the console calls, by the scopes Entra's clients use.
export const SCOPES = {
  arm: 'https://management.azure.com/.default',
  graph: 'https://graph.microsoft.com/.default',
};
const SIGN_IN_SCOPES = 'openid profile offline_access';

let config = null;
const accessTokens = new Map(); // resource → {token, expiresAt}
let refreshing = Promise.resolve();

export class SignInRequired extends Error {}

export class SignInError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// init loads the console's configuration and, when the page is the
// redirect back from the authorization endpoint, finishes the sign-in.
export async function init() {
  const resp = await fetch('/portal/config.json', { cache: 'no-cache' });
  if (!resp.ok) throw new SignInError(`The console's configuration could not be loaded (${resp.status}).`);
  config = await resp.json();
  config.authority = `${location.origin}/${config.tenantId}`;
  config.redirectUri = `${location.origin}/portal/`;
  const q = new URLSearchParams(location.search);
  if (q.has('code') || q.has('error')) await completeSignIn(q);
  return account();
}

export function tenant() {
  return { id: config.tenantId, domain: config.tenantDomain };
}

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || 'null');
  } catch {
    return null;
  }
}

// account is the signed-in person (claims of their id token), or null.
export function account() {
  const s = saved();
  return s ? s.account : null;
}

function base64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

// signIn sends the browser to the authorization endpoint; the page comes
// back to /portal/ with a code (or an error) in the query.
export async function signIn({ prompt } = {}) {
  const verifier = random(48);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const pending = { state: random(), nonce: random(), verifier, hash: location.hash };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    client_id: config.clientId,
    response_type: 'code',
    response_mode: 'query',
    redirect_uri: config.redirectUri,
    scope: `${SCOPES.arm} ${SIGN_IN_SCOPES}`,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (prompt) q.set('prompt', prompt);
  location.assign(`${config.authority}/oauth2/v2.0/authorize?${q}`);
}

async function completeSignIn(q) {
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  } catch {
    pending = null;
  }
  sessionStorage.removeItem(PENDING);
  // The code must not stay in the address bar or the history.
  history.replaceState(null, '', `/portal/${(pending && pending.hash) || ''}`);
  if (q.has('error')) throw new SignInError(q.get('error_description') || q.get('error'), q.get('error'));
  if (!pending || pending.state !== q.get('state')) {
    throw new SignInError('This sign-in response does not belong to a sign-in this tab started. Sign in again.');
  }
  const t = await tokenRequest({
    grant_type: 'authorization_code',
    code: q.get('code'),
    redirect_uri: config.redirectUri,
    code_verifier: pending.verifier,
    scope: `${SCOPES.arm} ${SIGN_IN_SCOPES}`,
  });
  const claims = idTokenClaims(t.id_token);
  if (!claims || claims.nonce !== pending.nonce) {
    throw new SignInError('The ID token does not carry the nonce of this sign-in. Sign in again.');
  }
  const acct = {
    name: claims.name || claims.preferred_username,
    username: claims.preferred_username,
    oid: claims.oid,
    tid: claims.tid,
  };
  sessionStorage.setItem(STORE, JSON.stringify({ account: acct, refreshToken: t.refresh_token }));
  keep('arm', t);
}

// idTokenClaims reads the claims of an ID token received directly from
// the token endpoint over TLS (OpenID Connect Core §3.1.3.7 lets such a
// client rely on TLS instead of checking the signature); the console only
// displays them and checks the nonce.
function idTokenClaims(idToken) {
  try {
    const part = idToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function keep(resource, t) {
  accessTokens.set(resource, { token: t.access_token, expiresAt: Date.now() + Number(t.expires_in || 0) * 1000 });
  if (t.refresh_token) {
    const s = saved();
    if (s) {
      s.refreshToken = t.refresh_token;
      sessionStorage.setItem(STORE, JSON.stringify(s));
    }
  }
}

async function tokenRequest(params) {
  const body = new URLSearchParams({ client_id: config.clientId, ...params });
  const resp = await fetch(`${config.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    cache: 'no-store',
  });
  const t = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new SignInError(t.error_description || `The token endpoint answered ${resp.status}.`, t.error);
    err.status = resp.status;
    throw err;
  }
  return t;
}

// token returns an access token for 'arm' or 'graph', renewed silently with
// the refresh token two minutes before it expires. Renewals run one at a
// time: refresh tokens rotate, and presenting a used one revokes the family.
export function token(resource) {
  const cached = accessTokens.get(resource);
  if (cached && cached.expiresAt - Date.now() > 120000) return Promise.resolve(cached.token);
  const next = refreshing.then(async () => {
    const again = accessTokens.get(resource);
    if (again && again.expiresAt - Date.now() > 120000) return again.token;
    const s = saved();
    if (!s || !s.refreshToken) throw new SignInRequired('Sign in to continue.');
    try {
      const t = await tokenRequest({ grant_type: 'refresh_token', refresh_token: s.refreshToken, scope: `${SCOPES[resource]} ${SIGN_IN_SCOPES}` });
      keep(resource, t);
      return t.access_token;
    } catch (err) {
      if (err.code === 'invalid_grant' || err.code === 'interaction_required') {
        sessionStorage.removeItem(STORE);
        accessTokens.clear();
        throw new SignInRequired(err.message);
      }
      throw err;
    }
  });
  refreshing = next.catch(() => {});
  return next;
}

// forget drops the access token for a resource, so the next call renews it
// (after the resource refused it: revoked, or its signing key rotated).
export function forget(resource) {
  accessTokens.delete(resource);
}

// signOut forgets the tokens and ends the session at the token service,
// which sends the browser back here.
export function signOut() {
  sessionStorage.removeItem(STORE);
  accessTokens.clear();
  const q = new URLSearchParams({ post_logout_redirect_uri: config.redirectUri, client_id: config.clientId });
  location.assign(`${config.authority}/oauth2/v2.0/logout?${q}`);
}
