// The hosted UI in a real browser (headless Chromium driven by playwright-core): sign up,
// confirm with the emailed code, sign in, land on the redirect URI with a code; then a second
// authorization rides the hosted-UI session and skips the sign-in page.
//
// Run by tests/tests/e2e/hosted_ui_browser.rs, which creates the pool and client, answers the
// code request and checks the result. Protocol on stdio, one JSON object per line:
//   stdout {"need":"code","username":...}   stdin {"code":"123456"}
//   stdout {"done":true,"callback":...,"second":...,"cookies":[...],"titles":[...]}
// Input (environment): CHROMIUM, AUTHORIZE_URL, USERNAME, EMAIL, PASSWORD,
// SCREENSHOTS (a directory).
'use strict';

const { chromium } = require('playwright-core');
const path = require('node:path');
const readline = require('node:readline');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`hosted-ui.cjs: ${name} is not set`);
  return value;
};

const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));
const say = (message) => process.stdout.write(JSON.stringify(message) + '\n');

async function main() {
  const shots = env('SCREENSHOTS');
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const titles = [];
    const shot = async (name) => {
      titles.push(await page.title());
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    };
    const submit = async () => {
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    };

    await page.goto(env('AUTHORIZE_URL'));
    await shot('1-sign-in');
    await Promise.all([page.waitForNavigation(), page.click('text=Need an account? Sign up')]);
    await page.fill('input[name=username]', env('USERNAME'));
    await page.fill('input[name=email]', env('EMAIL'));
    await page.fill('input[name=password]', env('PASSWORD'));
    await shot('2-sign-up');
    await submit();
    await shot('3-confirm');

    say({ need: 'code', username: env('USERNAME') });
    const { code } = JSON.parse(await nextLine());
    await page.fill('input[name=code]', code);
    await submit();
    await shot('4-confirmed-sign-in');

    await page.fill('input[name=username]', env('USERNAME'));
    await page.fill('input[name=password]', env('PASSWORD'));
    await submit();
    await shot('5-redirected-to-app');
    const callback = page.url();

    // A second authorization: the hosted-UI session cookie skips the sign-in page.
    await page.goto(env('AUTHORIZE_URL'));
    const second = page.url();

    const cookies = (await context.cookies()).map((c) => ({
      name: c.name, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite, domain: c.domain,
    }));
    say({ done: true, callback, second, cookies, titles });
  } finally {
    await browser.close();
    lines.close();
  }
}

main().catch((error) => {
  say({ error: String(error && error.stack || error) });
  process.exit(1);
});
