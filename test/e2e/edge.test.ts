// The edge end to end: real HAProxy as the router, real pebble (Let's Encrypt's test CA) on loopback
// validating HTTP-01 against the router's port, a real app pushed with git. Certificates issued on
// first deploy and for custom domains, served over TLS with HTTP/2, renewed before they expire,
// replaced and revoked, uploaded by hand; hosts that are not routed get nothing; HTTP→HTTPS
// redirect; WebSockets through the router; per-release counts in the metrics; the API over TLS.
import fs from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { solumWithApp, webSocketEcho } from '../support/fixtures.js';
import { gitClient, makeRepo } from '../support/git.js';
import { freePort, httpsGet, startPebble } from '../support/pebble.js';
import { run, startSolum, type RunningSolum } from '../support/solum.js';

const server = `
const http = require('http');
const srv = http.createServer((req, res) => {
  if (req.url === '/health') { res.end('ok'); return; }
  res.end('hello from ' + process.env.SOLUM_RELEASE + ' via ' + (req.headers['x-forwarded-proto'] || '?'));
});
// A WebSocket handshake: 101 with the accept key, then every byte echoed back.
srv.on('upgrade', (req, socket) => {
  const accept = require('crypto').createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  socket.on('data', (d) => socket.write(d));
});
srv.listen(Number(process.env.PORT), '0.0.0.0');
`;
const pkg = JSON.stringify({ name: 'edge', version: '1.0.0', scripts: { start: 'node server.js' } });

interface HostJson {
  host: string;
  kind: string;
  certificate: { status: string; serial: string | null; notAfter: string | null; issuer: string | null; error: string | null };
}

async function eventually<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const hostsOf = async (solum: RunningSolum, app: string): Promise<HostJson[]> => ((await solum.api('GET', `/v1/apps/${app}/domains`)).json as { hosts: HostJson[] }).hosts;

const certOf = async (solum: RunningSolum, app: string, host: string): Promise<HostJson['certificate'] | undefined> => (await hostsOf(solum, app)).find((h) => h.host === host)?.certificate;

/** A TLS handshake with the router for `servername`: what it served and agreed. */
function handshake(port: number, servername: string, ca: string, alpn = ['h2', 'http/1.1']): Promise<{ authorized: boolean; error: string | undefined; alpn: string | false; serial: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: alpn, rejectUnauthorized: false }, () => {
      const peer = s.getPeerCertificate();
      resolve({ authorized: s.authorized, error: s.authorized ? undefined : String(s.authorizationError), alpn: s.alpnProtocol ?? false, serial: peer.serialNumber.toLowerCase() });
      s.end();
    });
    s.on('error', reject);
  });
}

/** One request over HTTP/2 on TLS to the router for `host`. */
function h2get(port: number, host: string, ca: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${host}:${port}`, { createConnection: () => tls.connect({ host: '127.0.0.1', port, servername: host, ca, ALPNProtocols: ['h2'] }) });
    session.on('error', reject);
    const req = session.request({ ':path': '/' });
    let status = 0;
    let text = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      session.close();
      resolve({ status, text });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A plain-HTTP request to the router with a Host header, redirects not followed. */
function viaHost(port: number, host: string, urlPath = '/'): Promise<{ status: number; location: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let raw = '';
    s.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    s.on('end', () => {
      const [head = '', ...body] = raw.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), location: /\r\nlocation: ([^\r]+)/i.exec(head)?.[1], text: body.join('\r\n\r\n') });
    });
    s.on('error', reject);
  });
}

async function selfSigned(dir: string, cn: string, san: string): Promise<{ cert: string; key: string; certFile: string; keyFile: string }> {
  const [certFile, keyFile] = [path.join(dir, `${cn}.crt`), path.join(dir, `${cn}.key`)];
  const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '7', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  return { cert: await fs.readFile(certFile, 'utf8'), key: await fs.readFile(keyFile, 'utf8'), certFile, keyFile };
}

test.serial('ACME over real pebble: issue on first deploy, HTTP/2 over TLS, custom domains, refusals, redirect, revoke and replace, renewal, upload; WebSockets; per-release metrics', async (t) => {
  const routerPort = await freePort();
  const pebble = await startPebble({ httpPort: routerPort, validitySeconds: 90 });
  t.teardown(() => pebble.stop());
  const { solum, app } = await solumWithApp(t, 'tls', {
    env: { SOLUM_ROUTER_PORT: String(routerPort), SOLUM_ACME_DIRECTORY: pebble.directory, SOLUM_ACME_CA: pebble.caFile, SOLUM_ACME_EMAIL: 'ops@example.test' },
  });
  const httpsPort = solum.httpsPort ?? 0;
  const own = `${app}.localhost`;
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server, 'solum.yaml': 'healthcheck:\n  path: /health\n' });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  t.regex((await solum.viaRouter(app)).text, /^hello from v1 via http$/);

  // WebSockets (an upgrade) pass through the router both ways.
  const echoed = await webSocketEcho(routerPort, own);
  t.regex(echoed, /^HTTP\/1\.1 101 /);

  // First deploy: the app's own host gets a certificate from pebble, which validated over the router.
  const first = await eventually('the first certificate', 120, async () => {
    const c = await certOf(solum, app, own);
    return c?.status === 'issued' ? c : undefined;
  });
  t.regex(first.issuer ?? '', /Pebble Intermediate CA/);
  const root = await pebble.root();
  const served = await eventually('the router to serve it', 20, async () => {
    const h = await handshake(httpsPort, own, root);
    return h.serial === first.serial ? h : undefined;
  });
  t.true(served.authorized, served.error);
  t.is(served.alpn, 'h2', 'HTTP/2 is offered over TLS');
  t.like(await h2get(httpsPort, own, root), { status: 200, text: 'hello from v1 via https' });
  await t.throwsAsync(handshake(httpsPort, 'nothing.example.test', root), undefined, 'strict SNI: no certificate for a host that has none');

  // A host the router does not route gets no certificate: no order is placed for it.
  t.is((await viaHost(routerPort, 'nothing.example.test')).status, 404);
  t.is((await viaHost(routerPort, 'nothing.example.test', '/.well-known/acme-challenge/abc')).status, 404);

  // Custom domains: an admin adds one; its certificate follows at once, the app deployed.
  const shop = 'shop.example.test';
  t.is((await solum.api('PUT', `/v1/apps/${app}/domains/${shop}`)).status, 201);
  t.is((await solum.api('PUT', `/v1/apps/${app}/domains/${shop}`)).status, 409, 'a domain is added once');
  const under = await solum.api('PUT', `/v1/apps/${app}/domains/other.localhost`);
  t.is(under.status, 403, under.text);
  t.is((await solum.api('PUT', `/v1/apps/${app}/domains/not_a_host`)).status, 400);
  t.is((await viaHost(routerPort, shop)).text, 'hello from v1 via http');
  const shopFirst = await eventually('the custom domain certificate', 120, async () => {
    const c = await certOf(solum, app, shop);
    return c?.status === 'issued' ? c : undefined;
  });
  await eventually('the router to serve the custom domain', 20, async () => ((await handshake(httpsPort, shop, root)).serial === shopFirst.serial ? true : undefined));
  t.true((await handshake(httpsPort, shop, root)).authorized);
  t.is((await solum.api('POST', `/v1/apps/${app}/domains/elsewhere.example.test/certificate`, { revoke: false })).status, 404, 'only its own hosts');

  // HTTP→HTTPS redirect per app; ACME challenges are never redirected.
  const redirect = await solum.api('PUT', `/v1/apps/${app}/https-redirect`, { redirect: true });
  t.is(redirect.status, 200, redirect.text);
  const r = await viaHost(routerPort, shop, '/a?b=1');
  t.is(r.status, 308);
  t.is(r.location, `https://${shop}:${httpsPort}/a?b=1`);
  t.is((await viaHost(routerPort, shop, '/.well-known/acme-challenge/abc')).status, 404);
  await solum.api('PUT', `/v1/apps/${app}/https-redirect`, { redirect: false });
  t.is((await viaHost(routerPort, shop)).status, 200);

  // Replace with revocation: a new certificate is served, pebble holds the old one revoked.
  const before = (await certOf(solum, app, shop))?.serial ?? '';
  const replaced = await solum.api('POST', `/v1/apps/${app}/domains/${shop}/certificate`, { revoke: true });
  t.is(replaced.status, 200, replaced.text);
  const after = (replaced.json as HostJson).certificate.serial ?? '';
  t.not(after, before);
  t.is(await pebble.status(before.replace(/^0+/, '')), 'Revoked');
  await eventually('the replacement to be served', 20, async () => ((await handshake(httpsPort, shop, root)).serial === after ? true : undefined));

  // Renewal before expiry: certificates live 90 s here, so the first is renewed after 60 s by itself.
  const renewed = await eventually('the renewal', 120, async () => {
    const c = await certOf(solum, app, own);
    return c?.status === 'issued' && c.serial !== first.serial ? c : undefined;
  });
  t.true(new Date(renewed.notAfter ?? 0).getTime() > new Date(first.notAfter ?? 0).getTime());
  await eventually('the renewed certificate to be served', 20, async () => ((await handshake(httpsPort, own, root)).serial === renewed.serial ? true : undefined));

  // A certificate uploaded by hand is served before ACME's; a wrong host is refused.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-upload-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const mine = await selfSigned(dir, shop, `DNS:${shop}`);
  const wrong = await selfSigned(dir, 'www.example.test', 'DNS:www.example.test');
  t.is((await solum.api('PUT', `/v1/apps/${app}/domains/${shop}/certificate`, { pem: `${wrong.cert}${wrong.key}` })).status, 400);
  const up = await solum.api('PUT', `/v1/apps/${app}/domains/${shop}/certificate`, { pem: `${mine.cert}${mine.key}` });
  t.is(up.status, 200, up.text);
  t.is((up.json as HostJson).certificate.status, 'uploaded');
  const upSerial = (up.json as HostJson).certificate.serial ?? '';
  await eventually('the upload to be served', 20, async () => ((await handshake(httpsPort, shop, mine.cert)).serial === upSerial ? true : undefined));
  t.true((await handshake(httpsPort, shop, mine.cert)).authorized);

  // Keys: files of mode 0600 in directories of mode 0700 in the data directory, never in the log.
  const tlsDir = path.join(solum.dataDir, 'edge', 'tls');
  for (const sub of ['acme', 'uploaded']) {
    t.is((await fs.stat(path.join(tlsDir, sub))).mode & 0o777, 0o700, sub);
    const files = await fs.readdir(path.join(tlsDir, sub));
    t.true(files.length > 0);
    for (const f of files) t.is((await fs.stat(path.join(tlsDir, sub, f))).mode & 0o777, 0o600, f);
  }
  t.false(solum.logs().includes('PRIVATE KEY'), 'no key reaches the log');

  // Removing the domain takes it off the router and its certificates off the disk.
  t.is((await solum.api('DELETE', `/v1/apps/${app}/domains/${shop}`)).status, 204);
  t.is((await viaHost(routerPort, shop)).status, 404);
  await t.throwsAsync(fs.stat(path.join(tlsDir, 'uploaded', `${shop}.pem`)));

  // The router's metrics count requests per release.
  const metrics = (await solum.api('GET', '/metrics')).text;
  t.regex(metrics, new RegExp(`solum_router_requests_total\\{target="app-\\d+",name="${app}",release="v1",code="2xx"\\} \\d+`));
});

test.serial('the API and git over HTTP served over TLS from a certificate file', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-api-tls-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const c = await selfSigned(dir, 'localhost', 'DNS:localhost,IP:127.0.0.1');
  const solum = await startSolum({ env: { SOLUM_TLS_CERT: c.certFile, SOLUM_TLS_KEY: c.keyFile, SOLUM_HTTPS_PORT: 'off' } });
  t.teardown(() => solum.stop());
  t.is(solum.httpsPort, null);
  t.is((await httpsGet(`https://127.0.0.1:${solum.httpPort}/healthz`, c.cert)).status, 200);
  const user = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    void import('node:https').then((https) => {
      const req = https.get(`https://127.0.0.1:${solum.httpPort}/v1/user`, { ca: c.cert, headers: { authorization: `Bearer ${solum.token}` } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }); });
      });
      req.on('error', reject);
    });
  });
  t.is(user.status, 200, user.text);
  await t.throwsAsync(fetch(`http://127.0.0.1:${solum.httpPort}/healthz`), undefined, 'no plain HTTP on the TLS port');
  const create = await run('git', ['ls-remote', `https://solum:${solum.token}@127.0.0.1:${solum.httpPort}/nosuch.git`], { env: { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), GIT_SSL_CAINFO: c.certFile } });
  t.notRegex(create.stderr, /SSL|certificate|TLS/i, create.stderr);
});
