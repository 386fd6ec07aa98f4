// Canary releases of an app (decision 0019): a release that is not live serves a share of new
// sessions beside the live one, each session kept on the release it got, until it is promoted (the
// normal switch) or aborted; its web processes are probed while it runs, and a few failed probes in
// a row abort it. What runs is in the database, so a restart re-adopts it.
import type { App } from '../db/app-store.js';
import type { Canary, CanaryStore } from '../db/canary-store.js';
import type { Release } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import type { AppService } from '../apps/app-service.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReleaseSteps } from './release-steps.js';
import type { Deployer } from './deployer.js';
import { appIdOfTargetKey, type DeployTarget, type Targets } from './target.js';

export interface CanaryView {
  readonly version: number;
  readonly percent: number;
  readonly since: Date;
}

export interface CanaryService {
  /** Starts release vN as the app's canary at `percent`, or changes the share of the one running. */
  start(actor: User | null, app: string, version: number, percent: number): Promise<Canary>;
  /** Makes the canary's release live (the normal switch) and ends the canary. */
  promote(actor: User | null, app: string): Promise<Release>;
  /** Stops the canary's processes; every session goes back to the live release. */
  abort(actor: User | null, app: string): Promise<Canary>;
  /** The app's running canary, for anyone who may read the app. */
  running(actor: User | null, app: string): Promise<CanaryView | null>;
  /** The running canary of an app Solum itself looks at (the app view). */
  runningOf(app: App): Promise<CanaryView | null>;
  /** A pushed build's release as a canary instead of live (`git push -o solum.canary=PERCENT`). */
  releaseBuildAsCanary(app: App, release: Release, percent: number, say: (line: string) => void): Promise<string | undefined>;
  /** Running canaries with their targets, for re-adoption at start. */
  adoptable(): Promise<Map<string, { release: Release; share: number }>>;
  /** Starts probing running canaries. */
  startMonitor(): void;
  stopMonitor(): void;
}

/** A share of new sessions a canary may get: a whole percent from 1 to 99. Pure. */
export function checkPercent(percent: number): number {
  if (!Number.isInteger(percent) || percent < 1 || percent > 99) throw badRequest('a canary gets a whole percent of new sessions from 1 to 99');
  return percent;
}

export function createCanaryService(d: {
  apps: AppService;
  targets: Pick<Targets, 'ofApp'>;
  appById: (id: number) => Promise<App | undefined>;
  store: CanaryStore;
  deployer: Deployer;
  /** A pushed canary runs its release phase before it starts; a promoted one its postdeploy (decision 0016). */
  steps?: Pick<ReleaseSteps, 'releasePhase' | 'afterLive'>;
  /** Told when a canary starts, changes, is promoted or aborted (`/v1/events`, notifications). */
  announce: (app: App, version: number, status: 'canary' | 'active' | 'canary-aborted') => void;
  logger: Logger;
  /** Processes the apps of one owner (not an admin) may run in all: a canary's web processes count too. */
  processQuota: { readonly max: number; used(ownerId: number): Promise<number>; ownerIsAdmin(ownerId: number): Promise<boolean> };
  /** How often running canaries are probed, and how many failures in a row abort one. */
  checkIntervalMs: number;
  failuresToAbort: number;
}): CanaryService {
  const log = d.logger.child({ component: 'canaries' });
  /** Canaries whose processes are still starting (and health-checked by the start): not probed yet. */
  const launching = new Set<number>();
  const view = (c: Canary): CanaryView => ({ version: c.version, percent: c.percent, since: c.startedAt });

  const target = async (actor: User | null, name: string, need: 'read' | 'write'): Promise<DeployTarget> => d.targets.ofApp((await d.apps.require(actor, name, need)).app);

  /** The app target a canary record names, while its app exists (canaries are for apps' own targets). */
  const targetOfKey = async (key: string): Promise<DeployTarget | undefined> => {
    const id = appIdOfTargetKey(key);
    const app = id === undefined ? undefined : await d.appById(id);
    return app && d.targets.ofApp(app);
  };

  const runningOrFail = async (t: DeployTarget): Promise<Canary> => {
    const c = await d.store.running(t.key);
    if (!c) throw conflict(`'${t.name}' has no canary running: start one with releases:canary ${t.name} vN PERCENT`);
    return c;
  };

  /** Ends a running canary as aborted: processes out, sessions back to live, the record says why. */
  const abortCanary = async (t: DeployTarget, c: Canary, reason: string): Promise<void> => {
    if (!(await d.store.end(c.id, 'aborted', reason))) return;
    // The records first, then the processes (which take seconds to stop): whoever sees the canary
    // gone also sees why. A pushed build's release that never went live ends failed.
    const release = await t.releases.getRelease(c.version);
    if (release?.status === 'pending') await t.releases.fail(release.id, `canary aborted: ${reason}`);
    await d.deployer.endCanary(t);
    d.announce(t.app, c.version, 'canary-aborted');
    log.warn({ target: t.name, version: c.version, reason }, 'canary aborted');
  };

  /** Starts a recorded canary's processes; a failure ends the record aborted and says why. */
  const launch = async (t: DeployTarget, release: Release, percent: number, startedBy: string | null, say: (line: string) => void): Promise<Canary> => {
    const live = await t.releases.activeRelease();
    if (!live) throw conflict(`'${t.name}' has no live release to share traffic with`);
    if (!(await d.processQuota.ownerIsAdmin(t.app.ownerId))) {
      const more = Math.max(1, (await t.releases.getFormation()).web ?? 1);
      const used = await d.processQuota.used(t.app.ownerId);
      if (used + more > d.processQuota.max) throw new AppError('quota_exceeded', `the apps of ${t.name}'s owner would run ${used + more} processes with the canary, more than the ${d.processQuota.max} a user may`);
    }
    const c = await d.store.start({ targetKey: t.key, releaseId: release.id, version: release.version, percent, startedBy });
    if (!c) {
      const other = await d.store.running(t.key);
      throw conflict(`v${other?.version ?? '?'} is already the canary of '${t.name}': promote or abort it first`);
    }
    launching.add(c.id);
    const error = await d.deployer.canary(t, release, percent, say).finally(() => launching.delete(c.id));
    if (error) {
      await d.store.end(c.id, 'aborted', `did not start: ${error}`);
      if (release.status === 'pending') await t.releases.fail(release.id, `canary did not start: ${error}`);
      throw new AppError('conflict', `the canary v${release.version} did not start, nothing changed: ${error}`);
    }
    d.announce(t.app, release.version, 'canary');
    log.info({ target: t.name, version: release.version, percent }, 'canary started');
    return c;
  };

  const failures = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  const checkAll = async (): Promise<void> => {
    for (const c of await d.store.allRunning()) {
      if (launching.has(c.id)) continue;
      const t = await targetOfKey(c.targetKey);
      if (!t) continue;
      const failure = await d.deployer.checkCanary(t);
      if (!failure) {
        failures.delete(c.id);
        continue;
      }
      const n = (failures.get(c.id) ?? 0) + 1;
      failures.set(c.id, n);
      log.warn({ target: t.name, version: c.version, failure, n }, 'a canary health check failed');
      if (n >= d.failuresToAbort) {
        failures.delete(c.id);
        await abortCanary(t, c, `health check failed ${n} times in a row: ${failure}`);
      }
    }
  };

  return {
    async start(actor, name, version, percent) {
      checkPercent(percent);
      const t = await target(actor, name, 'write');
      const release = await t.releases.getRelease(version);
      if (!release) throw notFound(`'${t.name}' has no release v${version}`);
      if (release.status === 'active') throw badRequest(`v${version} is the live release of '${t.name}': a canary is a release that is not live yet`);
      if (release.status === 'failed') throw badRequest(`v${version} failed to deploy; a canary must be a release that ran or a new build`);
      const running = await d.store.running(t.key);
      if (running && running.version === version) {
        const error = await d.deployer.canary(t, release, percent, () => undefined);
        if (error) throw new AppError('conflict', `changing the canary's share failed: ${error}`);
        await d.store.setPercent(running.id, percent);
        d.announce(t.app, version, 'canary');
        return { ...running, percent };
      }
      if (running) throw conflict(`v${running.version} is already the canary of '${t.name}': promote or abort it first`);
      return launch(t, release, percent, actor?.name ?? null, () => undefined);
    },
    async promote(actor, name) {
      const t = await target(actor, name, 'write');
      const c = await runningOrFail(t);
      const release = await t.releases.getRelease(c.version);
      if (!release) throw notFound(`'${t.name}' has no release v${c.version}`);
      const error = await d.deployer.deploy(t, release, () => undefined);
      if (error) throw new AppError('conflict', `promoting v${c.version} failed, the canary keeps running: ${error}`);
      await t.releases.promote(release.id);
      await d.store.end(c.id, 'promoted', actor ? `promoted by ${actor.name}` : 'promoted');
      d.announce(t.app, c.version, 'active');
      log.info({ target: t.name, version: c.version }, 'canary promoted');
      const live = (await t.releases.getRelease(c.version)) ?? release;
      // Live now: its postdeploy runs and cron follows it, as after any release going live.
      await d.steps?.afterLive(t, live, (line) => { log.info({ target: t.name, version: c.version, line }, 'postdeploy'); }, { first: false, running: true });
      return live;
    },
    async abort(actor, name) {
      const t = await target(actor, name, 'write');
      const c = await runningOrFail(t);
      const reason = actor ? `aborted by ${actor.name}` : 'aborted';
      await abortCanary(t, c, reason);
      return { ...c, status: 'aborted', reason };
    },
    async running(actor, name) {
      const t = await target(actor, name, 'read');
      const c = await d.store.running(t.key);
      return c ? view(c) : null;
    },
    async runningOf(app) {
      const c = await d.store.running(d.targets.ofApp(app).key);
      return c ? view(c) : null;
    },
    async releaseBuildAsCanary(app, release, percent, say) {
      const t = d.targets.ofApp(app);
      try {
        // The release phase (migrations, say) runs before any process of the release starts,
        // canary or not; a failing one ends the release failed and starts nothing.
        const early = await d.steps?.releasePhase(t, release, say);
        if (early) throw new Error(`the release phase failed: ${early}`);
        await launch(t, release, checkPercent(percent), null, say);
        say(`-----> v${release.version} is a canary with ${percent}% of new sessions: solum releases:promote ${app.name} or releases:abort ${app.name}`);
        return undefined;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (release.status === 'pending') await t.releases.fail(release.id, message);
        say(`!     ${message}`);
        return message;
      }
    },
    async adoptable() {
      const out = new Map<string, { release: Release; share: number }>();
      for (const c of await d.store.allRunning()) {
        const release = await (await targetOfKey(c.targetKey))?.releases.getRelease(c.version);
        if (release) out.set(c.targetKey, { release, share: c.percent });
      }
      return out;
    },
    startMonitor() {
      timer ??= setInterval(() => {
        if (checking) return;
        checking = true;
        void checkAll()
          .catch((err: unknown) => { log.error({ err }, 'checking canaries failed'); })
          .finally(() => { checking = false; });
      }, d.checkIntervalMs);
      timer.unref();
    },
    stopMonitor() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
