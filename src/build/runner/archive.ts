// Source archives: a commit snapshotted as a tar file, inspected once, and streamed into the
// builder with Solum's .solum/ metadata appended.
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { startGit } from '../../git/git-process.js';

/** Writes `git archive` of `commit` to `dest`; `env` carries GIT_DIR and, in pre-receive, the quarantine. */
export async function snapshotCommit(opts: { commit: string; env: NodeJS.ProcessEnv; dest: string }): Promise<void> {
  await fs.mkdir(path.dirname(opts.dest), { recursive: true });
  // Started from the git helper process: forking Solum itself (PGlite's memory and all) in the
  // middle of a push costs tens of milliseconds.
  const child = await startGit(['archive', '--format=tar', opts.commit], { env: opts.env });
  child.stdin.end();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c.slice(0, 2000)));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => { resolve(code ?? 1); });
  });
  await pipeline(child.stdout, createWriteStream(opts.dest, { mode: 0o600 }));
  const code = await exited;
  if (code !== 0) {
    await fs.rm(opts.dest, { force: true });
    throw new Error(`git archive ${opts.commit} failed: ${stderr.trim()}`);
  }
}

export interface ArchiveSummary {
  /** Names of the entries at the root of the tree. */
  readonly rootNames: ReadonlySet<string>;
  /** The root Procfile's text, when there is one (at most 64 KiB). */
  readonly procfile: string | null;
  /** The root solum.yaml's text, when there is one (at most 64 KiB). */
  readonly manifest: string | null;
  /** The root Dockerfile's text, when there is one (at most 64 KiB). */
  readonly dockerfile: string | null;
  /** The root solum-pack.json's text (a language pack's own tree), when there is one. */
  readonly packManifest: string | null;
  /** The root app.json's text (Heroku's and Dokku's app manifest), when there is one. */
  readonly appJson: string | null;
}

const CAPTURED = new Set(['Procfile', 'solum.yaml', 'Dockerfile', 'solum-pack.json', 'app.json']);

const CAPTURE_LIMIT = 64 * 1024;

export async function inspectArchive(file: string): Promise<ArchiveSummary> {
  const rootNames = new Set<string>();
  const captured = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    const root = name.split('/')[0];
    if (root) rootNames.add(root);
    if (CAPTURED.has(name) && header.type === 'file' && header.size <= CAPTURE_LIMIT) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        captured.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    } else {
      stream.on('end', next);
      stream.resume();
    }
  });
  await pipeline(createReadStream(file), extract);
  return { rootNames, procfile: captured.get('Procfile') ?? null, manifest: captured.get('solum.yaml') ?? null, dockerfile: captured.get('Dockerfile') ?? null, packManifest: captured.get('solum-pack.json') ?? null, appJson: captured.get('app.json') ?? null };
}

/**
 * Writes the entries of `file` under `dir` (a directory inside the tree, no leading or trailing
 * slash) to `dest`, renamed to start at its root: a monorepo app's build sees only its own tree.
 * Resolves how many entries there were; none means the tree has no such directory.
 */
export async function extractSubtree(file: string, dir: string, dest: string): Promise<number> {
  const prefix = `${dir}/`;
  const pack = tar.pack();
  const extract = tar.extract();
  let count = 0;
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    if (!name.startsWith(prefix) || name === prefix) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    count++;
    stream.pipe(pack.entry({ ...header, name: name.slice(prefix.length) }, next));
  });
  extract.on('finish', () => { pack.finalize(); });
  await Promise.all([pipeline(createReadStream(file), extract), pipeline(pack, createWriteStream(dest, { mode: 0o600 }))]);
  return count;
}

/** The archive's entries followed by `extra` files (path → content), as one tar stream. */
export function archiveWithFiles(file: string, extra: ReadonlyMap<string, string>): Readable {
  const out = new PassThrough();
  const pack = tar.pack();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    if (header.name === '.solum' || header.name.startsWith('.solum/')) {
      // The pushed tree may not forge Solum's metadata.
      stream.on('end', next);
      stream.resume();
      return;
    }
    stream.pipe(pack.entry(header, next));
  });
  extract.on('finish', () => {
    for (const [name, content] of extra) pack.entry({ name, mode: 0o644, mtime: new Date() }, content);
    pack.finalize();
  });
  pipeline(createReadStream(file), extract).catch((err: unknown) => out.destroy(err as Error));
  pack.on('error', (err) => out.destroy(err));
  pack.pipe(out);
  return out;
}

