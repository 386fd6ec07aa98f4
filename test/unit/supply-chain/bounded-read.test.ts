// Reading a tenant's files: only the entries asked for, never a file past the per-file limit, and no
// byte past the total limit; symlinks are not kept.
import { Readable } from 'node:stream';
import test from 'ava';
import tar from 'tar-stream';
import { readFilesFrom } from '../../../src/containers/bounded-read.js';
import { judgeAffected } from '../../../src/supply-chain/affected.js';

async function tarOf(entries: Array<{ name: string; content?: string; type?: 'file' | 'symlink'; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) }, e.content ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('only wanted regular files are kept, named by absolute path; large files are skipped; symlinks never kept', async (t) => {
  const dir = await tarOf([
    { name: 'node_modules/a/package.json', content: '{"name":"a"}' },
    { name: 'node_modules/a/index.js', content: 'x'.repeat(100) },
    { name: 'node_modules/b/package.json', content: 'y'.repeat(5000) },
    { name: 'node_modules/c/package.json', type: 'symlink', linkname: '/etc/shadow' },
  ]);
  const r = await readFilesFrom((p) => Promise.resolve(p === '/app/node_modules' ? Readable.from([dir]) : undefined), {
    paths: ['/app/node_modules', '/nowhere'],
    keep: (p) => p.endsWith('/package.json'),
    maxBytes: 1 << 20,
    maxFileBytes: 1000,
  });
  t.deepEqual([...r.files.keys()], ['/app/node_modules/a/package.json']);
  t.deepEqual(r.tooLarge, ['/app/node_modules/b/package.json']);
  t.deepEqual(r.truncated, []);
});

test('reading stops at the byte limit, keeps what was read in full and says where it stopped', async (t) => {
  const big = await tarOf([{ name: 'd/first', content: 'a' }, ...Array.from({ length: 50 }, (_, i) => ({ name: `d/f${i}`, content: 'z'.repeat(10_000) }))]);
  // A source that would go on for ever unless the reader stops it.
  let at = 0;
  const endless = new Readable({
    read() {
      this.push(big.subarray(at % big.length, (at % big.length) + 4096));
      at += 4096;
    },
  });
  const r = await readFilesFrom((p) => Promise.resolve(p === '/d' ? endless : p === '/e' ? Readable.from([big]) : undefined), {
    paths: ['/d', '/e'],
    keep: () => true,
    maxBytes: 64 * 1024,
    maxFileBytes: 1 << 20,
  });
  t.true(r.files.has('/d/first'));
  t.true(r.files.size < 10);
  t.deepEqual(r.truncated, ['/d', '/e'], 'the budget is shared: nothing more is read after it ran out');
  t.true(endless.destroyed);
  t.true(r.bytesRead <= 64 * 1024);
});

test('security:affected verdicts: registered images and Dockerfiles are the owner\'s, pinned versions too, OS packages wait for their pack image', (t) => {
  const build = { source: 'push', languagePack: 'node' };
  const pack = { kind: 'builder' as const, name: 'node' };
  t.like(judgeAffected({ source: 'image', languagePack: null }, { ecosystem: 'deb', version: '1', pinnedBy: null }, pack, false), { action: 'owner' });
  t.like(judgeAffected(build, { ecosystem: 'deb', version: '1', pinnedBy: null }, { kind: 'dockerfile', name: 'dockerfile' }, false), { action: 'owner' });
  t.like(judgeAffected(build, { ecosystem: 'npm', version: '1.0.0', pinnedBy: 'package-lock.json' }, pack, undefined), { action: 'owner', reason: "pinned at 1.0.0 by the app's package-lock.json: its owner must update it" });
  t.like(judgeAffected(build, { ecosystem: 'npm', version: '1.0.0', pinnedBy: null }, pack, undefined), { action: 'rebuild' });
  t.like(judgeAffected(build, { ecosystem: 'deb', version: '1', pinnedBy: null }, pack, true), { action: 'update-pack' });
  t.like(judgeAffected(build, { ecosystem: 'deb', version: '1', pinnedBy: null }, pack, false), { action: 'rebuild' });
  t.like(judgeAffected(build, { ecosystem: 'runtime', version: '1', pinnedBy: null }, undefined, false), { action: 'owner' });
});
