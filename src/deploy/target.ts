// A deploy target: what the deployer, the router and the release flow act on — an app itself or one
// of its pipeline environments — with an identity of its own, so two ID spaces never share one type.
import type { App } from '../db/app-store.js';
import type { Environment } from '../db/environment-store.js';
import type { Preview } from '../db/preview-store.js';
import type { Formation, Release, ReleaseStore } from '../db/release-store.js';
import { previewTargetKey } from '../previews/preview-rules.js';

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
  /** `app-<id>`, `env-<id>` or `pre-<id>`: process labels, router entries and deploy locks are keyed by it. */
  readonly key: string;
  readonly app: App;
  /** The environment deployed to; null for the app itself. */
  readonly environment: Environment | null;
  /** The preview app deployed to (decision 0020); null for the app and its environments. */
  readonly preview: Preview | null;
  /** The router host's first label and the name output uses: `<app>`, `<app>-<env>` or `<app>-<preview>`. */
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

/** The app ID an app's own target key names (`app-<id>`); undefined for any other kind of target. */
export const appIdOfTargetKey = (key: string): number | undefined => {
  const id = /^app-(\d+)$/.exec(key)?.[1];
  return id === undefined ? undefined : Number(id);
};

/** The router name of an environment: `<app>-<env>`; the app's own stays `<app>`. */
export const environmentRouterName = (app: string, env: string): string => `${app}-${env}`;

export interface Targets {
  ofApp(app: App): DeployTarget;
  ofEnvironment(app: App, env: Environment): DeployTarget;
  ofPreview(app: App, preview: Preview): DeployTarget;
  /** Every target with an active release, for re-adoption at start. */
  active(): Promise<Array<{ target: DeployTarget; release: Release }>>;
}

export function createTargets(d: {
  appReleases: ReleaseStore;
  environmentReleases: ReleaseStore;
  appById: (id: number) => Promise<App | undefined>;
  environmentById: (id: number) => Promise<Environment | undefined>;
  /** Previews' releases and rows (decision 0020); without them no preview is ever a target. */
  previewReleases?: ReleaseStore;
  previewById?: (id: number) => Promise<Preview | undefined>;
}): Targets {
  const ofApp = (app: App): DeployTarget => ({ key: appTargetKey(app.id), app, environment: null, preview: null, name: app.name, releases: bookOf(d.appReleases, app.id) });
  const ofEnvironment = (app: App, env: Environment): DeployTarget => ({
    key: `env-${env.id}`,
    app,
    environment: env,
    preview: null,
    name: environmentRouterName(app.name, env.name),
    releases: bookOf(d.environmentReleases, env.id),
  });
  const ofPreview = (app: App, preview: Preview): DeployTarget => {
    if (!d.previewReleases) throw new Error('previews are not assembled');
    return { key: previewTargetKey(preview.id), app, environment: null, preview, name: preview.routerName, releases: bookOf(d.previewReleases, preview.id) };
  };
  return {
    ofApp,
    ofEnvironment,
    ofPreview,
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
      // A doomed preview is not re-adopted: the reconciler takes it down.
      for (const release of d.previewReleases && d.previewById ? await d.previewReleases.allActive() : []) {
        const preview = await d.previewById?.(release.appId);
        const app = preview && preview.state !== 'doomed' ? await d.appById(preview.appId) : undefined;
        if (preview && app) out.push({ target: ofPreview(app, preview), release });
      }
      return out;
    },
  };
}
