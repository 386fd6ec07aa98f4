// Every way a build comes in and goes out in the server: pushes through the hook, uploads, pulls
// and webhooks; the queue, the local build slots and the tracker that releases what any worker built;
// and the upkeep around them (retention, security rebuilds, commit statuses).
import path from 'node:path';
import { createGitAccess } from '../git/git-access.js';
import { createBuildNotes } from '../git/build-notes.js';
import { createBuildControl } from '../build/queue/build-control.js';
import { createBuildQueue } from '../build/queue/build-queue.js';
import { createBuildTracker } from '../build/queue/build-tracker.js';
import { createBuildWorker } from '../build/queue/build-worker.js';
import { createBuildSources } from '../build/sources/build-sources.js';
import { createCommitStatuses } from '../build/sources/commit-status.js';
import { createPullBuilds } from '../build/sources/pull-builds.js';
import { createWebhooks } from '../build/sources/webhooks.js';
import { createRetention } from '../build/upkeep/retention.js';
import { createSecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import type { App } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import { createAffected } from '../supply-chain/affected.js';
import { createAttestations } from '../supply-chain/attestations.js';
import type { SigningKey } from '../supply-chain/signing-key.js';
import { createPushHandler } from '../hooks/push-handler.js';
import { isPreviewBuild } from '../build/queue/release-rules.js';
import { createPreviewReconciler } from '../previews/preview-reconciler.js';
import { createPreviewService } from '../previews/preview-service.js';
import { createPushSessions } from '../hooks/push-sessions.js';
import { createHookServer } from '../http/hook-server.js';
import type { Metrics } from '../metrics.js';
import type { NotificationEvent } from '../notifications/payloads.js';
import { parseAppName } from '../names.js';
import type { Addresses } from './addresses.js';
import type { Building } from './building.js';
import type { Domain } from './domain.js';
import type { Foundation } from './foundation.js';

export type Intake = ReturnType<typeof assembleIntake>;

/** The build and release states subscribers are told of, and the event each is. */
const BUILD_EVENTS: ReadonlyMap<string, NotificationEvent> = new Map([['running', 'build.started'], ['succeeded', 'build.succeeded'], ['failed', 'build.failed'], ['abandoned', 'build.failed']]);
const RELEASE_EVENTS: ReadonlyMap<string, NotificationEvent> = new Map([['active', 'release.live'], ['failed', 'release.failed'], ['canary-aborted', 'release.canary-aborted']]);

export function assembleIntake(f: Foundation, b: Building, d: Domain, o: { addresses: Addresses; metrics: Metrics; signer: SigningKey }) {
  const { config, logger, stores, containers } = f;
  const { events } = b;
  const deployRefHead = (app: App): Promise<string | null> => d.repos.refHead(app.name, `refs/heads/${app.deployBranch}`);
  const statuses = createCommitStatuses({ apps: d.apps, sources: stores.sources, buildUrl: (id) => o.addresses.buildUrl(id), logger });
  // Each finished build, and each build that went live, noted on its commit under refs/notes/solum.
  const notes = createBuildNotes({ repoPath: (app) => d.repos.pathOf(parseAppName(app)), logger });
  const reported = (build: Build): void => {
    void statuses.report(build);
    if (build.status !== 'queued' && build.status !== 'running') void notes.record(build.app, { build, buildUrl: o.addresses.buildUrl(build.id) });
  };
  // DUs released to an environment or a preview count as released too.
  const releasedAnywhere = {
    ...stores.releases,
    listReleases: async (id: number) => {
      const previewReleases = [];
      for (const p of await stores.previews.list(id, { all: true })) previewReleases.push(...(await stores.previews.releases.listReleases(p.id)));
      return [...(await stores.releases.listReleases(id)), ...(await stores.environments.releasesOfApp(id)), ...previewReleases];
    },
  };
  const retention = createRetention({ containers, apps: stores.apps, builds: stores.builds, releases: releasedAnywhere, keep: config.retention.keep, intervalMs: config.retention.intervalMs, logger });
  // Preview apps (decision 0020): the reconciler tears down what every way down doomed.
  const previewUrl = (routerName: string): string => d.router.url(routerName);
  const notifyPreview = (appId: number, facts: Parameters<typeof d.notifier.notify>[1]): Promise<void> => d.notifier.notify(appId, facts);
  const reconciler = createPreviewReconciler({
    store: stores.previews,
    containers,
    deployer: d.deployer,
    router: d.router,
    removeService: (name) => d.services.removeMade(name),
    sweepDus: () => retention.sweep(),
    notify: notifyPreview,
    appName: async (id) => (await stores.apps.findAppById(id))?.name,
    url: previewUrl,
    intervalMs: config.deploy.previewReconcileMs,
    logger,
  });
  const previews = createPreviewService({
    apps: d.apps,
    appStore: stores.apps,
    store: stores.previews,
    environmentNamed: (name) => stores.environments.findByRouterName(name),
    targets: d.targets,
    flow: d.flow,
    appConfig: (appId) => stores.releases.getConfig(appId),
    processTypesOf: async (duId) => (await containers.readDu(duId))?.processTypes,
    // Fresh instances of what the app links, named after the preview's ID (unique for ever).
    ensureServices: async (app, target, say) => {
      const id = target.preview?.id;
      if (id === undefined) return {};
      const made = new Map((await stores.previews.services(id)).map((s) => [s.envVar, s.service]));
      return d.services.freshFor(app, { key: target.key, tag: `pre${id}` }, made, (service, envVar) => stores.previews.addService(id, service, envVar), say);
    },
    url: previewUrl,
    reconcile: () => reconciler.reconcile(),
    kick: () => { reconciler.kick(); },
    notify: notifyPreview,
    processQuota: d.processQuota,
    logger,
  });
  // A preview build that failed leaves its preview on its live release, or failed.
  const onStatus = (build: Build): void => {
    reported(build);
    if (isPreviewBuild(build)) void previews.buildEnded(build).catch((err: unknown) => { logger.error({ err }, 'settling a preview after its build failed'); });
  };
  const releaseAndNote = async (app: App, build: Build, say: (line: string) => void): Promise<string | undefined> => {
    if (isPreviewBuild(build)) return previews.releaseBuild(app, build, say);
    const why = await d.releaseBuild(app, build, say);
    const live = await stores.releases.activeRelease(app.id);
    if (live?.buildId === build.id) void notes.record(app.name, { build, buildUrl: o.addresses.buildUrl(build.id), release: { version: live.version, url: d.releases.url(app.name) } });
    return why;
  };
  // Builds and releases as they change, told to the apps' notification subscribers.
  events.subscribeState((change) => {
    void (async () => {
      if (change.type === 'build' && change.id !== undefined) {
        const event = BUILD_EVENTS.get(change.status);
        const build = event ? await stores.builds.getBuild(change.id) : undefined;
        if (!event || !build) return;
        await d.notifier.notify(build.appId, { event, app: build.app, occurredAt: new Date(), build: { id: build.id, number: build.number, status: build.status, commit: build.commit, url: o.addresses.buildUrl(build.id) } });
      } else if (change.type === 'release') {
        const event = RELEASE_EVENTS.get(change.status);
        const app = event && (await stores.apps.findApp(parseAppName(change.app)));
        if (!event || !app) return;
        await d.notifier.notify(app.id, { event, app: app.name, occurredAt: new Date(), release: { version: change.number, status: change.status, url: d.releases.url(app.name) } });
      }
    })().catch((err: unknown) => { logger.error({ err }, 'notifying a state change failed'); });
  });
  // Releases every build handed over for release, and follows builds `solum worker` processes run.
  const tracker = createBuildTracker({
    builds: stores.builds,
    apps: stores.apps,
    events,
    logger,
    isLocal: (build) => build.workerId === b.workerId,
    release: releaseAndNote,
    deployRefHead,
    archivesDir: config.archivesDir,
    logMaxBytes: config.buildLogMaxBytes,
    onStatus,
    onFinished: (status, seconds) => { o.metrics.buildFinished(status, seconds); },
  });
  const worker = createBuildWorker({
    ...b.workerOptions,
    runner: b.runner,
    onReleasable: () => { tracker.notify(); },
    onFinished: (status, seconds) => { o.metrics.buildFinished(status, seconds); },
    onStatus,
  });
  const queue = createBuildQueue({
    apps: stores.apps,
    builds: stores.builds,
    archivesDir: config.archivesDir,
    notify: () => { worker.notify(); },
    onQueued: (build) => { events.state({ type: 'build', app: build.app, number: build.number, status: build.status, id: build.id }); },
  });
  const pushTtlMs = 2 * 60 * 60 * 1000;
  const pushSessions = createPushSessions({ ttlMs: pushTtlMs });
  // The longest a push's quarantine can sit untouched while its push lives: the hook starts within
  // the token's lifetime, then waits for the builds queued ahead, its own and its release.
  const maxPushIdleMs = pushTtlMs + (config.maxQueuedPerApp + 1) * config.buildLimits.timeoutMs + config.deploy.healthTimeoutMs;
  const pushHandler = createPushHandler({
    apps: stores.apps,
    builds: stores.builds,
    queue,
    events,
    logger,
    maxQueuedPerApp: config.maxQueuedPerApp,
    concurrency: config.buildConcurrency,
    deployRefHead,
    packExists: (name) => Promise.resolve(b.registry.packs().some((p) => p.name === name)),
    isAdmin: async (id) => (await stores.users.findUserById(id))?.isAdmin ?? false,
    buildUrl: (id) => o.addresses.buildUrl(id),
    previews,
  });
  const hookServer = createHookServer({ sessions: pushSessions, handler: pushHandler, logger });
  const gitAccess = createGitAccess({
    apps: stores.apps,
    repos: d.repos,
    pushSessions,
    policy: d.policy,
    hookUrl: () => hookServer.url(),
    createForPush: (user, name) => d.apps.createForPush(user, name),
    // Then the hook script hands every push to the server: another branch may build as a preview.
    hasPreviews: async (app) => {
      const s = await previews.state(app);
      return s.pattern !== null || s.branches.size > 0;
    },
  });
  const buildControl = createBuildControl({ apps: d.apps, builds: stores.builds, events, stopLocal: (id) => worker.cancel(id), removeCaches: d.removeCaches });
  const buildSources = createBuildSources({
    apps: d.apps,
    builds: stores.builds,
    queue,
    containers,
    limits: config.upload,
    nextBuildNumber: (id) => stores.apps.nextBuildNumber(id),
    release: (app, build) => d.releaseToApp(app, build, () => undefined),
    hasPipeline: async (appId) => (await stores.pipelines.pipelineOfApp(appId)) !== undefined,
  });
  const pulls = createPullBuilds({
    apps: d.apps,
    builds: stores.builds,
    sources: stores.sources,
    queue,
    repoPath: (app) => d.repos.pathOf(app.name),
    knownHostsFile: path.join(config.dataDir, 'known_hosts'),
    fetchTimeoutMs: config.fetchTimeoutMs,
  });
  const webhooks = createWebhooks({ apps: d.apps, appStore: stores.apps, sources: stores.sources, pulls, previews, url: (app) => o.addresses.webhookUrl(app), maxAgeMs: config.webhookMaxAgeMs });
  const securityRebuilds = createSecurityRebuilds({
    apps: stores.apps,
    builds: stores.builds,
    releases: stores.releases,
    packs: () => b.registry.packs(),
    imageId: (ref) => containers.imageId(ref),
    queue,
    repoPath: (app) => d.repos.pathOf(app.name),
  });
  const attestations = createAttestations({ builds: buildControl, store: stores.sboms, recorder: b.sboms, containers, signer: o.signer });
  const affected = createAffected({
    targets: d.targets,
    builds: stores.builds,
    store: stores.sboms,
    recorder: b.sboms,
    packs: () => b.registry.packs(),
    imageId: (ref) => containers.imageId(ref),
    rebuilds: securityRebuilds,
    logger,
  });
  return { tracker, worker, queue, pushHandler, previews, reconciler, hookServer, gitAccess, maxPushIdleMs, notes, buildControl, buildSources, pulls, statuses, webhooks, securityRebuilds, retention, attestations, affected };
}
