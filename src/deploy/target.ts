// A deploy target: what the deployer, the router and the release flow act on — an app itself or one
// of its pipeline environments — with an identity of its own, so two ID spaces never share one type.
import type { App } from '../db/app-store.js';
import type { Environment } from '../db/environment-store.js';
import type { Formation, Release, ReleaseStore } from '../db/release-store.js';

/** A target's releases, config vars and formation: a release store bound to one owner. */
export interface ReleaseBook {
  createRelease(input: Omit<Parameters<ReleaseStore['createRelease']>[0], 'appId'>): Promise<Release>;
  getRelease(version: number): Promise<Release | undefined>;
  listReleases(): Promise<Release[]>;
  activeRelease(): Promise<Release | undefined>;
  activate(id: number): Promise<boolean>;
  fail(id: number, error: string): Promise<boolean>;
  promote(id: number): Promise<boolean>;
  getConfig(): Promise<Record<string, string>>;
  changeConfig(set: Readonly<Record<string, string>>, unset: readonly string[]): Promise<Record<string, string>>;
  getFormation(): Promise<Formation>;
  setFormation(formation: Formation): Promise<void>;
  isStopped(): Promise<boolean>;
  setStopped(stopped: boolean): Promise<void>;
}

export interface DeployTarget {
  /** `app-<id>` or `env-<id>`: process labels, router entries and deploy locks are keyed by it. */
  readonly key: string;
  readonly app: App;
  /** The environment deployed to; null for the app itself. */
  readonly environment: Environment | null;
  /** The router host's first label and the name output uses: `<app>` or `<app>-<env>`. */
  readonly name: string;
  readonly releases: ReleaseBook;
}

export function bookOf(store: ReleaseStore, ownerId: number): ReleaseBook {
  return {
    createRelease: (input) => store.createRelease({ ...input, appId: ownerId }),
    getRelease: (version) => store.getRelease(ownerId, version),
    listReleases: () => store.listReleases(ownerId),
    activeRelease: () => store.activeRelease(ownerId),
    activate: (id) => store.activate(id),
    fail: (id, error) => store.fail(id, error),
    promote: (id) => store.promote(id),
    getConfig: () => store.getConfig(ownerId),
    changeConfig: (set, unset) => store.changeConfig(ownerId, set, unset),
    getFormation: () => store.getFormation(ownerId),
    setFormation: (formation) => store.setFormation(ownerId, formation),
    isStopped: () => store.isStopped(ownerId),
    setStopped: (stopped) => store.setStopped(ownerId, stopped),
  };
}

/** The key of an app's own target (process labels, router entries, its network). */
export const appTargetKey = (appId: number): string => `app-${appId}`;

/** The router name of an environment: `<app>-<env>`; the app's own stays `<app>`. */
export const environmentRouterName = (app: string, env: string): string => `${app}-${env}`;

export interface Targets {
  ofApp(app: App): DeployTarget;
  ofEnvironment(app: App, env: Environment): DeployTarget;
  /** Every target with an active release, for re-adoption at start. */
  active(): Promise<Array<{ target: DeployTarget; release: Release }>>;
}

export function createTargets(d: {
  appReleases: ReleaseStore;
  environmentReleases: ReleaseStore;
  appById: (id: number) => Promise<App | undefined>;
  environmentById: (id: number) => Promise<Environment | undefined>;
}): Targets {
  const ofApp = (app: App): DeployTarget => ({ key: appTargetKey(app.id), app, environment: null, name: app.name, releases: bookOf(d.appReleases, app.id) });
  const ofEnvironment = (app: App, env: Environment): DeployTarget => ({
    key: `env-${env.id}`,
    app,
    environment: env,
    name: environmentRouterName(app.name, env.name),
    releases: bookOf(d.environmentReleases, env.id),
  });
  return {
    ofApp,
    ofEnvironment,
    async active() {
      const out: Array<{ target: DeployTarget; release: Release }> = [];
      for (const release of await d.appReleases.allActive()) {
        const app = await d.appById(release.appId);
        if (app) out.push({ target: ofApp(app), release });
      }
      for (const release of await d.environmentReleases.allActive()) {
        const env = await d.environmentById(release.appId);
        const app = env && (await d.appById(env.appId));
        if (env && app) out.push({ target: ofEnvironment(app, env), release });
      }
      return out;
    },
  };
}
