// Known-answer vectors for Cognate's SRP (core/src/srp), the client's side computed by
// amazon-cognito-identity-js 6.3.21 (npm, pinned in tests/clients/js/package.json), under Node:
// its AuthenticationHelper (lib/AuthenticationHelper.js) with a fixed `a` injected
// (smallAValue, then its own calculateA), getPasswordAuthenticationKey for the key, and the
// signature as CognitoUser.authenticateUserDefaultAuth composes it (HMAC-SHA256 over poolName ‖
// USER_ID_FOR_SRP ‖ SECRET_BLOCK bytes ‖ DateHelper.getNowString()), with a fixed time. The
// server's v and B come from the pycognito vectors (vectors/pycognito.json), whose `b` and
// salt this file reuses, so the two clients are checked against the same server values.
//
// Run: core/src/srp/vectors/gen_identity_js.sh > core/src/srp/vectors/identity-js.json
'use strict';
const crypto = require('crypto');
const path = require('path');
const Helper = require('amazon-cognito-identity-js/lib/AuthenticationHelper.js').default;
const BigInteger = require('amazon-cognito-identity-js/lib/BigInteger.js').default;
const DateHelper = require('amazon-cognito-identity-js/lib/DateHelper.js').default;

const py = require(path.join(__dirname, 'pycognito.json'));

function promisify(fn) {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

async function vector(c, when) {
  const poolName = c.pool_id.split('_')[1];
  const helper = new Helper(poolName);
  helper.smallAValue = new BigInteger(c.a, 16);
  helper.largeAValue = await promisify(cb => helper.calculateA(helper.smallAValue, cb));
  const serverB = new BigInteger(c.B, 16);
  const salt = new BigInteger(c.salt, 16);
  const key = await promisify(cb =>
    helper.getPasswordAuthenticationKey(c.user_id, c.password, serverB, salt, cb)
  );
  // DateHelper at a fixed time.
  const RealDate = Date;
  global.Date = class extends RealDate {
    constructor(...args) { super(...(args.length ? args : [when])); }
  };
  const timestamp = new DateHelper().getNowString();
  global.Date = RealDate;
  const message = Buffer.concat([
    Buffer.from(poolName, 'utf8'),
    Buffer.from(c.user_id, 'utf8'),
    Buffer.from(c.secret_block, 'base64'),
    Buffer.from(timestamp, 'utf8'),
  ]);
  const signature = crypto.createHmac('sha256', key).update(message).digest('base64');
  return Object.assign({}, c, {
    name: `identity-js: ${c.name}`,
    A: helper.largeAValue.toString(16),
    key: Buffer.from(key).toString('hex'),
    timestamp,
    signature,
  });
}

(async () => {
  const times = [Date.UTC(2023, 6, 9, 8, 7, 6), Date.UTC(2026, 0, 31, 12, 0, 0)];
  const users = [];
  for (const [i, c] of py.users.entries()) users.push(await vector(c, times[i % times.length]));
  process.stdout.write(
    JSON.stringify({ generator: 'core/src/srp/vectors/gen_identity_js.cjs',
      'amazon-cognito-identity-js': '6.3.21', users }, null, 1) + '\n'
  );
})().catch(e => { console.error(e); process.exit(1); });
