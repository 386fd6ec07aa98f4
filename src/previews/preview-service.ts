// Preview apps (decision 0020) as users and pushes see them: a pushed branch gets (or updates) its
// preview, a target of its own released through the same release flow as the app; settings per
// app; listing and destroying. Every way down only dooms a preview: the reconciler
// (preview-reconciler.ts) takes everything it holds away.
import type { AppService } from '../apps/app-service.js';
import type { App, AppStore } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import type { Preview, PreviewSettings, PreviewStore } from '../db/preview-store.js';
import type { User } from '../db/user-store.js';
import type { Release } from '../db/release-store.js';
import type { ReleaseFlow } from '../deploy/release-flow.js';
import { parseConfigChanges } from '../deploy/release-service.js';
import type { DeployTarget, Targets } from '../deploy/target.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseAppName } from '../names.js';
import type { NotificationFacts } from '../notifications/payloads.js';
import { expiresAt, MAX_PREVIEW_NAME, parseTtl, previewOfRef, previewPatternProblem, previewRouterName, routerNameClash } from './preview-rules.js';

/** A preview as listed: its row, where it answers, when it expires idle, its live release. */
export interface PreviewInfo {
  readonly preview: Preview;
  readonly url: string;
  readonly expiresAt: Date;
  readonly release: number | null;
}

/** What `previews:settings` may change; absent keys stay. */
export interface PreviewSettingsChanges {
  /** A branch glob, or `off` / empty for none. */
  readonly pattern?: string | undefined;
  /** Whether pull requests (by webhook) become previews. */
  readonly pullRequests?: boolean | undefined;
  /** `3d`, `12h`, `30m`, `45s` or seconds. */
  readonly ttl?: string | undefined;
  readonly maxPreviews?: number | undefined;
}

/** The push handler's side of previews. */
export interface PushPreviews {
  /** The app's preview pattern and the branches that have a preview now. */
  state(app: App): Promise<{ pattern: string | null; branches: ReadonlySet<string> }>;
  /**
   * The preview a branch (`refs/heads/<b>`) or a pull request (`refs/pull/<n>/head`) builds: made
   * (state building) or, when it exists, its idle clock restarted; or why not, with nothing changed.
   */
  prepare(app: App, ref: string): Promise<{ preview: Preview; created: boolean } | { refused: string }>;
  /** Takes back a preview `prepare` made for a push that was then refused. */
  abandon(preview: Preview): Promise<void>;
  /** A push's build failed: a preview made for it goes again; one that existed keeps serving its live release, if any. */
  buildFailed(preview: Preview, created: boolean): Promise<void>;
  /** Dooms the previews of deleted branches and wakes the reconciler; their names. */
  doomBranches(app: App, branches: readonly string[]): Promise<string[]>;
  url(preview: Preview): string;
}

export interface PreviewService extends PushPreviews {
  /** Whether the app's settings make its pull requests previews. */
  pullRequestsAllowed(app: App): Promise<boolean>;
  /** A closed pull request's preview is doomed (the reconciler takes it down); its name, if it had one. */
  closePullRequest(app: App, ref: string): Promise<string | undefined>;
  list(actor: User | null, app: string): Promise<PreviewInfo[]>;
  /** Dooms the preview and waits for the reconciler's pass that tears it down. */
  destroy(actor: User | null, app: string, name: string): Promise<Preview>;
  settings(actor: User | null, app: string): Promise<PreviewSettings>;
  configure(actor: User | null, app: string, changes: PreviewSettingsChanges): Promise<PreviewSettings>;
  /** A preview's own config vars: set over the app's copy at every release of it. */
  config(actor: User | null, app: string, name: string): Promise<Record<string, string>>;
  /** Sets and unsets a preview's own config vars: a new release of it when it runs one. */
  changeConfig(actor: User | null, app: string, name: string, set: Record<string, string>, unset: string[]): Promise<{ config: Record<string, string>; release: Release | null }>;
  /** A preview build that ended without success: its preview keeps its live release (up), or has none (failed). */
  buildEnded(build: Build): Promise<void>;
  /** Releases a preview build to its preview; an error, or undefined once it is live. */
  releaseBuild(app: App, build: Build, say: (line: string) => void): Promise<string | undefined>;
}

const NAME = new RegExp(`^[a-z0-9](?:[a-z0-9-]{0,${MAX_PREVIEW_NAME - 2}}[a-z0-9])?$`);

export function createPreviewService(d: {
  apps: AppService;
  appStore: Pick<AppStore, 'findApp'>;
  store: PreviewStore;
  /** A pipeline environment answering to a router name. */
  environmentNamed: (routerName: string) => Promise<unknown>;
  targets: Pick<Targets, 'ofPreview'>;
  flow: ReleaseFlow;
  /** The app's own config: a preview's starts as a copy of it. */
  appConfig: (appId: number) => Promise<Record<string, string>>;
  processTypesOf: (duId: string) => Promise<Readonly<Record<string, string>> | undefined>;
  /** Fresh instances of the services the app links, for a preview (their config vars); none when the app links none. */
  ensureServices?: (app: App, target: DeployTarget, say: (line: string) => void) => Promise<Record<string, string>>;
  url: (routerName: string) => string;
  /** A teardown pass of the reconciler, run now (after those already asked for). */
  reconcile: () => Promise<void>;
  /** Wakes the reconciler without waiting for it. */
  kick: () => void;
  notify: (appId: number, facts: NotificationFacts) => Promise<void>;
  /** The owner's process quota: a new preview runs a web process of its own. */
  processQuota?: { readonly max: number; used(ownerId: number): Promise<number>; ownerIsAdmin(ownerId: number): Promise<boolean> };
  logger: Logger;
}): PreviewService {
  const log = d.logger.child({ component: 'previews' });
  const url = (p: Preview): string => d.url(p.routerName);

  const parseName = (raw: string): string => {
    if (!NAME.test(raw)) throw badRequest(`${JSON.stringify(raw.slice(0, 40))} is not a preview name: previews are named by their branch's slug (a-z, 0-9 and -, at most ${MAX_PREVIEW_NAME})`);
    return raw;
  };

  const clashOf = async (app: App, routerName: string): Promise<string | undefined> => {
    let appNamed = false;
    try {
      appNamed = (await d.appStore.findApp(parseAppName(routerName))) !== undefined;
    } catch {
      // Not an app name at all: no app can take it.
    }
    const owner = await d.store.byRouterName(routerName);
    return routerNameClash(routerName, { app: appNamed, environment: (await d.environmentNamed(routerName)) !== undefined, previewOf: owner && owner.appId !== app.id ? 'another app' : null }, app.name);
  };

  const prepare: PushPreviews['prepare'] = async (app, ref) => {
    let of: ReturnType<typeof previewOfRef>;
    try {
      of = previewOfRef(ref);
    } catch (err) {
      if (err instanceof AppError) return { refused: err.message };
      throw err;
    }
    const { name, branch } = of;
    const existing = await d.store.find(app.id, name);
    if (existing) {
      if (existing.branch !== branch) return { refused: `the preview ${name} is branch ${existing.branch}'s: ${branch} would share its name; push it under another name` };
      if (existing.state === 'doomed') return { refused: `the preview ${name} is being torn down: push again once it is gone` };
      await d.store.touch(existing.id);
      return { preview: existing, created: false };
    }
    const settings = await d.store.settings(app.id);
    const count = (await d.store.list(app.id)).length;
    if (count >= settings.maxPreviews) return { refused: `${app.name} has ${count} preview${count === 1 ? '' : 's'}, the most its settings allow: destroy one (previews:destroy ${app.name} NAME) or raise the maximum (previews:settings:set ${app.name} --max N)` };
    const routerName = previewRouterName(app.name, name);
    if (routerName.length > 63) return { refused: `${routerName} is longer than a host name's 63 characters: push the branch under a shorter name` };
    const clash = await clashOf(app, routerName);
    if (clash) return { refused: clash };
    const q = d.processQuota;
    if (q && !(await q.ownerIsAdmin(app.ownerId))) {
      const used = await q.used(app.ownerId);
      if (used + 1 > q.max) return { refused: `the apps of ${app.name}'s owner would run ${used + 1} processes with this preview, more than the ${q.max} a user may: destroy a preview or scale something down` };
    }
    const created = await d.store.create({ appId: app.id, name, branch, routerName, source: of.pullRequest === null ? 'push' : 'pull-request' });
    if (created === 'duplicate') return { refused: `${routerName} was taken a moment ago: its host is not this preview's to take` };
    log.info({ app: app.name, preview: name, id: created.id }, 'preview created');
    return { preview: created, created: true };
  };

  /** The preview, when the actor has `need` on its app. */
  const previewOf = async (actor: User | null, appName: string, rawName: string, need: 'read' | 'write' | 'admin'): Promise<{ app: App; preview: Preview }> => {
    const { app } = await d.apps.require(actor, appName, need);
    const name = parseName(rawName);
    const p = await d.store.find(app.id, name);
    if (!p || p.state === 'doomed') throw notFound(`${app.name} has no preview ${name}${p ? ' (it is being torn down)' : ''}`);
    return { app, preview: p };
  };

  /**
   * A release of a DU on a preview: the app's config (not for a pull request's: its code is not the
   * app's collaborators', so it never sees the app's secrets), then the preview's fresh services,
   * then the preview's own config vars. It is up while a release of it serves (a failed one
   * leaves the one before serving), failed when none does.
   */
  const releaseOn = async (app: App, preview: Preview, du: { buildId: number | null; duId: string; duImage: string; processTypes: Record<string, string> }, description: string, actor: string | null, say: (line: string) => void): Promise<Release | string> => {
    const target = d.targets.ofPreview(app, preview);
    let serviceConfig: Record<string, string> = {};
    try {
      serviceConfig = d.ensureServices ? await d.ensureServices(app, target, say) : {};
    } catch (err) {
      const message = err instanceof AppError ? err.message : 'preparing the preview\'s services failed';
      log.warn({ err, preview: preview.name }, 'preparing a preview\'s services failed');
      say(`!     ${message}`);
      await d.store.setState(preview.id, (await target.releases.activeRelease()) ? 'up' : 'failed');
      return message;
    }
    const copied = preview.source === 'pull-request' ? {} : await d.appConfig(app.id);
    const config = { ...copied, ...serviceConfig, ...(await target.releases.getConfig()) };
    const release = await d.flow.release(target, { ...du, config, description, createdBy: actor }, say);
    await d.store.setState(preview.id, release.status !== 'failed' || (await target.releases.activeRelease()) ? 'up' : 'failed');
    return release;
  };

  const doomed = async (p: Preview, why: string): Promise<boolean> => {
    const did = await d.store.doom(p.id);
    if (did) log.info({ preview: p.name, id: p.id, why }, 'preview doomed');
    return did;
  };

  return {
    async state(app) {
      const settings = await d.store.settings(app.id);
      return { pattern: settings.pattern, branches: new Set((await d.store.list(app.id)).filter((p) => p.source === 'push').map((p) => p.branch)) };
    },
    prepare,
    async abandon(p) {
      if (await doomed(p, 'its push was refused')) d.kick();
    },
    async buildFailed(p, created) {
      if (created) {
        if (await doomed(p, 'its first build failed')) d.kick();
        return;
      }
      await d.store.setState(p.id, (await d.store.releases.activeRelease(p.id)) ? 'up' : 'failed');
    },
    async doomBranches(app, branches) {
      const out: string[] = [];
      for (const p of await d.store.list(app.id)) if (branches.includes(p.branch) && (await doomed(p, 'its branch was deleted'))) out.push(p.name);
      if (out.length > 0) d.kick();
      return out;
    },
    url,
    async list(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      const settings = await d.store.settings(app.id);
      const out: PreviewInfo[] = [];
      for (const p of await d.store.list(app.id)) {
        const live = await d.store.releases.activeRelease(p.id);
        out.push({ preview: p, url: url(p), expiresAt: expiresAt(p.lastPushAt, settings.ttlSeconds), release: live?.version ?? null });
      }
      return out;
    },
    async destroy(actor, appName, rawName) {
      const { preview: p } = await previewOf(actor, appName, rawName, 'write');
      await doomed(p, 'destroyed');
      await d.reconcile();
      return (await d.store.byId(p.id)) ?? { ...p, state: 'doomed' };
    },
    async config(actor, appName, name) {
      // Config holds secrets: the app admins', as the app's own is.
      const { preview } = await previewOf(actor, appName, name, 'admin');
      return d.store.releases.getConfig(preview.id);
    },
    async changeConfig(actor, appName, name, set, unset) {
      const { app, preview } = await previewOf(actor, appName, name, 'admin');
      parseConfigChanges(set, unset);
      if (Object.keys(set).length === 0 && unset.length === 0) throw badRequest('nothing to change');
      const config = await d.store.releases.changeConfig(preview.id, set, unset);
      const current = await d.store.releases.activeRelease(preview.id);
      if (!current) return { config, release: null };
      const parts = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)];
      const r = await releaseOn(app, preview, { buildId: current.buildId, duId: current.duId, duImage: current.duImage, processTypes: { ...current.processTypes } }, `Config: ${parts.join(', ')}`, actor?.name ?? null, () => undefined);
      if (typeof r === 'string') throw new AppError('conflict', `the preview's release failed: ${r}`);
      if (r.status === 'failed') throw new AppError('conflict', `release v${r.version} of preview ${preview.name} failed: ${r.error ?? 'unknown error'}`);
      return { config, release: r };
    },
    async settings(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      return d.store.settings(app.id);
    },
    async configure(actor, appName, changes) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      const next: { -readonly [K in keyof PreviewSettings]?: PreviewSettings[K] } = {};
      if (changes.pattern !== undefined) {
        const off = changes.pattern === '' || changes.pattern === 'off';
        const problem = off ? undefined : previewPatternProblem(changes.pattern);
        if (problem) throw badRequest(problem);
        next.pattern = off ? null : changes.pattern;
      }
      if (changes.ttl !== undefined) next.ttlSeconds = parseTtl(changes.ttl);
      if (changes.pullRequests !== undefined) next.pullRequests = changes.pullRequests;
      if (changes.maxPreviews !== undefined) {
        if (!Number.isInteger(changes.maxPreviews) || changes.maxPreviews < 0 || changes.maxPreviews > 100) throw badRequest('max previews is a whole number from 0 to 100');
        next.maxPreviews = changes.maxPreviews;
      }
      if (Object.keys(next).length === 0) throw badRequest('nothing to change: give a pattern, pull requests, a ttl or a maximum');
      return d.store.setSettings(app.id, next);
    },
    async pullRequestsAllowed(app) {
      return (await d.store.settings(app.id)).pullRequests;
    },
    async closePullRequest(app, ref) {
      const { name } = previewOfRef(ref);
      const p = await d.store.find(app.id, name);
      if (!p || p.source !== 'pull-request' || !(await doomed(p, 'its pull request was closed'))) return undefined;
      d.kick();
      return p.name;
    },
    async buildEnded(build) {
      if (build.status === 'succeeded' || build.status === 'queued' || build.status === 'running') return;
      let p: Preview | undefined;
      try {
        p = await d.store.find(build.appId, previewOfRef(build.ref).name);
      } catch {
        return;
      }
      if (p?.state === 'building') await d.store.setState(p.id, (await d.store.releases.activeRelease(p.id)) ? 'up' : 'failed');
    },
    async releaseBuild(app, build, say) {
      let found: Preview | undefined;
      let branch = build.ref;
      try {
        const of = previewOfRef(build.ref);
        branch = of.branch;
        found = await d.store.find(app.id, of.name);
      } catch {
        found = undefined;
      }
      if (!found || found.branch !== branch || found.state === 'doomed') {
        say(`!     The preview of ${branch} is gone (destroyed or being torn down): not released`);
        return 'the preview is gone';
      }
      const preview = found;
      if (!build.duId || !build.duImage) return 'the build produced no deployment unit';
      const release = await releaseOn(
        app,
        preview,
        { buildId: build.id, duId: build.duId, duImage: build.duImage, processTypes: { ...((await d.processTypesOf(build.duId)) ?? {}) } },
        `Deploy build #${build.number} (${build.commit.slice(0, 12)}) of ${branch}`,
        null,
        say,
      );
      if (typeof release === 'string') return release;
      if (release.status === 'failed') return release.error ?? 'release failed';
      say(`-----> Preview ${preview.name} of ${app.name} (${branch}): ${url(preview)}`);
      // Doomed while it deployed: the reconciler takes down what this release started.
      if ((await d.store.byId(preview.id))?.state !== 'up') d.kick();
      else void d.notify(app.id, { event: 'preview.up', app: app.name, occurredAt: new Date(), preview: { name: preview.name, branch, url: url(preview) } });
      return undefined;
    },
  };
}
