// cognito.mjs — a local look-alike of an Amazon Cognito user pool with a hosted
// domain, built on the certified OpenID provider `oidc-provider` (panva).
//
//   node cognito.mjs <config.json>
//
// config.json: issuer, domain, listen[{host,port}], tls{cert,key}, clients[], users[]
// (selftest.mjs writes a complete example). Two origins, one process:
//   A "cognito-idp"   <issuer> = https://cognito-idp.<region>.amazonaws.com/<poolId>
//                     <issuer>/.well-known/openid-configuration, <issuer>/.well-known/jwks.json
//   B hosted domain   https://<prefix>.auth.<region>.amazoncognito.com
//                     /oauth2/authorize /oauth2/token /oauth2/userInfo /oauth2/revoke /logout
//                     and the hosted UI login page /login/<interaction>
// Anything else answers 404, as those hosts do.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import Provider from 'oidc-provider';

const cfg = JSON.parse(readFileSync(process.argv[2] ?? 'config.json', 'utf8'));
const ISSUER = cfg.issuer.replace(/\/+$/, '');
const issuerUrl = new URL(ISSUER);
const domainUrl = new URL(cfg.domain);
const DOMAIN = domainUrl.origin;
const ISSUER_PATH = issuerUrl.pathname; // "/us-east-1_AbCdEf123"
const POOL_ID = ISSUER_PATH.split('/').filter(Boolean).pop();
const STARTED = String(Date.now());
const portOf = (u) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));

// ---- Users (Cognito user pool users) -------------------------------------
const usersByName = new Map(cfg.users.map((u) => [u.username.toLowerCase(), u])); // usernames are case-insensitive
const usersBySub = new Map(cfg.users.map((u) => [u.sub, u]));
const clientsById = new Map(cfg.clients.map((c) => [c.client_id, c]));

// Standard attributes of a user pool (OIDC standard claims), which an app
// client may read and write unless its ReadAttributes/WriteAttributes say
// otherwise. Cognito API reference, UserPoolClientType: "When you don't
// specify the ReadAttributes for your app client, your app can read the
// values of email_verified, phone_number_verified, and the standard
// attributes of your user pool"; likewise WriteAttributes, without the
// *_verified ones. Custom attributes (custom:*) need to be listed.
const STANDARD = ['address', 'birthdate', 'email', 'family_name', 'gender', 'given_name', 'locale', 'middle_name',
  'name', 'nickname', 'phone_number', 'picture', 'preferred_username', 'profile', 'updated_at', 'website', 'zoneinfo'];
const canRead = (client, attr) => (client?.read_attributes
  ? client.read_attributes.includes(attr)
  : STANDARD.includes(attr) || attr === 'email_verified' || attr === 'phone_number_verified');
const canWrite = (client, attr) => (client?.write_attributes ? client.write_attributes.includes(attr) : STANDARD.includes(attr));

// A federated user's attributes: the identity provider's claims mapped by
// the provider's AttributeMapping (user pool attribute <- IdP claim). A
// multi-valued claim lands in a string attribute as "[a, b]".
function mapped(u) {
  const out = {};
  for (const [attr, claim] of Object.entries(u.federated?.attributeMapping ?? {})) {
    const v = u.federated.claims?.[claim];
    if (v === undefined || attr === 'username') continue;
    out[attr] = Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
  }
  return out;
}

// The user attributes Cognito puts in tokens for a client. `use` is
// 'id_token' or 'userinfo'. Only attributes the client may read appear.
function cognitoClaims(u, use, client) {
  // Federated users: Cognito adds them to the automatic group "<poolId>_<providerName>"
  // and records the link in `identities`.
  const idp = u.federated ? u.federated.provider : null;
  const groups = [...(idp ? [`${POOL_ID}_${idp}`] : []), ...(u.groups ?? [])];
  const identities = idp ? [{
    userId: u.sub, providerName: idp, providerType: 'OIDC',
    issuer: null, primary: 'true', dateCreated: STARTED,
  }] : undefined;
  const attrs = { email: u.email, email_verified: u.email_verified ?? true, ...mapped(u) };
  const readable = Object.fromEntries(Object.entries(attrs).filter(([k]) => canRead(client, k)));
  if (use === 'id_token') {
    return {
      sub: u.sub, ...readable,
      'cognito:username': u.cognitoUsername ?? u.username,
      'cognito:groups': groups.length ? groups : undefined, // absent when in no group
      identities, token_use: 'id',
    };
  }
  // userInfo, as Cognito answers it: `username` (not cognito:username), booleans as the
  // strings "true"/"false", identities as a JSON string, and no cognito:groups.
  const info = { sub: u.sub, ...readable, username: u.cognitoUsername ?? u.username, identities: identities && JSON.stringify(identities) };
  if ('email_verified' in info) info.email_verified = String(info.email_verified);
  return info;
}

// ---- Key material: one RS256 signing key, generated at start ----------------
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;

// ---- The provider -----------------------------------------------------------
const ALL_CLAIMS = ['sub', 'email', 'email_verified', 'cognito:username', 'username', 'cognito:groups',
  'custom:groups', 'identities', 'token_use', ...STANDARD];
const provider = new Provider(ISSUER, {
  // Confidential app clients: id + secret, authorization code grant (+ refresh tokens,
  // which Cognito always issues). client_secret_basic is registered; oidc-provider
  // accepts client_secret_post for such a client too, as Cognito does.
  clients: cfg.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris, // exact match; anything else gets an error page
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: (c.scopes ?? ['openid', 'email', 'profile']).join(' '), // the client's allowed OAuth scopes
    require_auth_time: true, // Cognito ID tokens always carry auth_time
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // Cognito's endpoint paths (relative to the mount: the domain, or the issuer path).
  routes: {
    authorization: '/oauth2/authorize', token: '/oauth2/token', userinfo: '/oauth2/userInfo',
    revocation: '/oauth2/revoke', jwks: '/.well-known/jwks.json',
  },
  scopes: ['openid', 'email', 'profile'],
  // With `openid`, Cognito returns every readable attribute; email/profile add nothing more.
  claims: { openid: ALL_CLAIMS, email: ['email', 'email_verified'], profile: ['cognito:username', 'username'] },
  conformIdTokenClaims: false, // put the user claims in the ID token of the code flow
  async findAccount(ctx, sub) {
    const u = usersBySub.get(sub);
    return u && { accountId: sub, claims: async (use) => cognitoClaims(u, use, clientsById.get(ctx.oidc?.client?.clientId)) };
  },
  features: {
    devInteractions: { enabled: false }, // our own hosted-UI login page instead
    revocation: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: false }, // Cognito's /logout is not OIDC RP-initiated logout; see below
  },
  pkce: { required: () => false }, // PKCE is optional for confidential Cognito clients
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: false,
  // Cognito defaults: code 5 min, ID/access token 1 h, refresh token 30 days.
  ttl: { AuthorizationCode: 300, IdToken: 3600, AccessToken: 3600, RefreshToken: 30 * 86400, Interaction: 3600 },
  interactions: { url: (ctx, interaction) => `/login/${interaction.uid}` },
  // No consent screen: every requested OIDC scope is granted as soon as the user signed in.
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    const grant = (id && await Grant.find(id))
      || new Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
    await grant.save();
    return grant;
  },
  // Errors that must not go back to the client (unknown client, unregistered redirect_uri):
  // an error page on the domain, never a redirect.
  async renderError(ctx, out) {
    ctx.type = 'html';
    const what = out.error === 'invalid_redirect_uri' ? 'redirect_mismatch' : out.error;
    ctx.body = page('Error', `<h1>An error was encountered with the requested page.</h1>
      <p id="errorMessage">${esc(what)}</p><p>${esc(out.error_description ?? '')}</p>`);
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// ---- Hosted UI: login page (plain form, no consent afterwards) ---------------
const loginForm = (uid, error = '') => page('Signin', `
  <h1>Sign in with your username and password</h1>
  ${error ? `<p id="loginErrorMessage" class="error">${esc(error)}</p>` : ''}
  <form method="post" action="/login/${esc(uid)}">
    <label for="username">Username</label> <input id="username" name="username" type="text" autocomplete="username" required>
    <label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button id="signin" name="signInSubmitButton" type="submit">Sign in</button>
  </form>`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) { body += chunk; if (body.length > 65536) break; }
  return new URLSearchParams(body);
}
const sameString = (a, b) => {
  const x = Buffer.from(String(a)); const y = Buffer.from(String(b ?? ''));
  return x.length === y.length && timingSafeEqual(x, y);
};

async function login(ctx, uid) {
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    details = null;
  }
  if (!details || details.uid !== uid) { // expired/unknown interaction: Cognito shows an error
    ctx.status = 400;
    return renderErrorPage(ctx, 'invalid_request', 'Login session expired or not found. Start again from the application.');
  }
  if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  if (ctx.method !== 'POST') { ctx.body = loginForm(uid); return undefined; }
  const form = await readForm(ctx.req);
  const user = usersByName.get(String(form.get('username') ?? '').toLowerCase());
  if (!user || !sameString(user.password, form.get('password'))) {
    ctx.body = loginForm(uid, 'Incorrect username or password.');
    return undefined;
  }
  // Cognito updates the mapped attributes at every federated sign-in, and
  // fails it when the app client may not write one of them (API reference,
  // UserPoolClientType WriteAttributes: "If your app client does not have
  // write access to a mapped attribute, Amazon Cognito throws an error").
  const client = clientsById.get(details.params.client_id);
  // The client's SupportedIdentityProviders: its users sign in through
  // these only (COGNITO: the pool's own users; a provider's name: its
  // federated users).
  const via = user.federated ? user.federated.provider : 'COGNITO';
  if (client?.identity_providers && !client.identity_providers.includes(via)) {
    ctx.status = 400;
    return renderErrorPage(ctx, 'invalid_request', `Login option is not available: ${via} is not an identity provider of this app client`);
  }
  const unwritable = Object.keys(mapped(user)).filter((a) => !canWrite(client, a));
  if (unwritable.length) {
    ctx.status = 400;
    return renderErrorPage(ctx, 'invalid_request', `Invalid user attributes: ${unwritable.join(', ')}: the app client has no write access`);
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res,
    { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  ctx.redirect(returnTo); // 302 back to /oauth2/authorize/<uid>, which redirects with the code
  return undefined;
}

function renderErrorPage(ctx, error, description) {
  ctx.type = 'html';
  ctx.body = page('Error', `<h1>An error was encountered with the requested page.</h1>
    <p id="errorMessage">${esc(error)}</p><p>${esc(description)}</p>`);
}

// ---- Cognito's /logout: ?client_id=..&logout_uri=.. (a registered sign-out URL), or
// ?client_id=..&redirect_uri=..&response_type=code.. to sign out then sign in again.
async function logout(ctx) {
  const { client_id: clientId, logout_uri: logoutUri, redirect_uri: redirectUri } = ctx.query;
  const client = clientsById.get(clientId);
  let target;
  if (client && logoutUri && (client.logout_uris ?? []).includes(logoutUri)) target = logoutUri;
  else if (client && !logoutUri && redirectUri && client.redirect_uris.includes(redirectUri)) {
    const q = new URLSearchParams(ctx.querystring);
    target = `/oauth2/authorize?${q}`;
  }
  if (!target) {
    ctx.status = 400;
    return renderErrorPage(ctx, client ? 'redirect_mismatch' : 'invalid_request', 'Invalid logout request');
  }
  const session = await provider.Session.get(ctx);
  await session.destroy(); // ends the hosted-UI session: the next authorize asks to sign in
  ctx.cookies.set(provider.cookieName('session'), null);
  ctx.redirect(target);
  return undefined;
}

// ---- Cognito's discovery document (issuer/jwks on cognito-idp, the rest on the domain)
const discovery = {
  authorization_endpoint: `${DOMAIN}/oauth2/authorize`,
  end_session_endpoint: `${DOMAIN}/logout`,
  id_token_signing_alg_values_supported: ['RS256'],
  issuer: ISSUER,
  jwks_uri: `${ISSUER}/.well-known/jwks.json`,
  response_types_supported: ['code'],
  revocation_endpoint: `${DOMAIN}/oauth2/revoke`,
  scopes_supported: ['openid', 'email', 'profile'],
  subject_types_supported: ['public'],
  token_endpoint: `${DOMAIN}/oauth2/token`,
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  userinfo_endpoint: `${DOMAIN}/oauth2/userInfo`,
};

provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/login\/([^/]+)$/);
  if (m && !ctx.req.originalUrl) return login(ctx, m[1]);
  if (ctx.path.toLowerCase() === '/logout' && !ctx.req.originalUrl) return logout(ctx);
  await next();
  if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200) ctx.body = discovery;
  // Cognito's redirect back to the client carries code+state only: no RFC 9207 `iss`.
  const location = ctx.response.get('location');
  if (/^\/oauth2\/authorize/i.test(ctx.path) && location) {
    const back = new URL(location, DOMAIN);
    if (back.searchParams.has('iss')) { back.searchParams.delete('iss'); ctx.set('location', back.href); }
  }
  return undefined;
});

// ---- HTTP(S) front: route each request to origin A or B ----------------------
const ISSUER_PATHS = new Set([`${ISSUER_PATH}/.well-known/openid-configuration`, `${ISSUER_PATH}/.well-known/jwks.json`]);
const DOMAIN_PATHS = /^\/(oauth2\/(authorize(\/[^/]+)?|token|userinfo|revoke)|logout|login\/[^/]+)$/i;
const callback = provider.callback();

function handler(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  res.on('finish', () => process.stderr.write(`${req.method} ${path} ${res.statusCode}\n`));
  const { host } = req.headers; const port = req.socket.localPort;
  const isA = host ? host === issuerUrl.host || (host !== domainUrl.host && port === portOf(issuerUrl)) : port === portOf(issuerUrl);
  const isB = host ? host === domainUrl.host || (host !== issuerUrl.host && port === portOf(domainUrl)) : port === portOf(domainUrl);
  if (isA && ISSUER_PATHS.has(path)) {
    // Mount the provider under the issuer path: oidc-provider reads the mount point
    // from req.originalUrl minus req.url.
    req.originalUrl = req.url;
    req.url = req.url.slice(ISSUER_PATH.length);
    return callback(req, res);
  }
  if (isB && DOMAIN_PATHS.test(path)) return callback(req, res);
  res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  return undefined;
}

const tls = cfg.tls && { cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) };
const servers = cfg.listen.map(({ host, port }) => new Promise((resolve, reject) => {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  server.once('error', reject).listen(port, host, () => resolve(server));
}));
Promise.all(servers).then((list) => {
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    list.forEach((s) => { s.close(); s.closeAllConnections(); });
    process.exit(0);
  });
}, (err) => { console.error(err); process.exit(1); });
