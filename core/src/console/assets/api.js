// Every call the console makes: Cognate's own APIs, SigV4-signed in the browser (aws4fetch,
// WebCrypto) with the admin key the operator typed in, kept only in this tab's sessionStorage.
import { AwsClient } from './vendor/aws4fetch.esm.js';

const STORAGE_KEY = 'cognate-console-credentials';

// X-Amz-Target prefix and SigV4 service name of each API.
const APIS = {
  idp: ['AWSCognitoIdentityProviderService', 'cognito-idp'],
  identity: ['AWSCognitoIdentityService', 'cognito-identity'],
  plugins: ['CognatePlugins', 'cognito-idp'],
  insights: ['CognateInsights', 'cognito-idp'],
  keys: ['CognateKeys', 'cognito-idp'],
};

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message || type);
    this.type = type;
    this.status = status;
  }
}

export function credentials() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    return stored && stored.accessKeyId && stored.secretAccessKey ? stored : null;
  } catch {
    return null;
  }
}

export function forgetCredentials() {
  sessionStorage.removeItem(STORAGE_KEY);
}

// Checks the key with a harmless signed call before keeping it.
export async function signIn(accessKeyId, secretAccessKey, region) {
  const candidate = { accessKeyId, secretAccessKey, region };
  await call('idp', 'ListUserPools', { MaxResults: 1 }, candidate);
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(candidate));
}

export async function call(api, operation, body = {}, creds = credentials()) {
  if (!creds) throw new ApiError('NotSignedIn', 'Sign in with an admin key first.', 0);
  const [target, service] = APIS[api];
  const client = new AwsClient({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    region: creds.region,
    service,
    retries: 0,
  });
  const response = await client.fetch(new URL('/', window.location.href).href, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${target}.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    const raw = data.__type || response.headers.get('x-amzn-errortype') || `HTTP ${response.status}`;
    const type = String(raw).split('#').pop().split(':')[0];
    throw new ApiError(type, data.message || data.Message || type, response.status);
  }
  return data;
}

export const idp = (operation, body) => call('idp', operation, body);
export const identity = (operation, body) => call('identity', operation, body);
export const plugins = (operation, body) => call('plugins', operation, body);
export const insights = (operation, body) => call('insights', operation, body);
export const keys = (operation, body) => call('keys', operation, body);

// Every page of a paginated list operation, up to `limit` items.
export async function all(api, operation, body, itemsKey, tokenKey = 'NextToken', limit = 1000) {
  const items = [];
  let token;
  do {
    const page = await call(api, operation, token ? { ...body, [tokenKey]: token } : body);
    items.push(...(page[itemsKey] || []));
    token = page[tokenKey];
  } while (token && items.length < limit);
  return items;
}
