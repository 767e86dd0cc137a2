// The admin console in a real browser (headless Chromium driven by playwright-core), as an
// operator uses it: refused with a wrong key, then signed in with the admin key: create a pool
// and an app client, create a user, find them by email, add them to a group, see a failed
// sign-in in their events and in the pool's chart, disable them, sign out.
//
// Run by tests/tests/e2e/console_browser.rs, which checks through the API that every change
// happened. Prints one JSON object: {"done": true, ...}.
// Input (environment): CHROMIUM, BASE_URL, ACCESS_KEY_ID, SECRET_ACCESS_KEY, POOL_NAME,
// USERNAME, EMAIL, PASSWORD, SCREENSHOTS (a directory).
'use strict';

const { chromium } = require('playwright-core');
const fs = require('node:fs');
const path = require('node:path');

// axe-core (Deque's accessibility engine), evaluated in the page through DevTools.
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`console.cjs: ${name} is not set`);
  return value;
};

async function main() {
  const shots = env('SCREENSHOTS');
  const base = env('BASE_URL');
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const result = { consoleErrors: [], requests: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    // Every request the console makes, and anything the CSP or a script complains about.
    page.on('request', (r) => result.requests.push(r.url()));
    // (Chromium also logs each 4xx answer as an error: the refusals below are expected.)
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) result.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => result.consoleErrors.push(String(e)));
    page.on('dialog', (d) => d.accept());
    const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    // WCAG 2.1 A and AA rules on the page as it is now: every violation, by page.
    result.accessibility = {};
    const audit = async (name) => {
      await page.evaluate(AXE_SOURCE);
      result.accessibility[name] = await page.evaluate(async () => {
        const report = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
        return {
          passed: report.passes.length,
          violations: report.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
        };
      });
    };
    const status = (form) => page.locator(`form[aria-label="${form}"] .status`);
    const submit = async (form, expected) => {
      await page.click(`form[aria-label="${form}"] button[type=submit]`);
      if (expected) await status(form).filter({ hasText: expected }).waitFor();
    };

    // A wrong secret: refused by the API, nothing shown, nothing kept.
    await page.goto(`${base}/console`);
    await page.getByLabel('Access key id').fill(env('ACCESS_KEY_ID'));
    await page.getByLabel('Secret access key').fill('not-the-secret-access-key-of-this-server');
    await page.click('form[aria-label="Admin key"] button[type=submit]');
    const refusal = page.locator('form[aria-label="Admin key"] .status.error');
    await refusal.waitFor();
    result.refused = await refusal.textContent();
    result.navHiddenWhenRefused = await page.locator('#nav').isHidden();
    result.storedWhenRefused = await page.evaluate(() => sessionStorage.length);
    // The API itself refuses an unsigned change from the page.
    result.unsigned = await page.evaluate(async () => {
      const r = await fetch('/', {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.CreateUserPool' },
        body: JSON.stringify({ PoolName: 'sneaky' }),
      });
      return { status: r.status, body: await r.json() };
    });
    await shot('console-1-refused');
    await audit('sign-in');

    // The right key.
    await page.getByLabel('Secret access key').fill(env('SECRET_ACCESS_KEY'));
    await page.click('form[aria-label="Admin key"] button[type=submit]');
    await page.locator('h2', { hasText: 'User pools' }).waitFor();
    result.titles = [await page.title()];

    // A pool.
    await page.locator('form[aria-label="Create a user pool"]').getByLabel('Name', { exact: true }).fill(env('POOL_NAME'));
    await submit('Create a user pool');
    await page.locator('#pool-stats').waitFor();
    result.poolId = await page.locator('h2 code').textContent();
    await shot('console-2-new-pool');

    // An app client that allows password sign-in.
    await page.click('nav.tabs >> text=App clients');
    const clientForm = page.locator('form[aria-label="Create an app client"]');
    await clientForm.waitFor();
    await clientForm.getByLabel('Name', { exact: true }).fill('console-app');
    await clientForm.getByLabel('ALLOW_USER_PASSWORD_AUTH').check();
    await submit('Create an app client');
    result.clientId = await page.locator('#new-client-id').textContent();
    await shot('console-3-new-client');
    await audit('clients');

    // A group.
    await page.click('nav.tabs >> text=Groups');
    const groupForm = page.locator('form[aria-label="Create a group"]');
    await groupForm.waitFor();
    await groupForm.getByLabel('Name', { exact: true }).fill('support');
    await groupForm.getByLabel('Description', { exact: true }).fill('Support staff');
    await submit('Create a group');
    await page.locator('td', { hasText: 'Support staff' }).waitFor();

    // A user with a temporary password.
    await page.click('nav.tabs >> text=Users');
    const userForm = page.locator('form[aria-label="Create a user"]');
    await userForm.waitFor();
    await userForm.getByLabel('Username', { exact: true }).fill(env('USERNAME'));
    await userForm.getByLabel('Email', { exact: true }).fill(env('EMAIL'));
    await userForm.getByLabel('Temporary password').fill(env('PASSWORD'));
    await userForm.getByLabel('Do not send an invitation').check();
    await submit('Create a user', 'FORCE_CHANGE_PASSWORD');

    // Someone tries the wrong password (the public API, as an app would).
    result.failedSignIn = await page.evaluate(async ({ clientId, username }) => {
      const r = await fetch('/', {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
        body: JSON.stringify({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: 'Wrong-passw0rd!' } }),
      });
      return { status: r.status, body: await r.json() };
    }, { clientId: result.clientId, username: env('USERNAME') });

    // Find them by email.
    const search = page.locator('form[aria-label="Find users"]');
    await search.getByLabel('Attribute', { exact: true }).selectOption('email');
    await search.getByLabel('Value', { exact: true }).fill(env('EMAIL'));
    await submit('Find users', 'Filter:');
    const rows = page.locator('table caption', { hasText: 'Users' }).locator('xpath=..').locator('tbody tr');
    result.found = await rows.allTextContents();
    await shot('console-4-found-by-email');
    await audit('users');
    await page.click(`a:text-is("${env('USERNAME')}")`);

    // Add them to the group, see the failed sign-in, disable them.
    const addForm = page.locator('form[aria-label="Add to a group"]');
    await addForm.waitFor();
    await addForm.getByLabel('Group', { exact: true }).selectOption('support');
    await submit('Add to a group');
    await page.locator('table caption', { hasText: 'Groups of the user' }).waitFor();
    result.groups = await page.locator('table:has(caption:text-is("Groups of the user")) tbody td:first-child').allTextContents();
    result.events = await page.locator('table:has(caption:text-is("Sign-in events")) tbody tr').allTextContents();
    await page.click('button:text-is("Disable")');
    await page.locator('#user-enabled', { hasText: 'No' }).waitFor();
    result.enabled = await page.locator('#user-enabled').textContent();
    result.userStatus = await page.locator('#user-status').textContent();
    await shot('console-5-user');
    await audit('user');

    // The pool's overview: the failed sign-in in the numbers and the chart.
    await page.click('.crumbs a:nth-of-type(2)');
    await page.click('nav.tabs >> text=Overview');
    await page.locator('#sign-in-chart canvas').waitFor();
    result.stats = Object.fromEntries(await page.locator('#pool-stats dd').evaluateAll(
      (dds) => dds.map((dd) => [dd.dataset.stat, dd.textContent])));
    result.chartDrawn = await page.locator('#sign-in-chart .uplot').count();
    await shot('console-6-overview');
    await audit('overview');

    // A custom attribute, from the pool's settings.
    await page.click('nav.tabs >> text=Settings');
    const attributeForm = page.locator('form[aria-label="Add a custom attribute"]');
    await attributeForm.waitFor();
    await attributeForm.getByLabel('Name (without custom:)').fill('tier');
    await submit('Add a custom attribute');
    await page.locator('table:has(caption:text-is("Attributes of the pool")) td', { hasText: 'custom:tier' }).waitFor();
    await audit('settings');

    // A key rotation from the console, published at once.
    await page.click('nav.tabs >> text=Signing keys');
    const rotate = page.locator('form[aria-label="Rotate the signing key"]');
    await rotate.waitFor();
    await rotate.getByLabel('Publish ahead').fill('0');
    await submit('Rotate the signing key', 'New key');
    result.rotatedKey = (await status('Rotate the signing key').textContent()).replace(/^New key (.*)\.$/, '$1');
    await page.locator('table:has(caption:text-is("Signing keys")) tbody tr code', { hasText: result.rotatedKey }).waitFor();
    result.keys = await page.locator('table:has(caption:text-is("Signing keys")) tbody tr').count();
    await shot('console-7-keys');

    // Signing out forgets the key.
    await page.click('#sign-out');
    await page.locator('form[aria-label="Admin key"]').waitFor();
    result.storedAfterSignOut = await page.evaluate(() => sessionStorage.length);
    result.done = true;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ done: false, error: String(error && error.stack || error) }) + '\n');
  process.exit(1);
});
