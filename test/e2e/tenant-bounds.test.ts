// Tenant bounds: each test names the attack in its title, runs it for real against a Solum with
// two users (alice owns an app, mallory has an account of her own) and checks that it was refused
// and that nothing changed on disk, in the database or in Docker. Every test runs on both databases.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import test from 'ava';
import tar from 'tar-stream';
import { okWebServer, solumWithApp } from '../support/fixtures.js';
import { databaseKinds, type DatabaseKind } from '../support/database.js';
import { containersLabelled } from '../support/docker.js';
import { makeRepo, writeAndCommit } from '../support/git.js';
import { snapshot } from '../support/snapshot.js';
import { run, type RunningSolum } from '../support/solum.js';
import { createUser, gitEnvFor, urlFor, type TestUser } from '../support/users.js';

interface World {
  solum: RunningSolum;
  alice: TestUser;
  mallory: TestUser;
  app: string;
}

async function world(database: DatabaseKind, t: { teardown(fn: () => Promise<void>): void }, env: Record<string, string> = {}): Promise<World> {
  const { solum, app } = await solumWithApp(t, 'tenant', { database, env });
  const alice = await createUser(solum, 'alice');
  const mallory = await createUser(solum, 'mallory');
  const created = await solum.api('POST', '/v1/apps', { name: app }, alice.token);
  if (created.status !== 201) throw new Error(`creating ${app}: ${created.text}`);
  return { solum, alice, mallory, app };
}

const dirBytes = async (dir: string): Promise<number> => Number((await run('du', ['-sb', dir])).stdout.split('\t')[0]);

async function tarGz(entries: Array<{ name: string; size: number }>, gzip: boolean): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, size: e.size }, Buffer.alloc(e.size));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of gzip ? pack.pipe(zlib.createGzip({ level: 9 })) : pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

for (const database of databaseKinds) {
  const name = (s: string): string => `${s} [${database}]`;

  // Attack: a small gzip that unpacks to far more (zeros compress a thousandfold), and a plain tar
  // whose entries add up to more than the server allows; the size cap once counted compressed bytes.
  test.serial(name('an upload that unpacks to more than the limit is refused and writes nothing'), async (t) => {
    const w = await world(database, t, { SOLUM_UPLOAD_MAX_UNPACKED_BYTES: String(32 * 1024 * 1024), SOLUM_UPLOAD_MAX_BYTES: String(64 * 1024 * 1024) });
    const before = await snapshot(w.solum);
    const dataBefore = await dirBytes(w.solum.dataDir);
    const bomb = await tarGz([{ name: 'zeros', size: 256 * 1024 * 1024 }], true);
    t.true(bomb.length < 2 * 1024 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const post = (body: Buffer, type: string) => fetch(`http://127.0.0.1:${w.solum.httpPort}/v1/apps/${w.app}/builds`, { method: 'POST', headers: { authorization: `Bearer ${w.alice.token}`, 'content-type': type }, body });
    const r1 = await post(bomb, 'application/gzip');
    t.is(r1.status, 400);
    t.regex(await r1.text(), /more than 33554432 bytes/);
    const wide = await tarGz([{ name: 'a', size: 20 * 1024 * 1024 }, { name: 'b', size: 20 * 1024 * 1024 }], false);
    const r2 = await post(wide, 'application/x-tar');
    t.is(r2.status, 400);
    t.regex(await r2.text(), /more than 33554432 bytes/);
    t.is(await snapshot(w.solum), before, 'no build, no archive');
    t.true((await dirBytes(w.solum.dataDir)) - dataBefore < 4 * 1024 * 1024, 'the data directory did not grow');
  });

  // Attack: build output that is terminal commands rather than text: a window title, a clipboard
  // write (OSC 52) and a hyperlink, which a pusher's or an admin's terminal would carry out.
  test.serial(name('build output cannot send terminal escape sequences to whoever reads it'), async (t) => {
    const w = await world(database, t);
    const evil = String.raw`printf '\033]0;owned\007\033]52;c;ZXZpbA==\007\033]8;;http://evil.test/\033\\click\033]8;;\033\\ plain\n'`;
    const repo = await makeRepo({ 'build.sh': `${evil}\necho done\n`, Procfile: 'web: true\n' });
    const push = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.is(push.code, 0, push.stderr);
    t.regex(push.stderr, /remote: click plain/);
    t.false(push.stderr.includes('\u001b'), 'no escape reaches the pusher');
    const builds = (await w.solum.api('GET', `/v1/apps/${w.app}/builds`, undefined, w.alice.token)).json as Array<{ id: number }>;
    const logText = (await w.solum.api('GET', `/v1/builds/${builds[0]!.id}/log`, undefined, w.alice.token)).text;
    t.regex(logText, /click plain/);
    t.false(logText.includes('\u001b') || logText.includes('\u0007'), 'the stored log holds none');
  });

  // Attack: a pipeline test that prints without end, to fill the database, the server's memory
  // and its CPU (it once stored 13 MB against a 4 MiB cap and kept the server busy for minutes).
  test.serial(name('a pipeline test that floods its output is cut at the log cap'), async (t) => {
    const cap = 256 * 1024;
    const w = await world(database, t, { SOLUM_BUILD_LOG_MAX_BYTES: String(cap) });
    const pipeline = 'pipeline:\n  stages:\n    - name: flood\n      test: "head -c 30000000 /dev/zero | tr \'\\\\0\' x | fold -w 100; echo after"\n    - build\n';
    const repo = await makeRepo({ 'build.sh': 'echo built\n', Procfile: 'web: true\n', 'solum.yaml': pipeline });
    const push = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.is(push.code, 0, push.stderr);
    t.regex(push.stderr, /output truncated: more than 262144 bytes; the stage goes on/);
    t.true(push.stderr.length < 4 * cap, `the push saw ${push.stderr.length} bytes, not 30 MB`);
    const runs = (await w.solum.api('GET', `/v1/apps/${w.app}/pipeline-runs`, undefined, w.alice.token)).json as Array<{ stages: Array<{ name: string; status: string; log: string }> }>;
    const flood = runs[0]!.stages.find((s) => s.name === 'flood')!;
    t.is(flood.status, 'succeeded');
    t.true(flood.log.length <= cap + 4096, `the stage log is ${flood.log.length} bytes`);
    t.regex(flood.log, /output truncated/);
  });

  // Attack: an outsider opens a pull request whose code runs in a builder with the app's cache;
  // and a captured webhook delivery is sent again long after the event.
  test.serial(name('pull requests build nothing until an app admin allows it; stale deliveries are refused'), async (t) => {
    const w = await world(database, t);
    const src = await makeRepo({ 'build.sh': 'echo pr\n', Procfile: 'web: true\n' });
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: src })).stdout.trim();
    await run('git', ['update-ref', 'refs/pull/7/head', head], { cwd: src });
    // file:// sources are for admins: the admin sets it on alice's app.
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
    const secret = ((await w.solum.api('POST', `/v1/apps/${w.app}/webhook/secret`, undefined, w.alice.token)).json as { secret: string }).secret;
    const send = async (event: string, delivery: string, payload: unknown) => {
      const body = JSON.stringify(payload);
      const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      const res = await fetch(`http://127.0.0.1:${w.solum.httpPort}/v1/apps/${w.app}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': sig }, body });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const pr = (n: number, updatedAt: string) => ({ action: 'opened', number: n, pull_request: { number: n, head: { sha: head }, updated_at: updatedAt } });
    const before = await snapshot(w.solum);
    t.like(await send('pull_request', 'pr-1', pr(7, new Date().toISOString())), { status: 200, json: { status: 'ignored' } });
    t.regex(String((await send('pull_request', 'pr-2', pr(7, new Date().toISOString()))).json.reason), /pull-request builds are off/);
    const old = new Date(Date.now() - 3 * 3600_000);
    t.like(await send('push', 'push-old', { ref: 'refs/heads/main', after: head, repository: { pushed_at: Math.floor(old.getTime() / 1000) } }), { status: 400, json: { code: 'stale_delivery' } });
    t.is(await snapshot(w.solum), before, 'nothing queued');
    // Once alice (the app's admin) turns them on, a pull request builds, never goes live, and leaves no cache.
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}`, { pullRequestBuilds: true }, w.mallory.token)).status, 404, 'not mallory');
    t.like((await w.solum.api('PATCH', `/v1/apps/${w.app}`, { pullRequestBuilds: true }, w.alice.token)).json, { pullRequestBuilds: true });
    t.like(await send('pull_request', 'pr-3', pr(7, new Date().toISOString())), { status: 202, json: { status: 'queued' } });
    let builds: Array<{ id: number; status: string; source: string }> = [];
    for (let i = 0; i < 200; i++) {
      builds = (await w.solum.api('GET', `/v1/apps/${w.app}/builds`, undefined, w.alice.token)).json as typeof builds;
      if (builds[0] && builds[0].status !== 'queued' && builds[0].status !== 'running') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    t.like(builds[0], { status: 'succeeded', source: 'pull-request' });
    t.deepEqual((await w.solum.api('GET', `/v1/apps/${w.app}/releases`, undefined, w.alice.token)).json, [], 'a pull request never goes live');
    t.deepEqual(await containersLabelled(`io.solum.app=${w.app}`, `io.solum.build-id=${builds[0]!.id}`), [], 'no builder left');
    const volumes = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.app=${w.app}`, '--filter', `label=io.solum.build-id=${builds[0]!.id}`]);
    t.is(volumes.stdout.trim(), '', 'no cache volume of the pull request is left');
  });

  // Attack: a write collaborator pushes with -o solum.language-pack / solum.buildpack to build the
  // app with a pack its admins did not choose (one that ships whatever she likes into the DU).
  test.serial(name('a write collaborator cannot override the pinned language pack with push options'), async (t) => {
    const w = await world(database, t);
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}`, { languagePack: 'shell' }, w.alice.token)).status, 200);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'write' }, w.alice.token)).status, 204);
    const repo = await makeRepo({ 'build.sh': 'echo ok\n', Procfile: 'web: true\n' });
    const before = await snapshot(w.solum);
    for (const option of ['solum.language-pack=node', 'solum.buildpack=https://example.invalid/bp.git']) {
      const push = await run('git', ['push', '-o', option, urlFor(w.solum, 'http', w.app, w.mallory), 'main'], { cwd: repo, env: gitEnvFor(w.mallory) });
      t.not(push.code, 0, option);
      t.regex(push.stderr, /set by its admins/, option);
    }
    t.is(await snapshot(w.solum), before);
    // Without the option her push builds with the pinned pack.
    const plain = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.mallory), 'main'], { cwd: repo, env: gitEnvFor(w.mallory) });
    t.is(plain.code, 0, plain.stderr);
    t.regex(plain.stderr, /with language pack shell/);
  });

  // Attack: register another tenant's DU (its source is inside) as one's own app's DU; and skip an
  // app's pipeline gates by registering an image instead of pushing.
  test.serial(name("another app's DU cannot be registered, and registered images cannot skip a pipeline"), async (t) => {
    const w = await world(database, t);
    const repo = await makeRepo({ 'build.sh': 'echo secret-source > /app/secret\n', Procfile: 'web: true\n' });
    t.is((await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) })).code, 0);
    const mine = `${w.app}-m`;
    t.is((await w.solum.api('POST', '/v1/apps', { name: mine }, w.mallory.token)).status, 201);
    const before = await snapshot(w.solum);
    for (const image of [`solum/${w.app}:1`, (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', `solum/${w.app}:1`])).stdout.trim()]) {
      const r = await w.solum.api('POST', `/v1/apps/${mine}/deployment-units`, { image }, w.mallory.token);
      t.is(r.status, 403, image);
      t.regex(r.text, /belongs to the app/);
    }
    t.is(await snapshot(w.solum), before);
    t.is((await run('docker', ['images', '-q', `solum/${mine}`])).stdout.trim(), '', 'no DU made');
    // A pipelined app takes no registered image, not even one of its own.
    await writeAndCommit(repo, { 'solum.yaml': 'pipeline:\n  stages:\n    - name: gate\n      test: "true"\n    - build\n' }, 'pipeline');
    t.is((await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) })).code, 0);
    const own = await w.solum.api('POST', `/v1/apps/${w.app}/deployment-units`, { image: 'solum/base:bookworm' }, w.alice.token);
    t.is(own.status, 409);
    t.regex(own.text, /deploys through its pipeline/);
  });

  // Attack: point the commit-status reporter (which Solum runs, with the app's token) at services
  // on Solum's own machine or at a cloud metadata address.
  test.serial(name('commit statuses of a non-admin cannot point at loopback or link-local addresses'), async (t) => {
    const w = await world(database, t);
    let hits = 0;
    const receiver = http.createServer((req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => receiver.close(() => { resolve(); })));
    const port = (receiver.address() as AddressInfo).port;
    const before = await snapshot(w.solum);
    for (const url of [`http://127.0.0.1:${port}/statuses`, `http://localhost:${port}/statuses`, `http://[::1]:${port}/s`, 'http://169.254.169.254/latest', `http://2130706433:${port}/s`, `http://0.0.0.0:${port}/s`]) {
      const r = await w.solum.api('PUT', `/v1/apps/${w.app}/commit-status`, { url, token: 'x' }, w.alice.token);
      t.is(r.status, 400, url);
      t.regex(r.text, /may not point at this machine/, url);
    }
    t.is(await snapshot(w.solum), before);
    t.is(hits, 0);
    // An admin may (a CI server on the same machine).
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/commit-status`, { url: `http://127.0.0.1:${port}/statuses`, token: 'x' })).status, 200);
  });
  // Attack: a read collaborator (or anyone reading the server's logs) collects the access token an
  // app admin wrote into the app's source URL or a buildpack URL; an owner who is not an admin aims
  // the source at a service on this machine.
  test.serial(name('credentials in source and buildpack URLs never reach read collaborators or logs; sources cannot aim at this machine'), async (t) => {
    const w = await world(database, t);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'read' }, w.alice.token)).status, 204);
    const before = await snapshot(w.solum);
    for (const url of [`http://127.0.0.1:${w.solum.httpPort}/x.git`, `http://x:y@localhost:${w.solum.sshPort}/x.git`, 'git@127.0.0.1:x.git', 'https://169.254.169.254/x.git']) {
      const r = await w.solum.api('PUT', `/v1/apps/${w.app}/source`, { url, ref: 'main' }, w.alice.token);
      t.is(r.status, 400, url);
      t.regex(r.text, /may not point at this machine/, url);
    }
    t.is(await snapshot(w.solum), before);
    // An admin may aim a source at this machine: here a closed loopback port, so the fetch fails.
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => { resolve(port); });
      });
    });
    const secret = 'ghp_s3cretSourceToken';
    const bpSecret = 'bpS3cretToken';
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/source`, { url: `http://deploy:${secret}@127.0.0.1:${closed}/r.git`, ref: 'main' })).status, 200);
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}`, { buildpacks: [`https://${bpSecret}@127.0.0.1:${closed}/bp.git`] }, w.alice.token)).status, 200);
    const pulled = await w.solum.api('POST', `/v1/apps/${w.app}/builds`, {}, w.alice.token);
    t.is(pulled.status, 400, pulled.text);
    const seen = [
      pulled.text,
      (await w.solum.api('GET', `/v1/apps/${w.app}/source`, undefined, w.mallory.token)).text,
      (await w.solum.api('GET', `/v1/apps/${w.app}`, undefined, w.mallory.token)).text,
      (await w.solum.api('GET', `/v1/apps/${w.app}`, undefined, w.alice.token)).text,
    ];
    t.regex(seen[1]!, /deploy:\*\*\*@127\.0\.0\.1/, 'the reader sees where the source is');
    t.regex(seen[2]!, /https:\/\/\*\*\*@127\.0\.0\.1/, 'and which buildpack runs');
    for (const text of [...seen, w.solum.logs()]) {
      t.false(text.includes(secret), 'no source credential');
      t.false(text.includes(bpSecret), 'no buildpack credential');
    }
  });
  // Attack: many connections that trickle a request body to the public webhook route, a byte at a
  // time, to hold the server's connections and memory for as long as they like.
  test.serial(name('request bodies trickled to the public webhook route are cut'), async (t) => {
    const w = await world(database, t, { SOLUM_HTTP_BODY_IDLE_SECONDS: '1', SOLUM_HTTP_ANONYMOUS_BODY_SECONDS: '3' });
    const before = await snapshot(w.solum);
    const trickle = (pause: number) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = net.connect(w.solum.httpPort, '127.0.0.1', () => {
          socket.write(`POST /v1/apps/${w.app}/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
          const timer = setInterval(() => socket.write(' '), pause);
          socket.on('close', () => {
            clearInterval(timer);
            resolve(Date.now() - started);
          });
        });
        socket.on('error', () => undefined);
      });
    // A pause longer than the idle limit, and a trickle that never pauses long but never ends.
    const [stalled, ...slow] = await Promise.all([trickle(2500), ...Array.from({ length: 20 }, () => trickle(300))]);
    t.true(stalled < 2500, `a stalled body is cut after the idle limit (${stalled}ms)`);
    for (const ms of slow) t.true(ms >= 2500 && ms < 6000, `a trickled body is cut at the total limit (${ms}ms)`);
    t.is(await snapshot(w.solum), before);
  });

  // Attack: an app named like another app's pipeline environment (`<app>-<env>`) would share its
  // router host, labels and name: the other tenant's traffic, processes and logs.
  test.serial(name("an app cannot take the name of another app's environment"), async (t) => {
    const w = await world(database, t);
    t.is((await w.solum.api('POST', `/v1/apps/${w.app}/environments`, { name: 'staging' }, w.alice.token)).status, 201);
    const before = await snapshot(w.solum);
    const r = await w.solum.api('POST', '/v1/apps', { name: `${w.app}-staging` }, w.mallory.token);
    t.is(r.status, 409);
    t.regex(r.text, /router name of the staging environment/);
    const repo = await makeRepo({ 'build.sh': 'echo hi\n' });
    for (const transport of ['http', 'ssh'] as const) {
      const push = await run('git', ['push', urlFor(w.solum, transport, `${w.app}-staging`, w.mallory), 'main'], { cwd: repo, env: gitEnvFor(w.mallory) });
      t.not(push.code, 0, transport);
    }
    t.is(await snapshot(w.solum), before);
  });

  // Attack: one user creates apps, backing services and processes without end, starving the others.
  test.serial(name('per-user quotas for apps, services and processes'), async (t) => {
    const w = await world(database, t, { SOLUM_QUOTA_APPS: '1', SOLUM_QUOTA_SERVICES: '0', SOLUM_QUOTA_PROCESSES: '2' });
    const before = await snapshot(w.solum);
    const second = await w.solum.api('POST', '/v1/apps', { name: `${w.app}-2` }, w.alice.token);
    t.is(second.status, 403);
    t.like(second.json, { code: 'quota_exceeded' });
    const repo = await makeRepo({ 'build.sh': 'echo hi\n' });
    const push = await run('git', ['push', urlFor(w.solum, 'ssh', `${w.app}-3`, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.not(push.code, 0);
    t.regex(push.stderr, /owns 1 apps already/);
    const svc = await w.solum.api('POST', '/v1/services', { kind: 'redis', name: `${w.app}-r` }, w.alice.token);
    t.is(svc.status, 403);
    t.like(svc.json, { code: 'quota_exceeded' });
    const scale = await w.solum.api('PATCH', `/v1/apps/${w.app}/formation`, { web: 3 }, w.alice.token);
    t.is(scale.status, 403);
    t.regex(scale.text, /more than the 2 a user may/);
    t.is(await snapshot(w.solum), before);
    t.is((await w.solum.api('POST', '/v1/apps', { name: `${w.app}-admin` })).status, 201, 'admins are not counted');
  });

  // Attack: keep reading a stream (state changes, a build's log) after one's token was revoked
  // or one's role on the app was removed.
  test.serial(name('event streams and followed logs end when the token is revoked or the role removed'), async (t) => {
    const w = await world(database, t);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'read' }, w.alice.token)).status, 204);
    const follow = async (url: string, token: string): Promise<{ ended: Promise<number> }> => {
      const res = await fetch(`http://127.0.0.1:${w.solum.httpPort}${url}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
      t.is(res.status, 200, url);
      const reader = res.body!.getReader();
      const started = Date.now();
      const ended = (async () => {
        for (;;) {
          const { done } = await reader.read();
          if (done) return Date.now() - started;
        }
      })();
      return { ended };
    };
    // A build that runs long enough to be followed.
    const repo = await makeRepo({ 'build.sh': 'echo start; sleep 8; echo end\n', Procfile: 'web: true\n' });
    const push = run('git', ['push', '-o', 'solum.async', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.is((await push).code, 0);
    const builds = (await w.solum.api('GET', `/v1/apps/${w.app}/builds`, undefined, w.alice.token)).json as Array<{ id: number }>;
    const log = await follow(`/v1/builds/${builds[0]!.id}/log?follow=1`, w.mallory.token);
    const events = await follow('/v1/events', w.mallory.token);
    await new Promise((r) => setTimeout(r, 1500));
    t.is((await w.solum.api('DELETE', `/v1/apps/${w.app}/collaborators/mallory`, undefined, w.alice.token)).status, 204);
    t.true((await log.ended) < 6000, 'the log stream ended once the role was gone');
    const tokens = (await w.solum.api('GET', '/v1/users/mallory/tokens', undefined, w.mallory.token)).json as Array<{ id: number }>;
    t.is((await w.solum.api('DELETE', `/v1/users/mallory/tokens/${tokens[0]!.id}`, undefined, w.mallory.token)).status, 204);
    t.true((await events.ended) < 8000, 'the event stream ended once the token was revoked');
  });
  // Attack: a collaborator keeps `logs -f` open over SSH after her role is removed, or after her
  // key is removed, and goes on reading the app's output.
  test.serial(name('SSH logs -f ends when the role is removed or the key is'), async (t) => {
    const w = await world(database, t);
    const server = `(while true; do echo tick; sleep 0.5; done) & ${okWebServer}`;
    const repo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': server });
    const push = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.is(push.code, 0, push.stderr);
    const follow = (): { ended: Promise<{ ms: number; out: string; err: string }> } => {
      const started = Date.now();
      const child = spawn('sh', ['-c', `${w.mallory.identity.sshCommand} -p ${w.solum.sshPort} git@127.0.0.1 logs ${w.app} -f`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      t.teardown(() => { child.kill(); });
      return { ended: new Promise((resolve) => child.on('close', () => { resolve({ ms: Date.now() - started, out, err }); })) };
    };
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'read' }, w.alice.token)).status, 204);
    const byRole = follow();
    await new Promise((r) => setTimeout(r, 2500));
    t.is((await w.solum.api('DELETE', `/v1/apps/${w.app}/collaborators/mallory`, undefined, w.alice.token)).status, 204);
    const r1 = await byRole.ended;
    t.regex(r1.out, /tick/, 'she read the log while she held the role');
    t.regex(r1.err, /access to this stream ended/);
    t.true(r1.ms < 9000, `the stream ended once the role was gone (${r1.ms} ms)`);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'read' }, w.alice.token)).status, 204);
    const byKey = follow();
    await new Promise((r) => setTimeout(r, 2500));
    t.is((await w.solum.api('DELETE', '/v1/users/mallory/keys/laptop', undefined, w.mallory.token)).status, 204);
    const r2 = await byKey.ended;
    t.regex(r2.out, /tick/);
    t.regex(r2.err, /access to this stream ended/);
    t.true(r2.ms < 9000, `the stream ended once the key was gone (${r2.ms} ms)`);
  });
  // Attack: a Dockerfile that starts from, or copies out of, another tenant's DU, to print its
  // source into one's own build log; and one that forks without end in a RUN step.
  test.serial(name("a Dockerfile cannot build from another app's DU, and its RUN steps have a pids limit"), async (t) => {
    const w = await world(database, t, { SOLUM_BUILD_PIDS: '48' });
    const secret = `secret-${Date.now()}`;
    const victim = await makeRepo({ 'build.sh': `echo ${secret} > /app/secret\n`, Procfile: 'web: true\n' });
    t.is((await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: victim, env: gitEnvFor(w.alice) })).code, 0);
    const mine = `${w.app}-m`;
    t.is((await w.solum.api('POST', '/v1/apps', { name: mine }, w.mallory.token)).status, 201);
    const before = await snapshot(w.solum);
    for (const dockerfile of [`FROM solum/${w.app}:1\nRUN cat /app/secret\n`, `FROM solum/base:bookworm\nCOPY --from=solum/${w.app}:1 /app/secret /x\nRUN cat /x\n`]) {
      const repo = await makeRepo({ Dockerfile: dockerfile });
      const push = await run('git', ['push', urlFor(w.solum, 'http', mine, w.mallory), 'main'], { cwd: repo, env: gitEnvFor(w.mallory) });
      t.not(push.code, 0);
      t.regex(push.stderr, new RegExp(`solum/${w.app}:1 is not an image this app may build from`));
      t.false(push.stderr.includes(secret), "the other tenant's source is not printed");
    }
    const after = JSON.parse(await snapshot(w.solum)) as { apps: Record<string, { builds: Array<{ status: string }> }> };
    t.true(after.apps[mine]!.builds.every((b) => b.status === 'failed'), 'the refused builds failed before anything was built');
    t.is(JSON.stringify((JSON.parse(before) as { apps: Record<string, unknown> }).apps[w.app]), JSON.stringify(after.apps[w.app]), "the victim's app is unchanged");
    t.is((await run('docker', ['images', '-q', `solum/${mine}`])).stdout.trim(), '', 'no DU made');
    // A fork bomb in a RUN step stops at the build's pids limit.
    const bomb = await makeRepo({ Dockerfile: 'FROM solum/base:bookworm\nRUN n=0; while [ $n -lt 200 ]; do sleep 30 & n=$((n+1)); done; echo started $n\n' });
    const push = await run('git', ['push', urlFor(w.solum, 'http', mine, w.mallory), 'main'], { cwd: bomb, env: gitEnvFor(w.mallory) });
    t.regex(push.stderr, /Cannot fork|Resource temporarily unavailable|fork: retry/);
  });
  // Attack: a write collaborator rolls back to an old release to bring back the old config (an
  // old secret the admins rotated, a setting they turned off).
  test.serial(name("a write collaborator's rollback brings back the DU, never an old config"), async (t) => {
    const w = await world(database, t);
        const repo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer });
    const push = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.alice), 'main'], { cwd: repo, env: gitEnvFor(w.alice) });
    t.is(push.code, 0, push.stderr);
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}/config`, { SECRET: 'old' }, w.alice.token)).status, 200);
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}/config`, { SECRET: 'rotated' }, w.alice.token)).status, 200);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/mallory`, { role: 'write' }, w.alice.token)).status, 204);
    const back = await w.solum.api('POST', `/v1/apps/${w.app}/releases`, { rollback: 2 }, w.mallory.token);
    t.is(back.status, 201, back.text);
    t.like(back.json, { version: 4, description: 'Rollback to v2 (the DU; config kept)' });
    t.deepEqual((await w.solum.api('GET', `/v1/apps/${w.app}/config`, undefined, w.alice.token)).json, { SECRET: 'rotated' });
    // The app's admin may bring an old config back.
    t.is((await w.solum.api('POST', `/v1/apps/${w.app}/releases`, { rollback: 2 }, w.alice.token)).status, 201);
    t.deepEqual((await w.solum.api('GET', `/v1/apps/${w.app}/config`, undefined, w.alice.token)).json, { SECRET: 'old' });
  });
  // Attack: replay (or delay) a signed push delivery of an older commit to take the app back to
  // code its owners replaced, e.g. before a security fix.
  test.serial(name('a push event never releases a commit older than the live release'), async (t) => {
    const w = await world(database, t);
        const src = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer, 'version.txt': 'old\n' });
    const old = (await run('git', ['rev-parse', 'HEAD'], { cwd: src })).stdout.trim();
    const fixed = await writeAndCommit(src, { 'version.txt': 'fixed\n' }, 'the fix');
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
    const secret = ((await w.solum.api('POST', `/v1/apps/${w.app}/webhook/secret`, undefined, w.alice.token)).json as { secret: string }).secret;
    const send = async (delivery: string, commit: string) => {
      const body = JSON.stringify({ ref: 'main', commit, timestamp: new Date().toISOString() });
      const sig = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      return fetch(`http://127.0.0.1:${w.solum.httpPort}/v1/apps/${w.app}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-solum-delivery': delivery, 'x-solum-signature-256': sig }, body });
    };
    const settled = async (): Promise<Array<{ status: string; release: string | null }>> => {
      for (let i = 0; i < 300; i++) {
        const list = (await w.solum.api('GET', `/v1/apps/${w.app}/builds`, undefined, w.alice.token)).json as Array<{ status: string; release: string | null }>;
        if (list.length > 0 && list.every((b) => b.status !== 'queued' && b.status !== 'running' && b.release !== 'pending' && b.release !== 'releasing')) return list;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('builds did not settle');
    };
    t.is((await send('d-new', fixed)).status, 202);
    await settled();
    const live = (await w.solum.api('GET', `/v1/apps/${w.app}/releases`, undefined, w.alice.token)).json as Array<{ version: number; status: string; buildId: number }>;
    t.like(live, [{ version: 1, status: 'active' }]);
    t.is((await send('d-old', old)).status, 202);
    const builds = await settled();
    t.is(builds.length, 2);
    t.deepEqual((await w.solum.api('GET', `/v1/apps/${w.app}/releases`, undefined, w.alice.token)).json, live, 'the fixed commit stays live');
  });
}

