// Reading files out of tars whose content someone else decides (a tenant's /app, an uploaded image):
// only the entries asked for are kept, nothing larger than a per-file limit, and reading stops once
// the bytes read reach a total limit. Symlinks and other non-files are never followed or kept.
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

/** A path's metadata as the engine reports it, without reading it (cheap: no tar is made). */
export interface PathStat {
  readonly size: number;
  readonly mode: number;
  readonly mtime: string;
  /** Where a symlink points; '' for anything else. */
  readonly linkTarget: string;
}

/** A filesystem to read from: a stopped container or an image. */
export interface FileSource {
  /** undefined when there is no such path. */
  stat(path: string): Promise<PathStat | undefined>;
  readFiles(read: FileRead): Promise<FilesRead>;
}

/** What to read and how much of it at most. */
export interface FileRead {
  /** Paths inside the container or image, each read as one tar (absent ones are skipped). */
  readonly paths: readonly string[];
  /** Which regular files to keep, by their absolute path; everything else is read past. */
  keep(path: string): boolean;
  /** Tar bytes read over all paths before reading stops. */
  readonly maxBytes: number;
  /** Kept files larger than this are skipped. */
  readonly maxFileBytes: number;
}

export interface FilesRead {
  /** Absolute path → content. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** The paths whose reading stopped at `maxBytes` (what else is there is not known). */
  readonly truncated: readonly string[];
  /** Files skipped for being larger than `maxFileBytes`. */
  readonly tooLarge: readonly string[];
  readonly bytesRead: number;
}

/** How a tar of `dir` names its entries: Docker's archive API names them after the path's last part. */
const absoluteOf = (requested: string, entry: string): string => path.posix.join(path.posix.dirname(requested), entry.replace(/^\.?\//, ''));

/**
 * Collects the wanted files of one tar stream into `into`; resolves with whether the byte budget
 * ran out (the stream is destroyed then). `budget.left` is shared across the tars of one read.
 */
export function collectTar(stream: Readable, requested: string, read: FileRead, into: Map<string, Buffer>, tooLarge: string[], budget: { left: number }): Promise<boolean> {
  const extract = tar.extract();
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    let exhausted = false;
    const settle = (err: Error | undefined, value: boolean): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(value);
    };
    extract.on('entry', (header, body, next) => {
      const abs = absoluteOf(requested, header.name);
      const size = header.size;
      const wanted = header.type === 'file' && read.keep(abs);
      if (wanted && size > read.maxFileBytes) tooLarge.push(abs);
      if (!wanted || size > read.maxFileBytes) {
        body.on('end', next);
        body.resume();
        return;
      }
      const chunks: Buffer[] = [];
      body.on('data', (c: unknown) => chunks.push(c as Buffer));
      body.on('end', () => {
        into.set(abs, Buffer.concat(chunks));
        next();
      });
    });
    extract.on('finish', () => { settle(undefined, false); });
    // Once the budget is spent both sides are destroyed: their errors are that, not a failure.
    extract.on('error', (err) => { settle(exhausted ? undefined : err, true); });
    stream.on('error', (err) => { settle(exhausted ? undefined : err, true); });
    stream.on('data', (c: Buffer) => {
      budget.left -= c.length;
      if (budget.left < 0 && !exhausted) {
        exhausted = true;
        stream.destroy();
        extract.destroy();
        // The entries read in full so far are kept; the one cut short is not.
        settle(undefined, true);
      }
    });
    stream.pipe(extract);
  });
}

/** Reads `read.paths` in order through `open` (undefined: no such path), within the limits. */
export async function readFilesFrom(open: (path: string) => Promise<Readable | undefined>, read: FileRead): Promise<FilesRead> {
  const files = new Map<string, Buffer>();
  const truncated: string[] = [];
  const tooLarge: string[] = [];
  const budget = { left: read.maxBytes };
  for (const p of read.paths) {
    if (budget.left <= 0) {
      truncated.push(p);
      continue;
    }
    const stream = await open(p);
    if (!stream) continue;
    if (await collectTar(stream, p, read, files, tooLarge, budget)) truncated.push(p);
  }
  return { files, truncated, tooLarge, bytesRead: read.maxBytes - Math.max(budget.left, 0) };
}
