// The AWS SDK for JavaScript v3's `fromCognitoIdentityPool` (npm @aws-sdk/credential-providers)
// pointed at Cognate (`clientConfig.endpoint`): a user signs in to a user pool, and the credential
// provider turns the ID token into AWS credentials through Cognate's GetId and
// GetCredentialsForIdentity, as an app's S3 or DynamoDB client would. The identity pool is set up
// with SigV4-signed calls (the SDK's own signer) with the admin key.
//
// The credentials come from the STS the target was started with (COGNATE_STS_URL, moto in
// scripts/test-identity.sh and the edge stage); main.cjs runs these journeys only with one.
'use strict';

const { target, unique, eq, ok, rejects, Journey, publicCall } = require('./lib.cjs');
const { amplifyPage } = require('./amplify.cjs');

/** A signed `AWSCognitoIdentityService.<operation>` call with the admin key. */
async function identityAdmin(operation, body) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const url = new URL(`${target.baseUrl}/`);
  const signer = new SignatureV4({
    service: 'cognito-identity', region: target.region, credentials: target.admin, sha256: Sha256,
  });
  const request = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const response = await fetch(`${target.baseUrl}/`, { method: 'POST', headers: request.headers, body: request.body });
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.message || JSON.stringify(data)), { name: data.__type });
  return data;
}

async function run(pool) {
  const j = new Journey('fromCognitoIdentityPool');
  const { fromCognitoIdentityPool } = require('@aws-sdk/credential-providers');
  const provider = `cognito-idp.${target.region}.amazonaws.com/${pool.poolId}`;
  const username = unique('ip');
  const password = 'Correct-Horse-9-Battery';

  const idToken = await j.step('a signed-in user (AdminCreateUser, InitiateAuth)', async () => {
    await pool.admin.send(new pool.sdk.AdminCreateUserCommand({
      UserPoolId: pool.poolId, Username: username, MessageAction: 'SUPPRESS',
    }));
    await pool.admin.send(new pool.sdk.AdminSetUserPasswordCommand({
      UserPoolId: pool.poolId, Username: username, Password: password, Permanent: true,
    }));
    const out = await publicCall('InitiateAuth', {
      ClientId: pool.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return out.AuthenticationResult.IdToken;
  });

  const identityPoolId = await j.step('an identity pool with roles (signed with the SDK signer)', async () => {
    const created = await identityAdmin('CreateIdentityPool', {
      IdentityPoolName: 'js journey', AllowUnauthenticatedIdentities: true,
      CognitoIdentityProviders: [{ ProviderName: provider, ClientId: pool.clientId }],
    });
    await identityAdmin('SetIdentityPoolRoles', {
      IdentityPoolId: created.IdentityPoolId,
      Roles: {
        authenticated: 'arn:aws:iam::123456789012:role/js-auth',
        unauthenticated: 'arn:aws:iam::123456789012:role/js-guest',
      },
    });
    return created.IdentityPoolId;
  });

  const clientConfig = { region: target.region, endpoint: target.baseUrl, maxAttempts: 1 };
  await j.step('fromCognitoIdentityPool with the ID token: credentials from the STS', async () => {
    const credentials = await fromCognitoIdentityPool({
      identityPoolId, logins: { [provider]: idToken }, clientConfig,
    })();
    ok('an access key id', typeof credentials.accessKeyId === 'string' && credentials.accessKeyId.length > 0, credentials.accessKeyId);
    ok('a secret', typeof credentials.secretAccessKey === 'string' && credentials.secretAccessKey.length > 0);
    ok('a session token', typeof credentials.sessionToken === 'string' && credentials.sessionToken.length > 0);
    ok('an expiration in the future', credentials.expiration instanceof Date && credentials.expiration > new Date(), credentials.expiration);
    ok('the identity id', typeof credentials.identityId === 'string' && credentials.identityId.startsWith(`${target.region}:`), credentials.identityId);
  });
  await j.step('fromCognitoIdentityPool as a guest', async () => {
    const credentials = await fromCognitoIdentityPool({ identityPoolId, clientConfig })();
    ok('an access key id', credentials.accessKeyId.length > 0);
  });
  await j.step('a forged login is refused (NotAuthorizedException)', async () => {
    const [h, p, s] = idToken.split('.');
    const forged = [h, p, s.slice(0, -4) + (s.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.');
    await rejects('forged', 'NotAuthorizedException', () => fromCognitoIdentityPool({
      identityPoolId, logins: { [provider]: forged }, clientConfig,
    })());
  });
  await j.step('DeleteIdentityPool', async () => {
    eq('answer', await identityAdmin('DeleteIdentityPool', { IdentityPoolId: identityPoolId }), {});
  });
  return j;
}

/** The ARN the STS says `credentials` belong to (a SigV4-signed GetCallerIdentity). */
async function callerArn(credentials) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const url = new URL(`${process.env.COGNATE_STS_URL}/`);
  const signer = new SignatureV4({ service: 'sts', region: target.region, credentials, sha256: Sha256 });
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const request = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
    path: '/', headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' }, body,
  });
  const response = await fetch(url, { method: 'POST', headers: request.headers, body });
  const text = await response.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text);
  if (!response.ok || !arn) throw new Error(`GetCallerIdentity: ${response.status} ${text.slice(0, 300)}`);
  return arn[1];
}

/**
 * Amplify v6 in Chromium with `identityPoolId` and `identityPoolEndpoint` = Cognate: its
 * fetchAuthSession() answers identityId and credentials for a guest, the same identity once the
 * guest signs in (Amplify sends the guest identity with the ID token: the guest upgrade), and a
 * new guest after signOut. Every credential is checked against the STS (GetCallerIdentity).
 */
async function runAmplify(pool) {
  const j = new Journey('aws-amplify fetchAuthSession (identity pool, Chromium)');
  const username = unique('amp-ip');
  const password = 'Correct-Horse-9-Battery';
  const role = (name) => `arn:aws:iam::123456789012:role/${name}`;
  const assumed = (name) => `arn:aws:sts::123456789012:assumed-role/${name}/CognitoIdentityCredentials`;
  const browser = amplifyPage(j);
  const { call } = browser;
  try {
    const identityPoolId = await j.step('a user, and an identity pool with a guest and an authenticated role', async () => {
      await pool.admin.send(new pool.sdk.AdminCreateUserCommand({
        UserPoolId: pool.poolId, Username: username, MessageAction: 'SUPPRESS',
      }));
      await pool.admin.send(new pool.sdk.AdminSetUserPasswordCommand({
        UserPoolId: pool.poolId, Username: username, Password: password, Permanent: true,
      }));
      const created = await identityAdmin('CreateIdentityPool', {
        IdentityPoolName: 'amplify journey', AllowUnauthenticatedIdentities: true,
        CognitoIdentityProviders: [{
          ProviderName: `cognito-idp.${target.region}.amazonaws.com/${pool.poolId}`, ClientId: pool.clientId,
        }],
      });
      await identityAdmin('SetIdentityPoolRoles', {
        IdentityPoolId: created.IdentityPoolId,
        Roles: { authenticated: role('amp-auth'), unauthenticated: role('amp-guest') },
      });
      return created.IdentityPoolId;
    });
    await browser.open();
    await j.step('Amplify.configure with userPoolEndpoint, identityPoolId and identityPoolEndpoint', async () => {
      await call('configure', {
        userPoolId: pool.poolId, userPoolClientId: pool.clientId, userPoolEndpoint: target.baseUrl,
        identityPoolId, identityPoolEndpoint: target.baseUrl, allowGuestAccess: true,
      });
    });
    const credentialsOk = async (session, roleName) => {
      const c = session.credentials;
      ok('credentials', c && c.accessKeyId && c.secretAccessKey && c.sessionToken, c);
      ok('expiration in the future', new Date(c.expiration) > new Date(), c.expiration);
      eq('the STS says the credentials are', await callerArn(c), assumed(roleName));
    };
    const guest = await j.step('a guest: fetchAuthSession answers an identityId and the guest role\'s credentials', async () => {
      const session = await call('fetchAwsSession');
      eq('signed in', session.signedIn, false);
      ok('identityId', typeof session.identityId === 'string' && session.identityId.startsWith(`${target.region}:`), session.identityId);
      await credentialsOk(session, 'amp-guest');
      const described = await identityAdmin('DescribeIdentity', { IdentityId: session.identityId });
      eq('the guest has no logins', described.Logins || [], []);
      return session.identityId;
    });
    await j.step('signIn, then fetchAuthSession: the same identity, now authenticated, the authenticated role', async () => {
      eq('isSignedIn', (await call('signIn', username, password, 'USER_PASSWORD_AUTH')).isSignedIn, true);
      const session = await call('fetchAwsSession');
      eq('signed in', session.signedIn, true);
      eq('identityId (the guest, upgraded)', session.identityId, guest);
      await credentialsOk(session, 'amp-auth');
      const described = await identityAdmin('DescribeIdentity', { IdentityId: guest });
      eq('one login', (described.Logins || []).length, 1);
      ok('the login names the user pool', described.Logins[0].endsWith(`/${pool.poolId}`), described.Logins);
    });
    await j.step('signOut, then fetchAuthSession: a new guest identity with the guest role', async () => {
      await call('signOut', false);
      const session = await call('fetchAwsSession');
      eq('signed in', session.signedIn, false);
      ok('a new identity', session.identityId && session.identityId !== guest, session.identityId);
      await credentialsOk(session, 'amp-guest');
    });
    await j.step('DeleteIdentityPool', async () => {
      eq('answer', await identityAdmin('DeleteIdentityPool', { IdentityPoolId: identityPoolId }), {});
    });
  } finally {
    await browser.close();
  }
  return j;
}

module.exports = { run, runAmplify };
