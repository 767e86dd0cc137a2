// The load benchmark's OAuth 2.0 peer: node oidc-provider on 127.0.0.1:PORT, configured to sign
// RS256 JWT access tokens like Cognate (resource indicators with `accessTokenFormat: 'jwt'`), one
// confidential client (client_secret_basic) allowed client_credentials and refresh_token, and one
// refresh token with `openid` (so a refresh signs an ID token and an access token, as Cognate's
// does). The memory adapter is oidc-provider's default. Prints one JSON line with what the load
// generator needs, then serves until SIGTERM.
//   node oidc-peer.mjs PORT   (NODE_PATH points at the cached node_modules)
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:cognate:bench';
const client = { client_id: 'bench', client_secret: 'bench-secret-0123456789' };
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [{
    ...client,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    redirect_uris: ['https://app.example.com/cb'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid offline_access api',
  }],
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: 'bench@example.com' }),
  }),
  claims: { openid: ['sub'], email: ['email'] },
  scopes: ['openid', 'offline_access', 'api'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  ttl: { RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
});
// No request log: the peer, like Cognate in the benchmark, writes one line per request at most.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const grant = new provider.Grant({ accountId: 'bench', clientId: client.client_id });
grant.addOIDCScope('openid offline_access');
grant.addResourceScope(resource, 'api');
const grantId = await grant.save();
const refresh = new provider.RefreshToken({
  accountId: 'bench',
  clientId: client.client_id,
  client: await provider.Client.find(client.client_id),
  grantId,
  gty: 'authorization_code',
  scope: 'openid offline_access api',
  resource,
  authTime: Math.floor(Date.now() / 1000),
});
const refreshToken = await refresh.save();

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ issuer, refreshToken, ...client }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
