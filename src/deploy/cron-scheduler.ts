// Scheduled jobs: each app's cron entries (from its live DU's app.json) run in a one-off container of
// its live release at their schedule's times, in UTC or the app's TZ. Each slot is claimed in the
// database before it runs (cron-store.ts), so a restart neither loses nor doubles a run that was
// due; a slot that comes while the job still runs is skipped and counted. The last run's container
// is kept, so its output reads like the app's logs.
import { randomBytes } from 'node:crypto';
import type { AppService } from '../apps/app-service.js';
import type { Containers } from '../containers/containers.js';
import type { DuManifest } from '../containers/du-labels.js';
import { LABEL } from '../containers/labels.js';
import type { App } from '../db/app-store.js';
import type { CronEntry, CronJob, CronStore } from '../db/cron-store.js';
import type { Release } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import { conflict, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { isTimeZone, latestSlot, nextSlot } from './cron-schedule.js';
import { oneOffFailure, type OneOffs } from './one-off.js';
import type { RunQuota } from './run-service.js';
import type { DeployTarget, Targets } from './target.js';

/** How long a claimed run may have no container before it is taken for one a stopped Solum lost. */
const ORPHAN_GRACE_MS = 60_000;

export interface CronJobInfo extends CronJob {
  /** The next time it is due (in UTC), unless its schedule cannot say. */
  readonly nextAt: Date | null;
}

export interface CronRunResult {
  readonly job: string;
  readonly exitCode: number;
  readonly timedOut: boolean;
  readonly error: string | null;
}

export interface CronScheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Makes the app's jobs those of the release that just went live (an app's own releases only). */
  sync(target: DeployTarget, release: Release, manifest: DuManifest, say: (line: string) => void): Promise<void>;
  list(actor: User | null, app: string): Promise<CronJobInfo[]>;
  /** Runs a job now (outside its schedule) and waits for its end; refused while it runs already. */
  runNow(actor: User | null, app: string, job: string): Promise<CronRunResult>;
  /** One look at every job: claims and starts what is due (the loop calls it; tests may too). */
  tick(): Promise<void>;
}

export function createCronScheduler(d: {
  readonly store: CronStore;
  readonly apps: AppService;
  readonly appById: (id: number) => Promise<App | undefined>;
  readonly targets: Pick<Targets, 'ofApp'>;
  readonly containers: Pick<Containers, 'list' | 'inspect' | 'remove'>;
  readonly oneOffs: OneOffs;
  readonly quota: RunQuota;
  readonly timeoutMs: number;
  readonly tickMs: number;
  readonly logger: Logger;
  readonly now?: () => Date;
}): CronScheduler {
  const log = d.logger.child({ component: 'cron' });
  const now = d.now ?? (() => new Date());
  /** Runs this process started, by job row ID. */
  const running = new Map<number, Promise<CronRunResult>>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  let stopped = true;

  const slotOf = (e: Pick<CronEntry, 'schedule' | 'zone'>, at: Date): Date => latestSlot(e.schedule, e.zone, at);

  /** Starts a claimed run in a one-off container of the app's live release and records its end. */
  const launch = (job: CronJob, runId: string, app: App, release: Release): Promise<CronRunResult> => {
    const target = d.targets.ofApp(app);
    const run = (async (): Promise<CronRunResult> => {
      // Only the newest run of a job keeps its container (its output); older ones go.
      for (const c of await d.containers.list({ [LABEL.app]: app.name, [LABEL.role]: 'one-off', [LABEL.cronJob]: job.job })) {
        const st = await d.containers.inspect(c.id);
        if (!st?.running) await d.containers.remove(c.id);
      }
      try {
        const session = await d.oneOffs.start(target, release, {
          kind: 'cron',
          command: job.command,
          process: `cron.${job.job}`,
          // The output is read from the kept container, like a process's.
          onOutput: () => undefined,
          timeoutMs: d.timeoutMs,
          keep: true,
          labels: { [LABEL.cronJob]: job.job, [LABEL.cronRun]: runId },
        });
        const r = await session.done;
        const error = oneOffFailure(`cron job ${job.job}`, r, d.timeoutMs) ?? null;
        log.info({ app: app.name, job: job.job, exitCode: r.exitCode, timedOut: r.timedOut }, 'cron job ended');
        await d.store.finish(job.id, runId, r.exitCode);
        return { job: job.job, exitCode: r.exitCode, timedOut: r.timedOut, error };
      } catch (err) {
        log.error({ err, app: app.name, job: job.job }, 'cron job could not run');
        await d.store.finish(job.id, runId, null).catch(() => undefined);
        return { job: job.job, exitCode: -1, timedOut: false, error: `cron job ${job.job} could not run: ${(err as Error).message}` };
      }
    })();
    running.set(job.id, run);
    void run.finally(() => { if (running.get(job.id) === run) running.delete(job.id); });
    return run;
  };

  /** A run a stopped Solum left going: ended once its container has (its exit code, when Docker still has it). */
  const settleOrphan = async (job: CronJob): Promise<void> => {
    if (!job.runId) return;
    const [c] = await d.containers.list({ [LABEL.role]: 'one-off', [LABEL.cronRun]: job.runId });
    const st = c ? await d.containers.inspect(c.id) : undefined;
    if (st?.running) return;
    // No container yet may be a run another scheduler has just claimed and is starting: only one
    // that has had no container for a while is taken for gone.
    if (!c && job.runningSince && now().getTime() - job.runningSince.getTime() < ORPHAN_GRACE_MS) return;
    log.info({ job: job.job, appId: job.appId, exitCode: st?.exitCode }, 'a cron run from before a restart has ended');
    await d.store.finish(job.id, job.runId, st ? st.exitCode : null);
  };

  const tickOnce = async (): Promise<void> => {
    const at = now();
    for (const job of await d.store.all()) {
      try {
        if (job.runningSince && !running.has(job.id)) await settleOrphan(job);
        const due = slotOf(job, at);
        if (job.lastSlot && due.getTime() <= job.lastSlot.getTime()) continue;
        const app = await d.appById(job.appId);
        if (!app) continue;
        const target = d.targets.ofApp(app);
        // A stopped app runs nothing; the slot due when it starts again runs then.
        if (await target.releases.isStopped()) continue;
        const release = await target.releases.activeRelease();
        if (!release) continue;
        const runId = randomBytes(6).toString('hex');
        const claim = await d.store.claimSlot(job.id, job.lastSlot, due, runId);
        if (claim === 'skipped') log.warn({ app: app.name, job: job.job, slot: due.toISOString() }, 'cron job still running: this slot is skipped');
        if (claim !== 'run') continue;
        log.info({ app: app.name, job: job.job, slot: due.toISOString(), version: release.version }, 'cron job due');
        void launch(job, runId, app, release);
      } catch (err) {
        log.error({ err, job: job.job, appId: job.appId }, 'looking at a cron job failed');
      }
    }
  };

  const tick = (): Promise<void> => {
    ticking = ticking.then(tickOnce, tickOnce);
    return ticking;
  };

  const loop = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().finally(loop);
    }, d.tickMs);
  };

  const jobOf = async (actor: User | null, appName: string, need: 'read' | 'write', id?: string): Promise<{ app: App; jobs: CronJob[]; job?: CronJob }> => {
    const { app } = await d.apps.require(actor, appName, need);
    const jobs = await d.store.listOfApp(app.id);
    if (id === undefined) return { app, jobs };
    const job = jobs.find((j) => j.job === id);
    if (!job) throw notFound(`'${app.name}' has no scheduled job ${JSON.stringify(id.slice(0, 60))} (its jobs: ${jobs.map((j) => j.job).join(', ') || 'none'})`);
    return { app, jobs, job };
  };

  return {
    async start() {
      stopped = false;
      await tick();
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await ticking;
    },
    async sync(target, release, manifest, say) {
      if (target.environment || target.preview) return;
      const wanted = manifest.cron ?? [];
      const had = (await d.store.listOfApp(target.app.id)).length;
      if (wanted.length === 0 && had === 0) return;
      const tz = release.config.TZ ?? manifest.env.TZ ?? 'UTC';
      const zone = isTimeZone(tz) ? tz : 'UTC';
      if (zone !== tz) say(`!     TZ=${tz} is not a time zone: scheduled jobs run on UTC times`);
      const at = now();
      const jobs = await d.store.sync(target.app.id, wanted.map((c) => ({ job: c.id, schedule: c.schedule, command: c.command, zone })), (e) => slotOf(e, at));
      if (jobs.length === 0) say('-----> Scheduled jobs: none any more');
      else say(`-----> Scheduled jobs (${zone}): ${jobs.map((j) => `${j.job} "${j.schedule}" next ${nextSlot(j.schedule, j.zone, at).toISOString()}`).join(', ')}`);
    },
    async list(actor, app) {
      const { jobs } = await jobOf(actor, app, 'read');
      const at = now();
      return jobs.map((j) => {
        let nextAt: Date | null = null;
        try {
          nextAt = nextSlot(j.schedule, j.zone, at);
        } catch {
          nextAt = null;
        }
        return { ...j, nextAt };
      });
    },
    async runNow(actor, appName, id) {
      const { app, job } = await jobOf(actor, appName, 'write', id);
      if (!job || !actor) throw notFound('no such job');
      const release = await d.targets.ofApp(app).releases.activeRelease();
      if (!release) throw conflict(`'${app.name}' has no live release yet: push to deploy it`);
      const done = d.quota.acquire(actor);
      try {
        const runId = randomBytes(6).toString('hex');
        if (!(await d.store.claimNow(job.id, runId))) {
          throw conflict(`cron job ${job.job} of ${app.name} is running (since ${job.runningSince?.toISOString() ?? 'a moment ago'}): this run is skipped`);
        }
        log.info({ app: app.name, job: job.job, by: actor.name }, 'cron job run by hand');
        return await launch(job, runId, app, release);
      } finally {
        done();
      }
    },
    tick,
  };
}
