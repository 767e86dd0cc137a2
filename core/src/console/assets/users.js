// Users: search (ListUsers filters) with paging, creating a user, and a user's page.
import { idp, all } from './api.js';
import { h, link, table, field, form, button, date, refresh, replace, attribute, showError } from './dom.js';

const SEARCHABLE = ['username', 'email', 'phone_number', 'name', 'given_name', 'family_name',
  'preferred_username', 'cognito:user_status', 'status', 'sub'];

function userLink(poolId, username) {
  return link(`#/pools/${encodeURIComponent(poolId)}/users/${encodeURIComponent(username)}`, username);
}

export async function usersTab(pool) {
  const results = h('div', { 'aria-live': 'polite' });
  let filter = '';
  const pages = [undefined];
  let index = 0;

  const show = async () => {
    const request = { UserPoolId: pool.Id, Limit: 20 };
    if (filter) request.Filter = filter;
    if (pages[index]) request.PaginationToken = pages[index];
    const page = await idp('ListUsers', request);
    pages[index + 1] = page.PaginationToken;
    replace(results,
      table('Users', [
        ['Username', (u) => userLink(pool.Id, u.Username)],
        ['Email', (u) => attribute(u, 'email')],
        ['Status', (u) => u.UserStatus],
        ['Enabled', (u) => (u.Enabled ? 'Yes' : 'No')],
        ['Created', (u) => date(u.UserCreateDate)],
      ], page.Users || [], filter ? 'No user matches.' : 'No users yet.'),
      h('div', { class: 'pager' },
        index > 0 ? button('Previous page', async () => { index -= 1; await show(); }) : null,
        page.PaginationToken ? button('Next page', async () => { index += 1; await show(); }) : null));
  };

  const search = form('Find users', [
    field('Attribute', 'attribute', { options: SEARCHABLE, value: 'email' }),
    field('Match', 'operator', { options: [['=', 'is'], ['^=', 'starts with']] }),
    field('Value', 'value'),
  ], 'Search', async (v) => {
    filter = v.value ? `${v.attribute} ${v.operator} "${v.value.replace(/["\\]/g, '\\$&')}"` : '';
    pages.length = 1;
    index = 0;
    await show();
    return filter ? `Filter: ${filter}` : 'All users.';
  });
  search.classList.add('inline');

  await show();
  return [
    search,
    results,
    form('Create a user', [
      field('Username', 'username', { required: true }),
      field('Email', 'email', { type: 'email' }),
      field('Email is verified', 'emailVerified', { type: 'checkbox', value: true }),
      field('Temporary password (empty: generated)', 'password', { type: 'password', autocomplete: 'new-password' }),
      field('Do not send an invitation', 'suppress', { type: 'checkbox' }),
    ], 'Create user', async (v) => {
      const request = { UserPoolId: pool.Id, Username: v.username, UserAttributes: [] };
      if (v.email) {
        request.UserAttributes.push({ Name: 'email', Value: v.email });
        request.UserAttributes.push({ Name: 'email_verified', Value: v.emailVerified ? 'true' : 'false' });
        request.DesiredDeliveryMediums = ['EMAIL'];
      }
      if (v.password) request.TemporaryPassword = v.password;
      if (v.suppress) request.MessageAction = 'SUPPRESS';
      const { User } = await idp('AdminCreateUser', request);
      await show();
      return `Created ${User.Username} (${User.UserStatus}).`;
    }),
  ];
}

export async function userView(poolId, username) {
  const key = { UserPoolId: poolId, Username: username };
  const [user, groupsOfUser, poolGroups, events, devices] = await Promise.all([
    idp('AdminGetUser', key),
    all('idp', 'AdminListGroupsForUser', { ...key, Limit: 60 }, 'Groups'),
    all('idp', 'ListGroups', { UserPoolId: poolId, Limit: 60 }, 'Groups'),
    idp('AdminListUserAuthEvents', { ...key, MaxResults: 25 }).catch((e) => ({ error: e })),
    idp('AdminListDevices', { ...key, Limit: 60 }).catch(() => ({ Devices: [] })),
  ]);
  const base = `#/pools/${encodeURIComponent(poolId)}`;
  const memberOf = new Set(groupsOfUser.map((g) => g.GroupName));
  const mfa = user.UserMFASettingList || [];

  return [
    h('p', { class: 'crumbs' }, link('#/', 'User pools'), ' / ', link(`${base}/users`, poolId), ' / ', username),
    h('h2', {}, username),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Status'), h('dd', { id: 'user-status' }, user.UserStatus),
      h('dt', {}, 'Enabled'), h('dd', { id: 'user-enabled' }, user.Enabled ? 'Yes' : 'No'),
      h('dt', {}, 'Created'), h('dd', {}, date(user.UserCreateDate)),
      h('dt', {}, 'Modified'), h('dd', {}, date(user.UserLastModifiedDate)),
      h('dt', {}, 'MFA'), h('dd', {}, mfa.length ? `${mfa.join(', ')} (preferred: ${user.PreferredMfaSetting || 'none'})` : 'None')),
    h('div', { class: 'actions' },
      user.Enabled
        ? button('Disable', async () => { await idp('AdminDisableUser', key); refresh(); }, { confirmText: `Disable ${username}? They cannot sign in until enabled.`, danger: true })
        : button('Enable', async () => { await idp('AdminEnableUser', key); refresh(); }),
      button('Reset password', async () => { await idp('AdminResetUserPassword', key); refresh(); }, { confirmText: `Reset ${username}'s password? They must choose a new one with a code.` }),
      button('Sign out everywhere', async () => { await idp('AdminUserGlobalSignOut', key); refresh(); }, { confirmText: `Revoke ${username}'s refresh tokens?` }),
      mfa.length ? button('Turn MFA off', async () => {
        await idp('AdminSetUserMFAPreference', { ...key, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false }, SMSMfaSettings: { Enabled: false, PreferredMfa: false } });
        refresh();
      }, { confirmText: `Turn off ${username}'s MFA?` }) : null,
      button('Delete user', async () => { await idp('AdminDeleteUser', key); window.location.hash = `${base}/users`; }, { confirmText: `Delete ${username} for good?`, danger: true })),

    h('h3', {}, 'Attributes'),
    table('Attributes', [['Name', (a) => a.Name], ['Value', (a) => a.Value]], user.UserAttributes || []),
    form('Change an attribute', [
      field('Name', 'name', { required: true, placeholder: 'email, name, custom:tier…' }),
      field('Value (empty: delete it)', 'value'),
    ], 'Save attribute', async (v) => {
      if (v.value) await idp('AdminUpdateUserAttributes', { ...key, UserAttributes: [{ Name: v.name, Value: v.value }] });
      else await idp('AdminDeleteUserAttributes', { ...key, UserAttributeNames: [v.name] });
      refresh();
    }),
    form('Set a password', [
      field('New password', 'password', { type: 'password', required: true, autocomplete: 'new-password' }),
      field('Permanent (no change on next sign-in)', 'permanent', { type: 'checkbox', value: true }),
    ], 'Set password', async (v) => {
      await idp('AdminSetUserPassword', { ...key, Password: v.password, Permanent: Boolean(v.permanent) });
      refresh();
    }),

    h('h3', {}, 'Groups'),
    table('Groups of the user', [
      ['Group', (g) => g.GroupName],
      ['', (g) => button('Remove', async () => { await idp('AdminRemoveUserFromGroup', { ...key, GroupName: g.GroupName }); refresh(); })],
    ], groupsOfUser, 'In no group.'),
    poolGroups.some((g) => !memberOf.has(g.GroupName))
      ? form('Add to a group', [
        field('Group', 'group', { options: poolGroups.map((g) => g.GroupName).filter((g) => !memberOf.has(g)) }),
      ], 'Add to group', async (v) => {
        await idp('AdminAddUserToGroup', { ...key, GroupName: v.group });
        refresh();
      })
      : h('p', { class: 'empty' }, 'No other group to join (create groups on the pool\'s Groups tab).'),

    h('h3', {}, 'Devices'),
    table('Remembered devices', [
      ['Key', (d) => h('code', {}, d.DeviceKey)],
      ['Name', (d) => attribute({ Attributes: d.DeviceAttributes }, 'device_name')],
      ['Last used', (d) => date(d.DeviceLastAuthenticatedDate)],
      ['', (d) => button('Forget', async () => { await idp('AdminForgetDevice', { ...key, DeviceKey: d.DeviceKey }); refresh(); })],
    ], devices.Devices || [], 'No remembered devices.'),

    h('h3', {}, 'Sign-in events'),
    events.error
      ? showError(h('p'), events.error)
      : table('Sign-in events', [
        ['When', (e) => date(e.CreationDate)],
        ['Event', (e) => e.EventType],
        ['Result', (e) => h('span', { class: e.EventResponse === 'Pass' ? 'pass' : 'fail' }, e.EventResponse)],
        ['IP address', (e) => (e.EventContextData || {}).IpAddress || ''],
        ['Client', (e) => h('code', {}, e.ClientId || '')],
      ], events.AuthEvents || [], 'No sign-in events.'),
  ];
}
