// Backups and restores of postgres instances, streamed through `docker exec` of pg_dump / pg_restore.
import { PassThrough, type Readable } from 'node:stream';
import type { Containers } from '../containers/containers.js';
import type { ServiceInstance } from '../db/service-store.js';
import { AppError, badRequest } from '../errors.js';
import { collect } from './service-instances.js';
import { PG_USER } from './service-kinds.js';

const pgArgs = (i: ServiceInstance): string[] => ['-h', '127.0.0.1', '-p', String(i.port), '-U', PG_USER];
const pgEnv = (i: ServiceInstance): string[] => [`PGPASSWORD=${i.password}`];
const lastLines = (text: string): string => text.trim().split('\n').slice(-4).join(' / ').slice(0, 600);

/** A `pg_dump -Fc` of the instance, streamed; an error mid-way destroys the stream. */
export async function backupPostgres(containers: Containers, i: ServiceInstance, containerId: string): Promise<Readable> {
  const p = await containers.exec(containerId, { cmd: ['pg_dump', '-Fc', ...pgArgs(i), '-d', i.name], env: pgEnv(i) });
  const out = new PassThrough();
  // Wait for the first bytes (or the end): a dump that fails at once is an error, not an empty 200.
  const first = await new Promise<Buffer | null>((resolve) => {
    const onData = (c: Buffer): void => { p.stdout.pause(); cleanup(); resolve(c); };
    const onEnd = (): void => { cleanup(); resolve(null); };
    const cleanup = (): void => { p.stdout.off('data', onData); p.stdout.off('end', onEnd); };
    p.stdout.on('data', onData);
    p.stdout.on('end', onEnd);
  });
  if (first === null) {
    const r = await p.done;
    if (r.exitCode !== 0) throw new AppError('conflict', `pg_dump failed: ${lastLines(r.stderr)}`);
    out.end();
    return out;
  }
  out.write(first);
  p.stdout.pipe(out, { end: false });
  out.on('close', () => { p.stdout.destroy(); });
  const ended = new Promise<void>((resolve) => { p.stdout.once('end', resolve); });
  void Promise.all([p.done, ended]).then(
    ([r]) => {
      if (r.exitCode === 0) out.end();
      else out.destroy(new AppError('conflict', `pg_dump failed: ${lastLines(r.stderr)}`));
    },
    (err: unknown) => { out.destroy(new AppError('internal', 'pg_dump failed', { cause: err })); },
  );
  return out;
}

/** Replaces the instance's database with a `pg_dump -Fc` archive, all or nothing. */
export async function restorePostgres(containers: Containers, i: ServiceInstance, containerId: string, dump: Readable): Promise<void> {
  const p = await containers.exec(containerId, {
    cmd: ['pg_restore', '--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', ...pgArgs(i), '-d', i.name],
    env: pgEnv(i),
    stdin: dump,
  });
  const r = await collect(p);
  if (r.exitCode !== 0) throw badRequest(`restore failed, the database is unchanged: ${lastLines(r.stderr) || `pg_restore exited with ${r.exitCode}`}`);
}
