// The js clients stage: each journey against the target in the environment, then aws-jwt-verify
// on the tokens they got. Prints every step, one summary line per journey, and a closing
// "N passed, N failed" line counting steps (a journey stops at its first failed step, so the
// steps after it are not counted); exits non-zero if any step failed.
'use strict';

const { createPool, target } = require('./lib.cjs');
const identityJs = require('./identity-js.cjs');
const identityJsDevices = require('./identity-js-devices.cjs');
const jwtVerify = require('./jwt-verify.cjs');
const amplify = require('./amplify.cjs');
const identityJsMfa = require('./identity-js-mfa.cjs');
const identityPools = require('./identity-pool.cjs');
const amplifyPasskeys = require('./amplify-passkeys.cjs');

async function main() {
  console.log(`js clients against ${process.env.COGNATE_TARGET_NAME || target.baseUrl} (${target.baseUrl})`);
  const journeys = [];

  // COGNATE_JS_JOURNEYS=amplify-passkeys runs only that journey.
  if (process.env.COGNATE_JS_JOURNEYS === 'amplify-passkeys') {
    const journey = await amplifyPasskeys.run();
    console.log(journey.summary());
    return !journey.failed;
  }

  // COGNATE_JS_JOURNEYS=identity-pools (scripts/test-identity.sh) runs only that journey.
  if (process.env.COGNATE_JS_JOURNEYS === 'identity-pools') {
    const ran = [
      await identityPools.run(await createPool('identity-pools')),
      await identityPools.runAmplify(await createPool('amplify-identity')),
    ];
    for (const journey of ran) console.log(journey.summary());
    return ran.every((journey) => !journey.failed);
  }

  const identityPool = await createPool('identity-js');
  const identity = await identityJs.run(identityPool);
  journeys.push(identity.journey);
  journeys.push(await jwtVerify.run('identity-js', identityPool, identity.tokens));
  journeys.push(await identityJsDevices.run());

  journeys.push((await identityJsMfa.run()).journey);

  const amplifyPool = await createPool('amplify');
  const browser = await amplify.run(amplifyPool);
  journeys.push(browser.journey);
  journeys.push(await jwtVerify.run('amplify', amplifyPool, browser.tokens));
  journeys.push(await amplifyPasskeys.run());

  // The identity-pools journeys need the STS the target was started with (moto).
  if (process.env.COGNATE_STS_URL) {
    journeys.push(await identityPools.run(await createPool('identity-pools')));
    journeys.push(await identityPools.runAmplify(await createPool('amplify-identity')));
  } else {
    console.log('identity-pools journeys skipped: COGNATE_STS_URL is not set (scripts/test-identity.sh runs them)');
  }

  console.log('');
  for (const journey of journeys) console.log(journey.summary());
  const count = (f) => journeys.reduce((n, j) => n + f(j), 0);
  const failed = count((j) => (j.failed ? 1 : 0));
  const skipped = count((j) => j.skipped);
  console.log(`js-clients: ${count((j) => j.passed)} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0;
}

main().then((passed) => process.exit(passed ? 0 : 1), (error) => {
  console.error(`js clients: set-up failed: ${error && (error.stack || error)}`);
  process.exit(1);
});
