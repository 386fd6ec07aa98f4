// Queue figures: claim latency on PGlite and PostgreSQL with a deep queue, and builds per minute
// with one and two build slots in the server, and with one and two `solum worker` processes, same run.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAppStore } from '../src/db/app-store.js';
import { createBuildStore } from '../src/db/build-store.js';
import { createDatabase } from '../src/db/database.js';
import { createUserStore } from '../src/db/user-store.js';
import { parseAppName, parseUserName } from '../src/names.js';
import { createTestDatabase } from '../test/support/database.js';
import { removeAppImages } from '../test/support/docker.js';
import { gitClient, makeRepo } from '../test/support/git.js';
import { randomName, startSolum } from '../test/support/solum.js';
import { startWorker, type WorkerProcess } from '../test/support/workers.js';
import { loadNote, median, table } from './lib.js';

async function claimLatency(kind: 'pglite' | 'postgres'): Promise<{ median: number; p99: number }> {
  const t = await createTestDatabase(kind);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-bench-db-'));
  const db = await createDatabase({ url: t.url, dataDir: dir });
  try {
    await db.migrate();
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const builds = createBuildStore(db.knex);
    const owner = await users.createUser(parseUserName('bench'), true);
    if (owner === 'duplicate') throw new Error('duplicate');
    const appIds: number[] = [];
    for (let i = 0; i < 50; i++) appIds.push((await apps.createApp(parseAppName(`app-${i}`), owner.id)).app.id);
    // 500 queued builds over 50 apps; claim and finish them one by one.
    for (let i = 0; i < 500; i++) await builds.createBuild({ appId: appIds[i % 50]!, number: Math.floor(i / 50) + 1, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: `${i}.tar` });
    const times: number[] = [];
    for (;;) {
      const t0 = process.hrtime.bigint();
      const b = await builds.claim('bench');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!b) break;
      await builds.finish(b.id, 'bench', { status: 'succeeded', exitCode: 0, error: null, languagePack: null, languagePackImage: null, duId: null, duImage: null });
    }
    const sorted = [...times].sort((a, b) => a - b);
    return { median: median(times), p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
  } finally {
    await db.close();
    await t.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Six apps pushed at once; `slots` build slots in the server process, or (`workers`) that many
 * `solum worker` processes of one slot each beside a server that builds nothing, on PostgreSQL.
 */
async function buildsPerMinute(slots: number, mode: 'slots' | 'workers'): Promise<number> {
  const workers: WorkerProcess[] = [];
  const solum = await startSolum({
    database: mode === 'workers' ? 'postgres' : 'pglite',
    env: { SOLUM_BUILD_CONCURRENCY: mode === 'workers' ? '0' : String(slots), SOLUM_LOG_LEVEL: 'warn' },
  });
  const apps = Array.from({ length: 6 }, () => randomName('qb'));
  try {
    for (let i = 0; i < (mode === 'workers' ? slots : 0); i++) workers.push(await startWorker({ DATABASE_URL: solum.databaseUrl ?? '', SOLUM_LOG_LEVEL: 'warn' }, solum.dataDir));
    const client = await gitClient(solum, 'http');
    const repo = await makeRepo({ 'build.sh': 'sleep 1\necho done\n' });
    const t0 = Date.now();
    // Six apps pushed at once, async: the builds wait in the queue for the slots.
    await Promise.all(apps.map((a) => client.git(['push', '-o', 'solum.async', client.url(a), 'main'], repo)));
    for (;;) {
      const done = await Promise.all(apps.map(async (a) => ((await solum.api('GET', `/v1/apps/${a}/builds`)).json as { status: string }[])[0]?.status === 'succeeded'));
      if (done.every(Boolean)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return (apps.length / (Date.now() - t0)) * 60_000;
  } finally {
    for (const w of workers) await w.stop();
    await solum.stop();
    for (const a of apps) await removeAppImages(a);
  }
}

async function main(): Promise<void> {
  const pglite = await claimLatency('pglite');
  const postgres = await claimLatency('postgres');
  process.stdout.write(`Claim latency: 500 queued builds over 50 apps, claimed and finished one at a time\n`);
  process.stdout.write(
    table(['database', 'median ms', 'p99 ms'], [
      ['PGlite', pglite.median.toFixed(2), pglite.p99.toFixed(2)],
      ['PostgreSQL', postgres.median.toFixed(2), postgres.p99.toFixed(2)],
    ]),
  );
  const one = await buildsPerMinute(1, 'slots');
  const two = await buildsPerMinute(2, 'slots');
  const oneWorker = await buildsPerMinute(1, 'workers');
  const twoWorkers = await buildsPerMinute(2, 'workers');
  process.stdout.write(`\n\nBuilds per minute: six apps pushed at once (async), each build sleeps 1 s\n`);
  process.stdout.write(
    table(['', '1', '2', '2 / 1'], [
      ['build slots in the server (PGlite)', one.toFixed(1), two.toFixed(1), `${(two / one).toFixed(2)}×`],
      ['solum worker processes (PostgreSQL)', oneWorker.toFixed(1), twoWorkers.toFixed(1), `${(twoWorkers / oneWorker).toFixed(2)}×`],
    ]),
  );
  process.stdout.write(`\n${loadNote()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
