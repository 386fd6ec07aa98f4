// The server's side of every build it does not run itself, and of every release: it follows builds
// that `solum worker` processes run (state changes, log lines for pushes and log followers, their
// end), and it releases successful builds handed over through the builds table, wherever they ran.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { App, AppStore } from '../../db/app-store.js';
import type { Build, BuildStore } from '../../db/build-store.js';
import type { Logger } from '../../logger.js';
import type { BuildEvents } from './build-events.js';
import { createBuildLog } from './build-log.js';
import { overtaken } from './release-rules.js';
import { createWakeableSleep } from './wakeable-sleep.js';

export interface BuildTracker {
  start(): Promise<void>;
  /** Wakes the tracker: a build was handed over for release. */
  notify(): void;
  stop(): Promise<void>;
}

/** Lines of a stored log chunk (each ends with a newline). Pure. */
export const linesOf = (chunk: string): string[] => chunk.split('\n').slice(0, -1);

/** A remote build the tracker follows: its last status seen, and how far its log was published. */
interface Followed {
  status: string;
  seq: number;
  lines: number;
}

export function createBuildTracker(o: {
  readonly builds: BuildStore;
  readonly apps: Pick<AppStore, 'findAppById'>;
  readonly events: BuildEvents;
  readonly logger: Logger;
  /** Whether this process's own worker runs the build (its events are published directly). */
  readonly isLocal: (build: Build) => boolean;
  readonly release: (app: App, build: Build, say: (line: string) => void) => Promise<unknown>;
  /** The app's deploy ref as it is now, to spot pushes overtaken while queued. */
  readonly deployRefHead: (app: App) => Promise<string | null>;
  readonly archivesDir: string;
  readonly logMaxBytes: number;
  readonly onStatus?: (build: Build) => void;
  readonly onFinished?: (status: string, seconds: number) => void;
  readonly pollMs?: number;
}): BuildTracker {
  const pollMs = o.pollMs ?? 250;
  const log = o.logger.child({ component: 'build-tracker' });
  /** Remote builds seen unsettled: last status, and how far their log was published. */
  const known = new Map<number, Followed>();
  let stopping = false;
  const pause = createWakeableSleep();
  let loop: Promise<void> | undefined;

  /** Publishes the stored lines of a followed remote build that `k` has not published yet. */
  const drain = async (id: number, k: Followed): Promise<void> => {
    if (!o.events.following(id)) return;
    for (const { seq, chunk } of await o.builds.logChunksAfter(id, k.seq)) {
      for (const line of linesOf(chunk)) o.events.line(id, line, ++k.lines);
      k.seq = seq;
    }
  };

  const ended = async (build: Build): Promise<void> => {
    o.onStatus?.(build);
    if (build.startedAt && build.finishedAt) o.onFinished?.(build.status, (build.finishedAt.getTime() - build.startedAt.getTime()) / 1000);
    if (build.archive) await fs.rm(path.join(o.archivesDir, path.basename(build.archive)), { force: true });
  };

  const follow = async (): Promise<void> => {
    const unsettled = await o.builds.listUnsettled();
    const ids = new Set(unsettled.map((b) => b.id));
    for (const b of unsettled) {
      if (o.isLocal(b)) {
        known.delete(b.id);
        continue;
      }
      let k = known.get(b.id);
      if (!k) known.set(b.id, (k = { status: 'queued', seq: 0, lines: 0 }));
      if (b.status === 'queued') continue;
      await drain(b.id, k);
      if (k.status !== b.status) {
        k.status = b.status;
        o.events.state({ type: 'build', app: b.app, number: b.number, status: b.status, id: b.id });
        if (b.status === 'running') o.onStatus?.(b);
        else await ended(b);
      }
    }
    // A followed build that ran and ended elsewhere between two looks was never seen unsettled.
    for (const id of o.events.followed()) {
      if (ids.has(id) || known.has(id)) continue;
      const b = await o.builds.getBuild(id);
      if (b && !o.isLocal(b) && b.workerId !== null && b.status !== 'queued' && b.status !== 'running' && b.releaseState !== 'pending' && b.releaseState !== 'releasing') {
        known.set(id, { status: 'queued', seq: 0, lines: 0 });
      }
    }
    // Remote builds that left the set ended without a release to wait for.
    for (const [id, k] of known) {
      if (ids.has(id)) continue;
      const b = await o.builds.getBuild(id);
      known.delete(id);
      // Claimed here after all (this process published it), or canceled while queued (build-control.ts did).
      if (!b || o.isLocal(b) || b.workerId === null) continue;
      await drain(id, k);
      if (k.status !== b.status) await ended(b);
      o.events.finished(b);
    }
  };

  const releaseOne = async (build: Build): Promise<void> => {
    const app = await o.apps.findAppById(build.appId);
    if (!o.isLocal(build)) {
      const k = known.get(build.id) ?? { status: 'running', seq: 0, lines: 0 };
      await drain(build.id, k);
      if (k.status !== build.status) await ended(build);
    }
    known.delete(build.id);
    const after = await o.builds.logEnd(build.id);
    const say = createBuildLog({ buildId: build.id, store: o.builds, events: o.events, maxBytes: o.logMaxBytes, after, onStoreError: (err) => { log.error({ err }, 'storing release lines failed'); } });
    try {
      const head = app ? await o.deployRefHead(app) : null;
      const moved = app ? overtaken(build, app.deployBranch, head) : undefined;
      if (!app) {
        say.line('!     The app no longer exists: not released');
      } else if (moved !== undefined) {
        say.line(`!     ${app.deployBranch} moved to ${moved.slice(0, 12)} while build #${build.number} waited: git will refuse this push's update`);
        say.line('!     Not released. Pull, then push again.');
      } else {
        await o.release(app, build, (line) => { say.line(line); });
      }
    } catch (err) {
      log.error({ err, buildId: build.id }, 'releasing the build failed');
      say.line('!     Releasing this build failed (see the server log); the previous release keeps serving');
    }
    await say.close();
    await o.builds.endRelease(build.id);
    o.events.finished((await o.builds.getBuild(build.id)) ?? build);
  };

  const releaseAll = async (untilStopped: boolean): Promise<void> => {
    let build: Build | undefined;
    while ((!untilStopped || !stopping) && (build = await o.builds.claimRelease())) await releaseOne(build);
  };
  const tick = async (): Promise<void> => {
    await follow();
    await releaseAll(true);
  };

  const run = async (): Promise<void> => {
    while (!stopping) {
      try {
        await tick();
      } catch (err) {
        log.error({ err }, 'following builds failed');
      }
      await pause.sleep(pollMs);
    }
  };

  return {
    async start() {
      const reset = await o.builds.resetReleasing();
      if (reset > 0) log.warn({ reset }, 'releases interrupted by a stop are tried again');
      loop = run();
    },
    notify() {
      pause.wake();
    },
    async stop() {
      stopping = true;
      pause.wake();
      await loop;
      // Builds the stopped workers handed over are released now, so their pushes get an answer.
      await releaseAll(false).catch((err: unknown) => { log.error({ err }, 'releasing at stop failed'); });
    },
  };
}
