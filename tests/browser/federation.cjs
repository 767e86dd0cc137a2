// Federation in a real browser (headless Chromium driven by playwright-core): the app's
// authorization request opens the downstream pool's sign-in page, the person clicks the
// provider's button, signs in on the upstream provider's page (another user pool's hosted UI)
// and lands on the app's redirect URI with the downstream pool's code.
//
// Run by tests/tests/e2e/hosted_ui_browser.rs, which sets up both pools, checks the result and
// exchanges the code. Protocol on stdout, one JSON object per line:
//   {"done":true,"callback":...,"titles":[...],"upstream":...}
// Input (environment): CHROMIUM, AUTHORIZE_URL, PROVIDER, USERNAME, PASSWORD, CALLBACK,
// SCREENSHOTS (a directory).
'use strict';

const { chromium } = require('playwright-core');
const path = require('node:path');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`federation.cjs: ${name} is not set`);
  return value;
};
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

    await page.goto(env('AUTHORIZE_URL'));
    await shot('federation-1-sign-in-with-provider');
    await Promise.all([
      page.waitForNavigation(),
      page.click(`text=Continue with ${env('PROVIDER')}`),
    ]);
    const upstream = page.url();
    await shot('federation-2-upstream-sign-in');
    await page.fill('input[name=username]', env('USERNAME'));
    await page.fill('input[name=password]', env('PASSWORD'));
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(env('CALLBACK'))),
      page.click('button[type=submit]'),
    ]);
    await shot('federation-3-redirected-to-app');
    say({ done: true, callback: page.url(), titles, upstream });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  say({ error: String(error && error.stack || error) });
  process.exit(1);
});
