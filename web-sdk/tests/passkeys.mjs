// Passkeys and USER_AUTH through the web SDK in /usr/bin/chromium (playwright-core) with the
// DevTools virtual authenticator (CTAP2, resident keys, user verification): a user signs up and
// in, associateWebAuthnCredential registers a passkey, signOut, signIn with USER_AUTH +
// preferredChallenge WEB_AUTHN signs in with it (navigator.credentials.get), the first-factor
// choice (CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION) offers exactly the pool's factors and
// answers WEB_AUTHN, EMAIL_OTP (the code from the outbox; a wrong one is CodeMismatchException),
// PASSWORD and PASSWORD_SRP; listWebAuthnCredentials and deleteWebAuthnCredential manage it.
//
// The pool and client are made here with SigV4-signed admin calls (SignInPolicy,
// WebAuthnConfiguration RelyingPartyId "localhost", ALLOW_USER_AUTH). The page is opened on
// http://localhost:<helper port> (a secure context whose host is the relying party id; Chromium
// maps localhost to 127.0.0.1); it calls the host on 127.0.0.1.
//   node passkeys.mjs <helper origin> <host endpoint> <admin key id> <admin secret>
// Against the Worker, set COGNATE_OUTBOX_URL (its /__cognate/test/outbox) and COGNATE_TEST_KEY:
// the codes are read there instead of from the helper.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(join(process.env.NODE_PATH ?? ".", "resolve-from-here.js"));
const { chromium } = require("playwright-core");

const [helper, endpoint, keyId, secret] = process.argv.slice(2);
const PASSWORD = "Correct-Horse-9-Battery";
const username = `passkey${Date.now() % 1e9}${Math.floor(Math.random() * 1e6)}`;
const email = `${username}@example.com`;

async function admin(operation, body) {
  const text = JSON.stringify(body);
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const date = amzDate.slice(0, 8);
  const host = new URL(endpoint).host;
  const target = `AWSCognitoIdentityProviderService.${operation}`;
  const type = "application/x-amz-json-1.1";
  const signedHeaders = "content-type;host;x-amz-date;x-amz-target";
  const sha = (s) => createHash("sha256").update(s).digest("hex");
  const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
  const canonical = `POST\n/\n\ncontent-type:${type}\nhost:${host}\nx-amz-date:${amzDate}\nx-amz-target:${target}\n\n${signedHeaders}\n${sha(text)}`;
  const scope = `${date}/us-east-1/cognito-idp/aws4_request`;
  let key = hmac(`AWS4${secret}`, date);
  for (const part of ["us-east-1", "cognito-idp", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha(canonical)}`).digest("hex");
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": type, "x-amz-date": amzDate, "x-amz-target": target,
      authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    body: text,
  });
  const answer = await response.json();
  assert.equal(response.status, 200, `${operation}: ${JSON.stringify(answer)}`);
  return answer;
}

// The outbox: the helper's copy of the host's file, or (COGNATE_OUTBOX_URL, COGNATE_TEST_KEY)
// the Worker's test route, to run this against the edge.
async function codes(who) {
  const outbox = process.env.COGNATE_OUTBOX_URL
    ? await fetch(`${process.env.COGNATE_OUTBOX_URL}?pool=${pool.Id}`, { headers: { "x-cognate-test-key": process.env.COGNATE_TEST_KEY ?? "" } })
    : await fetch(`${helper}/outbox`);
  const lines = (await outbox.text()).split("\n").filter(Boolean);
  return lines.map((l) => JSON.parse(l)).filter((m) => m.username === who && m.code);
}
/** The first code sent to `who` after `before` codes. */
async function nextCode(who, before) {
  for (let i = 0; i < 200; i++) {
    const sent = await codes(who);
    if (sent.length > before) return sent[before].code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no new code for ${who}`);
}

const { UserPool: pool } = await admin("CreateUserPool", {
  PoolName: "web-sdk-passkeys",
  AutoVerifiedAttributes: ["email"],
  Policies: { SignInPolicy: { AllowedFirstAuthFactors: ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"] } },
});
await admin("SetUserPoolMfaConfig", {
  UserPoolId: pool.Id,
  WebAuthnConfiguration: { RelyingPartyId: "localhost", UserVerification: "required" },
});
const { UserPoolClient: client } = await admin("CreateUserPoolClient", {
  UserPoolId: pool.Id,
  ClientName: "web-passkeys",
  ExplicitAuthFlows: ["ALLOW_USER_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
});

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
  ],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2", transport: "internal", hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const authenticator = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;

  const local = helper.replace("://127.0.0.1:", "://localhost:");
  await page.goto(`${local}/tests/passkeys.html`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  /** Calls `sdk[name](input)` in the page: {ok: value} or {error: {name, message}}. */
  const sdk = (name, input) => page.evaluate(async ([name, input]) => {
    try {
      const value = await window.sdk[name](input);
      return { ok: value === undefined ? null : JSON.parse(JSON.stringify(value)) };
    } catch (e) {
      return { error: { name: e.name, message: e.message } };
    }
  }, [name, input]);
  const ok = async (name, input) => {
    const out = await sdk(name, input);
    assert.ok("ok" in out, `${name}: ${JSON.stringify(out.error)}`);
    return out.ok;
  };
  const done = { isSignedIn: true, nextStep: { signInStep: "DONE" } };
  const whoAmI = async () => (await ok("getCurrentUser")).username;

  await page.evaluate(([endpoint, userPoolId, userPoolClientId]) =>
    window.sdk.configure({ endpoint, userPoolId, userPoolClientId, storage: "memory" }),
  [endpoint, pool.Id, client.ClientId]);

  // Sign up, confirm, sign in with a password (SRP).
  let sent = (await codes(username)).length;
  await ok("signUp", { username, password: PASSWORD, options: { userAttributes: { email } } });
  await ok("confirmSignUp", { username, confirmationCode: await nextCode(username, sent) });
  assert.deepEqual(await ok("signIn", { username, password: PASSWORD }), done);

  // Before any passkey, the choice leaves WEB_AUTHN out.
  await ok("signOut");
  const choice = await ok("signIn", { username, options: { authFlowType: "USER_AUTH" } });
  assert.deepEqual(choice, { isSignedIn: false, nextStep: {
    signInStep: "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION",
    availableChallenges: ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"] } });
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: "PASSWORD" }),
    { isSignedIn: false, nextStep: { signInStep: "CONFIRM_SIGN_IN_WITH_PASSWORD" } });
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: PASSWORD }), done);

  // Register a passkey.
  assert.equal(await ok("associateWebAuthnCredential"), null);
  const registered = await authenticator();
  assert.equal(registered.length, 1);
  assert.equal(registered[0].rpId, "localhost");
  assert.equal(registered[0].isResidentCredential, true);
  const listed = await ok("listWebAuthnCredentials");
  assert.equal(listed.credentials.length, 1);
  const [credential] = listed.credentials;
  const b64url = (b64) => b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  assert.equal(credential.credentialId, b64url(registered[0].credentialId));
  assert.equal(credential.relyingPartyId, "localhost");
  assert.equal(credential.authenticatorAttachment, "platform");
  assert.ok(await page.evaluate(async () =>
    (await window.sdk.listWebAuthnCredentials()).credentials[0].createdAt instanceof Date), "createdAt is a Date");
  assert.equal(listed.nextToken, undefined);

  // Sign out; sign in with the passkey as the preferred challenge.
  await ok("signOut");
  assert.equal((await sdk("getCurrentUser")).error.name, "UserUnAuthenticatedException");
  assert.deepEqual(await ok("signIn", { username, options: { authFlowType: "USER_AUTH", preferredChallenge: "WEB_AUTHN" } }), done);
  assert.equal(await whoAmI(), username);
  const afterFirst = (await authenticator())[0].signCount;
  assert.ok(afterFirst > registered[0].signCount, "the authenticator signed");

  // The choice now offers the passkey; choosing it signs in.
  await ok("signOut");
  assert.deepEqual(await ok("signIn", { username, options: { authFlowType: "USER_AUTH" } }), {
    isSignedIn: false, nextStep: {
      signInStep: "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION",
      availableChallenges: ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "WEB_AUTHN"] } });
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: "WEB_AUTHN" }), done);
  assert.equal(await whoAmI(), username);
  assert.ok((await authenticator())[0].signCount > afterFirst);

  // EMAIL_OTP chosen: the code from the outbox; a wrong code first.
  await ok("signOut");
  await ok("signIn", { username, options: { authFlowType: "USER_AUTH" } });
  sent = (await codes(username)).length;
  const emailStep = await ok("confirmSignIn", { challengeResponse: "EMAIL_OTP" });
  assert.equal(emailStep.isSignedIn, false);
  assert.equal(emailStep.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_EMAIL_CODE");
  assert.equal(emailStep.nextStep.codeDeliveryDetails.deliveryMedium, "EMAIL");
  assert.match(emailStep.nextStep.codeDeliveryDetails.destination, /^p\*\*\*@e\*\*\*$/);
  const code = await nextCode(username, sent);
  const wrong = code === "000000" ? "111111" : "000000";
  assert.equal((await sdk("confirmSignIn", { challengeResponse: wrong })).error.name, "CodeMismatchException");
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: code }), done);

  // EMAIL_OTP as the preferred challenge.
  await ok("signOut");
  sent = (await codes(username)).length;
  const preferred = await ok("signIn", { username, options: { authFlowType: "USER_AUTH", preferredChallenge: "EMAIL_OTP" } });
  assert.equal(preferred.nextStep.signInStep, "CONFIRM_SIGN_IN_WITH_EMAIL_CODE");
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: await nextCode(username, sent) }), done);

  // PASSWORD_SRP chosen, then preferred; a wrong password is NotAuthorizedException.
  await ok("signOut");
  await ok("signIn", { username, options: { authFlowType: "USER_AUTH" } });
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: "PASSWORD_SRP" }),
    { isSignedIn: false, nextStep: { signInStep: "CONFIRM_SIGN_IN_WITH_PASSWORD" } });
  assert.deepEqual(await ok("confirmSignIn", { challengeResponse: PASSWORD }), done);
  await ok("signOut");
  assert.equal((await sdk("signIn", { username, password: "Wrong-Password-1", options: { authFlowType: "USER_AUTH", preferredChallenge: "PASSWORD_SRP" } })).error.name, "NotAuthorizedException");
  assert.deepEqual(await ok("signIn", { username, password: PASSWORD, options: { authFlowType: "USER_AUTH", preferredChallenge: "PASSWORD_SRP" } }), done);

  // Delete the passkey: the list is empty and the choice leaves WEB_AUTHN out again.
  assert.equal(await ok("deleteWebAuthnCredential", { credentialId: credential.credentialId }), null);
  assert.deepEqual(await ok("listWebAuthnCredentials", { pageSize: 5 }), { credentials: [] });
  await ok("signOut");
  assert.deepEqual((await ok("signIn", { username, options: { authFlowType: "USER_AUTH" } })).nextStep.availableChallenges,
    ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]);

  assert.deepEqual(problems, []);
  console.log(`web-sdk passkeys: ${username} registered, listed, used (preferred and chosen) and deleted a passkey; EMAIL_OTP, PASSWORD, PASSWORD_SRP through USER_AUTH`);
} finally {
  await browser.close();
}
