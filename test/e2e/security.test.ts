// The security regression suite: each test names the attack in its header, runs it for real
// (real git, OpenSSH or a raw SSH/HTTP client), and checks that it was refused with nothing
// changed on disk or in the database. Every test runs on PGlite and on PostgreSQL.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { solumWithApp } from '../support/fixtures.js';
import { createHookApp } from '../../src/http/hook-server.js';
import { createPushSessions } from '../../src/hooks/push-sessions.js';
import { createLogger } from '../../src/logger.js';
import { databaseKinds, type DatabaseKind } from '../support/database.js';
import { makeRepo, writeAndCommit } from '../support/git.js';
import { snapshot } from '../support/snapshot.js';
import { makeSshIdentity, randomName, run, type RunningSolum } from '../support/solum.js';
import { connect, exec, loadKey } from '../support/ssh2-client.js';
import { createUser, gitEnvFor, urlFor, type TestUser } from '../support/users.js';

interface World {
  solum: RunningSolum;
  alice: TestUser;
  bob: TestUser;
  /** alice's app, with one successful build of `main` */
  app: string;
  /** a local clone-able working repo holding what was pushed */
  repo: string;
  main: string;
}

async function world(database: DatabaseKind, t: { teardown(fn: () => Promise<void>): void }): Promise<World> {
  const { solum, app } = await solumWithApp(t, 'victim', { database });
  const alice = await createUser(solum, 'alice');
  const bob = await createUser(solum, 'bob');
  const repo = await makeRepo({ 'build.sh': 'echo ok\n', Procfile: 'web: true\n' });
  const push = await run('git', ['push', urlFor(solum, 'http', app, alice), 'main'], { cwd: repo, env: gitEnvFor(alice) });
  if (push.code !== 0) throw new Error(`seeding push failed: ${push.stderr}`);
  const main = (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
  return { solum, alice, bob, app, repo, main };
}

function rawHttp(port: number, method: string, rawPath: string, headers: Record<string, string> = {}, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: text }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

// A receive-pack request that would create refs/heads/evil pointing at an existing commit.
const evilPush = (sha: string): string => {
  const line = `0000000000000000000000000000000000000000 ${sha} refs/heads/evil\0 report-status\n`;
  return `${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`;
};

for (const database of databaseKinds) {
  const name = (s: string): string => `${s} [${database}]`;

  // Attack: POST straight to git-receive-pack / git-upload-pack (skipping GET info/refs, where
  // naive servers authenticate) with no credentials, a wrong token, or a token without access.
  test.serial(name('direct RPC POSTs without valid credentials are refused'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    for (const service of ['git-receive-pack', 'git-upload-pack']) {
      const p = `/${w.app}.git/${service}`;
      const body = service === 'git-receive-pack' ? evilPush(w.main) : `0032want ${w.main}\n00000009done\n`;
      const ct = { 'content-type': `application/x-${service}-request` };
      const none = await rawHttp(w.solum.httpPort, 'POST', p, ct, body);
      t.is(none.status, 401, `${service} without credentials`);
      const wrong = await rawHttp(w.solum.httpPort, 'POST', p, { ...ct, ...basic('alice', 'not-a-token') }, body);
      t.is(wrong.status, 401, `${service} with a wrong token`);
      const stranger = await rawHttp(w.solum.httpPort, 'POST', p, { ...ct, ...basic('bob', w.bob.token) }, body);
      t.is(stranger.status, 404, `${service} with a token that has no access`);
      t.false(stranger.body.includes(w.main), 'no repository data leaks');
    }
    t.is(await snapshot(w.solum), before);
  });

  // Attack: offer another user's registered public key (the server answers PK_OK) and then sign
  // the session with one's own private key, hoping the server binds the offered identity.
  test.serial(name("offering another user's public key and signing with one's own is refused"), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const mine = loadKey(w.bob.identity.privateKeyPath);
    const victimBlob = loadKey(w.alice.identity.privateKeyPath).getPublicSSH();
    // bob's real key object (so ssh2 signs with bob's private key) claiming alice's public key.
    const forged = Object.create(mine, { getPublicSSH: { value: () => victimBlob } }) as typeof mine;
    await t.throwsAsync(connect(w.solum.sshPort, forged), { message: /authentication methods failed/ });
    // The honest key still works, and only as bob.
    const client = await connect(w.solum.sshPort, mine);
    t.regex((await exec(client, 'whoami')).stdout, /^bob\n/);
    client.end();
    t.is(await snapshot(w.solum), before);
  });

  // Attack: path traversal and odd repository names, in URL and exec forms, by a user who is
  // allowed to create apps (so any name that slipped through would create something on disk).
  test.serial(name('path traversal and odd names are refused before touching the disk'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const names = ['../x', '%2e%2e/x', '/abs/path', 'a/b', '-oProxyCommand=x', 'x.git.git', 'hеllo' /* Cyrillic е */, 'x'.repeat(300), '..', '.git', 'HEAD', 'x\\y', 'x y'];
    for (const n of names) {
      const url = `/${encodeURI(n).replace(/%25/g, '%')}/info/refs?service=git-receive-pack`;
      const r = await rawHttp(w.solum.httpPort, 'GET', url, basic('alice', w.alice.token));
      t.true(r.status === 400 || r.status === 404, `HTTP ${n}: ${r.status}`);
      const s = await run('ssh', [...w.alice.identity.sshCommand.split(' ').slice(1), '-p', String(w.solum.sshPort), 'git@127.0.0.1', `git-receive-pack '${n}'`]);
      t.not(s.code, 0, `ssh ${n}`);
      t.regex(s.stderr, /solum: (invalid app name|unknown command)/, `ssh ${n}`);
    }
    // The same names through git itself. (Over HTTP, git normalises "/../x" to "/x" before
    // sending, so that form only reaches a server through a raw client, as above.)
    for (const [transport, n] of [['ssh', '../x'], ['ssh', 'a/b'], ['ssh', 'x.git.git'], ['http', 'a/b'], ['http', 'x.git.git'], ['http', 'Upper']] as const) {
      const r = await run('git', ['push', urlFor(w.solum, transport, n, w.alice), 'main'], { cwd: w.repo, env: gitEnvFor(w.alice) });
      t.not(r.code, 0, `${transport} ${n}`);
    }
    t.is(await snapshot(w.solum), before);
  });

  // Attack: shell metacharacters and command chaining inside the exec string.
  test.serial(name('command injection in the exec string is refused and runs nothing'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const marker = path.join(os.tmpdir(), randomName('pwned'));
    const attempts = [
      `git-receive-pack '${w.app}.git'; touch ${marker}`,
      `git-receive-pack '${w.app}.git' && touch ${marker}`,
      `git-upload-pack '$(touch ${marker})'`,
      `git-upload-pack '\`touch ${marker}\`'`,
      `git-upload-pack '${w.app}.git' | touch ${marker}`,
      `git-upload-pack '${w.app}.git'\ntouch ${marker}`,
      `git-upload-pack --upload-pack='touch ${marker}' '${w.app}.git'`,
    ];
    const client = await connect(w.solum.sshPort, loadKey(w.alice.identity.privateKeyPath));
    for (const a of attempts) {
      const r = await exec(client, a);
      t.not(r.code, 0, a);
      t.regex(r.stderr, /^solum: /, a);
    }
    client.end();
    await t.throwsAsync(fs.access(marker));
    t.is(await snapshot(w.solum), before);
  });

  // Attack: use the SSH server for anything but git and Solum's own commands: arbitrary exec,
  // a shell, a pty, sftp, port forwarding in both directions.
  test.serial(name('non-git exec, shells, subsystems and forwarding are refused'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const client = await connect(w.solum.sshPort, loadKey(w.alice.identity.privateKeyPath));
    for (const cmd of ['ls /', 'sh -c id', 'cat /etc/passwd', "scp -t /tmp", `git-upload-archive '${w.app}.git'`, 'bash', '/bin/sh']) {
      const r = await exec(client, cmd);
      t.not(r.code, 0, cmd);
      t.regex(r.stderr, /solum: (unknown command|unknown command)/, cmd);
    }
    await t.throwsAsync(new Promise((resolve, reject) => { client.shell((err, s) => { if (err) reject(err); else resolve(s); }); }));
    await t.throwsAsync(new Promise((resolve, reject) => { client.subsys('sftp', (err, s) => { if (err) reject(err); else resolve(s); }); }));
    await t.throwsAsync(new Promise((resolve, reject) => { client.forwardOut('127.0.0.1', 1, '127.0.0.1', w.solum.httpPort, (err, s) => { if (err) reject(err); else resolve(s); }); }));
    await t.throwsAsync(new Promise((resolve, reject) => { client.forwardIn('127.0.0.1', 0, (err, port) => { if (err) reject(err); else resolve(port); }); }));
    // The connection survives all that and still serves Solum commands.
    t.regex((await exec(client, 'whoami')).stdout, /^alice\n/);
    client.end();
    // And OpenSSH asking for a shell with a pty gets refused too.
    const shell = await run('ssh', [...w.alice.identity.sshCommand.split(' ').slice(1), '-tt', '-p', String(w.solum.sshPort), 'git@127.0.0.1'], { input: 'id\nexit\n' });
    t.not(shell.code, 0);
    t.is(await snapshot(w.solum), before);
  });

  // Attack: a read-only collaborator pushes, deletes a branch, force-pushes — over both transports.
  test.serial(name('a read-only collaborator can clone but not push, delete or force-push'), async (t) => {
    const w = await world(database, t);
    t.is((await w.solum.api('PUT', `/v1/apps/${w.app}/collaborators/bob`, { role: 'read' }, w.alice.token)).status, 204);
    const before = await snapshot(w.solum);
    for (const transport of ['ssh', 'http'] as const) {
      const url = urlFor(w.solum, transport, w.app, w.bob);
      const env = gitEnvFor(w.bob);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-ro-'));
      const clone = await run('git', ['clone', '-q', url, dir], { env });
      t.is(clone.code, 0, clone.stderr);
      await writeAndCommit(dir, { 'x.txt': transport }, 'bob was here');
      t.not((await run('git', ['push', url, 'HEAD:main'], { cwd: dir, env })).code, 0, 'push');
      t.not((await run('git', ['push', url, 'HEAD:refs/heads/new'], { cwd: dir, env })).code, 0, 'new branch');
      t.not((await run('git', ['push', url, ':main'], { cwd: dir, env })).code, 0, 'deletion');
      await run('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: dir });
      await writeAndCommit(dir, { 'y.txt': 'rewrite' }, 'rewrite history');
      t.not((await run('git', ['push', '--force', url, 'HEAD:main'], { cwd: dir, env })).code, 0, 'force push');
    }
    t.is(await snapshot(w.solum), before);
  });

  // Attack: user B pushes to user A's app (and cannot even see that it exists).
  test.serial(name("a user pushing to another user's app is refused"), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    await writeAndCommit(w.repo, { 'evil.txt': 'x' }, 'evil');
    for (const transport of ['ssh', 'http'] as const) {
      const r = await run('git', ['push', urlFor(w.solum, transport, w.app, w.bob), 'main'], { cwd: w.repo, env: gitEnvFor(w.bob) });
      t.not(r.code, 0);
      t.regex(r.stderr, transport === 'ssh' ? /does not exist or you have no access/ : /not found|404/);
    }
    t.is((await w.solum.api('GET', `/v1/apps/${w.app}`, undefined, w.bob.token)).status, 404);
    t.is(await snapshot(w.solum), before);
  });

  // Attack: anonymous push to a public app (anonymous clone is what "public" allows).
  test.serial(name('anonymous push to a public app is refused; anonymous clone works'), async (t) => {
    const w = await world(database, t);
    const anon = urlFor(w.solum, 'http', w.app, null);
    const privateClone = await run('git', ['clone', '-q', anon, await fs.mkdtemp(path.join(os.tmpdir(), 'solum-anon-'))], { env: gitEnvFor(null) });
    t.not(privateClone.code, 0, 'a private app needs credentials');
    t.is((await w.solum.api('PATCH', `/v1/apps/${w.app}`, { public: true }, w.alice.token)).status, 200);
    const before = await snapshot(w.solum);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-anon-'));
    const clone = await run('git', ['clone', '-q', anon, dir], { env: gitEnvFor(null) });
    t.is(clone.code, 0, clone.stderr);
    await writeAndCommit(dir, { 'anon.txt': 'x' }, 'anonymous');
    const push = await run('git', ['push', anon, 'HEAD:main'], { cwd: dir, env: gitEnvFor(null) });
    t.not(push.code, 0);
    const direct = await rawHttp(w.solum.httpPort, 'POST', `/${w.app}.git/git-receive-pack`, { 'content-type': 'application/x-git-receive-pack-request' }, evilPush(w.main));
    t.is(direct.status, 401);
    // A signed-in stranger may clone a public app but not push to it.
    const bobPush = await run('git', ['push', urlFor(w.solum, 'http', w.app, w.bob), 'HEAD:main'], { cwd: dir, env: gitEnvFor(w.bob) });
    t.not(bobPush.code, 0);
    t.is(await snapshot(w.solum), before);
  });

  // Attack: keep using a token after it was revoked, and a key after it was removed, on an
  // already-open SSH connection.
  test.serial(name('a revoked token and a removed key stop working at once, even mid-session'), async (t) => {
    const w = await world(database, t);
    // HTTP: the ref advertisement succeeds, the token is revoked, the POST that follows fails.
    const info = await rawHttp(w.solum.httpPort, 'GET', `/${w.app}.git/info/refs?service=git-receive-pack`, basic('alice', w.alice.token));
    t.is(info.status, 200);
    const tokens = (await w.solum.api('GET', '/v1/users/alice/tokens', undefined, w.alice.token)).json as { id: number }[];
    t.is((await w.solum.api('DELETE', `/v1/users/alice/tokens/${tokens[0]!.id}`, undefined, w.alice.token)).status, 204);
    const before = await snapshot(w.solum);
    const post = await rawHttp(w.solum.httpPort, 'POST', `/${w.app}.git/git-receive-pack`, { ...basic('alice', w.alice.token), 'content-type': 'application/x-git-receive-pack-request' }, evilPush(w.main));
    t.is(post.status, 401);
    t.is((await w.solum.api('GET', '/v1/apps', undefined, w.alice.token)).status, 401);
    t.is(await snapshot(w.solum), before);

    // SSH: a connection authenticated with bob's key runs a command, the key is removed, the
    // same connection's next command is refused and the connection closed.
    const client = await connect(w.solum.sshPort, loadKey(w.bob.identity.privateKeyPath));
    t.regex((await exec(client, 'whoami')).stdout, /^bob\n/);
    t.is((await w.solum.api('DELETE', '/v1/users/bob/keys/laptop', undefined, w.bob.token)).status, 204);
    const after = await exec(client, 'whoami').catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }));
    t.not(after.code, 0);
    t.notRegex(after.stdout, /bob/);
    client.end();
    const again = await run('git', ['ls-remote', urlFor(w.solum, 'ssh', w.app, w.bob)], { env: gitEnvFor(w.bob) });
    t.not(again.code, 0);
  });

  // Attack: user A's token on user B's API routes.
  test.serial(name("a user's token on another user's API routes is refused"), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const bob = w.bob.token;
    const aliceTokens = (await w.solum.api('GET', '/v1/users/alice/tokens', undefined, w.alice.token)).json as { id: number }[];
    const cases: Array<[string, string, unknown, number]> = [
      ['GET', '/v1/users/alice/keys', undefined, 403],
      ['POST', '/v1/users/alice/keys', { name: 'evil', publicKey: (await makeSshIdentity()).publicKey }, 403],
      ['DELETE', '/v1/users/alice/keys/laptop', undefined, 403],
      ['GET', '/v1/users/alice/tokens', undefined, 403],
      ['POST', '/v1/users/alice/tokens', { name: 'evil' }, 403],
      ['DELETE', `/v1/users/alice/tokens/${aliceTokens[0]!.id}`, undefined, 403],
      ['GET', '/v1/users', undefined, 403],
      ['POST', '/v1/users', { name: 'mallory', admin: true }, 403],
      ['DELETE', '/v1/users/alice', undefined, 403],
      ['GET', `/v1/apps/${w.app}`, undefined, 404],
      ['GET', `/v1/apps/${w.app}/builds`, undefined, 404],
      ['PATCH', `/v1/apps/${w.app}`, { public: true }, 404],
      ['DELETE', `/v1/apps/${w.app}`, undefined, 404],
      ['PUT', `/v1/apps/${w.app}/collaborators/bob`, { role: 'admin' }, 404],
      ['GET', '/v1/builds/1', undefined, 404],
      ['GET', '/v1/builds/1/log', undefined, 404],
    ];
    for (const [method, url, body, status] of cases) {
      t.is((await w.solum.api(method, url, body, bob)).status, status, `${method} ${url}`);
    }
    t.deepEqual((await w.solum.api('GET', '/v1/apps', undefined, bob)).json, []);
    // The same through SSH commands.
    const client = await connect(w.solum.sshPort, loadKey(w.bob.identity.privateKeyPath));
    for (const cmd of [`apps:destroy ${w.app} --force`, `apps:collaborators:add ${w.app} bob --role admin`, 'users:create mallory --admin', `builds ${w.app}`]) {
      const r = await exec(client, cmd);
      t.is(r.code, 1, cmd);
    }
    client.end();
    t.is(await snapshot(w.solum), before);
  });

  // Attack: call the pre-receive hook endpoint directly: on the public port, with a forged or
  // replayed push token, and from a peer that is not loopback.
  test.serial(name('the hook endpoint refuses the public port, forged tokens and non-loopback peers'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const body = JSON.stringify({ refs: [{ oldSha: '0'.repeat(40), newSha: w.main, ref: 'refs/heads/main' }], quarantine: { objectDirectory: null, alternateObjectDirectories: null, quarantinePath: null }, pushOptions: [] });
    const pub = await rawHttp(w.solum.httpPort, 'POST', '/internal/hooks/pre-receive', { 'content-type': 'application/json', authorization: `Bearer ${w.alice.token}` }, body);
    t.is(pub.status, 404, 'not served on the public port');
    const hookUrl = /"hookUrl":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(w.solum.logs())?.[1];
    t.truthy(hookUrl, 'the hook listener logs where it listens');
    const port = Number(new URL(hookUrl ?? 'http://127.0.0.1:1').port);
    for (const token of ['push_forged', w.alice.token, '']) {
      const r = await rawHttp(port, 'POST', '/internal/hooks/pre-receive', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body);
      t.is(r.status, 401, `token ${token.slice(0, 6)}`);
    }
    t.is(await snapshot(w.solum), before);

    // A peer that is not on loopback TCP (here: a Unix socket) is refused before the token is read.
    const sessions = createPushSessions({ ttlMs: 60_000 });
    const { token } = sessions.open({ appId: 1, app: w.app as never, userId: 1, repoPath: '/nowhere', role: 'write' });
    const handler = { preReceive: () => Promise.reject(new Error('must not be reached')) };
    const hookApp = createHookApp({ sessions, handler, logger: createLogger('silent') });
    const sock = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'solum-sock-')), 'hook.sock');
    const server = http.createServer((req, res) => { void hookApp.callback()(req, res); });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const viaSocket = await new Promise<number>((resolve, reject) => {
      const req = http.request({ socketPath: sock, method: 'POST', path: '/internal/hooks/pre-receive', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end(body);
    });
    server.close();
    t.is(viaSocket, 403);
    t.truthy(sessions.take(token), 'the refused call did not use up the token');
  });

  // Attack: hammer the SSH port with failed authentications; the server must stay responsive
  // for everyone else and cut off connections that keep guessing.
  test.serial(name('100 failed SSH authentications: attackers are cut off, others are served'), async (t) => {
    const w = await world(database, t);
    const before = await snapshot(w.solum);
    const strangers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => makeSshIdentity().then((i) => loadKey(i.privateKeyPath))));
    // One connection trying eight unknown keys is disconnected after six failures.
    await t.throwsAsync(connect(w.solum.sshPort, strangers));
    const attack = (async () => {
      let refused = 0;
      for (let round = 0; round < 10; round++) {
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => connect(w.solum.sshPort, strangers[i % strangers.length]!)));
        refused += results.filter((r) => r.status === 'rejected').length;
      }
      return refused;
    })();
    const legit = await run('git', ['ls-remote', urlFor(w.solum, 'ssh', w.app, w.alice)], { env: gitEnvFor(w.alice) });
    t.is(legit.code, 0, legit.stderr);
    t.regex(legit.stdout, new RegExp(w.main));
    t.is(await attack, 100);
    const after = await run('git', ['ls-remote', urlFor(w.solum, 'ssh', w.app, w.alice)], { env: gitEnvFor(w.alice) });
    t.is(after.code, 0, after.stderr);
    t.is(await snapshot(w.solum), before);
  });

  // Attack: fish secrets out of the logs. Tokens (API and per-push) and public keys never appear.
  test.serial(name('tokens, keys and push tokens never appear in the logs'), async (t) => {
    const w = await world(database, t);
    await run('git', ['ls-remote', urlFor(w.solum, 'ssh', w.app, w.bob)], { env: gitEnvFor(w.bob) });
    await rawHttp(w.solum.httpPort, 'GET', '/v1/apps', { authorization: 'Bearer solum_wrong-token-for-the-log-test' });
    const logs = w.solum.logs();
    t.true(logs.length > 1000, 'there are logs to search');
    for (const secret of [w.solum.token, w.alice.token, w.bob.token, 'solum_wrong-token-for-the-log-test']) t.false(logs.includes(secret));
    for (const key of [w.alice.identity.publicKey, w.bob.identity.publicKey]) t.false(logs.includes(key.split(' ')[1] ?? 'x'));
    t.notRegex(logs, /push_[A-Za-z0-9_-]{20,}/);
  });
}
