// Amplify JS v6 with passkeys and choice-based sign-in (issue 18), in headless Chromium with the
// DevTools virtual authenticator: the page (amplify-page.mjs) is served on http://localhost, a
// secure context whose host is the pool's relying party id (an IP address cannot be one). The
// pool allows PASSWORD, EMAIL_OTP and WEB_AUTHN first (SignInPolicy) and passkeys for
// `localhost` (WebAuthnConfiguration); the client allows USER_AUTH.
//
// A user signs up and in (SRP), associateWebAuthnCredential registers a passkey in the virtual
// authenticator, listWebAuthnCredentials shows it, signOut, then signIn with USER_AUTH and
// preferredChallenge WEB_AUTHN signs in with it (Amplify calls navigator.credentials.get itself);
// without a preference the choice (CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION) offers exactly
// the pool's factors the user can use and answers WEB_AUTHN; EMAIL_OTP with the code from the
// outbox; deleteWebAuthnCredential removes the passkey.
'use strict';

const { unique, eq, ok, Journey, expectCode, adminClient } = require('./lib.cjs');
const { amplifyPage } = require('./amplify.cjs');
const { target } = require('./lib.cjs');

async function run() {
  const journey = new Journey('aws-amplify passkeys (Chromium)');
  const sdk = require('@aws-sdk/client-cognito-identity-provider');
  const admin = adminClient();
  const browser = amplifyPage(journey);
  const { call } = browser;
  let authenticator;
  try {
    const pool = await journey.step('CreateUserPool (SignInPolicy PASSWORD, EMAIL_OTP, WEB_AUTHN), SetUserPoolMfaConfig (RelyingPartyId localhost), a client with ALLOW_USER_AUTH', async () => {
      const created = await admin.send(new sdk.CreateUserPoolCommand({
        PoolName: unique('js-amplify-passkeys'),
        AutoVerifiedAttributes: ['email'],
        Policies: { SignInPolicy: { AllowedFirstAuthFactors: ['PASSWORD', 'EMAIL_OTP', 'WEB_AUTHN'] } },
      }));
      const poolId = created.UserPool.Id;
      await admin.send(new sdk.SetUserPoolMfaConfigCommand({
        UserPoolId: poolId,
        WebAuthnConfiguration: { RelyingPartyId: 'localhost', UserVerification: 'required' },
      }));
      const client = await admin.send(new sdk.CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'js-amplify-passkeys',
        ExplicitAuthFlows: ['ALLOW_USER_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }));
      return { poolId, clientId: client.UserPoolClient.ClientId };
    });
    if (!pool) return journey;
    await browser.open();
    await journey.step('Amplify.configure; a virtual authenticator (CTAP2, resident keys, user verification)', async () => {
      await call('configure', {
        userPoolId: pool.poolId, userPoolClientId: pool.clientId, userPoolEndpoint: target.baseUrl,
      });
      authenticator = await browser.addAuthenticator();
      eq('credentials in the authenticator', await authenticator.credentials(), []);
    });

    const username = unique('amplify-passkey');
    const password = 'Amplify-Passw0rd!';
    await journey.step('signUp, confirmSignUp with the code from the outbox, signIn (SRP): DONE', async () => {
      const code = await expectCode(pool.poolId, username);
      await call('signUp', username, password, `${username}@example.com`);
      await call('confirmSignUp', username, await code());
      eq('signIn', await call('signIn', username, password), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    });

    let credentialId;
    await journey.step('associateWebAuthnCredential: a passkey for localhost in the authenticator', async () => {
      eq('associateWebAuthnCredential', await call('associateWebAuthnCredential'), null);
      const held = await authenticator.credentials();
      eq('credentials in the authenticator', held.length, 1);
      eq('rpId', held[0].rpId, 'localhost');
      eq('isResidentCredential', held[0].isResidentCredential, true);
      credentialId = held[0].credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    });

    await journey.step('listWebAuthnCredentials: that passkey', async () => {
      const listed = await call('listWebAuthnCredentials');
      eq('number of credentials', listed.credentials.length, 1);
      const [c] = listed.credentials;
      eq('credentialId', c.credentialId, credentialId);
      eq('relyingPartyId', c.relyingPartyId, 'localhost');
      eq('authenticatorAttachment', c.authenticatorAttachment, 'platform');
      ok('createdAt is a date', !Number.isNaN(Date.parse(c.createdAt)), c.createdAt);
      eq('nextToken', listed.nextToken, undefined);
    });

    await journey.step('signOut; signIn USER_AUTH with preferredChallenge WEB_AUTHN: DONE with the passkey', async () => {
      await call('signOut', false);
      const before = (await authenticator.credentials())[0].signCount;
      eq('signIn', await call('signInUserAuth', username, 'WEB_AUTHN'), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      eq('getCurrentUser().username', (await call('getCurrentUser')).username, username);
      ok('the authenticator signed', (await authenticator.credentials())[0].signCount > before);
    });

    await journey.step('signIn USER_AUTH: CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION; confirmSignIn WEB_AUTHN: DONE', async () => {
      await call('signOut', false);
      eq('signIn', await call('signInUserAuth', username), {
        isSignedIn: false,
        nextStep: {
          signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION',
          availableChallenges: ['PASSWORD', 'PASSWORD_SRP', 'EMAIL_OTP', 'WEB_AUTHN'],
        },
      });
      eq('confirmSignIn', await call('confirmSignIn', 'WEB_AUTHN'), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
      eq('getCurrentUser().username', (await call('getCurrentUser')).username, username);
    });

    await journey.step('signIn USER_AUTH with preferredChallenge EMAIL_OTP: CONFIRM_SIGN_IN_WITH_EMAIL_CODE; the code from the outbox: DONE', async () => {
      await call('signOut', false);
      const code = await expectCode(pool.poolId, username);
      const step = await call('signInUserAuth', username, 'EMAIL_OTP');
      eq('isSignedIn', step.isSignedIn, false);
      eq('nextStep.signInStep', step.nextStep.signInStep, 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE');
      eq('codeDeliveryDetails.deliveryMedium', step.nextStep.codeDeliveryDetails.deliveryMedium, 'EMAIL');
      eq('confirmSignIn', await call('confirmSignIn', await code()), { isSignedIn: true, nextStep: { signInStep: 'DONE' } });
    });

    await journey.step('deleteWebAuthnCredential: the list is empty, USER_AUTH no longer offers WEB_AUTHN', async () => {
      eq('deleteWebAuthnCredential', await call('deleteWebAuthnCredential', credentialId), null);
      eq('listWebAuthnCredentials', (await call('listWebAuthnCredentials')).credentials, []);
      await call('signOut', false);
      const step = await call('signInUserAuth', username);
      eq('availableChallenges', step.nextStep.availableChallenges, ['PASSWORD', 'PASSWORD_SRP', 'EMAIL_OTP']);
    });
  } finally {
    await browser.close();
  }
  return journey;
}

module.exports = { run };
