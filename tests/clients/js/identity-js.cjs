// amazon-cognito-identity-js under Node, pointed at Cognate by CognitoUserPool's `endpoint`:
// the whole life of one user, as an app written against Cognito drives it.
'use strict';

const {
  AuthenticationDetails, CognitoUser, CognitoUserAttribute, CognitoUserPool, CognitoRefreshToken,
} = require('amazon-cognito-identity-js');
const {
  target, unique, eq, ok, rejects, claims, Journey, expectCode,
} = require('./lib.cjs');

// identity-js speaks in callbacks; these turn its calls into promises.
const nodeCall = (fn) => new Promise((resolve, reject) => {
  fn((error, ...results) => (error ? reject(error) : resolve(results)));
});
const callbacks = (fn) => new Promise((resolve, reject) => {
  fn({
    onSuccess: (value) => resolve(value),
    onFailure: (error) => reject(error),
    newPasswordRequired: () => reject(new Error('unexpected newPasswordRequired challenge')),
    mfaRequired: () => reject(new Error('unexpected mfaRequired challenge')),
    customChallenge: () => reject(new Error('unexpected customChallenge')),
  });
});

/** Runs the journey on its own pool; returns the journey and the tokens it ended up with. */
async function run(pool) {
  const journey = new Journey('amazon-cognito-identity-js');
  const userPool = new CognitoUserPool({
    UserPoolId: pool.poolId, ClientId: pool.clientId, endpoint: `${target.baseUrl}/`,
  });
  const username = unique('idjs');
  const email = `${username}@example.com`;
  const passwords = ['First-Passw0rd!', 'Second-Passw0rd!', 'Third-Passw0rd!'];
  const tokens = {};
  let sub;
  let nextCode;
  let user;
  let session;

  const signIn = async (password, flow = 'USER_PASSWORD_AUTH') => {
    const fresh = new CognitoUser({ Username: username, Pool: userPool });
    fresh.setAuthenticationFlowType(flow);
    const result = await callbacks((cb) => fresh.authenticateUser(
      new AuthenticationDetails({ Username: username, Password: password }), cb,
    ));
    return { user: fresh, session: result };
  };

  await journey.step('signUp answers an unconfirmed user and where the code went', async () => {
    nextCode = await expectCode(pool.poolId, username);
    const [result] = await nodeCall((cb) => userPool.signUp(
      username, passwords[0], [new CognitoUserAttribute({ Name: 'email', Value: email })], null, cb,
    ));
    eq('userConfirmed', result.userConfirmed, false);
    ok('userSub is a UUID', /^[0-9a-f-]{36}$/.test(result.userSub), result.userSub);
    eq('codeDeliveryDetails.DeliveryMedium', result.codeDeliveryDetails.DeliveryMedium, 'EMAIL');
    eq('codeDeliveryDetails.AttributeName', result.codeDeliveryDetails.AttributeName, 'email');
    eq('user.getUsername()', result.user.getUsername(), username);
    sub = result.userSub;
  });

  await journey.step('signUp again with the same username: UsernameExistsException', async () => {
    await rejects('duplicate signUp', 'UsernameExistsException', () => nodeCall((cb) => userPool.signUp(
      username, passwords[0], [new CognitoUserAttribute({ Name: 'email', Value: email })], null, cb,
    )));
  });

  await journey.step('confirmRegistration with the code from the outbox (then the admin adds the user to a group)', async () => {
    const code = await nextCode();
    user = new CognitoUser({ Username: username, Pool: userPool });
    const [result] = await nodeCall((cb) => user.confirmRegistration(code, true, cb));
    eq('confirmRegistration result', result, 'SUCCESS');
    await pool.admin.send(new pool.sdk.AdminAddUserToGroupCommand({
      UserPoolId: pool.poolId, Username: username, GroupName: pool.group,
    }));
  });

  await journey.step('authenticateUser with a wrong password: NotAuthorizedException', async () => {
    await rejects('wrong password', 'NotAuthorizedException', () => signIn('Wrong-Passw0rd!'));
  });

  await journey.step('authenticateUser (USER_PASSWORD_AUTH) gives a valid session', async () => {
    ({ user, session } = await signIn(passwords[0]));
    ok('session.isValid()', session.isValid());
    const id = session.getIdToken().decodePayload();
    const access = session.getAccessToken().decodePayload();
    eq('id token sub', id.sub, sub);
    eq('id token email', id.email, email);
    eq('id token cognito:username', id['cognito:username'], username);
    eq('id token aud', id.aud, pool.clientId);
    eq('id token iss', id.iss, `${target.baseUrl}/${pool.poolId}`);
    eq('id token cognito:groups', id['cognito:groups'], [pool.group]);
    eq('access token token_use', access.token_use, 'access');
    eq('access token client_id', access.client_id, pool.clientId);
    eq('access token username', access.username, username);
    ok('a refresh token', session.getRefreshToken().getToken().length > 0);
    tokens.idToken = session.getIdToken().getJwtToken();
    tokens.accessToken = session.getAccessToken().getJwtToken();
  });

  await journey.step('authenticateUser with the default flow (USER_SRP_AUTH)', async () => {
    const srp = await signIn(passwords[0], 'USER_SRP_AUTH');
    ok('SRP session.isValid()', srp.session.isValid());
    eq('SRP id token sub', srp.session.getIdToken().decodePayload().sub, sub);
    eq('SRP id token cognito:username', srp.session.getIdToken().decodePayload()['cognito:username'], username);
    // The SRP sign-in is now the stored session: the steps below go on with it.
    ({ user, session } = srp);
    tokens.idToken = session.getIdToken().getJwtToken();
    tokens.accessToken = session.getAccessToken().getJwtToken();
  });

  await journey.step('getSession on the pool\'s current user reads the stored session', async () => {
    const current = userPool.getCurrentUser();
    ok('getCurrentUser() is the signed-in user', current && current.getUsername() === username, current && current.getUsername());
    const [stored] = await nodeCall((cb) => current.getSession(cb));
    ok('stored session is valid', stored.isValid());
    eq('stored access token', stored.getAccessToken().getJwtToken(), tokens.accessToken);
  });

  await journey.step('refreshSession gives new tokens for the same sign-in', async () => {
    const [refreshed] = await nodeCall((cb) => user.refreshSession(session.getRefreshToken(), cb));
    const before = claims(tokens.accessToken);
    const after = refreshed.getAccessToken().decodePayload();
    ok('a new access token', refreshed.getAccessToken().getJwtToken() !== tokens.accessToken);
    ok('a new jti', after.jti !== before.jti, after.jti);
    eq('same sub', after.sub, sub);
    eq('same origin_jti', after.origin_jti, before.origin_jti);
    session = refreshed;
  });

  const attributes = async () => {
    const [list] = await nodeCall((cb) => user.getUserAttributes(cb));
    return Object.fromEntries(list.map((a) => [a.getName(), a.getValue()]));
  };

  await journey.step('getUserAttributes', async () => {
    const found = await attributes();
    eq('sub', found.sub, sub);
    eq('email', found.email, email);
    eq('email_verified', found.email_verified, 'true');
  });

  await journey.step('updateAttributes, and getUserAttributes shows the change', async () => {
    const [result] = await nodeCall((cb) => user.updateAttributes(
      [new CognitoUserAttribute({ Name: 'name', Value: 'Ada Lovelace' })], cb,
    ));
    eq('updateAttributes result', result, 'SUCCESS');
    eq('name after update', (await attributes()).name, 'Ada Lovelace');
  });

  await journey.step('changePassword, then the new password signs in and the old one does not', async () => {
    const [result] = await nodeCall((cb) => user.changePassword(passwords[0], passwords[1], cb));
    eq('changePassword result', result, 'SUCCESS');
    await rejects('old password', 'NotAuthorizedException', () => signIn(passwords[0]));
    ({ user, session } = await signIn(passwords[1]));
  });

  await journey.step('forgotPassword sends a code; confirmPassword sets the new password', async () => {
    const nextResetCode = await expectCode(pool.poolId, username);
    const forgot = new CognitoUser({ Username: username, Pool: userPool });
    const delivery = await callbacks((cb) => forgot.forgotPassword(cb));
    eq('CodeDeliveryDetails.DeliveryMedium', delivery.CodeDeliveryDetails.DeliveryMedium, 'EMAIL');
    eq('CodeDeliveryDetails.AttributeName', delivery.CodeDeliveryDetails.AttributeName, 'email');
    const code = await nextResetCode();
    const result = await callbacks((cb) => forgot.confirmPassword(code, passwords[2], cb));
    eq('confirmPassword result', result, 'SUCCESS');
    ({ user, session } = await signIn(passwords[2]));
  });

  let signedOut;
  await journey.step('globalSignOut', async () => {
    signedOut = session;
    const result = await callbacks((cb) => user.globalSignOut(cb));
    eq('globalSignOut result', result, 'SUCCESS');
    eq('getCurrentUser() after sign-out', userPool.getCurrentUser(), null);
  });

  await journey.step('refreshSession with the signed-out refresh token: NotAuthorizedException', async () => {
    const again = new CognitoUser({ Username: username, Pool: userPool });
    const refreshToken = new CognitoRefreshToken({ RefreshToken: signedOut.getRefreshToken().getToken() });
    await rejects('refresh after globalSignOut', 'NotAuthorizedException', () => nodeCall((cb) => again.refreshSession(refreshToken, cb)));
  });

  return { journey, tokens };
}

module.exports = { run };
