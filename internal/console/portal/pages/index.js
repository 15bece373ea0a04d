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
  { path: '/resources', title: 'Resources', render: page('./resources.js', 'resources') },
  { path: '/resources/iam', title: 'Access control (IAM)', render: page('./iam.js', 'iam') },
  { path: '/resources/check', title: 'Check access', render: page('./iam.js', 'checkAccess') },
  { path: '/roles', title: 'Roles', render: page('./roles.js', 'listRoles') },
  { path: '/identities', title: 'Managed identities', render: page('./identities.js', 'listIdentities') },
  { path: '/roles/new', title: 'New custom role', render: page('./roles.js', 'newRole') },
  { path: '/roles/:id', title: 'Role', render: page('./roles.js', 'showRole') },
  { path: '/signins', title: 'Sign-in logs', render: page('./signins.js', 'listSignIns') },
  { path: '/signins/:id', title: 'Sign-in', render: page('./signins.js', 'showSignIn') },
  { path: '/audits', title: 'Audit logs', render: page('./audits.js', 'listAudits') },
  { path: '/audits/:id', title: 'Audit entry', render: page('./audits.js', 'showAudit') },
  { path: '/conditional-access', title: 'Conditional Access', render: page('./conditional-access.js', 'conditionalAccess') },
  { path: '/keys', title: 'Signing keys', render: page('./keys.js', 'signingKeys') },
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
  { title: 'Resources', items: [
    { path: '/resources', title: 'Subscriptions' },
    { path: '/roles', title: 'Roles' },
    { path: '/identities', title: 'Managed identities' },
  ] },
  { title: 'Monitoring & security', items: [
    { path: '/signins', title: 'Sign-in logs' },
    { path: '/audits', title: 'Audit logs' },
    { path: '/conditional-access', title: 'Conditional Access' },
    { path: '/keys', title: 'Signing keys' },
  ] },
];
