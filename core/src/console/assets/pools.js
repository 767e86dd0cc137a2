// User pools: the list, creating one, and a pool's pages (tabs).
import { idp, all, keys } from './api.js';
import { h, link, table, field, form, button, date, refresh, replace } from './dom.js';
import { activityView } from './activity.js';
import { usersTab } from './users.js';
import { clientsTab } from './clients.js';
import { settingsTab, providersTab } from './settings.js';

export async function poolsView() {
  const pools = await all('idp', 'ListUserPools', { MaxResults: 60 }, 'UserPools');
  return [
    h('h2', {}, 'User pools'),
    table('User pools', [
      ['Name', (p) => link(`#/pools/${encodeURIComponent(p.Id)}`, p.Name)],
      ['Id', (p) => h('code', {}, p.Id)],
      ['Created', (p) => date(p.CreationDate)],
    ], pools, 'No user pools yet.'),
    form('Create a user pool', [
      field('Name', 'name', { required: true }),
      field('Verify email addresses automatically', 'verifyEmail', { type: 'checkbox', value: true }),
      field('Sign in with email instead of a username', 'emailUsername', { type: 'checkbox' }),
      field('Minimum password length', 'minLength', { type: 'number', value: 8, min: 6, max: 99 }),
    ], 'Create pool', async (v) => {
      const request = {
        PoolName: v.name,
        Policies: { PasswordPolicy: { MinimumLength: Number(v.minLength) || 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true } },
      };
      if (v.verifyEmail) request.AutoVerifiedAttributes = ['email'];
      if (v.emailUsername) request.UsernameAttributes = ['email'];
      const { UserPool } = await idp('CreateUserPool', request);
      window.location.hash = `#/pools/${encodeURIComponent(UserPool.Id)}`;
      return `Created ${UserPool.Id}.`;
    }),
  ];
}

const TABS = [
  ['overview', 'Overview'],
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['clients', 'App clients'],
  ['settings', 'Settings'],
  ['providers', 'Identity providers'],
  ['resource-servers', 'Resource servers'],
  ['keys', 'Signing keys'],
];

export async function poolView(poolId, tab) {
  const { UserPool: pool } = await idp('DescribeUserPool', { UserPoolId: poolId });
  const base = `#/pools/${encodeURIComponent(poolId)}`;
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Pool' }, TABS.map(([id, label]) =>
    h('a', { href: `${base}/${id}`, 'aria-current': id === tab ? 'page' : false }, label)));
  const views = {
    overview: () => activityView(pool),
    users: () => usersTab(pool),
    groups: () => groupsTab(pool),
    clients: () => clientsTab(pool),
    settings: () => settingsTab(pool),
    providers: () => providersTab(pool),
    'resource-servers': () => resourceServersTab(pool),
    keys: () => keysTab(pool),
  };
  const content = await (views[tab] || views.overview)();
  return [
    h('p', { class: 'crumbs' }, link('#/', 'User pools'), ' / ', pool.Name),
    h('h2', {}, pool.Name, ' ', h('code', {}, pool.Id)),
    tabs,
    h('section', { 'aria-label': (TABS.find(([id]) => id === tab) || TABS[0])[1] }, content),
  ];
}

async function groupsTab(pool) {
  const groups = await all('idp', 'ListGroups', { UserPoolId: pool.Id, Limit: 60 }, 'Groups');
  const members = h('div', { id: 'members' });
  const showMembers = async (group) => {
    const users = await all('idp', 'ListUsersInGroup', { UserPoolId: pool.Id, GroupName: group.GroupName, Limit: 60 }, 'Users');
    members.replaceChildren(h('h3', {}, `Members of ${group.GroupName}`),
      table(`Members of ${group.GroupName}`, [
        ['Username', (u) => link(`#/pools/${encodeURIComponent(pool.Id)}/users/${encodeURIComponent(u.Username)}`, u.Username)],
        ['Status', (u) => u.UserStatus],
      ], users, 'No members.'));
  };
  return [
    table('Groups', [
      ['Name', (g) => g.GroupName],
      ['Description', (g) => g.Description || ''],
      ['Precedence', (g) => g.Precedence ?? ''],
      ['', (g) => [button('Members', () => showMembers(g)), ' ',
        button('Delete', async () => { await idp('DeleteGroup', { UserPoolId: pool.Id, GroupName: g.GroupName }); refresh(); },
          { confirmText: `Delete the group ${g.GroupName}?`, danger: true })]],
    ], groups, 'No groups yet.'),
    members,
    form('Create a group', [
      field('Name', 'name', { required: true }),
      field('Description', 'description'),
      field('Precedence', 'precedence', { type: 'number', min: 0 }),
    ], 'Create group', async (v) => {
      const request = { UserPoolId: pool.Id, GroupName: v.name };
      if (v.description) request.Description = v.description;
      if (v.precedence !== '') request.Precedence = Number(v.precedence);
      await idp('CreateGroup', request);
      refresh();
    }),
  ];
}

async function resourceServersTab(pool) {
  const servers = await all('idp', 'ListResourceServers', { UserPoolId: pool.Id, MaxResults: 50 }, 'ResourceServers');
  return [
    table('Resource servers', [
      ['Identifier', (s) => h('code', {}, s.Identifier)],
      ['Name', (s) => s.Name],
      ['Scopes', (s) => (s.Scopes || []).map((c) => `${s.Identifier}/${c.ScopeName}`).join(' ')],
      ['', (s) => button('Delete', async () => { await idp('DeleteResourceServer', { UserPoolId: pool.Id, Identifier: s.Identifier }); refresh(); },
        { confirmText: `Delete ${s.Identifier}?`, danger: true })],
    ], servers, 'No resource servers yet.'),
    form('Create a resource server', [
      field('Identifier', 'identifier', { required: true, placeholder: 'https://api.example.com' }),
      field('Name', 'name', { required: true }),
      field('Scopes (name:description, comma-separated)', 'scopes', { placeholder: 'read:Read access, write:Write access' }),
    ], 'Create resource server', async (v) => {
      const Scopes = String(v.scopes).split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const [ScopeName, ...rest] = s.split(':');
        return { ScopeName: ScopeName.trim(), ScopeDescription: rest.join(':').trim() || ScopeName.trim() };
      });
      await idp('CreateResourceServer', { UserPoolId: pool.Id, Identifier: v.identifier, Name: v.name, Scopes });
      refresh();
    }),
  ];
}


// The pool's token-signing keys (CognateKeys.*): a rotation publishes the new key at once, signs
// with it later, and keeps the old one verifying until its longest token has expired.
async function keysTab(pool) {
  const listing = h('div');
  const show = async () => {
    const { Keys: list = [] } = await keys('ListSigningKeys', { UserPoolId: pool.Id });
    replace(listing, table('Signing keys', [
      ['Key id', (k) => h('code', {}, k.KeyId)],
      ['Created', (k) => date(k.CreationDate)],
      ['Signs from', (k) => (k.SignsFrom ? date(k.SignsFrom) : '')],
      ['Retires', (k) => (k.Retires ? date(k.Retires) : '')],
      ['Signing now', (k) => (k.Signing ? 'Yes' : 'No')],
    ], list, 'No signing key yet (the first token creates one).'));
  };
  await show();
  return [
    listing,
    form('Rotate the signing key', [
      field('Publish ahead (seconds before it signs)', 'ahead', { type: 'number', value: 3600, min: 0 }),
      field('Longest token (seconds old keys keep verifying)', 'longest', { type: 'number', value: 86400, min: 0 }),
    ], 'Rotate key', async (v) => {
      const rotated = await keys('RotateSigningKey', {
        UserPoolId: pool.Id, PublishAheadSeconds: Number(v.ahead), LongestTokenSeconds: Number(v.longest),
      });
      await show();
      return `New key ${rotated.KeyId}.`;
    }),
  ];
}
