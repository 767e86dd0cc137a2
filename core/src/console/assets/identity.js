// Identity pools: list, create, roles and role mappings, delete.
import { identity, all, idp } from './api.js';
import { h, link, table, field, form, button, list } from './dom.js';

export async function identityPoolsView() {
  const [pools, userPools] = await Promise.all([
    all('identity', 'ListIdentityPools', { MaxResults: 60 }, 'IdentityPools'),
    all('idp', 'ListUserPools', { MaxResults: 60 }, 'UserPools'),
  ]);
  const region = (document.body.dataset.region || 'us-east-1');
  return [
    h('h2', {}, 'Identity pools'),
    table('Identity pools', [
      ['Name', (p) => link(`#/identity-pools/${encodeURIComponent(p.IdentityPoolId)}`, p.IdentityPoolName)],
      ['Id', (p) => h('code', {}, p.IdentityPoolId)],
    ], pools, 'No identity pools yet.'),
    form('Create an identity pool', [
      field('Name', 'name', { required: true, pattern: '[\\w ]+' }),
      field('Allow guests (unauthenticated identities)', 'guests', { type: 'checkbox' }),
      field('User pool', 'pool', { options: [['', '(none)'], ...userPools.map((p) => [p.Id, `${p.Name} (${p.Id})`])] }),
      field('App client ids of that pool', 'clients'),
    ], 'Create identity pool', async (v) => {
      const request = { IdentityPoolName: v.name, AllowUnauthenticatedIdentities: Boolean(v.guests) };
      if (v.pool) {
        request.CognitoIdentityProviders = list(v.clients).map((ClientId) => ({
          ProviderName: `cognito-idp.${v.pool.split('_')[0] || region}.amazonaws.com/${v.pool}`, ClientId,
        }));
      }
      const created = await identity('CreateIdentityPool', request);
      window.location.hash = `#/identity-pools/${encodeURIComponent(created.IdentityPoolId)}`;
    }),
  ];
}

export async function identityPoolView(id) {
  const [pool, roles] = await Promise.all([
    identity('DescribeIdentityPool', { IdentityPoolId: id }),
    identity('GetIdentityPoolRoles', { IdentityPoolId: id }),
  ]);
  const current = roles.Roles || {};
  return [
    h('p', { class: 'crumbs' }, link('#/identity-pools', 'Identity pools'), ' / ', pool.IdentityPoolName),
    h('h2', {}, pool.IdentityPoolName, ' ', h('code', {}, pool.IdentityPoolId)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Guests'), h('dd', {}, pool.AllowUnauthenticatedIdentities ? 'Allowed' : 'Not allowed'),
      h('dt', {}, 'User pools'), h('dd', {}, (pool.CognitoIdentityProviders || []).map((p) => `${p.ProviderName} (${p.ClientId})`).join(', ') || 'None')),
    form('Roles and role mappings', [
      field('Authenticated role ARN', 'authenticated', { value: current.authenticated || '' }),
      field('Guest role ARN', 'unauthenticated', { value: current.unauthenticated || '' }),
      field('Role mappings (JSON, as SetIdentityPoolRoles takes them)', 'mappings', {
        type: 'textarea', value: roles.RoleMappings ? JSON.stringify(roles.RoleMappings, null, 2) : '',
      }),
    ], 'Save roles', async (v) => {
      const Roles = {};
      if (v.authenticated) Roles.authenticated = v.authenticated;
      if (v.unauthenticated) Roles.unauthenticated = v.unauthenticated;
      const request = { IdentityPoolId: id, Roles };
      if (v.mappings) request.RoleMappings = JSON.parse(v.mappings);
      await identity('SetIdentityPoolRoles', request);
      return 'Saved.';
    }),
    h('div', { class: 'card danger-zone' }, h('h3', {}, 'Delete this identity pool'),
      button('Delete identity pool', async () => {
        await identity('DeleteIdentityPool', { IdentityPoolId: id });
        window.location.hash = '#/identity-pools';
      }, { confirmText: `Delete ${pool.IdentityPoolName}? Its identities are lost.`, danger: true })),
  ];
}

