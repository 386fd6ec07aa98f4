// Tenant isolation on the network (issue 16, decision 0014): from inside an app's process and from
// inside a build, Solum's ports, the host's listeners, link-local metadata and other tenants' apps are
// out of reach; builds reach package registries only through the egress proxy; the firewall table
// lives with Solum. Every wall is tested against targets on this machine only.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import test from 'ava';
import { systemTool } from '../../src/containers/firewall.js';
import { containersLabelled, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo } from '../support/git.js';
import { randomName, run, startSolum, type RunningSolum } from '../support/solum.js';

// By absolute path: npm puts an unrelated `nft` first on PATH.
const nft = systemTool('nft');
const ip = systemTool('ip');

// Connects to each target (GATEWAY stands for the container's default gateway, the host's address on
// its bridge) and reports open, or why not; 1.5 s is plenty on one machine and keeps drops short.
const probeLib = `
const net = require('net');
const fs = require('fs');
function gateway() {
  for (const line of fs.readFileSync('/proc/net/route', 'utf8').split('\\n').slice(1)) {
    const f = line.trim().split(/\\s+/);
    if (f[1] === '00000000' && f[2]) return [6, 4, 2, 0].map((i) => parseInt(f[2].slice(i, i + 2), 16)).join('.');
  }
  return '0.0.0.0';
}
function probe(target) {
  const i = target.lastIndexOf(':');
  const host = target.slice(0, i).replace('GATEWAY', gateway());
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(target.slice(i + 1)) });
    const timer = setTimeout(() => { s.destroy(); resolve('timeout'); }, 1500);
    s.on('connect', () => { clearTimeout(timer); s.destroy(); resolve('open'); });
    s.on('error', (e) => { clearTimeout(timer); resolve(e.code || 'error'); });
  });
}
async function probeAll(targets) {
  const out = {};
  await Promise.all(targets.map(async (t) => { out[t] = await probe(t); }));
  return out;
}
module.exports = { probeAll, gateway };
`;

const appServer = `
const http = require('http');
const { probeAll } = require('./probe-lib.js');
http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/probe') { res.end(JSON.stringify(await probeAll(JSON.parse(u.searchParams.get('t'))))); return; }
  res.end('tenant ' + process.env.SOLUM_APP);
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

// Run as the build's \`npm run build\`: the probes, then what the egress proxy says to a host that is
// not on the allow-list (it answers before dialling anything, so no packet leaves the machine).
const buildScript = `
const http = require('http');
const { probeAll } = require('./probe-lib.js');
const targets = require('./targets.json');
probeAll(targets).then((r) => {
  console.log('PROBE ' + JSON.stringify(r));
  const proxy = new URL(process.env.HTTPS_PROXY);
  const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: 'example.com:443' });
  req.on('connect', (res, socket) => { console.log('EGRESS example.com ' + res.statusCode); socket.destroy(); });
  req.on('error', (e) => console.log('EGRESS example.com ' + e.message));
  req.end();
});
`;

const pkg = (deps: Record<string, string>): string => JSON.stringify({ name: 'probe', version: '1.0.0', private: true, scripts: { start: 'node server.js', build: 'node build.js' }, dependencies: deps });

/** A listener on every host address that only this test knows about. */
async function hostListener(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => { s.on('error', () => undefined); s.end('host only\n'); });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => { resolve(); })) };
}

/** The host's own IPv4 addresses outside container networks (eth0's here). */
const hostAddresses = (): string[] =>
  Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.213.') && a.address !== '169.254.169.254')
    .map((a) => a.address);

/**
 * 169.254.169.254 as an address of this host (on lo: this kernel has no dummy interfaces), with a
 * listener: a metadata address whose packets never leave the machine.
 */
async function metadataAddress(): Promise<{ port: number; remove: () => Promise<void> }> {
  // A run killed mid-test leaves the address behind.
  if (execFileSync(ip, ['-4', 'addr', 'show', 'dev', 'lo']).toString().includes('169.254.169.254/32')) execFileSync(ip, ['addr', 'del', '169.254.169.254/32', 'dev', 'lo']);
  execFileSync(ip, ['addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
  const server = net.createServer((s) => { s.on('error', () => undefined); s.end('metadata\n'); });
  await new Promise<void>((resolve) => server.listen(80, '169.254.169.254', resolve));
  return {
    port: 80,
    remove: async () => {
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      execFileSync(ip, ['addr', 'del', '169.254.169.254/32', 'dev', 'lo']);
    },
  };
}

/** Connects from the host (a control: the target really listens). */
const hostProbe = (host: string, port: number): Promise<string> =>
  new Promise((resolve) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); resolve('timeout'); }, 1500);
    s.on('connect', () => { clearTimeout(timer); s.destroy(); resolve('open'); });
    s.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code ?? 'error'); });
  });

async function processOf(app: string): Promise<{ id: string; ip: string }> {
  const [id] = await containersLabelled(`io.solum.app=${app}`, 'io.solum.role=process');
  if (!id) throw new Error(`no process of ${app}`);
  const ip = (await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim();
  return { id, ip };
}

const installationOf = (solum: RunningSolum): string => /"installation":"([0-9a-f]+)"/.exec(solum.logs())?.[1] ?? '';
const tableExists = async (table: string): Promise<boolean> => (await run(nft, ['list', 'table', 'inet', table])).code === 0;

// Solum listens on every address here, so only the wall stands between a container and its ports.
const everywhere = { SOLUM_BIND: '0.0.0.0' };

test.serial("an app's process cannot reach Solum's HTTP, SSH and router ports, a host-only listener, link-local metadata or another tenant's app", async (t) => {
  const solum = await startSolum({ env: everywhere });
  const [mine, theirs] = [randomName('iso-a'), randomName('iso-b')];
  const listener = await hostListener();
  const metadata = await metadataAddress();
  t.teardown(async () => {
    await metadata.remove();
    await listener.close();
    await solum.stop();
    await removeAppImages(mine);
    await removeAppImages(theirs);
  });
  const client = await gitClient(solum, 'http');
  for (const app of [mine, theirs]) {
    const repo = await makeRepo({ 'package.json': pkg({}), 'server.js': appServer, 'probe-lib.js': probeLib, 'build.js': 'console.log("no build")', 'targets.json': '[]' });
    const p = await client.git(['push', client.url(app), 'main'], repo);
    t.is(p.code, 0, p.stderr);
    t.regex((await solum.viaRouter(app)).text, new RegExp(`^tenant ${app}$`));
  }
  const self = await processOf(mine);
  const other = await processOf(theirs);
  t.not(self.ip, '127.0.0.1');
  t.not(self.ip.split('.').slice(0, 3).join('.'), other.ip.split('.').slice(0, 3).join('.'), 'the tenants are on networks of their own');

  const ports = { http: solum.httpPort, ssh: solum.sshPort, router: solum.routerPort, listener: listener.port };
  const addresses = hostAddresses();
  t.true(addresses.length > 0);
  // Controls: each target listens and the host reaches it.
  for (const a of addresses) for (const p of Object.values(ports)) t.is(await hostProbe(a, p), 'open', `${a}:${p} from the host`);
  t.is(await hostProbe('169.254.169.254', metadata.port), 'open');
  t.is(await hostProbe(other.ip, 5000), 'open');

  const walls = [
    ...Object.values(ports).flatMap((p) => [`GATEWAY:${p}`, ...addresses.map((a) => `${a}:${p}`)]),
    `169.254.169.254:${metadata.port}`,
    `${other.ip}:5000`,
  ];
  const controls = [`${self.ip}:5000`, 'solum-web:5000'];
  const res = await solum.viaRouter(mine, `/probe?t=${encodeURIComponent(JSON.stringify([...walls, ...controls]))}`);
  const seen = JSON.parse(res.text) as Record<string, string>;
  for (const c of controls) t.is(seen[c], 'open', `${c}: the probe works from inside the process`);
  for (const w of walls) t.not(seen[w], 'open', `${w} must be out of the process's reach`);
  t.regex(solum.logs(), /container networks ready/);
});

test.serial("a build's npm run build cannot reach Solum's ports, a host-only listener, link-local metadata or another tenant's app; only allow-listed registries through the egress proxy, refusals logged with app and host", async (t) => {
  const solum = await startSolum({ env: everywhere });
  const [victim, builder] = [randomName('iso-v'), randomName('iso-c')];
  const listener = await hostListener();
  const metadata = await metadataAddress();
  t.teardown(async () => {
    await metadata.remove();
    await listener.close();
    await solum.stop();
    await removeAppImages(victim);
    await removeAppImages(builder);
  });
  const client = await gitClient(solum, 'http');
  const v = await client.git(['push', client.url(victim), 'main'], await makeRepo({ 'package.json': pkg({}), 'server.js': appServer, 'probe-lib.js': probeLib, 'build.js': '', 'targets.json': '[]' }));
  t.is(v.code, 0, v.stderr);
  const other = await processOf(victim);
  const proxyPort = Number(/"proxyPort":(\d+)/.exec(solum.logs())?.[1]);
  t.true(proxyPort > 0);

  const ports = [solum.httpPort, solum.sshPort, solum.routerPort, listener.port];
  const addresses = hostAddresses();
  const walls = [...ports.flatMap((p) => [`GATEWAY:${p}`, ...addresses.map((a) => `${a}:${p}`)]), `169.254.169.254:${metadata.port}`, `${other.ip}:5000`];
  // The egress proxy at the gateway is the one way out, so the probe can succeed from here.
  const controls = [`GATEWAY:${proxyPort}`];
  const repo = await makeRepo({
    // A real dependency from the npm registry: installed through the egress proxy or not at all.
    'package.json': pkg({ ms: '2.1.3' }),
    'server.js': appServer,
    'probe-lib.js': probeLib,
    'build.js': buildScript,
    'targets.json': JSON.stringify([...walls, ...controls]),
  });
  const p = await client.git(['push', client.url(builder), 'main'], repo);
  t.is(p.code, 0, p.stderr);
  t.regex(p.stderr, /added 1 package/, 'npm install reached the registry through the proxy');
  const line = /PROBE (\{.*\})/.exec(p.stderr)?.[1];
  t.truthy(line, p.stderr);
  const seen = JSON.parse(line ?? '{}') as Record<string, string>;
  for (const c of controls) t.is(seen[c], 'open', `${c}: the probe works from inside the build`);
  for (const w of walls) t.not(seen[w], 'open', `${w} must be out of the build's reach`);
  t.regex(p.stderr, /EGRESS example\.com 403/);
  const refusal = solum.logs().split('\n').find((l) => l.includes('egress refused: host not on the allow-list') && l.includes('"host":"example.com"'));
  t.truthy(refusal, 'the refusal is logged');
  t.true(refusal?.includes(`"app":"${builder}"`), 'with the app that asked');
  // The build's network went with the build.
  const left = await run('docker', ['network', 'ls', '-q', '--filter', `label=io.solum.installation=${installationOf(solum)}`, '--filter', 'label=io.solum.network-kind=build']);
  t.is(left.stdout.trim(), '');
});

test.serial('the firewall table lives with Solum and /readyz reports it; removed behind its back, deploys refuse to start containers and nothing changes in Docker', async (t) => {
  const solum = await startSolum({ env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '10' } });
  const app = randomName('iso-f');
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await solum.stop();
    await removeAppImages(app);
  });
  const table = `solum-${installationOf(solum)}`;
  t.true(await tableExists(table), 'the table exists while Solum runs');
  const ready = await solum.api('GET', '/readyz');
  t.is(ready.status, 200);
  t.like(ready.json, { checks: { firewall: 'ok' } });

  // A shell pack app builds without network, so only the deploy needs the wall.
  const server = 'exec perl -MIO::Socket::INET -e \'$s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { while (<$c>) { last if /^\\r?$/ } print $c "HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nv1"; close $c }\'\n';
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'Procfile': 'web: sh ./serve.sh\n', 'serve.sh': server });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.is((await solum.viaRouter(app)).text, 'v1');
  const before = (await containersLabelled(`io.solum.app=${app}`)).sort();

  execFileSync(nft, ['delete', 'table', 'inet', table]);
  const notReady = await solum.api('GET', '/readyz');
  t.is(notReady.status, 503);
  t.is((notReady.json as { checks: Record<string, string> }).checks.firewall, 'failed', 'the probe names the check; its reason goes to the log');
  t.regex(solum.logs(), /firewall table inet solum-[0-9a-f]+ is missing/);
  const changed = await solum.api('PATCH', `/v1/apps/${app}/config`, { GREETING: 'v2' });
  t.is(changed.status, 409);
  t.regex(changed.text, /release v2 failed: refusing to start a container: the firewall table inet solum-[0-9a-f]+ is missing/);
  t.like((await solum.api('GET', `/v1/apps/${app}/releases`)).json, [{ version: 2, status: 'failed' }, { version: 1, status: 'active' }]);
  t.deepEqual((await containersLabelled(`io.solum.app=${app}`)).sort(), before, 'no container was started or removed');
  t.is((await solum.viaRouter(app)).text, 'v1', 'the live release keeps serving');

  // A restart puts the table back; a stop removes it.
  await solum.restart();
  t.true(await tableExists(table));
  t.is((await solum.api('GET', '/readyz')).status, 200);
  await solum.stop();
  stopped = true;
  t.false(await tableExists(table), 'the table is gone after stop');
});
