// App clients: list, create (the secret is shown once, right after), change flows and OAuth
// settings, delete.
import { idp, all } from './api.js';
import { h, table, field, form, button, refresh, list, replace } from './dom.js';

const FLOWS = ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH',
  'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_USER_AUTH'];
const OAUTH_FLOWS = ['code', 'implicit', 'client_credentials'];

function flowFields(client = {}) {
  const flows = new Set(client.ExplicitAuthFlows || ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  const oauth = new Set(client.AllowedOAuthFlows || []);
  return [
    h('fieldset', {}, h('legend', {}, 'Sign-in flows'),
      FLOWS.map((f) => field(f, `flow:${f}`, { type: 'checkbox', value: flows.has(f) }))),
    h('fieldset', {}, h('legend', {}, 'OAuth 2.0'),
      OAUTH_FLOWS.map((f) => field(f, `oauth:${f}`, { type: 'checkbox', value: oauth.has(f) })),
      field('Scopes', 'scopes', { value: (client.AllowedOAuthScopes || ['openid', 'email', 'profile']).join(' ') }),
      field('Callback URLs', 'callbacks', { value: (client.CallbackURLs || []).join(' ') }),
      field('Sign-out URLs', 'logouts', { value: (client.LogoutURLs || []).join(' ') }),
      field('Identity providers', 'providers', { value: (client.SupportedIdentityProviders || ['COGNITO']).join(' ') })),
  ];
}

function settingsOf(v) {
  const flows = FLOWS.filter((f) => v[`flow:${f}`]);
  const oauth = OAUTH_FLOWS.filter((f) => v[`oauth:${f}`]);
  const settings = { ExplicitAuthFlows: flows, SupportedIdentityProviders: list(v.providers) };
  if (oauth.length) {
    Object.assign(settings, {
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: oauth,
      AllowedOAuthScopes: list(v.scopes),
    });
  }
  const callbacks = list(v.callbacks);
  if (callbacks.length) settings.CallbackURLs = callbacks;
  const logouts = list(v.logouts);
  if (logouts.length) settings.LogoutURLs = logouts;
  return settings;
}

export async function clientsTab(pool) {
  const clients = await all('idp', 'ListUserPoolClients', { UserPoolId: pool.Id, MaxResults: 60 }, 'UserPoolClients');
  const detail = h('div', { id: 'client-detail' });
  const open = async (summary) => {
    const { UserPoolClient: client } = await idp('DescribeUserPoolClient', { UserPoolId: pool.Id, ClientId: summary.ClientId });
    replace(detail, form(`Settings of ${client.ClientName}`, flowFields(client), 'Save client', async (v) => {
      // UpdateUserPoolClient resets what it is not given: keep the rest as it is.
      const keep = ['ClientName', 'RefreshTokenValidity', 'AccessTokenValidity', 'IdTokenValidity', 'TokenValidityUnits',
        'ReadAttributes', 'WriteAttributes', 'DefaultRedirectURI', 'PreventUserExistenceErrors', 'EnableTokenRevocation',
        'EnablePropagateAdditionalUserContextData', 'AuthSessionValidity', 'AnalyticsConfiguration', 'RefreshTokenRotation'];
      const request = { UserPoolId: pool.Id, ClientId: client.ClientId };
      for (const k of keep) if (client[k] !== undefined) request[k] = client[k];
      await idp('UpdateUserPoolClient', { ...request, ...settingsOf(v) });
      return 'Saved.';
    }));
  };
  const secret = h('div', { 'aria-live': 'polite' });
  return [
    table('App clients', [
      ['Name', (c) => c.ClientName],
      ['Client id', (c) => h('code', {}, c.ClientId)],
      ['', (c) => [button('Settings', () => open(c)), ' ',
        button('Delete', async () => { await idp('DeleteUserPoolClient', { UserPoolId: pool.Id, ClientId: c.ClientId }); refresh(); },
          { confirmText: `Delete the app client ${c.ClientName}? Apps using it stop working.`, danger: true })]],
    ], clients, 'No app clients yet.'),
    detail,
    secret,
    form('Create an app client', [
      field('Name', 'name', { required: true }),
      field('Generate a client secret (for server-side apps)', 'secret', { type: 'checkbox' }),
      ...flowFields(),
    ], 'Create app client', async (v) => {
      const { UserPoolClient: c } = await idp('CreateUserPoolClient', {
        UserPoolId: pool.Id, ClientName: v.name, GenerateSecret: Boolean(v.secret), ...settingsOf(v),
      });
      replace(secret, h('div', { class: 'card created', role: 'status' },
        h('h3', {}, `Created ${c.ClientName}`),
        h('p', {}, 'Client id: ', h('code', { id: 'new-client-id' }, c.ClientId)),
        c.ClientSecret
          ? h('p', {}, 'Client secret (shown only now, copy it): ', h('code', { id: 'new-client-secret' }, c.ClientSecret))
          : null,
        button('Done', () => refresh())));
      return `Created ${c.ClientId}.`;
    }),
  ];
}
