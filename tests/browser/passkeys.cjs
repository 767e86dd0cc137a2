// Passkeys on the hosted UI in a real browser: headless Chromium (playwright-core) with the
// DevTools virtual authenticator (CTAP2, resident keys, user verification). The person signs in
// with a password, adds a passkey at /passkeys/add, signs out (/logout), and signs in again
// with the passkey ("Sign in with a passkey"), landing on the app's redirect URI with a code.
//
// Run by tests/tests/e2e/passkeys_browser.rs, which creates the pool and client and checks the
// result. The pages are opened on http://localhost (a secure context; the pool's relying party
// id is `localhost`), which Chromium maps to 127.0.0.1 (--host-resolver-rules).
// Output (stdout, one JSON line): {"done":true,"afterPassword":...,"afterAdd":...,
//   "afterLogout":...,"afterPasskey":...,"credentials":[...],"titles":[...]}
// Input (environment): CHROMIUM, AUTHORIZE_URL, ADD_URL, LOGOUT_URL, USERNAME, PASSWORD,
// SCREENSHOTS (a directory).
'use strict';

const { chromium } = require('playwright-core');
const path = require('node:path');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`passkeys.cjs: ${name} is not set`);
  return value;
};
const say = (message) => process.stdout.write(JSON.stringify(message) + '\n');

async function main() {
  const shots = env('SCREENSHOTS');
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP localhost 127.0.0.1'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    const titles = [];
    const shot = async (name) => {
      titles.push(await page.title());
      await page.screenshot({ path: path.join(shots, `passkeys-${name}.png`), fullPage: true });
    };
    const app = new URL(process.env.APP_URL || 'http://127.0.0.1/').origin;
    const toApp = () => page.waitForURL((url) => url.origin === app, { timeout: 30000 });
    const submit = async () => {
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    };

    // 1. A password sign-in.
    await page.goto(env('AUTHORIZE_URL'));
    await shot('1-sign-in');
    await page.fill('input[name=username]', env('USERNAME'));
    await page.fill('input[name=password]', env('PASSWORD'));
    await Promise.all([toApp(), page.click('button[type=submit]')]);
    const afterPassword = page.url();

    // 2. Add a passkey: the page's script runs navigator.credentials.create, posts the
    // credential and goes back to the app.
    await page.goto(env('ADD_URL'));
    await shot('2-add-passkey');
    await Promise.all([toApp(), page.click('button[type=submit]')]);
    const afterAdd = page.url();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });

    // 3. Sign out.
    await page.goto(env('LOGOUT_URL'));
    const afterLogout = page.url();

    // 4. Sign in with the passkey.
    await page.goto(env('AUTHORIZE_URL'));
    await Promise.all([page.waitForNavigation(), page.click('text=Sign in with a passkey')]);
    await page.fill('input[name=username]', env('USERNAME'));
    await shot('3-passkey-username');
    await submit();
    await shot('4-use-passkey');
    await Promise.all([toApp(), page.click('button[type=submit]')]);
    const afterPasskey = page.url();
    await shot('5-redirected-to-app');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });

    say({
      done: true, afterPassword, afterAdd, afterLogout, afterPasskey, titles, errors,
      credentials: credentials.map((c) => ({ isResidentCredential: c.isResidentCredential, rpId: c.rpId, signCount: c.signCount })),
      signCountAfter: after.credentials.map((c) => c.signCount),
    });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  say({ error: String(error && error.stack || error) });
  process.exit(1);
});
