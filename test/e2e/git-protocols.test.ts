// Fetch protocols over both transports and both databases with the real git client: protocol v2
// (v1 and v0 still), blobless and treeless partial clones and their lazy fetches, shallow clones
// deepened, push options; and a second git implementation (dulwich) cloning and pushing.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import test from 'ava';
import { databaseKinds } from '../support/database.js';
import { dulwich, gitClient, makeRepo, missingObjects, remoteRefs, tracedProtocol, transports, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, randomName, run, startSolum } from '../support/solum.js';

/** A repo with four commits on main, each changing files in the root and in subdirectories. */
async function history(): Promise<{ repo: string; commits: string[] }> {
  const repo = await makeRepo({ 'README.md': 'version 1\n', 'src/app.txt': 'app v1\n', 'docs/guide.txt': 'guide v1\n' });
  const commits = [(await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim()];
  for (let i = 2; i <= 4; i++) {
    commits.push(await writeAndCommit(repo, { 'README.md': `version ${i}\n`, 'src/app.txt': `app v${i}\n`, [`src/new-${i}.txt`]: `new in ${i}\n` }, `v${i}`));
  }
  return { repo, commits };
}

const tempDir = (): Promise<string> => fs.mkdtemp(path.join(os.tmpdir(), 'solum-proto-'));

for (const database of databaseKinds) {
  for (const transport of transports) {
    test.serial(`protocol v2 and v1/v0, blobless and treeless clones with lazy fetches, shallow then deepened, push options [${transport}, ${database}]`, async (t) => {
      const solum = await startSolum({ database });
      t.teardown(() => solum.stop());
      const client = await gitClient(solum, transport);
      const name = randomName('proto');
      const { repo, commits } = await history();
      const tip = commits[3] ?? '';

      // Push options as before: skip the build, report unknown options.
      const push = await client.git(['push', '-o', 'solum.skip-build', '-o', 'color=blue', client.url(name), 'main'], repo);
      t.is(push.code, 0, push.stderr);
      t.regex(push.stderr, /Ignoring unknown push options: color=blue/);
      t.regex(push.stderr, /refs\/heads\/main: stored without a build \(solum\.skip-build\)/);
      t.deepEqual((await solum.api('GET', `/v1/apps/${name}/builds`)).json, []);

      // Each protocol version the client asks for is the one the server speaks.
      for (const version of [2, 1, 0] as const) {
        const r = await client.git(['-c', `protocol.version=${version}`, 'ls-remote', client.url(name)], repo, { GIT_TRACE_PACKET: '1' });
        t.is(r.code, 0, r.stderr);
        t.is(tracedProtocol(r.stderr), version, `protocol.version=${version}`);
        t.regex(r.stdout, new RegExp(`^${tip}\\trefs/heads/main$`, 'm'));
      }

      const base = await tempDir();
      for (const [i, filter] of ['blob:none', 'tree:0'].entries()) {
        const dir = path.join(base, filter.replace(':', '-'));
        const clone = await client.git(['-c', 'protocol.version=2', 'clone', '-q', `--filter=${filter}`, client.url(name), dir], base, { GIT_TRACE_PACKET: '1' });
        t.is(clone.code, 0, `${filter}: ${clone.stderr.slice(-2000)}`);
        t.is(tracedProtocol(clone.stderr), 2, filter);
        t.regex(clone.stderr, new RegExp(`[\\w-]+> filter ${filter}$`, 'm'), `${filter}: the filter went to the server`);
        const before = await missingObjects(dir);
        t.true(before > 0, `${filter}: the clone left objects on the server`);
        const status = await client.git(['status', '--porcelain'], dir);
        t.is(status.code, 0, status.stderr);
        t.is(status.stdout, '', `${filter}: the checkout is complete and clean`);
        // Every commit's diff needs objects the clone does not have: each is fetched on demand.
        const log = await client.git(['log', '-p', '--format=commit %H'], dir);
        t.is(log.code, 0, `${filter}: ${log.stderr.slice(-2000)}`);
        t.is(log.stdout.match(/^commit [0-9a-f]{40}$/gm)?.length, 4 + i, filter);
        t.regex(log.stdout, /^-app v1$/m, `${filter}: the first version's blob arrived`);
        t.regex(log.stdout, /^\+guide v1$/m);
        t.true((await missingObjects(dir)) < before, `${filter}: the lazy fetches brought objects`);
        // And a partial clone pushes like any other.
        await writeAndCommit(dir, { [`from-${filter.replace(':', '-')}.txt`]: 'pushed from a partial clone\n' }, `from ${filter}`);
        const back = await client.git(['push', '-o', 'solum.skip-build', client.url(name), 'HEAD:main'], dir);
        t.is(back.code, 0, back.stderr);
      }

      // Shallow, then deepened by one, then all of it.
      const shallow = path.join(base, 'shallow');
      const sClone = await client.git(['clone', '-q', '--depth', '1', client.url(name), shallow], base);
      t.is(sClone.code, 0, sClone.stderr);
      const count = async (): Promise<string> => (await run('git', ['rev-list', '--count', 'HEAD'], { cwd: shallow })).stdout.trim();
      t.is(await count(), '1');
      t.true(existsSync(path.join(shallow, '.git', 'shallow')));
      const deepen = await client.git(['fetch', '-q', '--deepen', '1'], shallow);
      t.is(deepen.code, 0, deepen.stderr);
      t.is(await count(), '2');
      const unshallow = await client.git(['fetch', '-q', '--unshallow'], shallow);
      t.is(unshallow.code, 0, unshallow.stderr);
      t.is(await count(), '6', 'four commits pushed first, one from each partial clone');
      t.false(existsSync(path.join(shallow, '.git', 'shallow')));

      // A protocol v0 clone still works and sees the same history.
      const v0 = path.join(base, 'v0');
      const v0Clone = await client.git(['-c', 'protocol.version=0', 'clone', '-q', client.url(name), v0], base, { GIT_TRACE_PACKET: '1' });
      t.is(v0Clone.code, 0, v0Clone.stderr.slice(-2000));
      t.is(tracedProtocol(v0Clone.stderr), 0);
      t.is((await run('git', ['rev-list', '--count', 'HEAD'], { cwd: v0 })).stdout.trim(), '6');
      t.is((await run('git', ['fsck', '--no-progress'], { cwd: v0 })).code, 0);
    });

    test.serial(`dulwich (a second git implementation) clones and pushes [${transport}, ${database}]`, async (t) => {
      const solum = await startSolum({ database });
      t.teardown(() => solum.stop());
      const identity = await makeSshIdentity();
      const client = await gitClient(solum, transport, identity);
      const name = randomName('dulwich');
      const { repo, commits } = await history();
      const seed = await client.git(['push', '-o', 'solum.skip-build', client.url(name), 'main'], repo);
      t.is(seed.code, 0, seed.stderr);

      const env = { GIT_SSH_COMMAND: identity.sshCommand, HOME: os.tmpdir() };
      const dir = path.join(await tempDir(), 'clone');
      const clone = await dulwich('clone', [client.url(name), dir], env);
      t.is(clone.code, 0, clone.stderr);
      t.is((await run('git', ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim(), commits[3] ?? '');
      t.is(await fs.readFile(path.join(dir, 'src', 'app.txt'), 'utf8'), 'app v4\n');

      const commit = await dulwich('commit', [dir, 'dulwich.txt', 'from dulwich\n'], env);
      t.is(commit.code, 0, commit.stderr);
      const sha = commit.stdout.trim();
      t.regex(sha, /^[0-9a-f]{40}$/);
      const push = await dulwich('push', [dir, client.url(name), 'refs/heads/main:refs/heads/dulwich'], env);
      t.is(push.code, 0, push.stderr);
      t.regex(push.stderr, /refs\/heads\/dulwich: stored without a build/, 'the pre-receive hook ran');

      // What dulwich pushed is there for the real git, whole.
      t.is((await remoteRefs(client, name, repo)).get('refs/heads/dulwich'), sha);
      const fetched = await client.git(['fetch', '-q', client.url(name), 'dulwich'], repo);
      t.is(fetched.code, 0, fetched.stderr);
      t.is((await run('git', ['show', 'FETCH_HEAD:dulwich.txt'], { cwd: repo })).stdout, 'from dulwich\n');
      t.is((await run('git', ['fsck', '--no-progress'], { cwd: repo })).code, 0);
    });
  }
}

const pkt = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

for (const database of databaseKinds) {
  // Attack: upload-pack requests Solum now parses itself: compressed bodies that are not gzip,
  // broken gzip, the wrong content type, a body past the size git is handed whole. Refused,
  // failed or streamed cleanly; the server keeps serving.
  test.serial(`malformed upload-pack requests (broken gzip, another encoding, a wrong content type) neither crash nor hang the server; git's gzip requests are inflated; a request past the hand-over limit streams [http, ${database}]`, async (t) => {
    const solum = await startSolum({ database });
    t.teardown(() => solum.stop());
    const client = await gitClient(solum, 'http');
    const name = randomName('gzip');
    const { repo, commits } = await history();
    // Enough tags that a mirror clone's want list passes 1 KiB, which git sends gzip-compressed.
    for (let i = 0; i < 60; i++) await run('git', ['tag', `t${String(i).padStart(3, '0')}`, commits[i % 4] ?? 'HEAD'], { cwd: repo });
    t.is((await client.git(['push', '-o', 'solum.skip-build', client.url(name), 'main', '--tags'], repo)).code, 0);
    const mirror = path.join(await tempDir(), 'mirror.git');
    const clone = await client.git(['clone', '-q', '--mirror', client.url(name), mirror], repo, { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' });
    t.is(clone.code, 0, clone.stderr.slice(-2000));
    t.regex(clone.stderr, /=> Send header: Content-Encoding: gzip/, 'git compressed its request');
    t.is((await run('git', ['for-each-ref', '--format=%(refname)'], { cwd: mirror })).stdout.trim().split('\n').length, 61);

    const url = `http://127.0.0.1:${solum.httpPort}/${name}.git/git-upload-pack`;
    const headers = { authorization: `Bearer ${solum.token}`, 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' };
    const lsRefs = `${pkt('command=ls-refs\n')}0001${pkt('peel\n')}0000`;
    const gz = await fetch(url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: zlib.gzipSync(lsRefs) });
    t.is(gz.status, 200);
    // Read whole, the request is answered by git on the connection itself (decision 0021).
    t.is(gz.headers.get('connection'), 'close');
    t.regex(await gz.text(), new RegExp(`${commits[3] ?? ''} refs/heads/main`));
    // A request past the hand-over limit (10 MiB: a long negotiation) streams through Solum instead.
    const prefixes = Array.from({ length: 180_000 }, (_, i) => pkt(`ref-prefix refs/heads/${String(i).padStart(40, 'x')}\n`)).join('');
    const big = Buffer.from(`${pkt('command=ls-refs\n')}0001${pkt('ref-prefix refs/heads/\n')}${prefixes}0000`);
    t.true(big.length > 10 * 1024 * 1024);
    const streamed = await fetch(url, { method: 'POST', headers, body: big });
    t.is(streamed.status, 200);
    t.is(streamed.headers.get('transfer-encoding'), 'chunked');
    t.regex(await streamed.text(), new RegExp(`${commits[3] ?? ''} refs/heads/main`));
    const br = await fetch(url, { method: 'POST', headers: { ...headers, 'content-encoding': 'br' }, body: lsRefs });
    t.is(br.status, 400);
    t.regex(await br.text(), /unsupported Content-Encoding/);
    const type = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: lsRefs });
    t.is(type.status, 400);
    const broken = await fetch(url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all, just bytes') });
    t.notRegex(await broken.text(), /refs\/heads\/main/, 'nothing answered from a body that did not inflate');
    const after = await client.git(['ls-remote', client.url(name)], repo);
    t.is(after.code, 0, after.stderr);
    t.regex(after.stdout, /refs\/heads\/main/);
  });
}
