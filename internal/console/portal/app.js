// The console's shell: sign-in, navigation and a hash router. Each page is
// a module under pages/ listed in pages/index.js; a page renders into the
// main region with the person's tokens and nothing else.

import * as auth from './auth.js';
import { h, replace, errorBox, button } from './ui.js';
import { routes, navigation } from './pages/index.js';

const main = () => document.getElementById('main');

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

// match finds the route for a path: patterns like /users/:id.
function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const r of routes) {
    const pp = r.path.split('/').filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    pp.forEach((p, i) => {
      if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(parts[i]);
      else if (p !== parts[i]) ok = false;
    });
    if (ok) return { route: r, params };
  }
  return null;
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  replace(nav, navigation.map((group) => [
    h('h2', {}, group.title),
    h('ul', {}, group.items.map((it) => {
      const here = current === it.path || (it.path !== '/' && current.startsWith(`${it.path}/`));
      return h('li', {}, h('a', { href: `#${it.path}`, 'aria-current': here ? 'page' : undefined }, it.title));
    })),
  ]));
}

function renderHeader(account) {
  const t = auth.tenant();
  replace(document.getElementById('tenant'), `Tenant ${t.domain || t.id}`);
  replace(document.getElementById('account'), account
    ? [h('span', { id: 'signed-in-as' }, account.username || account.name), button('Sign out', () => auth.signOut(), { id: 'sign-out' })]
    : []);
}

function signInPage(err) {
  document.getElementById('nav').replaceChildren();
  replace(main(), h('div', { class: 'signin' },
    h('h1', {}, 'Tessera console'),
    h('p', {}, 'Sign in with your directory account. The console calls Graph and the resource manager as you: you see and change what your directory roles and role assignments allow.'),
    err ? errorBox(err) : null,
    button('Sign in', () => auth.signIn({ prompt: err ? 'select_account' : undefined }), { id: 'sign-in' })));
}

let renderCount = 0;

async function route() {
  const account = auth.account();
  renderHeader(account);
  if (!account) {
    signInPage();
    return;
  }
  const { path, query } = parseHash();
  renderNav(path);
  const found = match(path);
  const view = main();
  delete view.dataset.ready;
  const mine = ++renderCount;
  if (!found) {
    replace(view, h('h1', {}, 'Not found'), h('p', {}, `The console has no page ${path}.`), h('a', { href: '#/' }, 'Overview'));
    return;
  }
  document.title = `${found.route.title} – Tessera console`;
  replace(view, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  try {
    const ctx = { account, tenant: auth.tenant(), stale: () => mine !== renderCount, refresh: route };
    await found.route.render(view, found.params, query, ctx);
  } catch (err) {
    if (err instanceof auth.SignInRequired) {
      signInPage(err);
      return;
    }
    if (mine === renderCount) replace(view, h('h1', {}, found.route.title), errorBox(err));
  }
  if (mine === renderCount) view.dataset.ready = found.route.path;
}

async function start() {
  try {
    await auth.init();
  } catch (err) {
    renderHeader(null);
    signInPage(err);
    return;
  }
  window.addEventListener('hashchange', () => route().then(() => main().focus({ preventScroll: true })));
  await route();
}

start();
