// Releases as users see them: a successful build of the deploy branch becomes release vN and goes
// live; config changes and rollbacks make new releases without a build; scale, restart, stop,
// start and logs act on the live release.
import type { Readable } from 'node:stream';
import type { AppService } from '../apps/app-service.js';
import type { App } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import type { Formation, Release } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { Deployer, ProcessInfo } from './deployer.js';
import type { ReleaseFlow } from './release-flow.js';
import { RESERVED_ENV } from './process-command.js';
import type { DeployTarget, Targets } from './target.js';

export interface ReleaseService {
  /** Called by the build worker after a successful build of the deploy branch; returns an error or undefined. */
  releaseBuild(app: App, build: Build, say: (line: string) => void, asCanary?: (release: Release) => Promise<string | undefined>): Promise<string | undefined>;
  list(actor: User | null, app: string): Promise<Release[]>;
  /** The release serving now, if any. */
  live(actor: User | null, app: string): Promise<Release | undefined>;
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
const RESERVED = RESERVED_ENV;
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
  targets: Pick<Targets, 'ofApp'>;
  flow: ReleaseFlow;
  deployer: Deployer;
  /** The process types a DU declares. */
  processTypesOf: (duId: string) => Promise<Readonly<Record<string, string>> | undefined>;
  url: (name: string) => string;
  /** Processes the apps of one owner (not an admin) may run in all, and how many they run now. */
  processQuota: { readonly max: number; used(ownerId: number): Promise<number>; ownerIsAdmin(ownerId: number): Promise<boolean> };
}): ReleaseService {
  const release = (app: App, input: Parameters<ReleaseFlow['release']>[1], say: (line: string) => void): Promise<Release> => deps.flow.release(deps.targets.ofApp(app), input, say);

  const live = async (target: DeployTarget): Promise<Release> => {
    const r = await target.releases.activeRelease();
    if (!r) throw conflict(`'${target.name}' has no live release yet: push to deploy it`);
    return r;
  };

  /** The app as a deploy target, when the actor has `need` on it. */
  const require = async (actor: User | null, name: string, need: 'read' | 'write' | 'admin'): Promise<DeployTarget> => deps.targets.ofApp((await deps.apps.require(actor, name, need)).app);

  const failIfFailed = (r: Release): Release => {
    if (r.status === 'failed') throw new AppError('conflict', `release v${r.version} failed: ${r.error ?? 'unknown error'}`);
    return r;
  };

  /** A new release of the live DU with `config`: config changes and rollbacks without a build. */
  const rerelease = async (t: DeployTarget, config: Record<string, string>, description: string, actor: string | null): Promise<Release | null> => {
    const current = await t.releases.activeRelease();
    if (!current) return null;
    return release(t.app, { buildId: current.buildId, duId: current.duId, duImage: current.duImage, config, processTypes: { ...current.processTypes }, description, createdBy: actor }, () => undefined);
  };

  return {
    async releaseBuild(app, build, say, asCanary) {
      if (!build.duId || !build.duImage) return 'the build produced no deployment unit';
      const t = deps.targets.ofApp(app);
      const input = {
        buildId: build.id,
        duId: build.duId,
        duImage: build.duImage,
        config: await t.releases.getConfig(),
        processTypes: { ...((await deps.processTypesOf(build.duId)) ?? {}) },
        description: `Deploy build #${build.number} (${build.commit.slice(0, 12)})${asCanary ? ' as a canary' : ''}`,
        createdBy: null,
      };
      // A canary's release is recorded (pending) and started beside the live one, not switched to.
      if (asCanary) return asCanary(await t.releases.createRelease(input));
      const r = await release(app, input, say);
      return r.status === 'failed' ? (r.error ?? 'release failed') : undefined;
    },
    async list(actor, name) {
      return (await require(actor, name, 'read')).releases.listReleases();
    },
    async live(actor, name) {
      return (await require(actor, name, 'read')).releases.activeRelease();
    },
    async get(actor, name, version) {
      const t = await require(actor, name, 'read');
      const r = await t.releases.getRelease(version);
      if (!r) throw notFound(`'${t.name}' has no release v${version}`);
      return r;
    },
    async rollback(actor, name, version) {
      const { app, role } = await deps.apps.require(actor, name, 'write');
      const t = deps.targets.ofApp(app);
      const target = await t.releases.getRelease(version);
      if (!target) throw notFound(`'${t.name}' has no release v${version}`);
      if (target.status === 'failed') throw badRequest(`v${version} failed to deploy; roll back to a release that ran`);
      // An app admin's rollback brings back that release's config too, so later changes build on
      // it; config is the admins' alone (it holds secrets), so a write collaborator's rollback
      // brings back the DU and keeps the config as it is now.
      const current = await t.releases.getConfig();
      const config = role === 'admin' ? { ...target.config } : current;
      if (role === 'admin') await t.releases.changeConfig(target.config, Object.keys(current).filter((k) => !(k in target.config)));
      return failIfFailed(
        await release(
          t.app,
          { buildId: target.buildId, duId: target.duId, duImage: target.duImage, config, processTypes: { ...target.processTypes }, description: `Rollback to v${version}${role === 'admin' ? '' : ' (the DU; config kept)'}`, createdBy: actor?.name ?? null },
          () => undefined,
        ),
      );
    },
    async config(actor, name) {
      return (await require(actor, name, 'admin')).releases.getConfig();
    },
    async changeConfig(actor, name, set, unset) {
      const t = await require(actor, name, 'admin');
      parseConfigChanges(set, unset);
      if (Object.keys(set).length === 0 && unset.length === 0) throw badRequest('nothing to change');
      const config = await t.releases.changeConfig(set, unset);
      const parts = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)];
      const r = await rerelease(t, config, `Config: ${parts.join(', ')}`, actor?.name ?? null);
      return { config, release: r && failIfFailed(r) };
    },
    async formation(actor, name) {
      return (await require(actor, name, 'read')).releases.getFormation();
    },
    async scale(actor, name, changes) {
      const t = await require(actor, name, 'write');
      for (const [type, n] of Object.entries(changes)) {
        if (!PROCESS_TYPE.test(type)) throw badRequest(`invalid process type ${JSON.stringify(type.slice(0, 64))}`);
        if (!Number.isInteger(n) || n < 0 || n > MAX_PER_TYPE) throw badRequest(`${type}: give a whole number from 0 to ${MAX_PER_TYPE}`);
      }
      const current = await t.releases.activeRelease();
      if (current) {
        const unknown = Object.keys(changes).filter((type) => current.processTypes[type] === undefined);
        if (unknown.length > 0) throw badRequest(`v${current.version} has no process type ${unknown.join(', ')} (it has: ${Object.keys(current.processTypes).join(', ') || 'none'})`);
      }
      const previous = await t.releases.getFormation();
      const formation: Formation = { ...previous, ...changes };
      const more = Object.values(formation).reduce((a, n) => a + n, 0) - Object.values(previous).reduce((a, n) => a + n, 0);
      if (more > 0 && !(await deps.processQuota.ownerIsAdmin(t.app.ownerId))) {
        const used = await deps.processQuota.used(t.app.ownerId);
        if (used + more > deps.processQuota.max) throw new AppError('quota_exceeded', `the apps of ${t.name}'s owner would run ${used + more} processes, more than the ${deps.processQuota.max} a user may: scale something down first`);
      }
      await t.releases.setFormation(formation);
      if (current && !(await t.releases.isStopped())) {
        const error = await deps.deployer.deploy(t, current, () => undefined);
        if (error) {
          await t.releases.setFormation(previous);
          throw new AppError('conflict', `scaling failed, formation unchanged: ${error}`);
        }
      }
      return formation;
    },
    async restart(actor, name) {
      const t = await require(actor, name, 'write');
      const current = await live(t);
      const error = await deps.deployer.deploy(t, current, () => undefined);
      if (error) throw new AppError('conflict', `restart failed, the old processes keep running: ${error}`);
      return current;
    },
    async stop(actor, name) {
      const t = await require(actor, name, 'write');
      await t.releases.setStopped(true);
      await deps.deployer.stopAll(t);
    },
    async start(actor, name) {
      const t = await require(actor, name, 'write');
      const current = await live(t);
      await t.releases.setStopped(false);
      const error = await deps.deployer.deploy(t, current, () => undefined);
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
      const t = deps.targets.ofApp(app);
      return rerelease(t, await t.releases.changeConfig(set, unset), description, actor);
    },
  };
}
