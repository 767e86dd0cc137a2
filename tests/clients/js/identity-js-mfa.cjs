// amazon-cognito-identity-js under Node: MFA (issue 17) with USER_PASSWORD_AUTH. MFA is ON in
// the pool (software tokens and SMS): the first sign-in goes through `mfaSetup`
// (associateSoftwareToken and verifySoftwareToken with the challenge session), the next through
// `totpRequired` (sendMFACode with SOFTWARE_TOKEN_MFA); once the administrator gives the user a
// phone number and prefers SMS, `mfaRequired` (sendMFACode with the code from the outbox).
'use strict';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = require('amazon-cognito-identity-js');
const {
  target, unique, eq, ok, rejects, Journey, expectCode, createPool,
} = require('./lib.cjs');
const { totp, stepOf, wrongTotp } = require('./totp.cjs');

const PASSWORD = 'Mfa-Passw0rd!';

/** authenticateUser's outcome: {kind: 'success'|'mfaSetup'|'totpRequired'|'mfaRequired', ...}. */
const outcome = (resolve, reject) => ({
  onSuccess: (session) => resolve({ kind: 'success', session }),
  onFailure: (error) => reject(error),
  mfaSetup: (name, parameters) => resolve({ kind: 'mfaSetup', name, parameters }),
  totpRequired: (name, parameters) => resolve({ kind: 'totpRequired', name, parameters }),
  mfaRequired: (name, parameters) => resolve({ kind: 'mfaRequired', name, parameters }),
  selectMFAType: (name, parameters) => resolve({ kind: 'selectMFAType', name, parameters }),
  newPasswordRequired: () => reject(new Error('unexpected newPasswordRequired challenge')),
  customChallenge: () => reject(new Error('unexpected customChallenge')),
});

async function run() {
  const journey = new Journey('amazon-cognito-identity-js MFA');
  let pool;
  let userPool;
  const username = unique('idjs-mfa');

  await journey.step('admin: a pool with MFA ON (software tokens, SMS) and a user with a password', async () => {
    pool = await createPool('identity-js-mfa');
    const { sdk, admin } = pool;
    const config = await admin.send(new sdk.SetUserPoolMfaConfigCommand({
      UserPoolId: pool.poolId,
      MfaConfiguration: 'ON',
      SoftwareTokenMfaConfiguration: { Enabled: true },
      SmsMfaConfiguration: {
        SmsAuthenticationMessage: 'Your code is {####}',
        SmsConfiguration: { SnsCallerArn: 'arn:aws:iam::000000000000:role/cognate-sms', ExternalId: 'js' },
      },
    }));
    eq('MfaConfiguration', config.MfaConfiguration, 'ON');
    await admin.send(new sdk.AdminCreateUserCommand({
      UserPoolId: pool.poolId, Username: username, MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: `${username}@example.com` }],
    }));
    await admin.send(new sdk.AdminSetUserPasswordCommand({
      UserPoolId: pool.poolId, Username: username, Password: PASSWORD, Permanent: true,
    }));
    userPool = new CognitoUserPool({ UserPoolId: pool.poolId, ClientId: pool.clientId, endpoint: `${target.baseUrl}/` });
  });

  const start = () => {
    const user = new CognitoUser({ Username: username, Pool: userPool });
    user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    const result = new Promise((resolve, reject) => user.authenticateUser(
      new AuthenticationDetails({ Username: username, Password: PASSWORD }), outcome(resolve, reject),
    ));
    return { user, result };
  };
  const answer = (fn) => new Promise((resolve, reject) => fn(outcome(resolve, reject)));

  let secret;
  let usedStep;
  await journey.step('authenticateUser: mfaSetup; associateSoftwareToken and verifySoftwareToken sign in', async () => {
    const { user, result } = start();
    const setup = await result;
    eq('callback', setup.kind, 'mfaSetup');
    eq('MFAS_CAN_SETUP', setup.parameters.MFAS_CAN_SETUP, '["SOFTWARE_TOKEN_MFA"]');
    secret = await new Promise((resolve, reject) => user.associateSoftwareToken({
      associateSecretCode: resolve, onFailure: reject,
    }));
    eq('secret length', secret.length, 32);
    await rejects('verifySoftwareToken with a wrong code', 'EnableSoftwareTokenMFAException',
      () => answer((cb) => user.verifySoftwareToken(wrongTotp(secret), 'node', cb)));
    usedStep = stepOf();
    const done = await answer((cb) => user.verifySoftwareToken(totp(secret, usedStep), 'node', cb));
    eq('callback', done.kind, 'success');
    ok('session.isValid()', done.session.isValid());
    eq('id token cognito:username', done.session.getIdToken().decodePayload()['cognito:username'], username);
  });

  await journey.step('authenticateUser: totpRequired; sendMFACode (replayed code refused, then the next code)', async () => {
    const { user, result } = start();
    const challenge = await result;
    eq('callback', challenge.kind, 'totpRequired');
    eq('challenge name', challenge.name, 'SOFTWARE_TOKEN_MFA');
    await rejects('the verification code again', 'CodeMismatchException',
      () => answer((cb) => user.sendMFACode(totp(secret, usedStep), cb, 'SOFTWARE_TOKEN_MFA')));
    const done = await answer((cb) => user.sendMFACode(totp(secret, usedStep + 1), cb, 'SOFTWARE_TOKEN_MFA'));
    eq('callback', done.kind, 'success');
    ok('session.isValid()', done.session.isValid());
  });

  await journey.step('admin gives a phone number and prefers SMS: mfaRequired, sendMFACode with the SMS code', async () => {
    const { sdk, admin } = pool;
    await admin.send(new sdk.AdminUpdateUserAttributesCommand({
      UserPoolId: pool.poolId, Username: username,
      UserAttributes: [{ Name: 'phone_number', Value: '+15550001234' }],
    }));
    await admin.send(new sdk.AdminSetUserMFAPreferenceCommand({
      UserPoolId: pool.poolId, Username: username,
      SMSMfaSettings: { Enabled: true, PreferredMfa: true },
    }));
    const nextCode = await expectCode(pool.poolId, username);
    const { user, result } = start();
    const challenge = await result;
    eq('callback', challenge.kind, 'mfaRequired');
    eq('challenge name', challenge.name, 'SMS_MFA');
    eq('CODE_DELIVERY_DELIVERY_MEDIUM', challenge.parameters.CODE_DELIVERY_DELIVERY_MEDIUM, 'SMS');
    eq('CODE_DELIVERY_DESTINATION', challenge.parameters.CODE_DELIVERY_DESTINATION, '+*******1234');
    const code = await nextCode();
    const done = await answer((cb) => user.sendMFACode(code, cb));
    eq('callback', done.kind, 'success');
  });

  return { journey };
}

module.exports = { run };
