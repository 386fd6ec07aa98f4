// Backing services end to end: real Docker (postgres and redis instances from the svc images),
// the real OpenSSH client for the services:* commands, a node app using `pg` (vendored from this project's node_modules), the router.
import { spawn } from 'node:child_process';
import test from 'ava';
import { removeAppImages } from '../support/docker.js';
import { releasesOf } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { vendoredPackage } from '../support/vendored.js';
import { makeSshIdentity, randomName, run, startSolum, type RunningSolum, type SshIdentity } from '../support/solum.js';
import { createUser } from '../support/users.js';

// GET /pg?write=X inserts a row (when asked) and answers every row; /redis sends AUTH + PING over
// RESP with node:net; /urls lists the *_URL variables the process got.
const server = `
const http = require('http');
const net = require('net');
function redisPing(url) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const pass = decodeURIComponent(u.password);
    const sock = net.connect(Number(u.port), u.hostname);
    let got = '';
    sock.setTimeout(5000, () => sock.destroy(new Error('redis timeout')));
    sock.on('connect', () => sock.write('*2\\r\\n$4\\r\\nAUTH\\r\\n$' + Buffer.byteLength(pass) + '\\r\\n' + pass + '\\r\\n*1\\r\\n$4\\r\\nPING\\r\\n'));
    sock.on('data', (c) => { got += c; if (got.split('\\r\\n').length > 2) { sock.end(); resolve(got.trim().split('\\r\\n').join(' ')); } });
    sock.on('error', reject);
  });
}
http.createServer(async (req, res) => {
  if (req.url === '/health') { res.end('ok'); return; }
  try {
    if (req.url === '/urls') { res.end(Object.keys(process.env).filter((k) => k.endsWith('_URL')).sort().join(',')); return; }
    if (req.url === '/redis') { res.end(await redisPing(process.env.REDIS_URL)); return; }
    if (req.url.startsWith('/pg')) {
      if (!process.env.DATABASE_URL) { res.statusCode = 503; res.end('no DATABASE_URL'); return; }
      const { Client } = require('./vendor/node_modules/pg');
      const c = new Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      try {
        await c.query('CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)');
        const m = /[?&]write=([a-z0-9-]+)/.exec(req.url);
        if (m) await c.query('INSERT INTO notes (body) VALUES ($1)', [m[1]]);
        const r = await c.query('SELECT body FROM notes ORDER BY id');
        res.end('rows:' + r.rows.map((x) => x.body).join(','));
      } finally { await c.end(); }
      return;
    }
    res.end('hello');
  } catch (err) { res.statusCode = 500; res.end('error: ' + err.message); }
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

const pkgNoDeps = JSON.stringify({ name: 'svc-app', version: '1.0.0', private: true, scripts: { start: 'node server.js' } });
const healthcheck = 'healthcheck:\n  path: /health\n  timeout: 30\n';

const sshArgs = (id: SshIdentity, solum: RunningSolum): string[] => [...id.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1'];

/** An SSH command with binary standard input and output (backups are binary). */
function sshRaw(id: SshIdentity, solum: RunningSolum, command: string, input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...sshArgs(id, solum), command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** Removes a test's service containers and volumes (instances outlive Solum by design). */
async function removeServices(names: readonly string[]): Promise<void> {
  for (const name of names) {
    const c = await run('docker', ['ps', '-aq', '--filter', `label=io.solum.service=${name}`]);
    const ids = c.stdout.split('\n').filter((l) => l.trim() !== '');
    if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
    const v = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${name}`]);
    for (const vol of v.stdout.split('\n').filter((l) => l.trim() !== '')) await run('docker', ['volume', 'rm', '-f', vol]);
  }
}

/** The app's answer once it matches `want`, else the last one (processes and instances come up on their own time). */
async function answer(solum: RunningSolum, app: string, urlPath: string, want: RegExp): Promise<string> {
  let last = '';
  for (let i = 0; i < 120; i++) {
    try {
      const r = await solum.viaRouter(app, urlPath);
      last = `${r.status} ${r.text}`;
      if (want.test(r.text)) return r.text;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return last;
}

test.serial('postgres: link sets DATABASE_URL; data survives a redeploy, a Solum restart and a container restart; backup, destroy, create, restore', async (t) => {
  const solum = await startSolum({ env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  const app = randomName('svcpg');
  const db = randomName('db');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await removeServices([db]);
  });
  const admin = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', admin);
  const ssh = (command: string, input?: Buffer) => sshRaw(admin, solum, command, input);
  const text = async (command: string, input?: Buffer) => {
    const r = await ssh(command, input);
    return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
  };

  const repo = await makeRepo({ 'package.json': pkgNoDeps, ...vendoredPackage('pg'), 'server.js': server, 'solum.yaml': healthcheck });
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /Released v1/);
  t.is(await answer(solum, app, '/pg', /^no DATABASE_URL$/), 'no DATABASE_URL');

  // Bad input changes nothing.
  t.regex((await text(`services:create mysql ${db}`)).stderr, /unknown service kind "mysql"/);
  t.regex((await text('services:create postgres Bad_Name')).stderr, /invalid service name/);
  t.is((await text('services:list')).stdout, 'no services\n');

  const created = await text(`services:create postgres ${db}`);
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout, `created postgres service ${db}\n`);
  t.regex((await text(`services:create postgres ${db}`)).stderr, /already exists/);
  const linked = await text(`services:link ${db} ${app}`);
  t.is(linked.code, 0, linked.stderr);
  t.is(linked.stdout, `linked ${db} to ${app} as DATABASE_URL (v2)\n`);
  t.regex((await text(`services:link ${db} ${app}`)).stderr, /linked to .* already/);
  const releases = (await solum.api('GET', `/v1/apps/${app}/releases`)).json as Array<{ version: number; status: string; description: string; configKeys: string[] }>;
  t.like(releases[0], { version: 2, status: 'active', description: `Attach ${db} as DATABASE_URL`, configKeys: ['DATABASE_URL'] });
  const url = ((await solum.api('GET', `/v1/apps/${app}/config`)).json as Record<string, string>).DATABASE_URL ?? '';
  // The app reaches the instance by its name on the app's own network (decision 0014), not a host port.
  t.regex(url, new RegExp(`^postgres://solum:[0-9a-f]{48}@${db}:\\d+/${db}$`));
  t.is(await answer(solum, app, '/pg?write=first', /^rows:/), 'rows:first');

  // Another push (a new DU, a new release): same database, same rows.
  await writeAndCommit(repo, { 'README': 'v2\n' }, 'redeploy');
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  t.regex(p2.stderr, /Released v3/);
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:first');

  // A Solum restart re-adopts the instance by label and starts it if it is down; its data is there.
  const containerId = (await run('docker', ['ps', '-q', '--filter', `label=io.solum.service=${db}`])).stdout.trim();
  t.regex(containerId, /^[0-9a-f]+$/);
  t.is((await run('docker', ['stop', containerId])).code, 0);
  await solum.restart();
  const info = JSON.parse((await text(`services:info ${db} --json`)).stdout) as { state: string; links: Array<{ app: string; envVar: string }>; url: string };
  t.like(info, { state: 'running', links: [{ app, envVar: 'DATABASE_URL' }], url });
  t.is(await answer(solum, app, '/pg?write=second', /^rows:/), 'rows:first,second');

  // A container restart (Docker's): the volume keeps the data.
  t.is((await run('docker', ['restart', containerId])).code, 0);
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:first,second');

  // Backups over SSH and the API are pg_dump custom-format archives.
  const backup = await ssh(`services:backup ${db}`);
  t.is(backup.code, 0, backup.stderr);
  t.is(backup.stdout.subarray(0, 5).toString('latin1'), 'PGDMP');
  const viaApi = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/services/${db}/backup`, { headers: { authorization: `Bearer ${solum.token}` } });
  t.is(viaApi.status, 200);
  t.is(viaApi.headers.get('content-type'), 'application/octet-stream');
  t.is(Buffer.from(await viaApi.arrayBuffer()).subarray(0, 5).toString('latin1'), 'PGDMP');

  // Destroy asks for the name and refuses while the instance is linked; nothing changes.
  t.regex((await text(`services:destroy ${db}`)).stderr, /confirm with the instance name \(--confirm /);
  t.regex((await text(`services:destroy ${db} --confirm other`)).stderr, /confirm with the instance name/);
  const refused = await text(`services:destroy ${db} --confirm ${db}`);
  t.is(refused.code, 1);
  t.regex(refused.stderr, new RegExp(`linked to ${app}: unlink it first or force`));
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:first,second');

  // Unlink: a new release without the var. Then destroy removes container and volume.
  t.is((await text(`services:unlink ${db} ${app}`)).stdout, `unlinked ${db} from ${app} (DATABASE_URL unset) (v4)\n`);
  t.is(await answer(solum, app, '/pg', /^no DATABASE_URL$/), 'no DATABASE_URL');
  const destroyed = await text(`services:destroy ${db} --confirm ${db}`);
  t.is(destroyed.code, 0, destroyed.stderr);
  t.is((await run('docker', ['ps', '-aq', '--filter', `label=io.solum.service=${db}`])).stdout.trim(), '');
  t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${db}`])).stdout.trim(), '');
  t.is((await solum.api('GET', `/v1/services/${db}`)).status, 404);

  // A new instance of the same name starts empty; the restore brings the rows back.
  t.is((await text(`services:create postgres ${db}`)).code, 0);
  t.is((await text(`services:link ${db} ${app}`)).code, 0);
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:');
  await answer(solum, app, '/pg?write=fresh', /^rows:fresh$/);
  // A broken archive is refused and changes nothing.
  const bad = await text(`services:restore ${db}`, Buffer.from('not a dump'));
  t.is(bad.code, 1);
  t.regex(bad.stderr, /restore failed, the database is unchanged/);
  const badApi = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/services/${db}/restore`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': 'application/octet-stream' }, body: backup.stdout.subarray(0, 200) });
  t.is(badApi.status, 400);
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:fresh');
  const restored = await text(`services:restore ${db}`, backup.stdout);
  t.is(restored.code, 0, restored.stderr);
  t.is(restored.stdout, `restored service ${db}\n`);
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:first,second');
  // And through the API.
  const apiRestore = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/services/${db}/restore`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': 'application/octet-stream' }, body: backup.stdout });
  t.is(apiRestore.status, 204, await apiRestore.text());
  t.is(await answer(solum, app, '/pg', /^rows:/), 'rows:first,second');
});

test.serial('redis from solum.yaml on the first deploy; aliases for a second link; who may link; destroying an app keeps its instances', async (t) => {
  const solum = await startSolum({ database: 'postgres', env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '60' } });
  const app = randomName('svcrd');
  const cache2 = randomName('cache');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await removeServices([`${app}-redis`, cache2]);
  });
  const admin = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', admin);
  const ssh = async (id: SshIdentity, command: string) => {
    const r = await sshRaw(id, solum, command);
    return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
  };

  // A bad services list is a failed build with a clear message; nothing is created.
  const repo = await makeRepo({ 'package.json': pkgNoDeps, 'server.js': server, 'solum.yaml': `${healthcheck}services: [mysql]\n` });
  const bad = await client.git(['push', client.url(app), 'main'], repo);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /solum\.yaml: services\.0: /);
  t.is((await ssh(admin, 'services:list')).stdout, 'no services\n');

  // The first deploy creates <app>-redis and links it before the release starts.
  await writeAndCommit(repo, { 'solum.yaml': `${healthcheck}services: [redis]\n` }, 'redis');
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, new RegExp(`-----> Creating redis service ${app}-redis \\(solum\\.yaml services\\)`));
  t.regex(p1.stderr, new RegExp(`Linked ${app}-redis as REDIS_URL`));
  const [v1] = await releasesOf(solum, app, 1);
  t.like(v1, { version: 1, status: 'active' });
  t.is(await answer(solum, app, '/redis', /PONG/), '+OK +PONG');
  // A redeploy keeps the same instance: no second one.
  await writeAndCommit(repo, { 'README': 'again\n' }, 'again');
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  t.notRegex(p2.stderr, /Creating redis service/);
  t.deepEqual(((await solum.api('GET', '/v1/services')).json as Array<{ name: string }>).map((s) => s.name), [`${app}-redis`]);

  // A second redis linked to the same app gets the alias.
  // (Created with the CLI, which talks to the API.)
  const solumCli = (args: readonly string[]) => run('node', ['dist/src/cli/main.js', ...args], { env: { SOLUM_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_TOKEN: solum.token, NO_COLOR: '1' } });
  const made = await solumCli(['services:create', 'redis', cache2]);
  t.is(made.code, 0, made.stderr);
  t.is(made.stdout, `Created redis service ${cache2}\n`);
  t.deepEqual((JSON.parse((await solumCli(['services', '--json'])).stdout) as Array<{ name: string }>).map((x) => x.name).sort(), [`${app}-redis`, cache2].sort());
  t.regex((await solumCli(['services:destroy', cache2])).stderr, /repeat with --confirm/);
  const link = await solum.api('PUT', `/v1/services/${cache2}/links/${app}`);
  t.is(link.status, 200, link.text);
  t.like(link.json, { service: cache2, app, envVar: `REDIS_${cache2.toUpperCase().replaceAll('-', '_')}_URL`, release: { version: 3, status: 'active' } });
  t.is(await answer(solum, app, '/urls', /CACHE/), `REDIS_${cache2.toUpperCase().replaceAll('-', '_')}_URL,REDIS_URL`);

  // Who may: a write collaborator may not link; another user does not see the instance at all.
  const carol = await createUser(solum, 'carol');
  t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/carol`, { role: 'write' })).status, 204);
  const carolsCache = randomName('cc');
  t.teardown(() => removeServices([carolsCache]));
  const mine = await ssh(carol.identity, `services:create redis ${carolsCache}`);
  t.is(mine.code, 0, mine.stderr);
  const notAdmin = await ssh(carol.identity, `services:link ${carolsCache} ${app}`);
  t.is(notAdmin.code, 1);
  t.regex(notAdmin.stderr, /your role on app .* is write: admin access is needed/);
  t.regex((await ssh(carol.identity, `services:info ${cache2}`)).stderr, /does not exist or you have no access to it/);
  t.is((await solum.api('DELETE', `/v1/services/${cache2}?confirm=${cache2}&force=1`, undefined, carol.token)).status, 404);
  const carolsList = (await solum.api('GET', '/v1/services', undefined, carol.token)).json as Array<{ name: string; owner: string }>;
  t.deepEqual(carolsList.map((x) => [x.name, x.owner]), [[carolsCache, 'carol']]);
  t.false(JSON.stringify(carolsList).includes('password'), 'lists never carry the password');
  t.is((await solum.api('GET', '/v1/services', undefined, '')).status, 401);
  t.is((await solum.api('GET', `/v1/apps/${app}/releases`)).status, 200);
  const releasesBefore = ((await solum.api('GET', `/v1/apps/${app}/releases`)).json as unknown[]).length;
  t.is(releasesBefore, 3, 'refused links made no release');
  t.is((await ssh(carol.identity, `services:destroy ${carolsCache} --confirm ${carolsCache}`)).code, 0);

  // Force-destroying a linked instance unlinks it first (a release without its var).
  t.is((await solum.api('DELETE', `/v1/services/${cache2}?confirm=${cache2}`)).status, 409);
  t.is((await solum.api('DELETE', `/v1/services/${cache2}?confirm=${cache2}&force=1`)).status, 204);
  const [latest] = await releasesOf(solum, app, 4);
  t.like(latest, { version: 4, status: 'active' });
  t.is(await answer(solum, app, '/urls', /^REDIS_URL$/), 'REDIS_URL');

  // Pruning leaves instances and their data alone.
  t.is((await solum.api('POST', '/v1/prune')).status, 200);
  t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.service=${app}-redis`])).stdout.trim().split('\n').length, 1);
  t.is(await answer(solum, app, '/redis', /PONG/), '+OK +PONG');

  // Destroying the app removes its links, never the instances.
  const gone = await solum.api('DELETE', `/v1/apps/${app}`);
  t.is(gone.status, 204, gone.text);
  const left = (await solum.api('GET', `/v1/services/${app}-redis`)).json as { state: string; links: unknown[] };
  t.like(left, { state: 'running', links: [] });
  t.is((await solum.api('DELETE', `/v1/services/${app}-redis?confirm=${app}-redis`)).status, 204);
});
