// selftest.mjs — end-to-end check of cognito.mjs over real TLS with Node's fetch.
//   node selftest.mjs        (needs `openssl` on PATH; exits non-zero on any failure)
// Phase 1 makes a throwaway CA + localhost certificate and re-runs this file with
// NODE_EXTRA_CA_CERTS pointing at the CA (fetch reads it only at process start).
import { execFileSync, spawn } from 'node:child_process';
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

if (!process.env.COGNITO_SELFTEST_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'cognito-selftest-'));
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=testbed CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, COGNITO_SELFTEST_DIR: dir, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') },
  });
  child.on('exit', (code) => { rmSync(dir, { recursive: true, force: true }); process.exit(code ?? 1); });
} else {
  await main(process.env.COGNITO_SELFTEST_DIR);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function main(dir) {
  let passed = 0; let failed = 0;
  const check = (name, ok, detail = '') => {
    if (ok) passed += 1; else failed += 1;
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail ? ` — ${detail}` : ''}`);
    return ok;
  };

  const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
  const ISSUER = `https://localhost:${pa}/us-east-1_AbCdEf123`;
  const DOMAIN = `https://localhost:${pb}`;
  const REDIRECT = `https://localhost:${pc}/auth/oauth-authorized/cognito`;
  const LOGOUT = `https://localhost:${pc}/logout`;
  const client = { client_id: 'testbedclient1234', client_secret: 'S3cr3t-client-secret', redirect_uris: [REDIRECT], logout_uris: [LOGOUT],
    read_attributes: ['email', 'email_verified', 'custom:groups'], write_attributes: ['email', 'custom:groups'] };
  // The same client without read or write attributes: Cognito's defaults (standard attributes only).
  const plain = { client_id: 'plainclient5678', client_secret: 'plain-secret', redirect_uris: [REDIRECT], logout_uris: [] };
  const users = [
    { username: 'alice', password: 'Alice-pw-1', sub: randomUUID(), email: 'alice@example.com', groups: ['airflow-admin'], customGroups: null, federated: false },
    { username: 'bob', password: 'Bob-pw-1', sub: randomUUID(), email: 'bob@example.com', groups: [], customGroups: null, federated: false },
    { username: 'carol', password: 'Carol-pw-1', sub: randomUUID(), email: 'carol@example.com', groups: [], customGroups: ['airflow-admin', 'airflow-user'],
      federated: { provider: 'AzureAD', attributeMapping: { email: 'email', 'custom:groups': 'groups', username: 'sub' },
        claims: { email: 'carol@example.com', groups: ['airflow-admin', 'airflow-user'] } } },
  ];
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify({
    issuer: ISSUER, domain: DOMAIN,
    listen: [{ host: '127.0.0.1', port: pa }, { host: '127.0.0.1', port: pb }],
    tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') },
    clients: [client, plain], users,
  }, null, 2));

  const srv = spawn(process.execPath, [join(here, 'cognito.mjs'), cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  srv.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => srv.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = await Promise.race([
    new Promise((resolve) => srv.stdout.on('data', (d) => String(d).includes('ready') && resolve(true))),
    exited.then(() => false),
    new Promise((resolve) => setTimeout(() => resolve(false), 15000)),
  ]);
  if (!check('server prints "ready"', ready, log)) { srv.kill('SIGTERM'); process.exit(1); }

  try {
    // ---- discovery + JWKS, Cognito layout
    const disc = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
    check('discovery: issuer', disc.issuer === ISSUER, disc.issuer);
    check('discovery: jwks_uri on cognito-idp', disc.jwks_uri === `${ISSUER}/.well-known/jwks.json`, disc.jwks_uri);
    check('discovery: endpoints on the hosted domain',
      disc.authorization_endpoint === `${DOMAIN}/oauth2/authorize` && disc.token_endpoint === `${DOMAIN}/oauth2/token`
      && disc.userinfo_endpoint === `${DOMAIN}/oauth2/userInfo` && disc.revocation_endpoint === `${DOMAIN}/oauth2/revoke`,
      JSON.stringify(disc));
    check('discovery: client_secret_basic and _post',
      ['client_secret_basic', 'client_secret_post'].every((m) => disc.token_endpoint_auth_methods_supported.includes(m)));
    const jwks = await (await fetch(disc.jwks_uri)).json();
    check('jwks: one RS256 key', jwks.keys?.length >= 1 && jwks.keys[0].kty === 'RSA' && !jwks.keys[0].d);
    check('domain does not serve discovery (404)', (await fetch(`${DOMAIN}/.well-known/openid-configuration`)).status === 404);
    check('cognito-idp does not serve /oauth2/authorize (404)', (await fetch(`https://localhost:${pa}/oauth2/authorize`)).status === 404);

    // ---- a tiny browser: cookie jar + manual redirects
    const browser = () => {
      const jar = new Map();
      return async (url, opts = {}) => {
        const res = await fetch(new URL(url, DOMAIN), {
          ...opts, redirect: 'manual', headers: { ...opts.headers, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
        });
        for (const c of res.headers.getSetCookie()) {
          const [kv] = c.split(';'); const i = kv.indexOf('=');
          const [k, v] = [kv.slice(0, i), kv.slice(i + 1)];
          if (v && !/expires=Thu, 01 Jan 1970/i.test(c)) jar.set(k, v); else jar.delete(k);
        }
        return res;
      };
    };
    const authorizeUrl = (state, nonce, redirect = REDIRECT, clientId = client.client_id) => `${disc.authorization_endpoint}?${new URLSearchParams({
      client_id: clientId, response_type: 'code', scope: 'openid email profile', redirect_uri: redirect, state, nonce,
    })}`;
    const postForm = (go, url, fields) => go(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields),
    });
    const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const token = (fields, auth) => fetch(disc.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(fields),
    });
    const decode = (jwt) => jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
    const verifyJwt = (jwt) => {
      const [h, , s] = jwt.split('.');
      const header = JSON.parse(Buffer.from(h, 'base64url'));
      const jwk = jwks.keys.find((k) => k.kid === header.kid);
      return header.alg === 'RS256' && !!jwk
        && verify('RSA-SHA256', Buffer.from(jwt.slice(0, jwt.lastIndexOf('.'))), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
    };

    // Runs the code flow up to the callback redirect; returns { go, location }.
    async function signIn(u, { state, nonce, wrongPasswordFirst = false, go = browser(), clientId = client.client_id }) {
      let res = await go(authorizeUrl(state, nonce, REDIRECT, clientId));
      let loc = res.headers.get('location');
      if (loc && new URL(loc, DOMAIN).pathname.startsWith('/login/')) {
        const loginUrl = new URL(loc, DOMAIN).href;
        const form = await (await go(loginUrl)).text();
        check(`${u.username}: login page has username/password inputs and #signin`,
          /name="username"[^>]*|id="username"/.test(form) && /id="password"/.test(form) && /name="password"/.test(form) && /id="signin"/.test(form));
        if (wrongPasswordFirst) {
          const bad = await postForm(go, loginUrl, { username: u.username, password: 'wrong' });
          const text = await bad.text();
          check(`${u.username}: wrong password shows an error on the page`,
            bad.status === 200 && !bad.headers.get('location') && text.includes('Incorrect username or password.'), `${bad.status}`);
        }
        res = await postForm(go, loginUrl, { username: u.username, password: u.password });
        if (res.status === 400) return { go, location: null, refused: await res.text() };
        loc = res.headers.get('location');
        while (loc && !loc.startsWith(REDIRECT)) { res = await go(loc); loc = res.headers.get('location'); }
      }
      return { go, location: loc && new URL(loc) };
    }

    const sessions = {};
    for (const [i, u] of users.entries()) {
      const state = randomUUID(); const nonce = randomUUID();
      const { go, location } = await signIn(u, { state, nonce, wrongPasswordFirst: i === 0 });
      sessions[u.username] = go;
      if (!check(`${u.username}: code+state (no iss) come straight back to the callback (no consent)`,
        location?.origin + location?.pathname === REDIRECT && location.searchParams.get('code') && location.searchParams.get('state') === state
        && !location.searchParams.has('iss'),
        String(location))) continue;
      // alice & carol exchange with client_secret_basic, bob with client_secret_post
      const fields = { grant_type: 'authorization_code', code: location.searchParams.get('code'), redirect_uri: REDIRECT };
      const res = u.username === 'bob'
        ? await token({ ...fields, client_id: client.client_id, client_secret: client.client_secret })
        : await token(fields, basic(client.client_id, client.client_secret));
      const tok = await res.json();
      const how = u.username === 'bob' ? 'client_secret_post' : 'client_secret_basic';
      if (!check(`${u.username}: token exchange (${how})`, res.status === 200 && tok.id_token && tok.access_token && tok.refresh_token && tok.token_type === 'Bearer', JSON.stringify(tok))) continue;
      check(`${u.username}: ID token RS256 signature verifies against the discovery JWKS`, verifyJwt(tok.id_token));
      const [, c] = decode(tok.id_token);
      const expGroups = u.federated ? [`us-east-1_AbCdEf123_${u.federated.provider}`, ...u.groups] : u.groups;
      check(`${u.username}: ID token iss/aud/token_use/auth_time/nonce`,
        c.iss === ISSUER && c.aud === client.client_id && c.token_use === 'id' && Number.isInteger(c.auth_time) && c.nonce === nonce, JSON.stringify(c));
      check(`${u.username}: ID token sub/email/email_verified/cognito:username`,
        c.sub === u.sub && c.email === u.email && c.email_verified === true && c['cognito:username'] === u.username, JSON.stringify(c));
      check(`${u.username}: cognito:groups ${expGroups.length ? JSON.stringify(expGroups) : 'absent'}`,
        expGroups.length ? JSON.stringify(c['cognito:groups']) === JSON.stringify(expGroups) : !('cognito:groups' in c), JSON.stringify(c['cognito:groups']));
      if (u.customGroups) {
        check(`${u.username}: custom:groups is the string "[airflow-admin, airflow-user]"`, c['custom:groups'] === '[airflow-admin, airflow-user]', JSON.stringify(c['custom:groups']));
        check(`${u.username}: identities lists the federated IdP`, Array.isArray(c.identities) && c.identities[0]?.providerName === u.federated.provider, JSON.stringify(c.identities));
      } else {
        check(`${u.username}: no custom:groups / identities`, !('custom:groups' in c) && !('identities' in c), JSON.stringify(c));
      }
      const ui = await fetch(disc.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } });
      const info = await ui.json();
      check(`${u.username}: userInfo (Cognito shape: username, email_verified "true", no cognito:groups)`,
        ui.status === 200 && info.sub === u.sub && info.email === u.email && info.username === u.username
        && info.email_verified === 'true' && !('cognito:groups' in info)
        && (u.customGroups ? info['custom:groups'] === c['custom:groups'] && typeof info.identities === 'string' : true), JSON.stringify(info));
      if (u.username === 'alice') {
        const rt = await token({ grant_type: 'refresh_token', refresh_token: tok.refresh_token }, basic(client.client_id, client.client_secret));
        const rtok = await rt.json();
        check('alice: refresh_token grant returns a new ID token', rt.status === 200 && rtok.id_token && decode(rtok.id_token)[1].sub === u.sub, JSON.stringify(rtok));
        const rv = await fetch(disc.revocation_endpoint, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
          body: new URLSearchParams({ token: tok.refresh_token }),
        });
        const again = await token({ grant_type: 'refresh_token', refresh_token: tok.refresh_token }, basic(client.client_id, client.client_secret));
        check('alice: /oauth2/revoke revokes the refresh token', rv.status === 200 && again.status === 400, `${rv.status} ${again.status}`);
      }
    }

    // ---- refusals
    const bad = await browser()(authorizeUrl('s', 'n', `https://localhost:${pc}/evil`));
    const badText = await bad.text();
    check('unregistered redirect_uri: HTTP 400 error page, no redirect',
      bad.status === 400 && !bad.headers.get('location') && badText.includes('redirect_mismatch'), `${bad.status} ${bad.headers.get('location')}`);
    const unknown = await browser()(`${disc.authorization_endpoint}?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    check('unknown client_id: HTTP 400 error page, no redirect', unknown.status === 400 && !unknown.headers.get('location'), `${unknown.status}`);
    const { location } = await signIn(users[1], { state: 'x', nonce: 'y' });
    const code = location?.searchParams.get('code');
    const wrong = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, basic(client.client_id, 'not-the-secret'));
    const wrongBody = await wrong.json();
    check('wrong client secret refused at /oauth2/token (invalid_client)', [400, 401].includes(wrong.status) && wrongBody.error === 'invalid_client', `${wrong.status} ${JSON.stringify(wrongBody)}`);
    const wrongPost = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client.client_id, client_secret: 'nope' });
    check('wrong client secret refused with client_secret_post too', [400, 401].includes(wrongPost.status), `${wrongPost.status}`);

    // ---- app client attribute permissions (Cognito's ReadAttributes / WriteAttributes)
    const refused = await signIn(users[2], { state: 'a', nonce: 'b', clientId: plain.client_id });
    check('federated sign-in through a client without write access to a mapped attribute is refused',
      !refused.location && /Invalid user attributes: custom:groups/.test(refused.refused ?? ''), refused.refused ?? String(refused.location));
    const viaPlain = await signIn(users[0], { state: 'c', nonce: 'd', clientId: plain.client_id });
    const plainCode = viaPlain.location?.searchParams.get('code');
    const plainTok = await (await token({ grant_type: 'authorization_code', code: plainCode, redirect_uri: REDIRECT }, basic(plain.client_id, plain.client_secret))).json();
    const [, pc1] = plainTok.id_token ? decode(plainTok.id_token) : [null, {}];
    check('a client without ReadAttributes reads the standard attributes (email) in the ID token', pc1.email === users[0].email && pc1.aud === plain.client_id, JSON.stringify(pc1));

    // ---- hosted-UI session (SSO) and /logout
    const go = sessions.alice;
    const sso = await go(authorizeUrl('s2', 'n2'));
    check('second authorize in the same browser: straight back with a code (session)', (sso.headers.get('location') ?? '').startsWith(REDIRECT), sso.headers.get('location'));
    const badOut = await go(`${DOMAIN}/logout?${new URLSearchParams({ client_id: client.client_id, logout_uri: `https://localhost:${pc}/elsewhere` })}`);
    check('/logout with an unregistered logout_uri: 400, no redirect', badOut.status === 400 && !badOut.headers.get('location'), `${badOut.status}`);
    const out = await go(`${DOMAIN}/logout?${new URLSearchParams({ client_id: client.client_id, logout_uri: LOGOUT })}`);
    check('/logout redirects to the registered logout_uri', out.status === 302 && out.headers.get('location') === LOGOUT, `${out.status} ${out.headers.get('location')}`);
    const after = await go(authorizeUrl('s3', 'n3'));
    check('after /logout, authorize asks to sign in again', new URL(after.headers.get('location') ?? '/', DOMAIN).pathname.startsWith('/login/'), after.headers.get('location'));
  } catch (err) {
    check('no exception', false, err.stack);
  }

  srv.kill('SIGTERM');
  const { code, signal } = await exited;
  check('exits cleanly on SIGTERM', code === 0, `code=${code} signal=${signal}`);
  check('request log on stderr (method path status)', /^GET \/oauth2\/authorize 303$/m.test(log) && /^POST \/oauth2\/token 200$/m.test(log), log.slice(0, 500));
  if (process.env.SELFTEST_VERBOSE || failed) console.error(`--- cognito.mjs stderr ---\n${log}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
