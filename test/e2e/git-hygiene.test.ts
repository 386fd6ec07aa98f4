// Hygiene of the git side, each on PGlite and PostgreSQL with the real git and OpenSSH clients:
// quarantines of killed pushes are swept at start, Solum's own refs stay hidden from readers,
// pull builds check what they fetch, and a fetch past its deadline leaves no process behind.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { databaseKinds } from '../support/database.js';
import { removeAppImages } from '../support/docker.js';
import { solumWithApp } from '../support/fixtures.js';
import { gitClient, makeRepo, tracedProtocol, transports, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, run, type RunningSolum } from '../support/solum.js';
import { createUser, gitEnvFor, urlFor, type TestUser } from '../support/users.js';

const QUARANTINE = /^tmp_objdir-incoming-/;
const HOUR = 60 * 60 * 1000;

const quarantines = async (repo: string): Promise<string[]> => (await fs.readdir(path.join(repo, 'objects'))).filter((e) => QUARANTINE.test(e)).sort();

/** Sets the mtime of `dir` and of everything under it to `when`. */
async function age(dir: string, when: Date): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await age(p, when);
    else await fs.utimes(p, when, when);
  }
  await fs.utimes(dir, when, when);
}

/** Command lines of the processes on this machine that mention one of `needles`. */
async function processesMentioning(...needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const line = cmd.replaceAll('\0', ' ').trim();
    if (needles.some((n) => line.includes(n))) found.push(`${pid}: ${line}`);
  }
  return found;
}

interface BuildJson {
  readonly status: string;
}

async function settled(solum: RunningSolum, app: string): Promise<BuildJson[]> {
  for (let i = 0; i < 240; i++) {
    const list = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];
    if (list.every((b) => b.status !== 'queued' && b.status !== 'running')) return list;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('builds did not settle');
}

for (const database of databaseKinds) {
  const name = (s: string): string => `${s} [${database}]`;

  test.serial(name('a quarantine left by a receive-pack killed mid-push is removed at the next start; a recent one stays'), async (t) => {
    const { solum, app } = await solumWithApp(t, 'quarantine', { database });
    t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
    const repoPath = path.join(solum.dataDir, 'repos', `${app}.git`);
    // 64 MiB that do not compress: the receive takes long enough to be killed in the middle.
    const src = await makeRepo({ 'README.md': 'big\n' });
    await fs.writeFile(path.join(src, 'blob.bin'), randomBytes(64 * 1024 * 1024));
    await writeAndCommit(src, {}, 'a big blob');
    const url = `http://admin:${solum.token}@127.0.0.1:${solum.httpPort}/${app}.git`;
    const push = run('git', ['push', url, 'HEAD:refs/heads/big'], { cwd: src, env: gitEnvFor(null) });
    let killed = false;
    for (let i = 0; i < 600 && !killed; i++) {
      const pids = (await processesMentioning(`receive-pack --stateless-rpc ${repoPath}`)).map((l) => Number(l.split(':')[0]));
      if (pids.length > 0 && (await quarantines(repoPath)).length > 0) {
        for (const pid of pids) process.kill(pid, 'SIGKILL');
        killed = true;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    t.true(killed, 'caught receive-pack while it received');
    t.not((await push).code, 0, 'the push failed');
    const left = await quarantines(repoPath);
    t.is(left.length, 1, 'SIGKILL left the quarantine behind');
    const stale = left[0] ?? '';
    await age(path.join(repoPath, 'objects', stale), new Date(Date.now() - 6 * HOUR));
    // One that a push still running (on the previous process, say) would be using: recent.
    const recent = path.join(repoPath, 'objects', 'tmp_objdir-incoming-recent');
    await fs.mkdir(path.join(recent, 'pack'), { recursive: true });

    await solum.restart();
    t.deepEqual(await quarantines(repoPath), ['tmp_objdir-incoming-recent']);
    t.regex(solum.logs(), /"staleQuarantines":1\b/);
    t.is((await run('git', ['fsck', '--no-progress'], { cwd: repoPath })).code, 0, 'the repository is sound');
    const again = await run('git', ['push', `http://admin:${solum.token}@127.0.0.1:${solum.httpPort}/${app}.git`, 'HEAD:refs/heads/big'], { cwd: src, env: gitEnvFor(null) });
    t.is(again.code, 0, again.stderr);
  });

  // Attack: start a large clone, stop reading (the server's writes back up), then vanish.
  test.serial(name('a client that stalls and vanishes mid-clone leaves no git process and no open session (SSH, HTTP)'), async (t) => {
    const { solum, app } = await solumWithApp(t, 'vanish', { database });
    const src = await makeRepo({ 'README.md': 'big\n' });
    await fs.writeFile(path.join(src, 'blob.bin'), randomBytes(48 * 1024 * 1024));
    await writeAndCommit(src, {}, 'a big blob');
    const repoPath = path.join(solum.dataDir, 'repos', `${app}.git`);
    const identity = await makeSshIdentity();
    const clients = await Promise.all(transports.map((tr) => gitClient(solum, tr, identity)));
    for (const client of clients) {
      const transport = client.transport;
      if (transport === 'ssh') {
        const seed = await client.git(['push', '-o', 'solum.skip-build', client.url(app), 'HEAD:refs/heads/big'], src);
        t.is(seed.code, 0, seed.stderr);
      }
      const serving = async (): Promise<number[]> =>
        (await processesMentioning(repoPath)).filter((l) => l.includes('upload-pack')).map((l) => Number(l.split(':')[0]));
      const dest = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'solum-vanish-')), 'clone');
      // Its own process group: git, ssh or git-remote-http are stopped and killed together.
      const clone = spawn('git', ['clone', '-q', client.url(app), dest], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_SSH_COMMAND: identity.sshCommand },
        stdio: 'ignore',
        detached: true,
      });
      const group = clone.pid ?? 0;
      // Stopped once the pack is flowing: upload-pack is sending and index-pack has a part of it.
      const receiving = async (): Promise<boolean> =>
        (await fs.readdir(path.join(dest, '.git', 'objects', 'pack')).catch(() => [] as string[])).some((f) => f.startsWith('tmp_pack_')) && (await serving()).length > 0;
      let seen = false;
      for (let i = 0; i < 1000 && !seen; i++) {
        seen = await receiving();
        if (!seen) await new Promise((r) => setTimeout(r, 10));
      }
      t.true(seen, `${transport}: the pack was on its way`);
      process.kill(-group, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(-group, 'SIGKILL');
      let left: number[] = [];
      for (let i = 0; i < 100; i++) {
        left = await serving();
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      t.deepEqual(left, [], `${transport}: no upload-pack is left`);
    }
    let metrics = '';
    for (let i = 0; i < 50; i++) {
      metrics = (await solum.api('GET', '/metrics')).text;
      if (/^solum_ssh_sessions_active 0$/m.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.regex(metrics, /^solum_ssh_sessions_active 0$/m, 'the SSH session was accounted for');
    // And the server goes on serving.
    for (const client of clients) t.is((await client.git(['ls-remote', client.url(app)], src)).code, 0, client.transport);
  });

  // Attack: list or fetch Solum's own refs (refs/solum/*: pull-build sources) as someone who may
  // only read the app, by listing refs or asking for the ref by name, in protocol v0 and v2.
  test.serial(name("Solum's own refs are neither listed nor fetchable by name for a read-only collaborator or an anonymous reader (SSH, HTTP, v0, v2); writers see them"), async (t) => {
    const { solum, app } = await solumWithApp(t, 'hidden', { database });
    const alice = await createUser(solum, 'alice');
    const bob = await createUser(solum, 'bob');
    const carol = await createUser(solum, 'carol');
    const src = await makeRepo({ 'README.md': 'public part\n' });
    const seed = await run('git', ['push', '-o', 'solum.skip-build', urlFor(solum, 'http', app, alice), 'main'], { cwd: src, env: gitEnvFor(alice) });
    t.is(seed.code, 0, seed.stderr);
    t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/bob`, { role: 'read' }, alice.token)).status, 204);
    t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/carol`, { role: 'write' }, alice.token)).status, 204);
    t.is((await solum.api('PATCH', `/v1/apps/${app}`, { public: true }, alice.token)).status, 200);
    // What a pull build leaves: a commit reachable only from refs/solum/source/main.
    const repoPath = path.join(solum.dataDir, 'repos', `${app}.git`);
    const git = (args: string[]): Promise<string> => run('git', args, { cwd: repoPath }).then((r) => r.stdout.trim());
    const tree = await git(['rev-parse', 'main^{tree}']);
    const secret = await git(['-c', 'user.name=S', '-c', 'user.email=s@example.invalid', 'commit-tree', tree, '-p', 'main', '-m', 'pulled source']);
    t.regex(secret, /^[0-9a-f]{40}$/);
    await git(['update-ref', 'refs/solum/source/main', secret]);

    const readers: Array<[string, 'ssh' | 'http', TestUser | null]> = [
      ['bob (read)', 'ssh', bob],
      ['bob (read)', 'http', bob],
      ['anonymous', 'http', null],
    ];
    for (const [who, transport, user] of readers) {
      for (const version of [0, 2] as const) {
        const label = `${who} over ${transport}, v${version}`;
        const url = urlFor(solum, transport, app, user);
        const env = { ...gitEnvFor(user), GIT_TRACE_PACKET: '1' };
        // The app is public: over HTTP git asks anonymously first, so bob sends his token up front.
        const auth = transport === 'http' && user ? ['-c', `http.extraHeader=Authorization: Bearer ${user.token}`] : [];
        const ls = await run('git', [...auth, '-c', `protocol.version=${version}`, 'ls-remote', url], { env });
        t.is(ls.code, 0, `${label}: ${ls.stderr.slice(-500)}`);
        t.is(tracedProtocol(ls.stderr), version, label);
        t.regex(ls.stdout, /\trefs\/heads\/main$/m, `${label}: sees main`);
        t.notRegex(ls.stdout, /refs\/solum/, `${label}: no refs/solum in the listing`);
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-hidden-'));
        await run('git', ['init', '-q', dir]);
        const byName = await run('git', [...auth, '-c', `protocol.version=${version}`, 'fetch', url, 'refs/solum/source/main'], { cwd: dir, env: gitEnvFor(user) });
        t.not(byName.code, 0, `${label}: fetch by name`);
        t.regex(byName.stderr, /couldn't find remote ref refs\/solum\/source\/main/, label);
        if (version === 0) {
          // v0 also refuses the object itself: it is reachable from no ref this client may see.
          const bySha = await run('git', [...auth, '-c', 'protocol.version=0', 'fetch', url, secret], { cwd: dir, env: gitEnvFor(user) });
          t.not(bySha.code, 0, `${label}: fetch by id`);
        }
        t.not((await run('git', ['cat-file', '-e', secret], { cwd: dir })).code, 0, `${label}: nothing of it arrived`);
      }
    }
    // Anyone who may push sees and fetches them: the owner and a write collaborator. (git asks a
    // public app anonymously and sends credentials only when refused, so over HTTP the writer
    // sends them up front.)
    for (const [user, transport] of [[alice, 'ssh'], [carol, 'ssh'], [carol, 'http']] as const) {
      const url = urlFor(solum, transport, app, user);
      const auth = transport === 'http' ? ['-c', `http.extraHeader=Authorization: Bearer ${user.token}`] : [];
      const ls = await run('git', [...auth, 'ls-remote', url], { env: gitEnvFor(user) });
      t.regex(ls.stdout, new RegExp(`^${secret}\\trefs/solum/source/main$`, 'm'), `${user.name} over ${transport}`);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-hidden-'));
      await run('git', ['init', '-q', dir]);
      const fetched = await run('git', [...auth, 'fetch', url, 'refs/solum/source/main'], { cwd: dir, env: gitEnvFor(user) });
      t.is(fetched.code, 0, fetched.stderr);
      t.is((await run('git', ['cat-file', '-t', secret], { cwd: dir })).stdout.trim(), 'commit');
    }
  });

  // Attack: a pull-build source serving malformed objects, hoping they land next to the pushed ones.
  test.serial(name('a pull build refuses a source with a malformed object and stores nothing of it; a sound source builds'), async (t) => {
    const { solum, app } = await solumWithApp(t, 'fsck', { database });
    const src = await makeRepo({ 'build.sh': 'echo sound source\n' });
    const sound = (await run('git', ['rev-parse', 'HEAD'], { cwd: src })).stdout.trim();
    const tree = (await run('git', ['rev-parse', 'HEAD^{tree}'], { cwd: src })).stdout.trim();
    // A commit whose author has no closing '>': git's fsck calls it badEmail.
    const bad = `tree ${tree}\nparent ${sound}\nauthor Mallory <mallory@example.invalid 1700000000 +0000\ncommitter Mallory <mallory@example.invalid> 1700000000 +0000\n\nmalformed\n`;
    const hashed = await run('git', ['hash-object', '--literally', '-t', 'commit', '-w', '--stdin'], { cwd: src, input: bad });
    const malformed = hashed.stdout.trim();
    t.regex(malformed, /^[0-9a-f]{40}$/, hashed.stderr);
    await run('git', ['update-ref', 'refs/heads/main', malformed], { cwd: src });

    t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
    t.is((await solum.api('PUT', `/v1/apps/${app}/source`, { url: `file://${src}`, ref: 'main' })).status, 200);
    const refused = await solum.api('POST', `/v1/apps/${app}/builds`, {});
    t.is(refused.status, 400, refused.text);
    t.regex(refused.text, /does not pass git's checks \(badEmail/);
    const repoPath = path.join(solum.dataDir, 'repos', `${app}.git`);
    t.not((await run('git', ['rev-parse', '--verify', '--quiet', 'refs/solum/source/main'], { cwd: repoPath })).code, 0, 'no ref');
    t.not((await run('git', ['cat-file', '-e', malformed], { cwd: repoPath })).code, 0, 'no object');
    t.deepEqual((await solum.api('GET', `/v1/apps/${app}/builds`)).json, []);

    await run('git', ['update-ref', 'refs/heads/main', sound], { cwd: src });
    const built = await solum.api('POST', `/v1/apps/${app}/builds`, {});
    t.is(built.status, 201, built.text);
    t.like(built.json, { ref: 'refs/solum/source/main', commit: sound });
    t.like((await settled(solum, app))[0], { status: 'succeeded' });
  });

  test.serial(name('a pull-build fetch that hits its timeout is killed with all its git and ssh processes'), async (t) => {
    const { solum, app } = await solumWithApp(t, 'stall', { database, env: { SOLUM_FETCH_TIMEOUT_SECONDS: '1' } });
    t.teardown(() => removeAppImages(app));
    // A server on loopback that accepts and never answers: git waits for it forever.
    const held: net.Socket[] = [];
    const server = net.createServer((s) => { held.push(s); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      for (const s of held) s.destroy();
      server.close();
    });
    const port = (server.address() as net.AddressInfo).port;
    t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
    for (const url of [`http://127.0.0.1:${port}/stall.git`, `ssh://git@127.0.0.1:${port}/stall.git`]) {
      const connections = held.length;
      t.is((await solum.api('PUT', `/v1/apps/${app}/source`, { url, ref: 'main' })).status, 200);
      const started = Date.now();
      const r = await solum.api('POST', `/v1/apps/${app}/builds`, {});
      t.is(r.status, 400, r.text);
      t.regex(r.text, /took longer than 1s/);
      t.true(Date.now() - started < 15_000, 'the deadline held');
      t.true(held.length > connections, `${url}: the fetch reached the stalling server`);
      // SIGTERM, then SIGKILL after the grace period: give the kernel a moment to reap.
      let left: string[] = [];
      for (let i = 0; i < 50; i++) {
        // git and git-remote-http name the URL; ssh gets the port and the host apart.
        left = await processesMentioning(`127.0.0.1:${port}`, `${port} git@127.0.0.1`);
        if (left.length === 0) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      t.deepEqual(left, [], `${url}: no process of the fetch is left`);
    }
    t.deepEqual((await solum.api('GET', `/v1/apps/${app}/builds`)).json, []);
  });
}
