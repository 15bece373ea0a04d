// Signing keys: the key set token verifiers download (the public JWKS of
// the tenant's discovery document) and, for Global Administrators, each
// key's state from Tessera's Graph extension tessera.signingKeys, with
// "Rotate now": the next key starts signing, the current one stays
// published as previous, and a new next key is published.

import { graph, directoryRoleReason } from '../api.js';
import { h, replace, section, table, button, deny, errorBox, notice, when, loading } from '../ui.js';

const KEY_ADMINS = ['Global Administrator'];
const STATUS = { current: 'Current', next: 'Next', previous: 'Previous' };

async function jwks(tenantId) {
  const resp = await fetch(`/${tenantId}/discovery/v2.0/keys`, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`The key set answered ${resp.status}.`);
  return (await resp.json()).keys || [];
}

export async function signingKeys(view, params, query, ctx) {
  const reason = await directoryRoleReason(ctx.account.oid, KEY_ADMINS, 'Rotating the signing keys');
  const keysEl = h('div');
  const outEl = h('div');
  const rotate = button('Rotate now', async () => {
    if (!window.confirm('Rotate the signing keys? Tokens signed so far stay valid: their key stays published as previous.')) return;
    rotate.disabled = true;
    try {
      const r = await graph('/tessera.signingKeys/rotate', { method: 'POST' });
      const current = (r.value || []).find((k) => k.status === 'current');
      notice(`Rotated: new tokens are signed with ${current ? current.kid : 'the next key'}.`);
      ctx.refresh();
    } catch (err) {
      replace(outEl, errorBox(err));
      rotate.disabled = false;
    }
  }, { id: 'rotate-keys', class: 'danger' });
  const discovery = `${location.origin}/${ctx.tenant.id}/discovery/v2.0/keys`;
  replace(view, h('h1', {}, 'Signing keys'),
    h('p', {}, 'Tokens are signed with the current key. Verifiers download the published keys from ', h('code', {}, discovery), '.'),
    h('div', { class: 'toolbar' }, deny(rotate, reason)), outEl,
    section('Published keys',
      h('p', { class: 'hint' }, 'Current signs new tokens. Next is published ahead and signs after the next rotation. Previous stays published for the tokens it signed, and is removed at the first rotation after its retention ends.'),
      keysEl));
  replace(keysEl, loading());
  try {
    const published = await jwks(ctx.tenant.id);
    let states = new Map();
    let statesNote = null;
    if (!reason) {
      try {
        const r = await graph('/tessera.signingKeys');
        states = new Map((r.value || []).map((k) => [k.kid, k]));
      } catch (err) {
        statesNote = errorBox(err);
      }
    } else {
      statesNote = h('p', { class: 'hint' }, 'Each key\'s state and dates are shown to Global Administrators.');
    }
    const rows = published.map((k) => ({ jwk: k, info: states.get(k.kid) || {} }));
    const order = { current: 0, next: 1, previous: 2 };
    rows.sort((a, b) => (order[a.info.status] ?? 3) - (order[b.info.status] ?? 3));
    replace(keysEl, statesNote, table([
      { label: 'Key id (kid)', render: (r) => h('code', { class: 'kid', dataset: { status: r.info.status || '' } }, r.jwk.kid) },
      { label: 'Thumbprint (x5t)', render: (r) => h('code', {}, r.jwk.x5t || '') },
      { label: 'State', render: (r) => STATUS[r.info.status] || '' },
      { label: 'Created', render: (r) => when(r.info.createdDateTime) },
      { label: 'Signing since', render: (r) => when(r.info.activatedDateTime) },
      { label: 'Retention ends', render: (r) => when(r.info.retireAfterDateTime) },
    ], rows, { caption: `${rows.length} published key${rows.length === 1 ? '' : 's'}`, empty: 'The key set is empty.' }));
  } catch (err) {
    replace(keysEl, errorBox(err));
  }
}
