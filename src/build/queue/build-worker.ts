// The build worker: claims queued builds from the builds table, runs them, heartbeats while they
// run, and turns builds whose worker vanished into `abandoned`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { App, AppStore } from '../../db/app-store.js';
import type { Build, BuildOutcome, BuildStore } from '../../db/build-store.js';
import type { Logger } from '../../logger.js';
import type { BuildEvents } from './build-events.js';
import { createBuildLog } from './build-log.js';
import type { BuildRunner } from '../runner/build-runner.js';
import type { Containers } from '../../containers/containers.js';
import type { DuLabels } from '../../containers/du-labels.js';
import { LABEL } from '../../containers/labels.js';
import { createWakeableSleep } from './wakeable-sleep.js';
import { goesLive } from './release-rules.js';
import { removeStaleBuilders } from './stale-builders.js';

export interface BuildWorker {
  start(): Promise<void>;
  /** Stops a build this worker is running (a cancel request through the API). */
  cancel(buildId: number): boolean;
  /** Wakes the worker: a build was queued. */
  notify(): void;
  /** Stops claiming and waits for running builds to finish. */
  stop(): Promise<void>;
}

/** A worker's ID: host, process and a random part, so a restarted process never reuses one. */
export const newWorkerId = (): string => `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** Whether a worker ID belongs to a process of this host that no longer exists. */
export function isDeadLocalWorker(workerId: string | null): boolean {
  const m = /^(.+)-(\d+)-[0-9a-f]+$/.exec(workerId ?? '');
  if (!m || m[1] !== os.hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface BuildWorkerOptions {
  readonly builds: BuildStore;
  readonly apps: AppStore;
  readonly runner: BuildRunner;
  readonly events: BuildEvents;
  readonly containers: Pick<Containers, 'list' | 'remove' | 'readDu'>;
  readonly logger: Logger;
  readonly workerId: string;
  readonly concurrency: number;
  readonly archivesDir: string;
  readonly heartbeatMs?: number;
  readonly staleMs?: number;
  readonly pollMs?: number;
  /** The server's build limits; apps may lower or raise memory and the timeout. */
  readonly limits: { readonly memoryBytes: number; readonly nanoCpus: number; readonly pids: number; readonly timeoutMs: number };
  readonly logMaxBytes: number;
  /**
   * Told when a successful build was handed over for its release (see `releases`): the server
   * process releases it (build-tracker.ts), here or elsewhere.
   */
  readonly onReleasable?: () => void;
  /** Told of every build this worker finishes (metrics). */
  readonly onFinished?: (status: string, seconds: number) => void;
  /** Told when a build starts and when it ends (commit statuses). */
  readonly onStatus?: (build: Build) => void;
  /**
   * A local path of the build's source archive. By default the archives dir is shared with the
   * server; a worker on another machine fetches it (remote-archive.ts). `done` removes the copy.
   */
  readonly archiveOf?: (build: Build) => Promise<{ readonly path: string; done(): Promise<void> }>;
  /** Records what the build made (provenance; supply-chain/provenance-recorder.ts) before its end is. Never throws. */
  readonly attest?: (i: { build: Build; outcome: BuildOutcome; startedOn: Date; log: { line(text: string): void } }) => Promise<void>;
}

/** The DU manifest kept in the database: what the DU's labels say it was built with. Pure. */
export function duManifestOf(du: DuLabels | undefined): Record<string, unknown> | null {
  if (!du) return null;
  return { ...du.manifest, processTypes: du.processTypes, languagePack: du.languagePack, languagePackImage: du.languagePackImage, revision: du.revision };
}

const localArchive = (archivesDir: string) => (build: Build): Promise<{ path: string; done(): Promise<void> }> => {
  const file = path.join(archivesDir, path.basename(build.archive ?? ''));
  return Promise.resolve({ path: file, done: () => fs.rm(file, { force: true }) });
};

/** The archive of a claimed build could not be had (a remote worker's fetch failed). */
class SourceUnavailable extends Error {}

export function createBuildWorker(o: BuildWorkerOptions): BuildWorker {
  const heartbeatMs = o.heartbeatMs ?? 5_000;
  const staleMs = o.staleMs ?? 30_000;
  const pollMs = o.pollMs ?? 2_000;
  const log = o.logger.child({ component: 'build-worker', workerId: o.workerId });
  const running = new Map<number, Promise<void>>();
  const stoppers = new Map<number, AbortController>();
  let stopping = false;
  const pause = createWakeableSleep();
  let loop: Promise<void> | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  const sweep = async (): Promise<void> => {
    // Builds of a dead worker process on this host are abandoned at once; elsewhere, by heartbeat.
    const dead = (await o.builds.listRunning()).filter((b) => isDeadLocalWorker(b.workerId)).map((b) => b.id);
    const abandoned = [...(await o.builds.abandon(dead)), ...(await o.builds.abandonStale(new Date(Date.now() - staleMs)))];
    for (const b of abandoned) {
      log.warn({ buildId: b.id, app: b.app }, 'build abandoned: its worker stopped heartbeating');
      for (const c of await o.containers.list({ [LABEL.buildId]: String(b.id) })) {
        await o.containers.remove(c.id);
      }
      // Followers in a server process hear of it from its build tracker.
    }
  };
  const archiveOf = o.archiveOf ?? localArchive(o.archivesDir);

  const runOne = async (build: Build): Promise<void> => {
    const blog = log.child({ buildId: build.id, app: build.app, number: build.number });
    const buildLog = createBuildLog({
      buildId: build.id,
      store: o.builds,
      events: o.events,
      maxBytes: o.logMaxBytes,
      onStoreError: (err) => { blog.error({ err }, 'storing build log failed'); },
    });
    const stopper = new AbortController();
    stoppers.set(build.id, stopper);
    // The heartbeat also notices cancel requests made through another server process.
    const beat = setInterval(() => {
      o.builds.heartbeat(build.id, o.workerId).catch((err: unknown) => { blog.error({ err }, 'heartbeat failed'); });
      o.builds.getBuild(build.id).then(
        (b) => { if (b?.cancelRequested) stopper.abort('canceled'); },
        () => undefined,
      );
    }, heartbeatMs);
    let timeout: NodeJS.Timeout | undefined;
    let archive: Awaited<ReturnType<typeof archiveOf>> | undefined;
    const started = Date.now();
    let outcome: BuildOutcome;
    let app: App | undefined;
    try {
      if (!build.archive) throw new Error('the build has no source archive');
      blog.info('build started');
      // Had first, so the copy is removed at the end whatever happens next.
      archive = await archiveOf(build).catch((err: unknown) => {
        throw new SourceUnavailable((err as Error).message);
      });
      app = await o.apps.findAppById(build.appId);
      if (!app) throw new Error(`app ${build.appId} of build ${build.id} not found`);
      o.onStatus?.(build);
      o.events.state({ type: 'build', app: build.app, number: build.number, status: 'running', id: build.id });
      const timeoutMs = app.buildTimeoutSeconds !== null ? app.buildTimeoutSeconds * 1000 : o.limits.timeoutMs;
      timeout = setTimeout(() => { stopper.abort('timeout'); }, timeoutMs);
      const memoryBytes = app.buildMemoryMb !== null ? app.buildMemoryMb * 1024 * 1024 : o.limits.memoryBytes;
      outcome = await o.runner({ build, app, archive: archive.path, log: buildLog, signal: stopper.signal, limits: { ...o.limits, memoryBytes } });
      if (outcome.error === 'the build timed out') outcome = { ...outcome, error: `the build timed out after ${Math.round(timeoutMs / 1000)}s` };
    } catch (err) {
      blog.error({ err }, 'build crashed');
      const error = err instanceof SourceUnavailable ? `the source archive could not be fetched: ${err.message}` : 'internal error while building (see the server log)';
      outcome = { status: 'failed', exitCode: null, error, languagePack: null, languagePackImage: null, duId: null, duImage: null };
    } finally {
      clearInterval(beat);
      clearTimeout(timeout);
      stoppers.delete(build.id);
    }
    await o.attest?.({ build, outcome, startedOn: build.startedAt ?? new Date(started), log: buildLog });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (outcome.status === 'succeeded') {
      buildLog.line(`-----> Build #${build.number} succeeded in ${seconds}s`);
      buildLog.line(`       Deployment unit ${outcome.duId ?? ''} (${outcome.duImage ?? ''})`);
    } else if (outcome.status === 'canceled') {
      buildLog.line(`!     Build #${build.number} canceled after ${seconds}s`);
    } else {
      buildLog.line(`!     Build #${build.number} failed after ${seconds}s: ${outcome.error ?? outcome.status}`);
    }
    // The build's own log is stored before its end is: a reader who sees the status sees the log.
    await buildLog.close();
    const release = outcome.status === 'succeeded' && app !== undefined && goesLive(build, app);
    const duManifest = outcome.duId ? duManifestOf(await o.containers.readDu(outcome.duId).catch(() => undefined)) : null;
    const recorded = await o.builds.finish(build.id, o.workerId, outcome, { release, duManifest });
    if (!recorded) blog.warn('build was taken from this worker before it finished');
    await archive?.done();
    blog.info({ status: outcome.status, duId: outcome.duId, seconds: Number(seconds) }, 'build finished');
    o.onFinished?.(outcome.status, Number(seconds));
    const final = await o.builds.getBuild(build.id);
    if (final) o.onStatus?.(final);
    // A build that goes live ends for its followers when the server has released it.
    if (recorded && release) o.onReleasable?.();
    else if (final) o.events.finished(final);
  };

  const claimLoop = async (): Promise<void> => {
    while (!stopping) {
      if (running.size < o.concurrency) {
        let build: Build | undefined;
        try {
          build = await o.builds.claim(o.workerId);
        } catch (err) {
          log.error({ err }, 'claiming a build failed');
        }
        if (build) {
          const id = build.id;
          running.set(id, runOne(build).finally(() => { running.delete(id); pause.wake(); }));
          continue;
        }
      }
      await pause.sleep(pollMs);
    }
  };

  return {
    async start() {
      await sweep();
      const removed = await removeStaleBuilders(o.containers, o.builds);
      if (removed > 0) log.info({ removed }, 'removed leftover builder containers');
      sweeper = setInterval(() => { sweep().catch((err: unknown) => { log.error({ err }, 'sweep failed'); }); }, heartbeatMs);
      loop = claimLoop();
    },
    notify() {
      pause.wake();
    },
    cancel(buildId) {
      const s = stoppers.get(buildId);
      s?.abort('canceled');
      return s !== undefined;
    },
    async stop() {
      stopping = true;
      if (sweeper) clearInterval(sweeper);
      pause.wake();
      await loop;
      await Promise.allSettled(running.values());
    },
  };
}
