// Deterministic benchmark repositories: text history with deltas, incompressible blobs and many refs, cached on disk.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { mustRun } from './lib.js';

export interface PayloadSpec {
  readonly name: string;
  /** Commits editing a few lines of one of the text files each (fast-import deltas them). */
  readonly commits: number;
  /** Every `blobEvery`-th commit also writes a fresh incompressible blob of `blobKiB` KiB. */
  readonly blobEvery: number;
  readonly blobKiB: number;
  /** Branches and tags pointing into the history (besides the tip branch). */
  readonly branches: number;
  readonly tags: number;
}

export interface Payload {
  readonly spec: PayloadSpec;
  readonly dir: string;
  readonly packMiB: number;
  readonly objects: number;
  readonly refs: number;
}

/** The branch every payload's history is on: never `main`, so pushing it to Solum starts no build. */
export const TIP_BRANCH = 'bench';

export const PAYLOADS: Readonly<Record<'small' | 'large', PayloadSpec>> = {
  // Close to a mid-sized project (the issue measured expressjs/express: 10.5 MiB pack, 323 refs).
  small: { name: 'small', commits: 3000, blobEvery: 150, blobKiB: 384, branches: 120, tags: 200 },
  // Close to git/git (304 MiB pack, 1007 refs), with more incompressible bytes and fewer deltas.
  large: { name: 'large', commits: 4800, blobEvery: 8, blobKiB: 512, branches: 400, tags: 600 },
};

const FILES = 8;
const LINES = 200;

/** A seekless, deterministic pseudo-random byte stream (AES-128-CTR over zeros with a fixed key). */
function randomStream(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (n) => cipher.update(Buffer.alloc(n));
}

/** Writes the fast-import stream of `spec` to `out`, waiting for the pipe when it is full. */
async function writeHistory(spec: PayloadSpec, out: NodeJS.WritableStream): Promise<void> {
  const write = (chunk: string | Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (out.write(chunk)) resolve();
      else out.once('drain', resolve);
    });
  const random = randomStream(`solum-bench-${spec.name}`);
  const files = Array.from({ length: FILES }, (_, f) =>
    Array.from({ length: LINES }, (_, l) => `file ${f} line ${String(l).padStart(3, '0')}: the quick brown fox jumps over the lazy dog`),
  );
  const t0 = 1_700_000_000;
  for (let i = 1; i <= spec.commits; i++) {
    const touched = i === 1 ? files.map((_, f) => f) : [i % FILES];
    for (const f of touched) {
      const lines = files[f] ?? [];
      if (i > 1) for (let k = 0; k < 3; k++) lines[(i * 7 + k * 61) % LINES] = `file ${f} line changed by commit ${i}.${k}: ${((i * 2654435761) >>> 0).toString(16)}`;
    }
    const msg = `commit ${i}: edit file-${touched[0] ?? 0}.txt\n`;
    await write(`commit refs/heads/${TIP_BRANCH}\nmark :${i}\ncommitter Bench <bench@example.invalid> ${t0 + i * 60} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`);
    for (const f of touched) {
      const content = `${(files[f] ?? []).join('\n')}\n`;
      await write(`M 100644 inline src/file-${f}.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`);
    }
    if (i % spec.blobEvery === 0) {
      // Twenty paths rewritten in turn: a small tree, a history full of incompressible blobs.
      const blob = random(spec.blobKiB * 1024);
      await write(`M 100644 inline assets/blob-${(i / spec.blobEvery) % 20}.bin\ndata ${blob.length}\n`);
      await write(blob);
      await write('\n');
    }
    await write('\n');
  }
  for (let b = 1; b <= spec.branches; b++) {
    await write(`reset refs/heads/topic/${String(b).padStart(4, '0')}\nfrom :${Math.max(1, Math.floor((b * spec.commits) / (spec.branches + 1)))}\n\n`);
  }
  for (let t = 1; t <= spec.tags; t++) {
    const mark = Math.max(1, Math.floor((t * spec.commits) / (spec.tags + 1)));
    const name = `v${Math.floor(t / 100)}.${Math.floor(t / 10) % 10}.${t % 10}-${t}`;
    if (t % 2 === 0) {
      const msg = `release ${name}\n`;
      await write(`tag ${name}\nfrom :${mark}\ntagger Bench <bench@example.invalid> ${t0 + mark * 60} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`);
    } else {
      await write(`reset refs/tags/${name}\nfrom :${mark}\n\n`);
    }
  }
  await write('done\n');
}

async function describe(spec: PayloadSpec, dir: string): Promise<Payload> {
  const counts = new Map<string, string>();
  for (const line of (await mustRun('git', ['count-objects', '-v'], { cwd: dir })).stdout.split('\n')) {
    const [k, v] = line.split(': ');
    if (k && v) counts.set(k, v);
  }
  const refs = (await mustRun('git', ['for-each-ref', '--format=%(refname)'], { cwd: dir })).stdout.trim().split('\n').length;
  return { spec, dir, packMiB: Number(counts.get('size-pack') ?? 0) / 1024, objects: Number(counts.get('in-pack') ?? 0), refs };
}

/**
 * The payload's source repository, generated on first use and kept under the system's temp dir
 * (keyed by the spec, so a changed spec makes a new one). Returns how long generation took (0: reused).
 */
export async function ensurePayload(spec: PayloadSpec): Promise<{ payload: Payload; madeInSeconds: number }> {
  const key = createHash('sha256').update(JSON.stringify({ spec, FILES, LINES, v: 1 })).digest('hex').slice(0, 12);
  const root = path.join(os.tmpdir(), 'solum-bench-payloads');
  const dir = path.join(root, `${spec.name}-${key}`);
  try {
    await fs.access(path.join(dir, '.complete'));
    return { payload: await describe(spec, dir), madeInSeconds: 0 };
  } catch {
    // not made yet (or a half-made one from an interrupted run)
  }
  const t0 = Date.now();
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(root, { recursive: true });
  await mustRun('git', ['init', '-q', '--bare', `--initial-branch=${TIP_BRANCH}`, dir]);
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => { resolve(code ?? 1); });
  });
  await writeHistory(spec, child.stdin);
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import failed (${code}): ${stderr.trim()}`);
  // One pack, as a served repository would have after gc.
  await mustRun('git', ['repack', '-a', '-d', '-q'], { cwd: dir });
  await fs.writeFile(path.join(dir, '.complete'), '');
  return { payload: await describe(spec, dir), madeInSeconds: (Date.now() - t0) / 1000 };
}
