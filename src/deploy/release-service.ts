// Releases as users see them: a successful build of the deploy branch becomes release vN and goes
// live; config changes and rollbacks make new releases without a build; scale, restart, stop,
// start and logs act on the live release.
import type { Readable } from 'node:stream';
import type { AppService } from '../apps/app-service.js';
import type { App } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import type { Formation, Release, ReleaseStore } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Deployer, ProcessInfo } from './deployer.js';

export interface ReleaseService {
  /** Called by the build worker after a successful build of the deploy branch; returns an error or undefined. */
  releaseBuild(app: App, build: Build, say: (line: string) => void): Promise<string | undefined>;
  list(actor: User | null, app: string): Promise<Release[]>;
  get(actor: User | null, app: string, version: number): Promise<Release>;
  rollback(actor: User | null, app: string, version: number): Promise<Release>;
  config(actor: User | null, app: string): Promise<Record<string, string>>;
  /** Sets and unsets config vars; a new release when a DU is live. */
  changeConfig(actor: User | null, app: string, set: Record<string, string>, unset: string[]): Promise<{ config: Record<string, string>; release: Release | null }>;
  formation(actor: User | null, app: string): Promise<Formation>;
  scale(actor: User | null, app: string, changes: Record<string, number>): Promise<Formation>;
  restart(actor: User | null, app: string): Promise<Release>;
  stop(actor: User | null, app: string): Promise<void>;
  start(actor: User | null, app: string): Promise<Release>;
  processes(actor: User | null, app: string): Promise<ProcessInfo[]>;
  logs(actor: User | null, app: string, options: { follow: boolean; tail: number }): Promise<Readable>;
  url(app: string): string;
  /**
   * Sets and unsets config vars for Solum itself (backing services attaching to an app), the
   * caller having checked who may; a new release when a DU is live, as config changes make.
   */
  reconfigure(app: App, set: Record<string, string>, unset: string[], description: string, actor: string | null): Promise<Release | null>;
}

const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PROCESS_TYPE = /^[A-Za-z0-9_-]{1,63}$/;
const RESERVED = new Set(['PORT', 'SOLUM_APP', 'SOLUM_RELEASE', 'SOLUM_PROCESS']);
const MAX_PER_TYPE = 20;

export function parseConfigChanges(set: Record<string, string>, unset: readonly string[]): void {
  for (const k of [...Object.keys(set), ...unset]) {
    if (!CONFIG_KEY.test(k)) throw badRequest(`invalid config var name ${JSON.stringify(k.slice(0, 64))}: use A-Z, a-z, 0-9 and _, not starting with a digit`);
    if (RESERVED.has(k)) throw badRequest(`${k} is set by Solum itself`);
  }
  for (const v of Object.values(set)) if (v.length > 32_768) throw badRequest('config values are at most 32 KiB');
}

export function createReleaseService(deps: {
  apps: AppService;
  releases: ReleaseStore;
  deployer: Deployer;
  imageProcessTypes: (duId: string) => Promise<Record<string, string> | undefined>;
  url: (app: string) => string;
  logger: Logger;
  /** Told when a release ends active or failed. */
  onRelease?: (app: string, release: Release) => void;
  /** Runs before a build's release is made, so its config can gain what the DU asks for (backing services). */
  beforeRelease?: (app: App, build: Build, say: (line: string) => void) => Promise<void>;
}): ReleaseService {
  const log = deps.logger.child({ component: 'releases' });

  /** Creates a release and deploys it; the release ends active or failed. */
  const release = async (app: App, input: Omit<Parameters<ReleaseStore['createRelease']>[0], 'appId'>, say: (line: string) => void): Promise<Release> => {
    const created = await deps.releases.createRelease({ appId: app.id, ...input });
    if (await deps.releases.isStopped(app.id)) {
      await deps.releases.activate(created.id);
      say(`-----> Released v${created.version} (the app is stopped: start it to run it)`);
      return (await deps.releases.getRelease(app.id, created.version)) ?? created;
    }
    const error = await deps.deployer.deploy(app, created, say);
    if (error) {
      await deps.releases.fail(created.id, error);
      const live = await deps.releases.activeRelease(app.id);
      say(`!     Release v${created.version} failed: ${error}`);
      say(live ? `!     v${live.version} is still serving` : '!     nothing was serving before; nothing is serving now');
      log.warn({ app: app.name, version: created.version, error }, 'release failed');
    } else {
      await deps.releases.activate(created.id);
      say(`-----> Released v${created.version}: ${deps.url(app.name)}`);
      log.info({ app: app.name, version: created.version }, 'release live');
    }
    const final = (await deps.releases.getRelease(app.id, created.version)) ?? created;
    deps.onRelease?.(app.name, final);
    return final;
  };

  const live = async (app: App): Promise<Release> => {
    const r = await deps.releases.activeRelease(app.id);
    if (!r) throw conflict(`'${app.name}' has no live release yet: push to deploy it`);
    return r;
  };

  const require = async (actor: User | null, name: string, need: 'read' | 'write' | 'admin'): Promise<App> => (await deps.apps.require(actor, name, need)).app;

  const failIfFailed = (r: Release): Release => {
    if (r.status === 'failed') throw new AppError('conflict', `release v${r.version} failed: ${r.error ?? 'unknown error'}`);
    return r;
  };

  return {
    async releaseBuild(app, build, say) {
      if (!build.duId || !build.duImage) return 'the build produced no deployment unit';
      if (deps.beforeRelease) {
        try {
          await deps.beforeRelease(app, build, say);
        } catch (err) {
          const message = err instanceof AppError ? err.message : 'preparing the release failed';
          log.warn({ err, app: app.name }, 'before-release step failed');
          say(`!     ${message}`);
          return message;
        }
      }
      const processTypes = (await deps.imageProcessTypes(build.duId)) ?? {};
      const r = await release(
        app,
        {
          buildId: build.id,
          duId: build.duId,
          duImage: build.duImage,
          config: await deps.releases.getConfig(app.id),
          processTypes,
          description: `Deploy build #${build.number} (${build.commit.slice(0, 12)})`,
          createdBy: null,
        },
        say,
      );
      return r.status === 'failed' ? (r.error ?? 'release failed') : undefined;
    },
    async list(actor, name) {
      return deps.releases.listReleases((await require(actor, name, 'read')).id);
    },
    async get(actor, name, version) {
      const app = await require(actor, name, 'read');
      const r = await deps.releases.getRelease(app.id, version);
      if (!r) throw notFound(`'${app.name}' has no release v${version}`);
      return r;
    },
    async rollback(actor, name, version) {
      const app = await require(actor, name, 'write');
      const target = await deps.releases.getRelease(app.id, version);
      if (!target) throw notFound(`'${app.name}' has no release v${version}`);
      if (target.status === 'failed') throw badRequest(`v${version} failed to deploy; roll back to a release that ran`);
      // The app's config follows the release rolled back to, so later changes build on it.
      const current = await deps.releases.getConfig(app.id);
      await deps.releases.changeConfig(app.id, target.config, Object.keys(current).filter((k) => !(k in target.config)));
      return failIfFailed(
        await release(
          app,
          { buildId: target.buildId, duId: target.duId, duImage: target.duImage, config: { ...target.config }, processTypes: { ...target.processTypes }, description: `Rollback to v${version}`, createdBy: actor?.name ?? null },
          () => undefined,
        ),
      );
    },
    async config(actor, name) {
      return deps.releases.getConfig((await require(actor, name, 'admin')).id);
    },
    async changeConfig(actor, name, set, unset) {
      const app = await require(actor, name, 'admin');
      parseConfigChanges(set, unset);
      if (Object.keys(set).length === 0 && unset.length === 0) throw badRequest('nothing to change');
      const config = await deps.releases.changeConfig(app.id, set, unset);
      const current = await deps.releases.activeRelease(app.id);
      if (!current) return { config, release: null };
      const parts = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)];
      const r = await release(
        app,
        { buildId: current.buildId, duId: current.duId, duImage: current.duImage, config, processTypes: { ...current.processTypes }, description: `Config: ${parts.join(', ')}`, createdBy: actor?.name ?? null },
        () => undefined,
      );
      return { config, release: failIfFailed(r) };
    },
    async formation(actor, name) {
      return deps.releases.getFormation((await require(actor, name, 'read')).id);
    },
    async scale(actor, name, changes) {
      const app = await require(actor, name, 'write');
      for (const [type, n] of Object.entries(changes)) {
        if (!PROCESS_TYPE.test(type)) throw badRequest(`invalid process type ${JSON.stringify(type.slice(0, 64))}`);
        if (!Number.isInteger(n) || n < 0 || n > MAX_PER_TYPE) throw badRequest(`${type}: give a whole number from 0 to ${MAX_PER_TYPE}`);
      }
      const current = await deps.releases.activeRelease(app.id);
      if (current) {
        const unknown = Object.keys(changes).filter((t) => current.processTypes[t] === undefined);
        if (unknown.length > 0) throw badRequest(`v${current.version} has no process type ${unknown.join(', ')} (it has: ${Object.keys(current.processTypes).join(', ') || 'none'})`);
      }
      const previous = await deps.releases.getFormation(app.id);
      const formation = { ...previous, ...changes };
      await deps.releases.setFormation(app.id, formation);
      if (current && !(await deps.releases.isStopped(app.id))) {
        const error = await deps.deployer.deploy(app, current, () => undefined);
        if (error) {
          await deps.releases.setFormation(app.id, previous);
          throw new AppError('conflict', `scaling failed, formation unchanged: ${error}`);
        }
      }
      return formation;
    },
    async restart(actor, name) {
      const app = await require(actor, name, 'write');
      const current = await live(app);
      const error = await deps.deployer.deploy(app, current, () => undefined);
      if (error) throw new AppError('conflict', `restart failed, the old processes keep running: ${error}`);
      return current;
    },
    async stop(actor, name) {
      const app = await require(actor, name, 'write');
      await deps.releases.setStopped(app.id, true);
      await deps.deployer.stopAll(app);
    },
    async start(actor, name) {
      const app = await require(actor, name, 'write');
      const current = await live(app);
      await deps.releases.setStopped(app.id, false);
      const error = await deps.deployer.deploy(app, current, () => undefined);
      if (error) throw new AppError('conflict', `start failed: ${error}`);
      return current;
    },
    async processes(actor, name) {
      return deps.deployer.processes(await require(actor, name, 'read'));
    },
    async logs(actor, name, options) {
      return deps.deployer.logs(await require(actor, name, 'read'), options);
    },
    url: deps.url,
    async reconfigure(app, set, unset, description, actor) {
      parseConfigChanges(set, unset);
      const config = await deps.releases.changeConfig(app.id, set, unset);
      const current = await deps.releases.activeRelease(app.id);
      if (!current) return null;
      return release(app, { buildId: current.buildId, duId: current.duId, duImage: current.duImage, config, processTypes: { ...current.processTypes }, description, createdBy: actor }, () => undefined);
    },
  };
}
