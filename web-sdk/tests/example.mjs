// End-to-end test of web-sdk/examples/index.html in /usr/bin/chromium, driven by playwright-core:
// sign up, confirm with the code from the outbox, sign in, sign out, then the hosted UI round
// trip (authorization code + PKCE). Saves a screenshot of the signed-in page. Then measures a
// sign-in's client-side time (the SDK's work, fetch time subtracted) and prints it; the figure
// is reported, never asserted.
//   node example.mjs <helper origin> <host endpoint> <screenshot path>
import assert from "node:assert/strict";
import { join } from "node:path";
import { createRequire } from "node:module";

// playwright-core lives in the setup script's cache (NODE_PATH), which ESM imports ignore.
const require = createRequire(join(process.env.NODE_PATH ?? ".", "resolve-from-here.js"));
const { chromium } = require("playwright-core");

const [helper, endpoint, screenshot] = process.argv.slice(2);
const POOL = "us-east-1_WebSdkT01";
const CLIENT = "websdktestclient0000000001";
const PASSWORD = "Correct-Horse-9-Battery";
const username = `example${Date.now() % 1e9}${Math.floor(Math.random() * 1e6)}`;

async function latestCode(who) {
  for (let i = 0; i < 100; i++) {
    const lines = (await (await fetch(`${helper}/outbox`)).text()).split("\n").filter(Boolean);
    const codes = lines.map((l) => JSON.parse(l)).filter((m) => m.username === who && m.code);
    if (codes.length) return codes.at(-1).code;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no code for ${who}`);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const page = await browser.newPage();
try {
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  // Chromium logs every 4xx as "Failed to load resource" (the wrong password below, the
  // missing favicon); other console errors are problems.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  const ready = () => page.waitForSelector("body[data-ready=true]");

  await page.goto(`${helper}/examples/index.html#endpoint=${endpoint}&pool=${POOL}&client=${CLIENT}`);
  await ready();

  // Sign up and confirm.
  await page.fill("#signup-form [name=username]", username);
  await page.fill("#signup-form [name=email]", `${username}@example.com`);
  await page.fill("#signup-form [name=password]", PASSWORD);
  await page.click("#signup-form button[type=submit]");
  await page.waitForSelector("#confirm-form:not([hidden])");
  await page.fill("#confirm-form [name=code]", await latestCode(username));
  await page.click("#confirm-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("confirmed"));

  // A wrong password shows Cognito's exception name.
  await page.fill("#signin-form [name=password]", "Wrong-Password-1");
  await page.click("#signin-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#error").textContent.startsWith("NotAuthorizedException"));

  // Sign in.
  await page.fill("#signin-form [name=password]", PASSWORD);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("#signed-in:not([hidden])");
  assert.equal(await page.textContent("#who"), username);
  assert.equal(await page.textContent("#how"), "password");
  assert.match(await page.textContent("#attributes"), new RegExp(`${username}@example.com`));

  // A reload restores the session from localStorage.
  await page.reload();
  await ready();
  await page.waitForSelector("#signed-in:not([hidden])");
  assert.equal(await page.textContent("#who"), username);

  // Sign out, then the hosted UI: to the host's login page and back with a code.
  await page.click("#signout");
  await page.waitForSelector("#signed-out:not([hidden])");
  await Promise.all([page.waitForURL(`${endpoint}/**`), page.click("#hosted-ui")]);
  const authorize = new URL(page.url());
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForURL(`${helper}/examples/index.html**`), page.click("button[type=submit]")]);
  await ready();
  await page.waitForSelector("#signed-in:not([hidden])");
  assert.equal(await page.textContent("#who"), username);
  assert.equal(await page.textContent("#how"), "hosted UI");
  assert.equal(new URL(page.url()).search, "", "code and state are removed from the address bar");
  await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(problems, [], problems.join("\n"));
  console.log(`example page: sign-up, sign-in, reload, sign-out and hosted UI passed (login page ${authorize.pathname}); screenshot ${screenshot}`);

  // Client-side time of a sign-in: the SDK's work (JSON, storage, WebCrypto verification of the
  // ID token) with the time spent in fetch (request, server, body) subtracted.
  const figures = await page.evaluate(async ({ helper, endpoint, POOL, CLIENT, username, PASSWORD }) => {
    // The module the page loaded (same URL, already initialised).
    const Auth = await import(`${helper}/pkg/cognate_web.js`);
    let network = 0;
    const timedFetch = async (url, init) => {
      const t0 = performance.now();
      const response = await fetch(url, init);
      const body = await response.arrayBuffer();
      network += performance.now() - t0;
      return new Response(body, { status: response.status, headers: response.headers });
    };
    Auth.configure({ endpoint, userPoolId: POOL, userPoolClientId: CLIENT, storage: "memory", fetch: timedFetch });
    const client = [];
    const total = [];
    for (let i = 0; i < 21; i++) {
      network = 0;
      const t0 = performance.now();
      await Auth.signIn({ username, password: PASSWORD });
      const elapsed = performance.now() - t0;
      total.push(elapsed);
      client.push(elapsed - network);
      await Auth.signOut();
    }
    const first = client.shift();
    total.shift();
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { first, median: median(client), max: Math.max(...client), totalMedian: median(total) };
  }, { helper, endpoint, POOL, CLIENT, username, PASSWORD });
  console.log(
    `sign-in client-side time: first (JWKS key import included) ${figures.first.toFixed(2)} ms; ` +
    `next 20: median ${figures.median.toFixed(2)} ms, max ${figures.max.toFixed(2)} ms ` +
    `(median with network ${figures.totalMedian.toFixed(2)} ms)`,
  );
} catch (error) {
  console.error(`example page failed at ${page.url()}; #error: ${await page.textContent("#error").catch(() => "?")}`);
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-failure.png"), fullPage: true }).catch(() => {});
  throw error;
} finally {
  // playwright made (and removes) a fresh profile directory for this browser.
  await browser.close();
}
