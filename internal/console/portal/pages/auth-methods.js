// A user's authentication methods (Graph's users/{id}/authentication):
// the password and a registered authenticator app. "Require
// re-registration" deletes the authenticator app, so the user registers one
// again at the next sign-in that needs a second factor. The user may read
// their own; authentication administrators read and reset others' as Graph
// decides.

import { graph, graphAll, directoryRoleReason } from '../api.js';
import { h, replace, table, button, deny, errorBox, notice, when } from '../ui.js';

const AUTH_ADMINS = ['Global Administrator', 'Privileged Authentication Administrator', 'Authentication Administrator'];
const KINDS = {
  '#microsoft.graph.passwordAuthenticationMethod': 'Password',
  '#microsoft.graph.softwareOathAuthenticationMethod': 'Authenticator app (TOTP)',
};

// authMethods fills el with user u's methods.
export async function authMethods(el, u, ctx) {
  let methods;
  try {
    methods = await graphAll(`/users/${u.id}/authentication/methods`);
  } catch (err) {
    replace(el, errorBox(err));
    return;
  }
  const reason = u.id === ctx.account.oid
    ? 'Your own authenticator app is reset by an authentication administrator, not by yourself.'
    : await directoryRoleReason(ctx.account.oid, AUTH_ADMINS, 'Requiring re-registration');
  const out = h('div');
  replace(el, table([
    { label: 'Method', render: (m) => KINDS[m['@odata.type']] || m['@odata.type'] },
    { label: 'Id', render: (m) => m.id },
    { label: 'Created', render: (m) => when(m.createdDateTime) },
    { label: 'Actions', render: (m) => (m['@odata.type'] !== '#microsoft.graph.softwareOathAuthenticationMethod' ? '' : deny(button('Require re-registration', async () => {
      if (!window.confirm(`Remove the authenticator app of ${u.userPrincipalName}? They register one again at their next sign-in.`)) return;
      try {
        await graph(`/users/${u.id}/authentication/softwareOathMethods/${m.id}`, { method: 'DELETE' });
        notice(`${u.userPrincipalName} registers an authenticator app again at the next sign-in.`);
        await authMethods(el, u, ctx);
      } catch (err) {
        replace(out, errorBox(err));
      }
    }, { id: 'require-reregistration', class: 'danger' }), reason)) },
  ], methods, { empty: 'No method.' }),
  methods.some((m) => m['@odata.type'] === '#microsoft.graph.softwareOathAuthenticationMethod')
    ? null : h('p', { class: 'hint', id: 'no-authenticator' }, 'No authenticator app: one is registered at the first sign-in that needs a second factor.'),
  out);
}
