// Uploaded artifacts: what they unpack to is bounded, not only what was sent.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import test from 'ava';
import tar from 'tar-stream';
import { normalizeArtifact } from '../../../../src/build/sources/artifact.js';

const limits = { maxBytes: 8 * 1024 * 1024, maxUnpackedBytes: 4 * 1024 * 1024, maxEntries: 100, maxPathLength: 200 };

async function tarOf(entries: Array<[string, number]>, trailingZeros = 0): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, size] of entries) pack.entry({ name, size }, Buffer.alloc(size, 'a'));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat([...chunks, Buffer.alloc(trailingZeros)]);
}

/** The bytes as a stream of 64 KiB chunks, as a socket would deliver them. */
const chunked = (b: Buffer): Readable => Readable.from((function* () { for (let i = 0; i < b.length; i += 65_536) yield b.subarray(i, i + 65_536); })());

const dest = async (): Promise<string> => path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'solum-art-')), 'out.tar');

test('a gzip whose stream unpacks past the limit is refused, and its output removed', async (t) => {
  const bomb = zlib.gzipSync(await tarOf([['a', 10]], 32 * 1024 * 1024));
  t.true(bomb.length < 100 * 1024);
  const out = await dest();
  await t.throwsAsync(normalizeArtifact(Readable.from([bomb]), out, limits), { message: /unpacks to more than 4194304 bytes/ });
  await t.throwsAsync(fs.stat(out));
});

test('an entry that says it is larger than the limit is refused at its header, even uncompressed', async (t) => {
  const big = await tarOf([['a', 6 * 1024 * 1024]]);
  await t.throwsAsync(normalizeArtifact(chunked(big), await dest(), { ...limits, maxUnpackedBytes: 5 * 1024 * 1024 }), { message: /entries hold more than 5242880 bytes/ });
  const wide = await tarOf([['a', 3 * 1024 * 1024], ['b', 3 * 1024 * 1024]]);
  await t.throwsAsync(normalizeArtifact(Readable.from([wide]), await dest(), { ...limits, maxUnpackedBytes: 5 * 1024 * 1024 }), { message: /more than 5242880 bytes/ });
});

test('an artifact within the limits is kept', async (t) => {
  const ok = zlib.gzipSync(await tarOf([['a', 1000], ['dir/b', 2000]]));
  const r = await normalizeArtifact(Readable.from([ok]), await dest(), limits);
  t.is(r.entries, 2);
});
