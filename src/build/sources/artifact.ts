// Uploaded artifacts (a tar or tar.gz of source or prebuilt binaries): checked entry by entry and
// rewritten as a clean tar for the builder. Anything that could escape the build tree is refused.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { AppError } from '../../errors.js';

export interface ArtifactLimits {
  /** Bytes of the upload as sent (compressed or not). */
  readonly maxBytes: number;
  /** Bytes it may unpack to: what gunzip produces, and the sum of its entries' sizes. */
  readonly maxUnpackedBytes: number;
  readonly maxEntries: number;
  readonly maxPathLength: number;
}

const refuse = (message: string): AppError => new AppError('bad_request', `artifact refused: ${message}`);

/** The entry's path inside the tree, or why it is refused. Pure. */
export function checkEntryPath(raw: string, maxPathLength: number): string {
  const name = raw.replace(/^\.\//, '').replace(/\/+$/, '');
  if (name.length > maxPathLength) throw refuse(`path longer than ${maxPathLength} characters: ${JSON.stringify(name.slice(0, 80))}…`);
  if (name.startsWith('/')) throw refuse(`absolute path ${JSON.stringify(name.slice(0, 200))}`);
  if (name.split('/').includes('..')) throw refuse(`path with '..': ${JSON.stringify(name.slice(0, 200))}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(name)) throw refuse(`path with control characters or backslashes: ${JSON.stringify(name.slice(0, 200))}`);
  return name;
}

/** Whether a link at `name` pointing to `target` stays inside the tree. Pure. */
export function linkStaysInside(name: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

/**
 * Reads a tar (gzip detected by its magic bytes) from `input`, refuses bad entries, and writes a
 * clean tar to `dest`. Returns the count, the size and the SHA-256 of what was uploaded.
 */
export async function normalizeArtifact(input: Readable, dest: string, limits: ArtifactLimits): Promise<{ entries: number; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) {
        cb(refuse(`larger than ${limits.maxBytes} bytes`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  // A small gzip can unpack to a great deal (2 MiB of gzip is 2 GiB of zeros): count what comes
  // out of gunzip, and what the entries say they hold, against their own limit.
  let unpacked = 0;
  const unpackedCounter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      unpacked += chunk.length;
      if (unpacked > limits.maxUnpackedBytes) {
        cb(refuse(`unpacks to more than ${limits.maxUnpackedBytes} bytes`));
        return;
      }
      cb(null, chunk);
    },
  });
  let entryBytes = 0;
  const seen = new Set<string>();
  let entries = 0;
  const pack = tar.pack();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    // Destroying the extractor destroys the entry stream with the same error: it is reported once, below.
    stream.on('error', () => undefined);
    try {
      if (++entries > limits.maxEntries) throw refuse(`more than ${limits.maxEntries} entries`);
      entryBytes += header.size;
      if (entryBytes > limits.maxUnpackedBytes) throw refuse(`its entries hold more than ${limits.maxUnpackedBytes} bytes`);
      const name = checkEntryPath(header.name, limits.maxPathLength);
      if (name === '' || name === '.') {
        stream.resume();
        stream.on('end', next);
        return;
      }
      switch (header.type) {
        case 'file':
        case 'contiguous-file':
        case 'directory':
          break;
        case 'symlink':
          if (!header.linkname || !linkStaysInside(name, header.linkname)) throw refuse(`link ${JSON.stringify(name)} points outside the tree`);
          break;
        case 'link':
          if (!header.linkname || !seen.has(checkEntryPath(header.linkname, limits.maxPathLength))) throw refuse(`hard link ${JSON.stringify(name)} points outside the tree`);
          break;
        default:
          throw refuse(`${header.type} entry ${JSON.stringify(name)}: only files, directories and links are allowed`);
      }
      seen.add(name);
      const clean = { name, type: header.type === 'contiguous-file' ? 'file' : header.type, mode: header.mode & 0o777, mtime: header.mtime, size: header.size, linkname: header.linkname } as const;
      stream.pipe(pack.entry(clean, next));
    } catch (err) {
      stream.resume();
      extract.destroy(err as Error);
    }
  });
  extract.on('finish', () => {
    pack.finalize();
  });
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const out = createWriteStream(dest, { mode: 0o600 });
  const written = pipeline(pack, out);
  try {
    const head = await firstBytes(input, counter);
    await (head.gzip ? pipeline(head.stream, zlib.createGunzip(), unpackedCounter, extract) : pipeline(head.stream, unpackedCounter, extract));
    await written;
  } catch (err) {
    pack.destroy();
    await written.catch(() => undefined);
    await fs.rm(dest, { force: true });
    if (err instanceof AppError) throw err;
    throw refuse(`not a valid tar or tar.gz (${(err as Error).message})`);
  }
  if (entries === 0) {
    await fs.rm(dest, { force: true });
    throw refuse('empty archive');
  }
  return { entries, bytes, sha256: hash.digest('hex') };
}

/** The input through the byte counter, and whether it starts with gzip's magic number. */
async function firstBytes(input: Readable, counter: Transform): Promise<{ stream: Readable; gzip: boolean }> {
  const counted = input.pipe(counter);
  input.on('error', (err) => counted.destroy(err));
  const first: Buffer | null = await new Promise((resolve, reject) => {
    counted.once('readable', () => { resolve(counted.read(2) as Buffer | null); });
    counted.once('error', reject);
    counted.once('end', () => { resolve(null); });
  });
  if (first) counted.unshift(first);
  return { stream: counted, gzip: first?.[0] === 0x1f && first[1] === 0x8b };
}
