// The git transports' pure parts and their process plumbing, with real git and a real disk: the
// Git-Protocol value, what readers may see, fetch failures, merging writes, the git helper
// process, deadlines that end process groups, and the quarantine sweep.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { fetchFailure } from '../../src/build/sources/pull-builds.js';
import { coalesce } from '../../src/git/coalesce.js';
import { acceptedGitProtocol, fetchConfigFor, protocolVersionOf } from '../../src/git/git-access.js';
import { gitEnv, runGit, startGit, startGitWritingTo } from '../../src/git/git-process.js';
import { createRepoStore } from '../../src/git/repo-store.js';
import type { AppName } from '../../src/names.js';

test('Git-Protocol: only version=0..2 with simple extra keys reaches git; the highest version named counts', (t) => {
  t.is(acceptedGitProtocol('version=2'), 'version=2');
  t.is(acceptedGitProtocol('version=1:object-format=sha1'), 'version=1:object-format=sha1');
  for (const bad of [undefined, '', 'version=3', 'version=2;rm -rf', 'version=2\nX: y', 'foo=bar', `version=2:${'a'.repeat(300)}`]) t.is(acceptedGitProtocol(bad), undefined, String(bad));
  t.is(protocolVersionOf(undefined), 0);
  t.is(protocolVersionOf('version=1'), 1);
  t.is(protocolVersionOf('version=2'), 2);
  t.is(protocolVersionOf('version=1:version=2'), 2);
  t.is(protocolVersionOf('version=2:version=1'), 2);
});

test('refs/solum is hidden from readers and anonymous readers, shown to writers and admins', (t) => {
  const hidden = ['-c', 'uploadpack.hideRefs=refs/solum/'];
  t.deepEqual(fetchConfigFor(null), hidden);
  t.deepEqual(fetchConfigFor('read'), hidden);
  t.deepEqual(fetchConfigFor('write'), []);
  t.deepEqual(fetchConfigFor('admin'), []);
});

test("a failed fetch reports git's fsck finding when there is one, else git's last line", (t) => {
  const fsck = 'error: object 0b4449327bcef17c7cf5f1b7b65866f8c64ead27: badEmail: invalid author/committer line - bad email\nfatal: fsck error in packed object\nfatal: index-pack failed\n';
  t.is(fetchFailure(fsck), "an object does not pass git's checks (badEmail: invalid author/committer line - bad email)");
  t.is(fetchFailure("fatal: couldn't find remote ref refs/heads/nope\n"), "fatal: couldn't find remote ref refs/heads/nope");
});

test('coalesce merges small writes up to its size, passes the rest on after its delay, loses and reorders nothing', async (t) => {
  const pieces = Array.from({ length: 500 }, (_, i) => randomBytes(1 + ((i * 37) % 300)));
  const out: Buffer[] = [];
  const merged = Readable.from(pieces).pipe(coalesce({ maxBytes: 4096, maxDelayMs: 1 }));
  for await (const c of merged) out.push(c as Buffer);
  t.deepEqual(Buffer.concat(out), Buffer.concat(pieces));
  t.true(out.length < pieces.length / 10, `${out.length} writes for ${pieces.length}`);
  t.true(out.slice(0, -1).every((c) => c.length >= 4096));

  // A lone small write (a negotiation reply) is not held back for more.
  const stream = coalesce({ maxBytes: 65536, maxDelayMs: 5 });
  const first = new Promise<Buffer>((resolve) => stream.once('data', resolve));
  stream.write(Buffer.from('0008NAK\n'));
  t.is((await first).toString(), '0008NAK\n');
  stream.end();
});

test('git started from the helper process gets its stdin, answers on stdout and stderr, and reports its exit', async (t) => {
  const data = randomBytes(3 * 1024 * 1024);
  const child = await startGit(['hash-object', '--stdin'], { env: gitEnv({}) });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.resume();
  child.stdin.end(data);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0);
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'solum-unit-')), 'blob');
  await fs.writeFile(file, data);
  t.is(out.trim(), (await runGit(['hash-object', file])).stdout.trim());

  const failing = await runGit(['rev-parse', '--verify', 'no-such-ref'], { cwd: os.tmpdir() });
  t.not(failing.code, 0);
  t.regex(failing.stderr, /not a git repository|Needed a single revision/);
  // Many at once: every one of them ends.
  const many = await Promise.all(Array.from({ length: 16 }, () => runGit(['--version'])));
  t.true(many.every((r) => r.code === 0 && r.stdout.startsWith('git version')));
});

test('a git handed a TCP connection writes to the peer itself; Solum\'s end is closed and a server holding it still closes', async (t) => {
  const data = randomBytes(2 * 1024 * 1024);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const peer = net.connect(port, '127.0.0.1');
  const received = new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    peer.on('data', (c: Buffer) => chunks.push(c)).on('end', () => { resolve(Buffer.concat(chunks)); });
  });
  const socket = await accepted;
  // git cat-file --batch echoes each object it is asked for: the blob comes back whole.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-unit-'));
  await runGit(['init', '-q', '--bare', dir]);
  const file = path.join(dir, 'blob');
  await fs.writeFile(file, data);
  const oid = (await runGit(['hash-object', '-w', file], { cwd: dir })).stdout.trim();
  const child = await startGitWritingTo(['cat-file', '--batch'], { cwd: dir, env: gitEnv({}) }, socket);
  t.true(socket.destroyed, 'Solum keeps no handle on the connection');
  child.stderr.resume();
  child.stdin.end(`${oid}\n`);
  t.is(await new Promise<number | null>((resolve) => child.on('close', resolve)), 0);
  const got = await received;
  t.is(got.subarray(0, got.indexOf(10)).toString(), `${oid} blob ${data.length}`);
  t.true(got.subarray(got.indexOf(10) + 1, got.indexOf(10) + 1 + data.length).equals(data));
  // The server counts the connection as gone: close() completes.
  await new Promise<void>((resolve, reject) => server.close((err) => { if (err) reject(err); else resolve(); }));
});

test('a git run past its deadline is killed with the whole process group it started', async (t) => {
  const marker = `solum-unit-sleep-${randomBytes(4).toString('hex')}`;
  // An alias runs through a shell: git -> sh -> sleep, the shape of git -> ssh or git-remote-https.
  const started = Date.now();
  const r = await runGit(['-c', `alias.stall=!sleep 30 ${marker} || sleep 30`, 'stall'], { timeoutMs: 300 });
  t.true(r.timedOut);
  t.true(Date.now() - started < 5000);
  let left = 1;
  for (let i = 0; i < 30 && left > 0; i++) {
    left = 0;
    for (const pid of await fs.readdir('/proc')) {
      if (/^\d+$/.test(pid) && (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(marker)) left++;
    }
    if (left > 0) await new Promise((res) => setTimeout(res, 100));
  }
  t.is(left, 0, 'no process of the run is left');
  t.false((await runGit(['--version'], { timeoutMs: 10_000 })).timedOut);
});

test('the quarantine sweep removes only quarantines untouched for longer than the limit, in app repos only', async (t) => {
  const reposDir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-repos-'));
  const now = Date.now();
  const repos = createRepoStore({ reposDir, hookScript: '#!/bin/sh\nexit 0\n', now: () => now });
  const repo = await repos.ensure('sweep' as AppName, 'main');
  const objects = path.join(repo, 'objects');
  const make = async (name: string, ageMs: number, touchedChildMs?: number): Promise<void> => {
    const dir = path.join(objects, name);
    await fs.mkdir(path.join(dir, 'pack'), { recursive: true });
    const file = path.join(dir, 'pack', 'tmp_pack_x');
    await fs.writeFile(file, 'x');
    const old = new Date(now - ageMs);
    await fs.utimes(file, old, old);
    await fs.utimes(path.join(dir, 'pack'), old, old);
    await fs.utimes(dir, old, old);
    if (touchedChildMs !== undefined) await fs.utimes(file, new Date(now - touchedChildMs), new Date(now - touchedChildMs));
  };
  await make('tmp_objdir-incoming-stale', 10 * 3600_000);
  await make('tmp_objdir-incoming-fresh', 60_000);
  // An old directory whose pack is still growing: a push receiving a big pack for hours.
  await make('tmp_objdir-incoming-growing', 10 * 3600_000, 1000);
  await make('not-a-quarantine', 10 * 3600_000);
  // Something looking like one in a directory that is not an app repo stays too.
  await fs.mkdir(path.join(reposDir, '.deleted-x', 'objects', 'tmp_objdir-incoming-z'), { recursive: true });
  t.is(await repos.removeStaleQuarantines(5 * 3600_000), 1);
  t.deepEqual((await fs.readdir(objects)).filter((e) => e.startsWith('tmp_') || e === 'not-a-quarantine').sort(), ['not-a-quarantine', 'tmp_objdir-incoming-fresh', 'tmp_objdir-incoming-growing']);
  t.is(await repos.removeStaleQuarantines(5 * 3600_000), 0);
});
