// aws-jwt-verify, verifying the ID and access tokens the other journeys got from Cognate.
//
// Its CognitoJwtVerifier takes only a user pool id and derives the issuer and the JWKS address
// from it (https://cognito-idp.<region>.amazonaws.com/<poolId>); neither can be configured. A
// Cognate user therefore configures the generic JwtVerifier with Cognate's issuer
// (<base>/<poolId>; the JWKS address <issuer>/.well-known/jwks.json is the library's default for
// an issuer) and hands the Cognito claim checks (token_use, client_id / aud, cognito:groups) to
// the library's own validateCognitoJwtFields, the function CognitoJwtVerifier runs, through
// customJwtCheck. The only other change: under Node the library fetches the JWKS with the `https`
// module, which refuses an http:// address, so for this plain-http loopback target the JWKS cache
// gets a fetcher on Node's fetch (not needed when Cognate is served over https).
'use strict';

const { JwtVerifier } = require('aws-jwt-verify');
const { validateCognitoJwtFields } = require('aws-jwt-verify/cognito-verifier');
const { SimpleJwksCache } = require('aws-jwt-verify/jwk');
const {
  JwtInvalidSignatureError, CognitoJwtInvalidTokenUseError, CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidGroupError,
} = require('aws-jwt-verify/error');
const { target, eq, rejects, Journey, StepFailure } = require('./lib.cjs');

const plainHttpFetcher = {
  async fetch(uri) {
    const response = await fetch(uri);
    if (response.status !== 200) throw new Error(`GET ${uri}: HTTP ${response.status}`);
    return response.arrayBuffer();
  },
};

/** A verifier for one pool's tokens of one use, as Cognito's verifier would check them. */
function verifier(poolId, clientId, tokenUse, groups) {
  return JwtVerifier.create({
    issuer: `${target.baseUrl}/${poolId}`,
    audience: null, // checked below per token_use: aud for ID tokens, client_id for access tokens
    customJwtCheck: ({ payload }) => validateCognitoJwtFields(payload, { tokenUse, clientId, groups }),
  }, { jwksCache: new SimpleJwksCache({ fetcher: plainHttpFetcher }) });
}

/** Flips one character of the payload: same header and signature, different claims. */
function tamper(jwt) {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  claims.sub = `${claims.sub.slice(0, -1)}${claims.sub.endsWith('0') ? '1' : '0'}`;
  return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
}

/** `from` names the journey the tokens came from; `tokens` holds its idToken and accessToken. */
async function run(from, pool, tokens) {
  const journey = new Journey(`aws-jwt-verify (${from} tokens)`);
  if (!tokens || !tokens.idToken || !tokens.accessToken) {
    await journey.step('tokens to verify', () => { throw new StepFailure(`the ${from} journey produced no tokens`); });
    return journey;
  }
  const ids = verifier(pool.poolId, pool.clientId, 'id');
  const accesses = verifier(pool.poolId, pool.clientId, 'access');

  await journey.step('the ID token verifies (signature from the JWKS, iss, exp, token_use, aud)', async () => {
    const payload = await ids.verify(tokens.idToken);
    eq('token_use', payload.token_use, 'id');
    eq('aud', payload.aud, pool.clientId);
    eq('iss', payload.iss, `${target.baseUrl}/${pool.poolId}`);
  });

  await journey.step('the access token verifies (token_use, client_id)', async () => {
    const payload = await accesses.verify(tokens.accessToken);
    eq('token_use', payload.token_use, 'access');
    eq('client_id', payload.client_id, pool.clientId);
  });

  await journey.step('a group requirement the token meets passes', async () => {
    const payload = await verifier(pool.poolId, pool.clientId, 'access', pool.group).verify(tokens.accessToken);
    eq('cognito:groups', payload['cognito:groups'], [pool.group]);
  });

  await journey.step('a tampered ID token is refused: JwtInvalidSignatureError', async () => {
    await rejects('tampered token', JwtInvalidSignatureError, () => ids.verify(tamper(tokens.idToken)));
  });

  await journey.step('an access token passed as an ID token is refused: CognitoJwtInvalidTokenUseError', async () => {
    await rejects('access token as ID token', CognitoJwtInvalidTokenUseError, () => ids.verify(tokens.accessToken));
  });

  await journey.step('another app client\'s verifier refuses the token: CognitoJwtInvalidClientIdError', async () => {
    await rejects('other client id', CognitoJwtInvalidClientIdError,
      () => verifier(pool.poolId, 'someotherclientid', 'id').verify(tokens.idToken));
  });

  await journey.step('a group the user is not in is refused: CognitoJwtInvalidGroupError', async () => {
    await rejects('other group', CognitoJwtInvalidGroupError,
      () => verifier(pool.poolId, pool.clientId, 'access', 'admins').verify(tokens.accessToken));
  });

  return journey;
}

module.exports = { run };
