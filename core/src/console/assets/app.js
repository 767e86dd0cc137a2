// The console's shell: sign-in with an admin key, then a hash router over the views.
import { credentials, forgetCredentials, signIn } from './api.js';
import { h, replace, field, form } from './dom.js';
import { poolsView, poolView } from './pools.js';
import { userView } from './users.js';
import { identityPoolsView, identityPoolView } from './identity.js';
import { pluginsView } from './plugins.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

function signInView() {
  nav.hidden = true;
  const region = document.body.dataset.region || 'us-east-1';
  return [
    h('h2', {}, 'Sign in'),
    h('p', {}, 'Use an admin access key of this Cognate server (',
      h('code', {}, 'scripts/run.sh'), ' prints one). It is kept only in this browser tab and sent to nothing but this server, as SigV4 signatures.'),
    form('Admin key', [
      field('Access key id', 'accessKeyId', { required: true, autocomplete: 'username' }),
      field('Secret access key', 'secretAccessKey', { type: 'password', required: true, autocomplete: 'current-password' }),
      field('Region', 'region', { value: region, required: true }),
    ], 'Sign in', async (v) => {
      await signIn(v.accessKeyId, v.secretAccessKey, v.region);
      window.location.hash = '#/';
      route();
      return 'Signed in.';
    }),
  ];
}

const ROUTES = [
  [/^#\/?$/, () => poolsView()],
  [/^#\/pools\/([^/]+)\/users\/(.+)$/, (pool, user) => userView(pool, decodeURIComponent(user))],
  [/^#\/pools\/([^/]+)(?:\/([a-z-]+))?$/, (pool, tab) => poolView(pool, tab || 'overview')],
  [/^#\/identity-pools$/, () => identityPoolsView()],
  [/^#\/identity-pools\/(.+)$/, (id) => identityPoolView(decodeURIComponent(id))],
  [/^#\/plugins$/, () => pluginsView()],
];

let generation = 0;

async function route() {
  const mine = ++generation;
  if (!credentials()) {
    replace(main, signInView());
    return;
  }
  nav.hidden = false;
  const hash = window.location.hash || '#/';
  const found = ROUTES.map(([pattern, view]) => [hash.match(pattern), view]).find(([m]) => m);
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const content = found ? await found[1](...found[0].slice(1)) : h('p', {}, 'No such page.');
    if (mine === generation) replace(main, content);
  } catch (error) {
    if (mine !== generation) return;
    replace(main, h('div', { class: 'status error', role: 'alert' }, `${error.type || 'Error'}: ${error.message}`));
  }
  main.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  forgetCredentials();
  window.location.hash = '#/';
  route();
});
window.addEventListener('hashchange', route);
// Views ask for a redraw after a change.
window.addEventListener('cognate:refresh', route);
route();
