// git push deploys: releases, zero-downtime switch, failed health checks, rollback, config,
// scaling, logs and re-adoption after a restart, through the real router and real Docker.
import { spawn } from 'node:child_process';
import test from 'ava';
import { solumWithApp } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, run } from '../support/solum.js';

const server = (greeting: string): string => `
const http = require('http');
const greeting = process.env.GREETING || ${JSON.stringify(greeting)};
http.createServer((req, res) => {
  if (req.url === '/health') { res.statusCode = process.env.BROKEN ? 500 : 200; res.end('ok'); return; }
  console.log('served ' + req.url);
  res.end(greeting + ' from ' + process.env.SOLUM_PROCESS + ' of ' + process.env.SOLUM_RELEASE);
}).listen(Number(process.env.PORT), '0.0.0.0', () => console.log('listening on ' + process.env.PORT));
`;

const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } });

interface ReleaseJson {
  version: number;
  status: string;
  description: string;
  duId: string;
  configKeys: string[];
}

test.serial('push deploys through the router; zero-downtime v2; failed health check keeps v2; rollback; config; scale; logs; restart', async (t) => {
  const { solum, app } = await solumWithApp(t, 'web', { env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '10' } });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('hello v1'), 'solum.yaml': 'healthcheck:\n  path: /health\n  timeout: 10\n' });

  // v1: the push ends with the release and its URL; the page answers through the router.
  const p1 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p1.code, 0, p1.stderr);
  t.regex(p1.stderr, /remote: -----> Launching v1: web=1/);
  t.regex(p1.stderr, /remote: {8}1 web process healthy \(GET \/health\)/);
  t.regex(p1.stderr, new RegExp(`remote: -----> Released v1: http://${app}\\.localhost:${solum.routerPort}/`));
  t.regex((await solum.viaRouter(app)).text, /^hello v1 from web\.1 of v1$/);
  t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { url: `http://${app}.localhost:${solum.routerPort}/`, release: 'v1' });
  t.is((await solum.viaRouter('nosuchapp')).status, 404);

  // v2 while a client requests the app continuously: no request fails, v2 appears.
  const state = { stop: false };
  let failures = 0;
  let requests = 0;
  const seen = new Set<string>();
  const loop = (async () => {
    while (!state.stop) {
      try {
        const r = await solum.viaRouter(app);
        requests++;
        if (r.status !== 200) failures++;
        else seen.add(r.text.split(' from ')[0] ?? '');
      } catch {
        failures++;
      }
    }
  })();
  await writeAndCommit(repo, { 'server.js': server('hello v2') }, 'v2');
  const p2 = await client.git(['push', client.url(app), 'main'], repo);
  t.is(p2.code, 0, p2.stderr);
  t.regex(p2.stderr, /Released v2/);
  // Keep the loop going past the grace period, while the old process is retired.
  await new Promise((r) => setTimeout(r, 3500));
  state.stop = true;
  await loop;
  t.is(failures, 0, `${failures} of ${requests} requests failed during the switch`);
  t.true(requests > 20, `only ${requests} requests were made`);
  t.true(seen.has('hello v1') && seen.has('hello v2'));
  t.regex((await solum.viaRouter(app)).text, /^hello v2 from web\.1 of v2$/);

  // v3 builds but fails its health check: release failed, v2 keeps serving, the push says so.
  await writeAndCommit(repo, { 'solum.yaml': 'healthcheck:\n  path: /health\n  timeout: 3\nenv:\n  BROKEN: "yes"\n' }, 'broken health');
  const p3 = await client.git(['push', client.url(app), 'main'], repo);
  t.regex(p3.stderr, /Build #3 succeeded/);
  t.regex(p3.stderr, /remote: !\s+Release v3 failed: health check failed: no 2xx\/3xx answer from \/health/);
  t.regex(p3.stderr, /remote: !\s+v2 is still serving/);
  t.regex((await solum.viaRouter(app)).text, /^hello v2 /);
  const releases = (await solum.api('GET', `/v1/apps/${app}/releases`)).json as ReleaseJson[];
  t.deepEqual(releases.map((r) => [r.version, r.status]), [[3, 'failed'], [2, 'active'], [1, 'superseded']]);

  // Rollback to v1: a new release v4 with v1's DU; the old content answers.
  const rb = await solum.api('POST', `/v1/apps/${app}/releases`, { rollback: 1 });
  t.is(rb.status, 201, rb.text);
  t.like(rb.json, { version: 4, status: 'active', description: 'Rollback to v1', duId: releases[2]!.duId });
  t.regex((await solum.viaRouter(app)).text, /^hello v1 from web\.1 of v4$/);

  // config:set → new release, env changed, no build row added.
  const buildsBefore = ((await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[]).length;
  const cfg = await solum.api('PATCH', `/v1/apps/${app}/config`, { GREETING: 'configured hello' });
  t.is(cfg.status, 200, cfg.text);
  t.like((cfg.json as { release: ReleaseJson }).release, { version: 5, status: 'active', configKeys: ['GREETING'] });
  t.regex((await solum.viaRouter(app)).text, /^configured hello from web\.1 of v5$/);
  t.is(((await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[]).length, buildsBefore);
  t.deepEqual((await solum.api('GET', `/v1/apps/${app}/config`)).json, { GREETING: 'configured hello' });
  t.false(solum.logs().includes('configured hello'), 'config values never reach the server log');

  // scale web=2 → both processes serve.
  const sc = await solum.api('PATCH', `/v1/apps/${app}/formation`, { web: 2 });
  t.is(sc.status, 200, sc.text);
  const names = new Set<string>();
  for (let i = 0; i < 10; i++) names.add(/from (web\.\d)/.exec((await solum.viaRouter(app)).text)?.[1] ?? '?');
  t.deepEqual([...names].sort(), ['web.1', 'web.2']);
  const ps = (await solum.api('GET', `/v1/apps/${app}/processes`)).json as { name: string; release: number; state: string }[];
  t.deepEqual(ps.filter((x) => x.state === 'up').map((x) => [x.name, x.release]), [['web.1', 5], ['web.2', 5]]);

  // Runtime logs of the app's processes.
  const logs = await solum.api('GET', `/v1/apps/${app}/logs?tail=50`);
  t.regex(logs.text, /v5 web\.[12] \| served \//);

  // Restart the server: the app keeps answering, re-adopted by label.
  await solum.restart();
  t.regex((await solum.viaRouter(app)).text, /^configured hello from web\.[12] of v5$/);
  t.regex(solum.logs(), /adopted running release/);
});

test.serial('the same over SSH commands: releases, config, ps:scale, rollback, logs -f, stop/start; dead processes restart with the server', async (t) => {
  const { solum, app } = await solumWithApp(t, 'sshweb', { env: { SOLUM_HEALTH_TIMEOUT_SECONDS: '10' } });
  const identity = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', identity);
  const ssh = (cmd: string) => run('ssh', [...identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', cmd]);
  const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('ssh v1') });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /1 web process healthy \(TCP\)/);
  t.regex((await solum.viaRouter(app)).text, /^ssh v1 /);

  t.regex((await ssh(`releases ${app}`)).stdout, /^VERSION +STATUS +DESCRIPTION +DU +CREATED\nv1 +active +Deploy build #1 \([0-9a-f]{12}\) +solum\//);
  const set = await ssh(`config:set ${app} GREETING='hello over ssh' OTHER=x=y`);
  t.is(set.code, 0, set.stderr);
  t.is(set.stdout, 'set GREETING, OTHER: released v2\n');
  t.regex((await ssh(`config ${app}`)).stdout, /GREETING: +hello over ssh\nOTHER: +x=y\n/);
  t.regex((await solum.viaRouter(app)).text, /^hello over ssh from web\.1 of v2$/);
  t.is((await ssh(`config:unset ${app} OTHER`)).stdout, 'unset OTHER: released v3\n');
  t.regex((await ssh(`config:set ${app} PORT=1`)).stderr, /PORT is set by Solum itself/);

  t.is((await ssh(`ps:scale ${app} web=2`)).stdout, 'web=2\n');
  t.regex((await ssh(`ps:scale ${app} worker=1`)).stderr, /has no process type worker/);
  t.regex((await ssh(`ps ${app}`)).stdout, /web\.1 +v3 +up +\d+\nweb\.2 +v3 +up +\d+/);

  const rb = await ssh(`releases:rollback ${app} v1`);
  t.is(rb.stdout, 'rolled back to v1: now v4\n');
  t.regex((await solum.viaRouter(app)).text, /^ssh v1 from web\.[12] of v4$/);

  // logs -f follows new output until the client leaves.
  const follower = spawn('ssh', [...identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', `logs ${app} -f --tail 0`]);
  let followed = '';
  follower.stdout.on('data', (c: Buffer) => (followed += c.toString()));
  await new Promise((r) => setTimeout(r, 1000));
  await solum.viaRouter(app, '/followed-request');
  for (let i = 0; i < 50 && !followed.includes('/followed-request'); i++) await new Promise((r) => setTimeout(r, 100));
  follower.kill();
  t.regex(followed, /v4 web\.[12] \| served \/followed-request/);

  t.is((await ssh(`ps:stop ${app}`)).stdout, `stopped ${app}\n`);
  t.is((await solum.viaRouter(app)).status, 404);
  t.is((await ssh(`ps ${app}`)).stdout, 'no processes\n');
  t.is((await ssh(`ps:start ${app}`)).stdout, 'started v4\n');
  t.regex((await solum.viaRouter(app)).text, /^ssh v1 /);

  // Processes that died (here: stopped behind Solum's back) are restarted when Solum starts again.
  await new Promise((r) => setTimeout(r, 2500)); // let the previous deploy's processes retire
  const ps = await run('docker', ['ps', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=process']);
  const ids = ps.stdout.split('\n').filter((l) => l.trim() !== '');
  t.is(ids.length, 2);
  await run('docker', ['stop', '-t', '1', ...ids]);
  await solum.restart();
  t.regex(solum.logs(), /restarting a process that died/);
  t.regex((await solum.viaRouter(app)).text, /^ssh v1 from web\.[12] of v4$/);
});
