// Remembered devices as amazon-cognito-identity-js runs them by itself: its default sign-in
// (USER_SRP_AUTH) in a pool that tracks devices gets NewDeviceMetadata, and the library confirms
// the device on its own (its AuthenticationHelper's device verifier) and caches the device key;
// the next sign-in of the same user proves the device with DEVICE_SRP_AUTH /
// DEVICE_PASSWORD_VERIFIER; then the app remembers, lists and forgets the device.
'use strict';

const {
  AuthenticationDetails, CognitoUser, CognitoUserPool,
} = require('amazon-cognito-identity-js');
const {
  target, unique, eq, ok, claims, Journey,
} = require('./lib.cjs');

const PASSWORD = 'Device-Passw0rd!';

// Resolves with every argument onSuccess got (identity-js passes userConfirmationNecessary as
// the second).
const callbacks = (fn) => new Promise((resolve, reject) => {
  fn({
    onSuccess: (...values) => resolve(values),
    onFailure: (error) => reject(error),
    newPasswordRequired: () => reject(new Error('unexpected newPasswordRequired challenge')),
    mfaRequired: () => reject(new Error('unexpected mfaRequired challenge')),
    totpRequired: () => reject(new Error('unexpected totpRequired challenge')),
  });
});

async function run() {
  const journey = new Journey('identity-js devices');
  const sdk = require('@aws-sdk/client-cognito-identity-provider');
  const { adminClient } = require('./lib.cjs');
  const admin = adminClient();
  let pool;
  let user;
  let deviceKey;

  await journey.step('a pool with DeviceConfiguration and a user with a permanent password', async () => {
    const created = await admin.send(new sdk.CreateUserPoolCommand({
      PoolName: unique('js-devices'),
      DeviceConfiguration: { ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true },
    }));
    const poolId = created.UserPool.Id;
    const client = await admin.send(new sdk.CreateUserPoolClientCommand({
      UserPoolId: poolId, ClientName: 'js-devices', ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    }));
    const username = unique('idjs-dev');
    await admin.send(new sdk.AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS' }));
    await admin.send(new sdk.AdminSetUserPasswordCommand({
      UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true,
    }));
    pool = {
      poolId,
      username,
      userPool: new CognitoUserPool({
        UserPoolId: poolId, ClientId: client.UserPoolClient.ClientId, endpoint: `${target.baseUrl}/`,
      }),
    };
  });

  const signIn = async () => {
    const fresh = new CognitoUser({ Username: pool.username, Pool: pool.userPool });
    const [session, confirmationNecessary] = await callbacks((cb) => fresh.authenticateUser(
      new AuthenticationDetails({ Username: pool.username, Password: PASSWORD }), cb,
    ));
    return { user: fresh, session, confirmationNecessary };
  };

  await journey.step('authenticateUser (USER_SRP_AUTH) confirms the new device by itself', async () => {
    const first = await signIn();
    user = first.user;
    eq('userConfirmationNecessary (DeviceOnlyRememberedOnUserPrompt)', first.confirmationNecessary, true);
    deviceKey = claims(first.session.getAccessToken().getJwtToken()).device_key;
    const region = pool.poolId.split('_')[0];
    ok('the access token names a device', typeof deviceKey === 'string' && deviceKey.startsWith(`${region}_`), deviceKey);
    eq('the cached device key', user.deviceKey, deviceKey);
  });

  await journey.step('setDeviceStatusRemembered, getDevice', async () => {
    await callbacks((cb) => user.setDeviceStatusRemembered(cb));
    const [got] = await callbacks((cb) => user.getDevice(cb));
    const attributes = Object.fromEntries(got.Device.DeviceAttributes.map((a) => [a.Name, a.Value]));
    eq('dev:device_remembered_status', attributes['dev:device_remembered_status'], 'remembered');
    eq('DeviceKey', got.Device.DeviceKey, deviceKey);
  });

  await journey.step('the next authenticateUser proves the device (DEVICE_SRP_AUTH)', async () => {
    const again = await signIn();
    eq('the access token names the same device', claims(again.session.getAccessToken().getJwtToken()).device_key, deviceKey);
    eq('no new device was confirmed', again.confirmationNecessary, undefined);
    user = again.user;
  });

  await journey.step('listDevices shows one device; forgetDevice forgets it', async () => {
    const [listed] = await callbacks((cb) => user.listDevices(10, null, cb));
    eq('listed device keys', listed.Devices.map((d) => d.DeviceKey), [deviceKey]);
    await callbacks((cb) => user.forgetDevice(cb));
    const [after] = await callbacks((cb) => user.listDevices(10, null, cb));
    eq('devices after forgetDevice', after.Devices, []);
  });

  return journey;
}

module.exports = { run };
