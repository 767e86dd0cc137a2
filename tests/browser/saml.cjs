// SAML 2.0 sign-in in a real browser (headless Chromium driven by playwright-core), through
// pysaml2's IdP (tests/saml/idp.py): Cognate sends the browser to the IdP with an AuthnRequest
// (HTTP-Redirect binding); the person signs in on the IdP's page; the IdP answers with the
// HTTP-POST binding's auto-submitting form, which posts the signed response to Cognate's
// /saml2/idpresponse; Cognate answers the app's redirect URI with its code.
//
// Three walks, each in a fresh browser context (no cookies from the one before):
//   1. the app's /oauth2/authorize with identity_provider=<provider> (straight to the IdP);
//   2. the app's /oauth2/authorize without it: the hosted sign-in page's provider button;
//   3. (when WEB_SDK_PAGE is set) the web SDK's example page: signInWithRedirect({ provider:
//      { custom: <provider> } }), back on the page signed in (handleRedirect);
//   4. (when IDP_INITIATED_URL is set) IdP-initiated: from the IdP straight to the app.
//
// Run by tests/tests/e2e/saml_browser.rs, which sets up the pool, checks the results and
// exchanges the codes. Protocol on stdout, one JSON object per line (the last one counts):
//   {"done":true,"direct":{...},"button":{...},"sdk":{...}|null,"idpInitiated":{...}|null}
// Input (environment): CHROMIUM, PROVIDER, DIRECT_URL, BUTTON_URL, CALLBACK, IDP_ORIGIN,
// IDP_USER, IDP_PASSWORD, SCREENSHOTS (a directory), WEB_SDK_PAGE (optional), WEB_SDK_USER,
// IDP_INITIATED_URL (optional).
'use strict';

const { chromium } = require('playwright-core');
const path = require('node:path');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`saml.cjs: ${name} is not set`);
  return value;
};
const say = (message) => process.stdout.write(JSON.stringify(message) + '\n');

async function main() {
  const shots = env('SCREENSHOTS');
  const idp = env('IDP_ORIGIN');
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const walk = async (name, start, user, landed) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const titles = [];
      // Every POST the browser makes to an ACS, as the IdP's form made it.
      const posts = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/saml2/idpresponse')) {
          posts.push({ url: r.url(), referer: r.headers().referer ?? null,
            fields: [...new URLSearchParams(r.postData() ?? '').keys()] });
        }
      });
      const shot = async (step) => {
        titles.push(await page.title());
        await page.screenshot({ path: path.join(shots, `saml-${name}-${step}.png`), fullPage: true });
      };
      await start(page, shot);
      await page.waitForURL((url) => url.href.startsWith(idp));
      const atIdp = page.url();
      await shot('idp-sign-in');
      await page.fill('input[name=username]', user);
      await page.fill('input[name=password]', env('IDP_PASSWORD'));
      await Promise.all([landed(page), page.click('button[type=submit]')]);
      await shot('signed-in');
      const result = { url: page.url(), titles, atIdp, posts };
      return { page, context, result };
    };
    const toCallback = (page) => page.waitForURL((url) => url.href.startsWith(env('CALLBACK')));

    // 1. identity_provider=<provider>: Cognate -> the IdP at once.
    const direct = await walk('direct', (page) => page.goto(env('DIRECT_URL')), env('IDP_USER'), toCallback);
    await direct.context.close();

    // 2. The hosted sign-in page's button for the provider.
    const button = await walk('button', async (page, shot) => {
      await page.goto(env('BUTTON_URL'));
      await shot('hosted-sign-in');
      await page.click(`text=Continue with ${env('PROVIDER')}`);
    }, env('IDP_USER'), toCallback);
    await button.context.close();

    // 3. The web SDK: signInWithRedirect({ provider: { custom } }) from the example page.
    let sdk = null;
    if (process.env.WEB_SDK_PAGE) {
      const pageUrl = env('WEB_SDK_PAGE');
      const origin = new URL(pageUrl).origin;
      const problems = [];
      const done = await walk('web-sdk', async (page, shot) => {
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        await page.goto(pageUrl);
        await page.waitForSelector('body[data-ready=true]');
        await page.waitForSelector('#signed-out:not([hidden])');
        await shot('signed-out');
        // The module the page loaded (same URL, so the same configured instance).
        // The page navigates away while this runs (its context is destroyed): wait for the IdP.
        await Promise.all([
          page.waitForURL((url) => url.href.startsWith(idp)),
          page.evaluate(async ({ origin, provider }) => {
            const Auth = await import(`${origin}/pkg/cognate_web.js`);
            await Auth.signInWithRedirect({ provider: { custom: provider } });
          }, { origin, provider: env('PROVIDER') }).catch(() => {}),
        ]);
      }, env('WEB_SDK_USER'), async (page) => {
        await page.waitForURL((url) => url.href.startsWith(`${origin}/examples/index.html`));
        await page.waitForSelector('body[data-ready=true]');
      });
      const { page } = done;
      const signedIn = await page.isVisible('#signed-in');
      sdk = {
        ...done.result,
        signedIn,
        who: signedIn ? await page.textContent('#who') : null,
        how: signedIn ? await page.textContent('#how') : null,
        attributes: signedIn ? await page.textContent('#attributes') : null,
        error: await page.textContent('#error'),
        search: new URL(page.url()).search,
        problems,
      };
      await done.context.close();
    }
    // 4. IdP-initiated: the person starts at the IdP (a dashboard's link to the app); its
    // auto-submitting form posts an unsolicited response, RelayState naming the app's request.
    let idpInitiated = null;
    if (process.env.IDP_INITIATED_URL) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(env('CALLBACK'))),
        page.goto(env('IDP_INITIATED_URL')),
      ]);
      await page.screenshot({ path: path.join(shots, 'saml-idp-initiated-signed-in.png'), fullPage: true });
      idpInitiated = { url: page.url(), title: await page.title() };
      await context.close();
    }
    say({ done: true, direct: direct.result, button: button.result, sdk, idpInitiated });
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  say({ error: String(error && error.stack || error) });
  process.exit(1);
});
