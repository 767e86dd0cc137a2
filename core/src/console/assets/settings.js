// A pool's settings (password policy, MFA, triggers, domain, hosted UI style) and its
// identity providers.
import { idp, all } from './api.js';
import { h, table, field, form, button, refresh, list } from './dom.js';

// What UpdateUserPool takes; it resets what it is not given, so every change sends them all.
const UPDATABLE = ['Policies', 'DeletionProtection', 'LambdaConfig', 'AutoVerifiedAttributes',
  'SmsVerificationMessage', 'EmailVerificationMessage', 'EmailVerificationSubject',
  'VerificationMessageTemplate', 'SmsAuthenticationMessage', 'UserAttributeUpdateSettings',
  'MfaConfiguration', 'DeviceConfiguration', 'EmailConfiguration', 'SmsConfiguration',
  'UserPoolTags', 'AdminCreateUserConfig', 'UserPoolAddOns', 'AccountRecoverySetting',
  'PoolName', 'UserPoolTier'];

const TRIGGERS = ['PreSignUp', 'CustomMessage', 'PostConfirmation', 'PreAuthentication',
  'PostAuthentication', 'DefineAuthChallenge', 'CreateAuthChallenge',
  'VerifyAuthChallengeResponse', 'PreTokenGeneration', 'UserMigration'];

async function updatePool(pool, change) {
  const request = { UserPoolId: pool.Id };
  for (const k of UPDATABLE) if (pool[k] !== undefined) request[k] = structuredClone(pool[k]);
  // DescribeUserPool's name for the pool is `Name`.
  request.PoolName = pool.Name;
  change(request);
  await idp('UpdateUserPool', request);
  refresh();
}

export async function settingsTab(pool) {
  const policy = (pool.Policies || {}).PasswordPolicy || {};
  const [mfa, domain, plugins] = await Promise.all([
    idp('GetUserPoolMfaConfig', { UserPoolId: pool.Id }),
    pool.Domain ? idp('DescribeUserPoolDomain', { Domain: pool.Domain }).catch(() => ({})) : Promise.resolve({}),
    all('plugins', 'ListPlugins', {}, 'Plugins').catch(() => []),
  ]);
  const lambda = pool.LambdaConfig || {};
  const pluginNames = [...new Set(plugins.flatMap((p) => p.Names || []))];
  return [
    form('Password policy', [
      field('Minimum length', 'min', { type: 'number', value: policy.MinimumLength ?? 8, min: 6, max: 99 }),
      field('Require an uppercase letter', 'upper', { type: 'checkbox', value: policy.RequireUppercase }),
      field('Require a lowercase letter', 'lower', { type: 'checkbox', value: policy.RequireLowercase }),
      field('Require a number', 'numbers', { type: 'checkbox', value: policy.RequireNumbers }),
      field('Require a symbol', 'symbols', { type: 'checkbox', value: policy.RequireSymbols }),
      field('Temporary passwords are valid for (days)', 'days', { type: 'number', value: policy.TemporaryPasswordValidityDays ?? 7, min: 0, max: 365 }),
    ], 'Save password policy', (v) => updatePool(pool, (r) => {
      r.Policies = r.Policies || {};
      r.Policies.PasswordPolicy = {
        ...policy,
        MinimumLength: Number(v.min),
        RequireUppercase: v.upper,
        RequireLowercase: v.lower,
        RequireNumbers: v.numbers,
        RequireSymbols: v.symbols,
        TemporaryPasswordValidityDays: Number(v.days),
      };
    })),
    form('Multi-factor authentication', [
      field('MFA', 'mode', { options: [['OFF', 'Off'], ['OPTIONAL', 'Optional (users choose)'], ['ON', 'Required']], value: mfa.MfaConfiguration || 'OFF' }),
      field('Authenticator apps (TOTP)', 'totp', { type: 'checkbox', value: (mfa.SoftwareTokenMfaConfiguration || {}).Enabled }),
    ], 'Save MFA', async (v) => {
      const request = { UserPoolId: pool.Id, MfaConfiguration: v.mode, SoftwareTokenMfaConfiguration: { Enabled: v.totp } };
      if (mfa.SmsMfaConfiguration) request.SmsMfaConfiguration = mfa.SmsMfaConfiguration;
      if (mfa.EmailMfaConfiguration) request.EmailMfaConfiguration = mfa.EmailMfaConfiguration;
      await idp('SetUserPoolMfaConfig', request);
      refresh();
    }),
    form('Triggers (Wasm plugins)', [
      h('p', {}, 'Name a registered plugin where Cognito takes a Lambda ARN. Registered: ',
        pluginNames.length ? pluginNames.join(', ') : 'none (see Trigger plugins)'),
      TRIGGERS.map((t) => field(t, t, { value: lambda[t] || '', placeholder: 'plugin name or ARN' })),
    ], 'Save triggers', (v) => updatePool(pool, (r) => {
      const config = { ...lambda };
      for (const t of TRIGGERS) {
        if (v[t]) config[t] = v[t];
        else delete config[t];
      }
      r.LambdaConfig = config;
    })),
    h('div', { class: 'card' }, h('h3', {}, 'Attributes'),
      table('Attributes of the pool', [
        ['Name', (a) => a.Name],
        ['Type', (a) => a.AttributeDataType],
        ['Required', (a) => (a.Required ? 'Yes' : 'No')],
        ['Mutable', (a) => (a.Mutable ? 'Yes' : 'No')],
      ], pool.SchemaAttributes || [])),
    form('Add a custom attribute', [
      field('Name (without custom:)', 'name', { required: true, pattern: '[A-Za-z0-9_]{1,20}' }),
      field('Type', 'type', { options: ['String', 'Number', 'DateTime', 'Boolean'] }),
      field('Mutable', 'mutable', { type: 'checkbox', value: true }),
    ], 'Add attribute', async (v) => {
      await idp('AddCustomAttributes', {
        UserPoolId: pool.Id,
        CustomAttributes: [{ Name: v.name, AttributeDataType: v.type, Mutable: Boolean(v.mutable) }],
      });
      refresh();
    }),
    pool.Domain
      ? h('div', { class: 'card' }, h('h3', {}, 'Domain'),
        h('p', {}, 'Hosted UI domain: ', h('code', {}, pool.Domain),
          (domain.DomainDescription || {}).Status ? ` (${domain.DomainDescription.Status})` : ''),
        button('Delete domain', async () => { await idp('DeleteUserPoolDomain', { UserPoolId: pool.Id, Domain: pool.Domain }); refresh(); },
          { confirmText: `Delete the domain ${pool.Domain}? The hosted UI stops answering there.`, danger: true }))
      : form('Domain', [
        field('Domain prefix', 'domain', { required: true, placeholder: 'my-app' }),
      ], 'Create domain', async (v) => {
        await idp('CreateUserPoolDomain', { UserPoolId: pool.Id, Domain: v.domain });
        refresh();
      }),
    form('Hosted UI style', [
      field('CSS (Cognito\'s classes, e.g. .submitButton-customizable { background-color: #0a5 })', 'css', { type: 'textarea', rows: 5 }),
    ], 'Save style', async (v) => {
      await idp('SetUICustomization', { UserPoolId: pool.Id, ClientId: 'ALL', CSS: v.css });
      return 'Saved.';
    }),
    h('div', { class: 'card danger-zone' }, h('h3', {}, 'Delete this pool'),
      button('Delete user pool', async () => {
        await idp('DeleteUserPool', { UserPoolId: pool.Id });
        window.location.hash = '#/';
      }, { confirmText: `Delete ${pool.Name} and all its users for good?`, danger: true })),
  ];
}

export async function providersTab(pool) {
  const providers = await all('idp', 'ListIdentityProviders', { UserPoolId: pool.Id, MaxResults: 60 }, 'Providers');
  return [
    table('Identity providers', [
      ['Name', (p) => p.ProviderName],
      ['Type', (p) => p.ProviderType],
      ['', (p) => button('Delete', async () => { await idp('DeleteIdentityProvider', { UserPoolId: pool.Id, ProviderName: p.ProviderName }); refresh(); },
        { confirmText: `Delete ${p.ProviderName}?`, danger: true })],
    ], providers, 'No identity providers yet.'),
    form('Add an OpenID Connect provider', [
      field('Name', 'name', { required: true }),
      field('Issuer URL', 'issuer', { type: 'url', required: true }),
      field('Client id', 'clientId', { required: true }),
      field('Client secret', 'clientSecret', { type: 'password', autocomplete: 'off' }),
      field('Scopes', 'scopes', { value: 'openid email profile' }),
      field('Email claim', 'email', { value: 'email' }),
    ], 'Add provider', async (v) => {
      const ProviderDetails = { oidc_issuer: v.issuer, client_id: v.clientId, authorize_scopes: list(v.scopes).join(' '), attributes_request_method: 'GET' };
      if (v.clientSecret) ProviderDetails.client_secret = v.clientSecret;
      await idp('CreateIdentityProvider', {
        UserPoolId: pool.Id, ProviderName: v.name, ProviderType: 'OIDC', ProviderDetails,
        AttributeMapping: v.email ? { email: v.email } : undefined,
      });
      refresh();
    }),
    form('Add a SAML provider', [
      field('Name', 'name', { required: true }),
      field('Metadata URL', 'url', { type: 'url' }),
      field('or metadata XML', 'xml', { type: 'textarea' }),
      field('Email attribute', 'email', { value: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress' }),
    ], 'Add provider', async (v) => {
      const ProviderDetails = v.xml ? { MetadataFile: v.xml } : { MetadataURL: v.url };
      await idp('CreateIdentityProvider', {
        UserPoolId: pool.Id, ProviderName: v.name, ProviderType: 'SAML', ProviderDetails,
        AttributeMapping: v.email ? { email: v.email } : undefined,
      });
      refresh();
    }),
  ];
}
