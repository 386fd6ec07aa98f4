// How a `solum worker` gets a claimed build's source archive: from the archives dir when it shares
// the server's disk, else streamed from the server over HTTP with the worker token.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Build } from '../../db/build-store.js';

export interface ArchiveCopy {
  readonly path: string;
  /** Removes this worker's copy (and the shared file, which the build no longer needs). */
  done(): Promise<void>;
}

export function remoteArchives(o: {
  /** The server's base URL (SOLUM_SERVER_URL); undefined when only the shared disk is used. */
  readonly serverUrl: string | undefined;
  readonly token: string | undefined;
  readonly workerId: string;
  readonly archivesDir: string;
  readonly timeoutMs: number;
}): (build: Build) => Promise<ArchiveCopy> {
  return async (build) => {
    const shared = path.join(o.archivesDir, path.basename(build.archive ?? ''));
    if (await fs.stat(shared).then((s) => s.isFile(), () => false)) return { path: shared, done: () => fs.rm(shared, { force: true }) };
    if (!o.serverUrl || !o.token) throw new Error(`the archive is not in ${o.archivesDir} and SOLUM_SERVER_URL / SOLUM_WORKER_TOKEN are not set`);
    const res = await fetch(`${o.serverUrl}/internal/builds/${build.id}/archive`, {
      headers: { authorization: `Bearer ${o.token}`, 'x-solum-worker': o.workerId },
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    if (!res.ok || !res.body) throw new Error(`${o.serverUrl} answered HTTP ${res.status}`);
    await fs.mkdir(o.archivesDir, { recursive: true, mode: 0o700 });
    const copy = path.join(o.archivesDir, `fetched-${randomUUID()}.tar`);
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(copy, { mode: 0o600 }));
    } catch (err) {
      await fs.rm(copy, { force: true });
      throw err;
    }
    return { path: copy, done: () => fs.rm(copy, { force: true }) };
  };
}
