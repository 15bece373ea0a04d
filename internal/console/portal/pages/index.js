// The console's route table: a URL's page is found here. Pages load on
// first use; each module exports the render functions named below, called
// as render(view, params, query, ctx).

function page(module, fn) {
  return async (...args) => {
    const m = await import(module);
    return m[fn](...args);
  };
}

export const routes = [
  { path: '/', title: 'Overview', render: page('./overview.js', 'overview') },
  { path: '/users', title: 'Users', render: page('./users.js', 'listUsers') },
  { path: '/users/:id', title: 'User', render: page('./users.js', 'showUser') },
  { path: '/groups', title: 'Groups', render: page('./groups.js', 'listGroups') },
  { path: '/groups/:id', title: 'Group', render: page('./groups.js', 'showGroup') },
  { path: '/apps', title: 'App registrations', render: page('./apps.js', 'listApps') },
  { path: '/apps/:id', title: 'App registration', render: page('./apps.js', 'showApp') },
  { path: '/enterprise', title: 'Enterprise applications', render: page('./enterprise.js', 'listEnterprise') },
  { path: '/enterprise/:id', title: 'Enterprise application', render: page('./enterprise.js', 'showEnterprise') },
];

export const navigation = [
  { title: 'Directory', items: [
    { path: '/', title: 'Overview' },
    { path: '/users', title: 'Users' },
    { path: '/groups', title: 'Groups' },
    { path: '/apps', title: 'App registrations' },
    { path: '/enterprise', title: 'Enterprise applications' },
  ] },
];
