// Small tar transformations for putting files into builders. Pure stream code (tar-stream).
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/**
 * The entries of `input` whose names start with `from` (a directory name, or '' for all), renamed to
 * start with `to` instead; directories for `to` itself come first so Docker creates them with mode 0755.
 */
export async function retar(input: Buffer | Readable, from: string, to: string): Promise<Buffer> {
  const pack = tar.pack();
  const extract = tar.extract();
  const parts = to.split('/').filter((x) => x !== '');
  for (let i = 1; i <= parts.length; i++) pack.entry({ name: `${parts.slice(0, i).join('/')}/`, type: 'directory', mode: 0o755 });
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const packed = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const prefix = from === '' ? '' : `${from.replace(/\/$/, '')}/`;
  const base = to.replace(/\/$/, '');
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    const rest = prefix === '' ? name : name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (rest === '') {
      // Outside `from`, or `from` itself (its directory is made above).
      stream.on('end', next);
      stream.resume();
      return;
    }
    stream.pipe(pack.entry({ ...header, name: `${base}/${rest}` }, next));
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  (Buffer.isBuffer(input) ? Readable.from([input]) : input).pipe(extract);
  await done;
  pack.finalize();
  await packed;
  return Buffer.concat(chunks);
}

/** A tar of files (path → content and mode); a name ending in / is a directory. */
export async function tarOf(files: ReadonlyArray<{ name: string; content: string | Buffer; mode?: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const f of files) {
    if (f.name.endsWith('/')) pack.entry({ name: f.name, type: 'directory', mode: f.mode ?? 0o755, mtime: new Date() });
    else pack.entry({ name: f.name, mode: f.mode ?? 0o644, mtime: new Date() }, f.content);
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** The content of the first regular file in a tar (what Docker answers for one file's path). */
export async function fileFromTar(input: Buffer): Promise<string | undefined> {
  const extract = tar.extract();
  let found: string | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
    stream.on('end', () => {
      if (found === undefined && header.type === 'file') found = Buffer.concat(chunks).toString('utf8');
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([input]).pipe(extract);
  await done;
  return found;
}
