// What every js journey shares: the target (from the environment, the contract in
// scripts/test-clients.sh), the outbox reader, the admin client, and a step recorder that counts
// what passed and says exactly what was expected when something did not.
'use strict';

const fs = require('node:fs');
const crypto = require('node:crypto');

const env = (name) => {
  const value = process.env[name];
  if (!value || !value.trim()) throw new Error(`${name} is not set (see scripts/test-clients.sh)`);
  return value.trim();
};

const target = {
  baseUrl: env('COGNATE_BASE_URL').replace(/\/+$/, ''),
  region: 'us-east-1',
  admin: {
    accessKeyId: env('COGNATE_ADMIN_ACCESS_KEY_ID'),
    secretAccessKey: env('COGNATE_ADMIN_SECRET_ACCESS_KEY'),
  },
};

/** A name no other run or journey uses. */
const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;

// -- assertions ---------------------------------------------------------------------------------

class StepFailure extends Error {}

const show = (value) => {
  if (value === undefined) return 'undefined';
  try { return JSON.stringify(value); } catch { return String(value); }
};

/** Fails the step unless `actual` equals `expected` (deep, JSON-wise). */
function eq(what, actual, expected) {
  if (show(actual) !== show(expected)) {
    throw new StepFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function ok(what, condition, actual) {
  if (!condition) throw new StepFailure(`${what}${actual === undefined ? '' : `: got ${show(actual)}`}`);
}

/**
 * Runs `fn`, which must fail with an error whose name (or code) is exactly `expected`, or, when
 * `expected` is an error class, with an instance of exactly that class.
 */
async function rejects(what, expected, fn) {
  const wanted = typeof expected === 'function' ? expected.name : expected;
  let result;
  try {
    result = await fn();
  } catch (error) {
    const name = typeof expected === 'function'
      ? error && error.constructor && error.constructor.name
      : error && (error.code || error.name);
    if (name !== wanted || (typeof expected === 'function' && !(error instanceof expected))) {
      throw new StepFailure(`${what}: expected ${wanted}, got ${name}: ${error && error.message}`);
    }
    return error;
  }
  throw new StepFailure(`${what}: expected ${wanted}, but it succeeded with ${show(result)}`);
}

/** The payload of a JWT, decoded without verification (verification is aws-jwt-verify's job). */
function claims(jwt) {
  const parts = String(jwt).split('.');
  if (parts.length !== 3) throw new StepFailure(`not a JWT: ${show(jwt)}`);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// -- steps --------------------------------------------------------------------------------------

/**
 * One journey's steps, run in order. A failed step ends its journey (later steps build on it);
 * a skipped one (a capability another issue brings) is counted as skipped.
 */
class Journey {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.skipped = 0;
    this.failure = null;
  }

  async step(title, fn) {
    if (this.failure) return undefined;
    try {
      const value = await fn();
      this.passed += 1;
      console.log(`  ok   ${this.name}: ${title}`);
      return value;
    } catch (error) {
      const message = error instanceof StepFailure ? error.message
        : `unexpected ${error && (error.code || error.name)}: ${error && (error.stack || error.message)}`;
      this.failure = `${title}: ${message.split('\n')[0]}`;
      console.log(`  FAIL ${this.name}: ${title}\n       ${message.replace(/\n/g, '\n       ')}`);
      return undefined;
    }
  }

  skip(title, why) {
    if (this.failure) return;
    this.skipped += 1;
    console.log(`  skip ${this.name}: ${title} (${why})`);
  }

  get failed() {
    return this.failure !== null;
  }

  summary() {
    const skipped = this.skipped ? `, ${this.skipped} skipped` : '';
    return this.failed
      ? `${this.name}: ${this.passed} steps passed${skipped}, then FAILED at ${this.failure}`
      : `${this.name}: ${this.passed} steps passed${skipped}`;
  }
}

// -- the outbox ---------------------------------------------------------------------------------

/** Every message the target delivered for `poolId`, oldest first (see tests/src/lib.rs Outbox). */
async function outboxMessages(poolId) {
  let text;
  if (process.env.COGNATE_OUTBOX_FILE) {
    try {
      text = fs.readFileSync(process.env.COGNATE_OUTBOX_FILE, 'utf8');
    } catch (error) {
      if (error.code === 'ENOENT') return [];
      throw error;
    }
    // Only complete lines: the writer may be half-way through the last one.
    text = text.slice(0, text.lastIndexOf('\n') + 1);
  } else {
    const url = new URL(env('COGNATE_OUTBOX_URL'));
    url.searchParams.set('pool', poolId);
    const headers = process.env.COGNATE_TEST_KEY ? { 'x-cognate-test-key': process.env.COGNATE_TEST_KEY } : {};
    const response = await fetch(url, { headers });
    text = await response.text();
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${text}`);
  }
  return text.split('\n').filter((line) => line.trim())
    .map((line) => JSON.parse(line))
    .filter((message) => message.pool_id === poolId);
}

/**
 * Returns a function that yields the code of the next message to `username` after this call
 * (polling the outbox briefly: the host writes before it answers, the edge may lag a little).
 */
async function expectCode(poolId, username) {
  const before = (await outboxMessages(poolId)).filter((m) => m.username === username).length;
  return async () => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const mine = (await outboxMessages(poolId)).filter((m) => m.username === username);
      if (mine.length > before) {
        const message = mine[mine.length - 1];
        if (!message.code) throw new StepFailure(`outbox message without a code: ${show(message)}`);
        return message.code;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new StepFailure(`no new outbox message for ${username} in pool ${poolId}`);
  };
}

// -- administration: the AWS SDK for JavaScript v3, SigV4-signed with the admin key ------------

function adminClient() {
  const { CognitoIdentityProviderClient } = require('@aws-sdk/client-cognito-identity-provider');
  return new CognitoIdentityProviderClient({
    region: target.region,
    endpoint: target.baseUrl,
    credentials: target.admin,
    maxAttempts: 1,
  });
}

/** A pool, an app client without a secret and a group, as an app's own set-up script makes them. */
async function createPool(label) {
  const sdk = require('@aws-sdk/client-cognito-identity-provider');
  const admin = adminClient();
  const pool = await admin.send(new sdk.CreateUserPoolCommand({
    PoolName: unique(`js-${label}`),
    AutoVerifiedAttributes: ['email'],
  }));
  const poolId = pool.UserPool.Id;
  const client = await admin.send(new sdk.CreateUserPoolClientCommand({
    UserPoolId: poolId,
    ClientName: `js-${label}`,
    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
  }));
  const group = 'readers';
  await admin.send(new sdk.CreateGroupCommand({ UserPoolId: poolId, GroupName: group, Precedence: 1 }));
  return { poolId, clientId: client.UserPoolClient.ClientId, group, admin, sdk };
}

/** A public Cognito call as any client makes it: unsigned JSON 1.1 to the endpoint. */
async function publicCall(operation, body) {
  const response = await fetch(`${target.baseUrl}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    const error = new Error(data.message || data.Message || JSON.stringify(data));
    error.name = String(data.__type || response.headers.get('x-amzn-errortype') || '').split(':')[0].split('#').pop();
    error.status = response.status;
    throw error;
  }
  return data;
}

/** A refresh token must now be refused: InitiateAuth REFRESH_TOKEN_AUTH answers NotAuthorizedException. */
async function refreshRefused(what, clientId, refreshToken) {
  const error = await rejects(what, 'NotAuthorizedException', () => publicCall('InitiateAuth', {
    AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken },
  }));
  eq(`${what}: HTTP status`, error.status, 400);
}

module.exports = {
  target, unique, StepFailure, eq, ok, rejects, claims, Journey,
  outboxMessages, expectCode, adminClient, createPool, publicCall, refreshRefused,
};
