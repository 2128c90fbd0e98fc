// A real OpenID provider for the tests: Node's certified `oidc-provider`, on a socket the pytest fixture bound and
// passes in (tests/oidc/conftest.py), so two test runs never race for a port.
//
//   node tests/oidc/provider.mjs '{"issuer": "http://127.0.0.1:PORT", "fd": 3, "now": <ms>, "redirect_uris": [...],
//                                   "post_logout_redirect_uris": [...]}'
//
// Its clock reads `now` (the app's pinned test clock) and runs on from there, so the ID tokens' iat/exp are on the
// app's clock whatever the machine's date. Test-only endpoints under /__test/ rotate the signing key, spoil the next
// ID token (wrong audience, expired, tampered signature, an unknown key) and count JWKS fetches.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);

// --- the clock --------------------------------------------------------------------------------------------------
const realNow = Date.now;
let offset = config.now - realNow();
Date.now = () => realNow() + offset;
// The provider's cookies carry no expiry date: a browser would read it against its own (real) clock, not this one.
const Cookie = createRequire(import.meta.url)('cookies').Cookie;
const toHeader = Cookie.prototype.toHeader;
Cookie.prototype.toHeader = function toHeaderWithoutExpiry() {
  const { maxAge, expires } = this;
  if (this.value) { // a deletion keeps its date in 1970
    this.maxAge = undefined;
    this.expires = undefined;
  }
  try {
    return toHeader.call(this);
  } finally {
    this.maxAge = maxAge;
    this.expires = expires;
  }
};

// --- who may sign in ----------------------------------------------------------------------------------------------
const PASSWORD = 'provider-password';
const USERS = {
  alice: { email: 'alice@agency.gov', email_verified: true, name: 'Alice Analyst', groups: ['tracker-admins', 'tst-staff'] },
  manager: { email: 'manager@example.gov', email_verified: true, name: 'Manager Person', groups: [] },
  mallory: { email: 'viewer@example.gov', email_verified: false, name: 'Mallory Unverified', groups: [] },
  olga: { email: 'olga@elsewhere.example', email_verified: true, name: 'Olga Outside', groups: [] },
};

// --- keys -----------------------------------------------------------------------------------------------------------
function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { key: privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' } };
}
let signing = newKey();
const stranger = newKey(); // never published: a token it signs has a kid the app cannot find
let jwksFetches = 0;
let fault = null; // what to spoil in the next ID token the token endpoint answers

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function resign(idToken, change, with_ = signing) {
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: with_.jwk.kid })}.${b64({ ...payload, ...change })}`;
  return `${input}.${sign('sha256', Buffer.from(input), with_.key).toString('base64url')}`;
}
const FAULTS = {
  audience: (t) => resign(t, { aud: 'someone-else' }),
  expired: (t) => {
    const now = Math.floor(Date.now() / 1000);
    return resign(t, { iat: now - 7200, exp: now - 3600 });
  },
  signature: (t) => {
    const [h, p, s] = t.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    return `${h}.${b64({ ...claims, email: 'admin@example.gov' })}.${s}`;
  },
  unknown_key: (t) => resign(t, {}, stranger),
  nonce: (t) => resign(t, { nonce: 'not-the-one-sent' }),
  // an ID token with the subject alone, as providers that keep the person's claims for the userinfo endpoint send
  thin: (t) => resign(t, { email: undefined, email_verified: undefined, name: undefined, groups: undefined }),
};
// What to spoil in the next userinfo answer: a subject other than the ID token's.
const USERINFO_FAULTS = { userinfo_sub: (body) => ({ ...body, sub: 'someone-else' }) };
let userinfoFault = null;
let userinfoCalls = 0;

// --- the provider ---------------------------------------------------------------------------------------------------
function build() {
  const provider = new Provider(config.issuer, {
    clients: [
      {
        client_id: 'tracker',
        client_secret: 'tracker-secret',
        client_name: 'Tracker',
        redirect_uris: config.redirect_uris,
        post_logout_redirect_uris: config.post_logout_redirect_uris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signing.jwk] },
    // groups with the profile: the app asks for the scopes every provider knows (openid email profile)
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    scopes: ['openid', 'email', 'profile'],
    conformIdTokenClaims: false, // the scopes' claims in the ID token too, as most providers send them
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key'] },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 3600, Session: 3600, Grant: 3600 },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => USERS[sub] && { accountId: sub, claims: async () => ({ sub, ...USERS[sub] }) },
    // First-party client: no consent screen; the grant covers what was asked.
    loadExistingGrant: async (ctx) => {
      const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/jwks') jwksFetches += 1;
    await next();
    if (ctx.path === '/me' && ctx.status === 200) {
      userinfoCalls += 1;
      if (userinfoFault) {
        ctx.body = USERINFO_FAULTS[userinfoFault](ctx.body);
        userinfoFault = null;
      }
    }
    if (ctx.path === '/token' && ctx.body?.id_token && fault) {
      ctx.body = { ...ctx.body, id_token: FAULTS[fault](ctx.body.id_token) };
      fault = null;
    }
  });
  return provider;
}
let provider = build();

// --- its own sign-in form -------------------------------------------------------------------------------------------
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function loginPage(uid, error = '', login = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:22rem;margin:2rem auto;padding:0 1rem;color:#111}label,input,button{display:block;width:100%;margin:.3rem 0}input,button{padding:.5rem;font-size:1rem}.error{color:#8b0000}</style>
</head><body><main><h1>Test identity provider</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Account</label><input id="login" name="login" autocomplete="username" value="${escape(login)}" required>
<label for="password">Provider password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Continue</button></form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') return send(res, 501, 'only the login prompt is implemented');
  if (req.method === 'GET') return send(res, 200, loginPage(details.uid));
  const form = await readForm(req);
  const login = form.get('login') || '';
  if (!USERS[login] || form.get('password') !== PASSWORD) {
    return send(res, 401, loginPage(details.uid, 'Wrong account or password.', login));
  }
  // remember: false makes its session cookie last as long as the browser, with no date read against another clock
  return provider.interactionFinished(req, res, { login: { accountId: login, remember: false } }, { mergeWithLastSubmission: false });
}

async function testEndpoint(req, res, path) {
  const form = req.method === 'POST' ? await readForm(req) : new URLSearchParams();
  if (path === '/__test/rotate') {
    signing = newKey();
    provider = build();
  } else if (path === '/__test/fault') {
    const kind = form.get('fault');
    if (kind in USERINFO_FAULTS) userinfoFault = kind;
    else if (kind in FAULTS) fault = kind;
    else return send(res, 400, 'unknown fault');
  } else if (path !== '/__test/stats') {
    return send(res, 404, 'no such test endpoint');
  }
  return send(res, 200, JSON.stringify({ jwks_fetches: jwksFetches, userinfo_calls: userinfoCalls, kid: signing.jwk.kid }), 'application/json');
}

const server = createServer((req, res) => {
  const path = new URL(req.url, config.issuer).pathname;
  const handled = path.startsWith('/__test/')
    ? testEndpoint(req, res, path)
    : path.startsWith('/interaction/')
      ? interaction(req, res)
      : provider.callback()(req, res);
  Promise.resolve(handled).catch((err) => {
    if (!res.headersSent) send(res, 500, String(err));
  });
});
server.listen({ fd: config.fd }, () => process.stdout.write('ready\n'));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
