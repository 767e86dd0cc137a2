// Amplify JS v6 in headless Chromium (playwright-core driving Debian's chromium), configured with
// `Auth.Cognito.userPoolEndpoint` = Cognate. The page (amplify-page.mjs, bundled by esbuild) is
// served from its own loopback origin, so every call to Cognate is a cross-origin request with a
// CORS preflight, as in a real single-page app. Node drives the steps, reads codes from the
// outbox, hands them to the page, and checks revocation with direct calls to Cognate.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const {
  target, unique, eq, ok, claims, Journey, StepFailure, expectCode, publicCall, refreshRefused, rejects,
} = require('./lib.cjs');
const { totp, stepOf, wrongTotp } = require('./totp.cjs');

// With `headless: true`, playwright-core adds --headless itself.
// The page is served on http://localhost (a secure context whose host can be a passkey's relying
// party id; an IP address cannot), which Chromium maps to the loopback address it listens on.
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP localhost 127.0.0.1'];

/** Bundles the page into `dir` with esbuild, resolving packages from NODE_PATH. */
async function bundle(dir) {
  const esbuild = require('esbuild');
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'amplify-page.mjs')],
    outfile: path.join(dir, 'page.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    nodePaths: (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean),
    logLevel: 'error',
  });
  fs.writeFileSync(path.join(dir, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>Amplify on Cognate</title><script src="page.js"></script>\n');
}

/** A static file server for `dir` on a free loopback port; resolves to {server, origin}, the
 * origin on `localhost` (see CHROMIUM_FLAGS). */
function serve(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
  const server = http.createServer((request, response) => {
    const name = new URL(request.url, 'http://127.0.0.1').pathname.replace(/^\/$/, '/index.html');
    const file = path.join(dir, path.basename(name));
    if (request.method !== 'GET' || !fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://localhost:${server.address().port}` }));
  });
}

/**
 * The Amplify page in headless Chromium, for one journey: `open()` (a step of its own) bundles and
 * serves the page and opens it; `call(name, ...args)` runs one of its functions and answers the
 * value or throws the error Amplify threw, by name; `close()` tears everything down and, when the
 * journey failed, prints what the page reported.
 */
function amplifyPage(journey) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cognate-amplify-'));
  const pageErrors = [];
  let server;
  let context;
  let page;
  return {
    open: () => journey.step('bundle the page (esbuild), serve it, open it in headless Chromium', async () => {
      await bundle(dir);
      let origin;
      ({ server, origin } = await serve(dir));
      ok('the page\'s origin differs from Cognate\'s', origin !== new URL(target.baseUrl).origin, origin);
      const { chromium } = require('playwright-core');
      if (!process.env.CHROMIUM) throw new StepFailure('CHROMIUM is not set (tests/clients/js/setup.sh --env)');
      context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
        executablePath: process.env.CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
      });
      page = context.pages()[0] || await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      page.on('requestfailed', (request) => pageErrors.push(`request failed: ${request.method()} ${request.url()}: ${request.failure() && request.failure().errorText}`));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => window.cognateReady === true);
    }),
    /** Chromium's virtual authenticator (DevTools WebAuthn domain: CTAP2, resident keys, user
     * verification, presence simulated); answers `credentials()`, what it holds. */
    addAuthenticator: async () => {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
          hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
        },
      });
      return {
        credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
      };
    },
    call: async (name, ...args) => {
      const outcome = await page.evaluate(([fn, fnArgs]) => window.cognate[fn](...fnArgs), [name, args]);
      if (outcome.error) {
        const error = new Error(outcome.error.message);
        error.name = outcome.error.name;
        throw error;
      }
      return outcome.ok;
    },
    close: async () => {
      if (journey.failed && pageErrors.length) console.log(`       in the page: ${pageErrors.join('\n       in the page: ')}`);
      if (context) await context.close().catch(() => {});
      if (server) server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function run(pool) {
  const journey = new Journey('aws-amplify (Chromium)');
  const tokens = {};
  const browser = amplifyPage(journey);
  const { call } = browser;
  try {
    await browser.open();

    const username = unique('amplify');
    const email = `${username}@example.com`;
    const password = 'Amplify-Passw0rd!';
    let sub;

    await journey.step('Amplify.configure with userPoolEndpoint', async () => {
      const endpoint = await call('configure', {
        userPoolId: pool.poolId, userPoolClientId: pool.clientId, userPoolEndpoint: target.baseUrl,
      });
      eq('configured userPoolEndpoint', endpoint, target.baseUrl);
    });

    let nextCode;
    await journey.step('signUp: CONFIRM_SIGN_UP, code sent by email', async () => {
      nextCode = await expectCode(pool.poolId, username);
      const result = await call('signUp', username, password, email);
      eq('isSignUpComplete', result.isSignUpComplete, false);
      eq('nextStep.signUpStep', result.nextStep.signUpStep, 'CONFIRM_SIGN_UP');
      eq('codeDeliveryDetails.deliveryMedium', result.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
      eq('codeDeliveryDetails.attributeName', result.nextStep.codeDeliveryDetails.attributeName, 'email');
      ok('userId is a UUID', /^[0-9a-f-]{36}$/.test(result.userId), result.userId);
      sub = result.userId;
    });

    await journey.step('signUp again with the same username: UsernameExistsException', async () => {
      await rejects('duplicate signUp', 'UsernameExistsException', () => call('signUp', username, password, email));
    });

    await journey.step('confirmSignUp with the code from the outbox (then the admin adds the user to a group)', async () => {
      const result = await call('confirmSignUp', username, await nextCode());
      eq('isSignUpComplete', result.isSignUpComplete, true);
      eq('nextStep.signUpStep', result.nextStep.signUpStep, 'DONE');
      await pool.admin.send(new pool.sdk.AdminAddUserToGroupCommand({
        UserPoolId: pool.poolId, Username: username, GroupName: pool.group,
      }));
    });

    await journey.step('signIn with a wrong password: NotAuthorizedException', async () => {
      await rejects('wrong password', 'NotAuthorizedException',
        () => call('signIn', username, 'Wrong-Passw0rd!', 'USER_PASSWORD_AUTH'));
    });

    await journey.step('signIn (USER_PASSWORD_AUTH): signed in', async () => {
      const result = await call('signIn', username, password, 'USER_PASSWORD_AUTH');
      eq('isSignedIn', result.isSignedIn, true);
      eq('nextStep.signInStep', result.nextStep.signInStep, 'DONE');
      const user = await call('getCurrentUser');
      eq('getCurrentUser().username', user.username, username);
      eq('getCurrentUser().userId', user.userId, sub);
    });

    await journey.step('signIn with the default flow (USER_SRP_AUTH)', async () => {
      await call('signOut', false);
      const result = await call('signIn', username, password);
      eq('isSignedIn', result.isSignedIn, true);
      eq('nextStep.signInStep', result.nextStep.signInStep, 'DONE');
    });

    let first;
    await journey.step('fetchAuthSession: the tokens of this sign-in', async () => {
      first = await call('fetchAuthSession', false);
      eq('userSub', first.userSub, sub);
      const id = claims(first.idToken);
      eq('id token email', id.email, email);
      eq('id token aud', id.aud, pool.clientId);
      eq('id token iss', id.iss, `${target.baseUrl}/${pool.poolId}`);
      eq('access token client_id', claims(first.accessToken).client_id, pool.clientId);
    });

    await journey.step('fetchAuthSession with forceRefresh: new tokens, same sign-in', async () => {
      const refreshed = await call('fetchAuthSession', true);
      const before = claims(first.accessToken);
      const after = claims(refreshed.accessToken);
      ok('a new access token', refreshed.accessToken !== first.accessToken);
      ok('a new jti', after.jti !== before.jti, after.jti);
      eq('same origin_jti', after.origin_jti, before.origin_jti);
      eq('cognito:groups', after['cognito:groups'], [pool.group]);
      Object.assign(tokens, { idToken: refreshed.idToken, accessToken: refreshed.accessToken });
    });

    await journey.step('fetchUserAttributes', async () => {
      const attributes = await call('fetchUserAttributes');
      eq('sub', attributes.sub, sub);
      eq('email', attributes.email, email);
      eq('email_verified', attributes.email_verified, 'true');
    });

    await journey.step('updateUserAttributes, and fetchUserAttributes shows the change', async () => {
      const result = await call('updateUserAttributes', { name: 'Grace Hopper' });
      eq('name.isUpdated', result.name.isUpdated, true);
      eq('name.nextStep.updateAttributeStep', result.name.nextStep.updateAttributeStep, 'DONE');
      eq('name after update', (await call('fetchUserAttributes')).name, 'Grace Hopper');
    });

    await journey.step('signOut revokes the refresh token (RevokeToken) and forgets the user', async () => {
      const before = await call('stored', pool.clientId);
      eq('LastAuthUser before signOut', before.lastAuthUser, username);
      ok('a stored refresh token', typeof before.refreshToken === 'string' && before.refreshToken.length > 0);
      await call('signOut', false);
      const after = await call('stored', pool.clientId);
      eq('stored after signOut', after, { lastAuthUser: null, refreshToken: null });
      await rejects('getCurrentUser after signOut', 'UserUnAuthenticatedException', () => call('getCurrentUser'));
      await refreshRefused('the revoked refresh token', pool.clientId, before.refreshToken);
    });

    await journey.step('signOut({global: true}) ends every session: refresh and access tokens refused', async () => {
      const result = await call('signIn', username, password, 'USER_PASSWORD_AUTH');
      eq('isSignedIn', result.isSignedIn, true);
      const session = await call('fetchAuthSession', false);
      const { refreshToken } = await call('stored', pool.clientId);
      await call('signOut', true);
      await refreshRefused('the refresh token after global sign-out', pool.clientId, refreshToken);
      await rejects('GetUser with the access token after global sign-out', 'NotAuthorizedException',
        () => publicCall('GetUser', { AccessToken: session.accessToken }));
    });

    // -- MFA (issue 17): TOTP set up after sign-in, then during sign-in on an MFA ON pool --------
    const { sdk, admin } = pool;
    let secret;
    let usedStep;
    await journey.step('MFA OPTIONAL: setUpTOTP, verifyTOTPSetup, updateMFAPreference, fetchMFAPreference', async () => {
      await admin.send(new sdk.SetUserPoolMfaConfigCommand({
        UserPoolId: pool.poolId, MfaConfiguration: 'OPTIONAL', SoftwareTokenMfaConfiguration: { Enabled: true },
      }));
      const result = await call('signIn', username, password, 'USER_PASSWORD_AUTH');
      eq('isSignedIn', result.isSignedIn, true);
      ({ sharedSecret: secret } = await call('setUpTOTP'));
      eq('sharedSecret length', secret.length, 32);
      await rejects('verifyTOTPSetup with a wrong code', 'EnableSoftwareTokenMFAException',
        () => call('verifyTOTPSetup', wrongTotp(secret)));
      usedStep = stepOf();
      await call('verifyTOTPSetup', totp(secret, usedStep), 'chromium');
      eq('fetchMFAPreference before', await call('fetchMFAPreference'), {});
      await call('updateMFAPreference', { totp: 'PREFERRED' });
      const after = await call('fetchMFAPreference');
      eq('fetchMFAPreference after: enabled', after.enabled, ['TOTP']);
      eq('fetchMFAPreference after: preferred', after.preferred, 'TOTP');
      await call('signOut', false);
    });

    await journey.step('signIn: CONFIRM_SIGN_IN_WITH_TOTP_CODE; confirmSignIn with the next code: DONE', async () => {
      const result = await call('signIn', username, password, 'USER_PASSWORD_AUTH');
      eq('isSignedIn', result.isSignedIn, false);
      eq('nextStep.signInStep', result.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_TOTP_CODE');
      await rejects('confirmSignIn with the used code', 'CodeMismatchException',
        () => call('confirmSignIn', totp(secret, usedStep)));
      const done = await call('confirmSignIn', totp(secret, usedStep + 1));
      eq('isSignedIn', done.isSignedIn, true);
      eq('nextStep.signInStep', done.nextStep.signInStep, 'DONE');
      eq('getCurrentUser().username', (await call('getCurrentUser')).username, username);
      await call('signOut', false);
    });

    await journey.step('MFA ON, a new user: CONTINUE_SIGN_IN_WITH_TOTP_SETUP; confirmSignIn with a code: DONE', async () => {
      await admin.send(new sdk.SetUserPoolMfaConfigCommand({
        UserPoolId: pool.poolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true },
      }));
      const newcomer = unique('amplify-mfa');
      await admin.send(new sdk.AdminCreateUserCommand({
        UserPoolId: pool.poolId, Username: newcomer, MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'email', Value: `${newcomer}@example.com` }],
      }));
      await admin.send(new sdk.AdminSetUserPasswordCommand({
        UserPoolId: pool.poolId, Username: newcomer, Password: password, Permanent: true,
      }));
      const result = await call('signIn', newcomer, password, 'USER_PASSWORD_AUTH');
      eq('isSignedIn', result.isSignedIn, false);
      eq('nextStep.signInStep', result.nextStep.signInStep, 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP');
      const shared = result.nextStep.totpSetupDetails.sharedSecret;
      eq('sharedSecret length', shared.length, 32);
      const done = await call('confirmSignIn', totp(shared, stepOf()));
      eq('isSignedIn', done.isSignedIn, true);
      eq('nextStep.signInStep', done.nextStep.signInStep, 'DONE');
      eq('getCurrentUser().username', (await call('getCurrentUser')).username, newcomer);
      const preference = await call('fetchMFAPreference');
      eq('fetchMFAPreference: enabled', preference.enabled, ['TOTP']);
      eq('fetchMFAPreference: preferred', preference.preferred, 'TOTP');
      await call('signOut', false);
    });
  } finally {
    await browser.close();
  }
  return { journey, tokens };
}

module.exports = { run, amplifyPage };
