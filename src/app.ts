// Composition root: builds every long-lived object once and passes dependencies explicitly.
import fs from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccountService } from './access/account-service.js';
import { createAuthenticator } from './access/authenticator.js';
import { createAppService, type AppService } from './apps/app-service.js';
import { ensureAdmin } from './access/bootstrap.js';
import type { PolicySettings } from './access/policy.js';
import { createBuildControl } from './build/queue/build-control.js';
import { createBuildEvents } from './build/queue/build-events.js';
import { createBuildQueue } from './build/queue/build-queue.js';
import { createBuildRunner } from './build/runner/build-runner.js';
import { createBuildWorker, newWorkerId } from './build/queue/build-worker.js';
import { createBuildTracker } from './build/queue/build-tracker.js';
import { remoteArchives } from './build/queue/remote-archive.js';
import { workerArchiveMiddleware } from './http/worker-archive.js';
import { createSecurityRebuilds } from './build/upkeep/security-rebuilds.js';
import { createRetention } from './build/upkeep/retention.js';
import { createPackRegistry } from './build/packs/pack-registry.js';
import { createPackStore } from './db/pack-store.js';
import { createBuildpackArchives } from './build/packs/buildpack-archives.js';
import { createBuildpackStore } from './db/buildpack-store.js';
import { createBuildSources } from './build/sources/build-sources.js';
import { createPullBuilds } from './build/sources/pull-builds.js';
import { createWebhooks } from './build/sources/webhooks.js';
import { createCommitStatuses, type CommitStatuses } from './build/sources/commit-status.js';
import { createSourceStore } from './db/source-store.js';
import { createDockerEngine } from './containers/docker-engine.js';
import { loadStockPacks } from './build/packs/language-packs.js';
import type { ContainerEngine } from './containers/container-engine.js';
import type { Config } from './config.js';
import type { App } from './db/app-store.js';
import type { ReleaseService } from './deploy/release-service.js';
import { createAppStore } from './db/app-store.js';
import { createBuildStore, type Build } from './db/build-store.js';
import { createDatabase, type Database } from './db/database.js';
import { createSettingsStore } from './db/settings-store.js';
import { createUserStore } from './db/user-store.js';
import { createGitAccess } from './git/git-access.js';
import { loadOrCreateHostKey } from './git/host-key.js';
import { gitHttpMiddleware } from './git/http-transport.js';
import { createRepoStore } from './git/repo-store.js';
import { createSshCommands } from './git/ssh-commands.js';
import { createSshTransport } from './git/ssh-transport.js';
import { hookScript } from './hooks/hook-installer.js';
import { createPushHandler } from './hooks/push-handler.js';
import { createPushSessions } from './hooks/push-sessions.js';
import { createDeployer, type Deployer } from './deploy/deployer.js';
import { createPortAllocator } from './deploy/ports.js';
import { createServiceStore } from './db/service-store.js';
import { createServiceManager, parseServiceKind } from './services/service-manager.js';
import { createReleaseService } from './deploy/release-service.js';
import { createRouter } from './deploy/router.js';
import { createReleaseStore, type ReleaseStore } from './db/release-store.js';
import { createApiApp } from './http/api.js';
import { createHookServer } from './http/hook-server.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createEnvironmentStore } from './db/environment-store.js';
import { createPipelineStore } from './db/pipeline-store.js';
import { createPipelineService } from './pipelines/pipeline-service.js';
import type { BuildRunner } from './build/runner/build-runner.js';

export interface Solum {
  start(): Promise<{ httpPort: number; sshPort: number; routerPort: number }>;
  stop(): Promise<void>;
}

export interface SolumOverrides {
  /** A different container engine (tests of worker logic only). */
  readonly engine?: ContainerEngine;
  readonly policy?: PolicySettings;
}

export async function createSolum(config: Config, logger: Logger, overrides: SolumOverrides = {}): Promise<Solum> {
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(config.archivesDir, { recursive: true, mode: 0o700 });
  const db = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await db.migrate();
  const installation = await createSettingsStore(db.knex).installationId();
  const users = createUserStore(db.knex);
  const apps = createAppStore(db.knex);
  const builds = createBuildStore(db.knex);
  const releaseStore = createReleaseStore(db.knex);
  const policy = overrides.policy ?? { createAppsOnPush: config.createAppsOnPush };
  const authenticator = createAuthenticator({ users });
  const repos = createRepoStore({ reposDir: config.reposDir, hookScript: hookScript() });
  const pushTtlMs = 2 * 60 * 60 * 1000;
  const pushSessions = createPushSessions({ ttlMs: pushTtlMs });
  // The longest a push's quarantine can sit untouched while its push lives: the hook starts within
  // the token's lifetime, then waits for the builds queued ahead, its own and its release.
  const maxPushIdleMs = pushTtlMs + (config.maxQueuedPerApp + 1) * config.buildLimits.timeoutMs + config.deploy.healthTimeoutMs;
  const engine = overrides.engine ?? createDockerEngine({ dockerHost: config.dockerHost });
  const metrics = createMetrics({ defaultMetrics: true });
  metrics.gauge('solum_build_queue_depth', 'Builds waiting to start', () => builds.queuedCount());
  metrics.gauge('solum_builds_running', 'Builds running', () => builds.runningCount());
  metrics.gauge('solum_ssh_sessions_active', 'SSH channels running a command', () => ssh?.activeSessions() ?? 0);
  const { registry, runner: baseRunner, buildpackArchives } = await buildingParts(config, logger, db, engine, installation);
  const packExists = (name: string): Promise<boolean> => Promise.resolve(registry.packs().some((p) => p.name === name));
  const events = createBuildEvents();
  const workerId = newWorkerId();
  let notify = (): void => undefined;
  const queue = createBuildQueue({
    apps,
    builds,
    archivesDir: config.archivesDir,
    notify: () => { notify(); },
    onQueued: (b) => { events.state({ type: 'build', app: b.app, number: b.number, status: b.status, id: b.id }); },
  });
  // Wrapped by the pipeline service once it exists (below): an app's pipeline runs around its builds.
  let pipelinedRunner: BuildRunner = baseRunner;
  const runner: BuildRunner = (input) => pipelinedRunner(input);
  const removeCaches = (app: string): Promise<number> => engine.removeVolumes({ 'io.solum.installation': installation, 'io.solum.app': app, 'io.solum.role': 'build-cache' });
  const deployRefHead = (app: App): Promise<string | null> => repos.refHead(app.name, `refs/heads/${app.deployBranch}`);
  const router = createRouter({ bind: config.bind, port: config.router.port, domain: config.router.domain, logger });
  // One allocator for app processes and backing services: both listen on host loopback ports.
  const ports = createPortAllocator(config.deploy.ports);
  // Apps and their pipelines' environments deploy alike, each over its own releases.
  const deployerOver = (releases: ReleaseStore): Deployer =>
    createDeployer({
      engine,
      releases,
      router,
      ports,
      installation,
      logger,
      memoryBytes: config.deploy.memoryBytes,
      graceMs: config.deploy.graceMs,
      healthTimeoutMs: config.deploy.healthTimeoutMs,
    });
  const deployer = deployerOver(releaseStore);
  let releaseBuild: ReleaseService['releaseBuild'] = () => Promise.resolve(undefined);
  // Built once the app service exists; the worker only calls it after start.
  let statuses: CommitStatuses = { configure: () => Promise.reject(new Error('not ready')), report: () => Promise.resolve() };
  const worker = createBuildWorker({
    builds,
    apps,
    runner,
    events,
    ...workerSettings(config, logger, engine, installation, workerId),
    onReleasable: () => { tracker.notify(); },
    onFinished: (status, seconds) => { metrics.buildFinished(status, seconds); },
    onStatus: (build) => { void statuses.report(build); },
  });
  // Releases every build handed over for release, and follows builds `solum worker` processes run.
  const tracker = createBuildTracker({
    builds,
    apps,
    events,
    logger,
    isLocal: (b) => b.workerId === workerId,
    release: (app, build, say) => releaseBuild(app, build, say),
    deployRefHead,
    archivesDir: config.archivesDir,
    logMaxBytes: config.buildLogMaxBytes,
    onStatus: (build) => { void statuses.report(build); },
    onFinished: (status, seconds) => { metrics.buildFinished(status, seconds); },
  });
  notify = () => { worker.notify(); };
  // The API's real port (it may be 0 in the config), for links printed to pushers.
  const httpPort = (): number => (httpServer.address() as AddressInfo | null)?.port ?? config.httpPort;
  const pushHandler = createPushHandler({ apps, builds, queue, events, logger, maxQueuedPerApp: config.maxQueuedPerApp, concurrency: config.buildConcurrency,
    deployRefHead,
    packExists,
    isAdmin: async (id) => (await users.findUserById(id))?.isAdmin ?? false,
    buildUrl: (id) => `http://${config.publicHost}:${String(httpPort())}/v1/builds/${id}`,
  });
  const hookServer = createHookServer({ sessions: pushSessions, handler: pushHandler, logger });
  const access = createGitAccess({ apps, repos, pushSessions, policy, hookUrl: () => hookServer.url() });
  const accounts = createAccountService({ users, policy, ownedApps: async (id) => (await apps.listOwnedBy(id)).map((a) => a.name) });
  const appService = createAppService({
    apps,
    builds,
    users,
    repos,
    policy,
    stopProcesses: async (app) => {
      await deployer.stopAll(app);
      await pipelines.stopEnvironments(app);
    },
    packExists,
    removeImages: async (app) => {
      await engine.removeImages({ 'io.solum.installation': installation, 'io.solum.app': app });
      await removeCaches(app);
    },
  });
  const releases = createReleaseService({
    apps: appService,
    releases: releaseStore,
    deployer,
    imageProcessTypes: async (duId) => {
      const labels = await engine.imageLabels(duId);
      return labels?.['io.solum.process-types'] ? (JSON.parse(labels['io.solum.process-types']) as Record<string, string>) : undefined;
    },
    url: (app) => router.url(app),
    logger,
    onRelease: (app, r) => { events.state({ type: 'release', app, number: r.version, status: r.status }); },
    beforeRelease: (app, build, say) => ensureManifestServices(app, build, say),
  });
  // Pipelines: environments deploy through a deployer of their own over the environments' releases.
  const environments = createEnvironmentStore(db.knex);
  const pipelines = createPipelineService({
    apps: appService,
    appStore: apps,
    store: createPipelineStore(db.knex),
    environments,
    deployer: deployerOver(environments.releases),
    engine,
    installation,
    packs: () => registry.packs(),
    caBundle: config.builderNetwork.caBundle,
    limits: config.buildLimits,
    url: (name) => router.url(name),
    routerAddress: () => `http://${config.bind === '0.0.0.0' || config.bind === '::' ? '127.0.0.1' : config.bind}:${new URL(router.url('x')).port}/`,
    runUrl: (id) => `http://${config.publicHost}:${String(httpPort())}/v1/pipeline-runs/${id}`,
    events,
    logger,
  });
  pipelinedRunner = pipelines.wrapRunner(baseRunner);
  // A build that belongs to a pipeline run advances the run instead of releasing to the app itself.
  releaseBuild = async (app, build, say) => {
    const run = await pipelines.runOfBuild(build.id);
    return run ? pipelines.advance(run.id, say) : releases.releaseBuild(app, build, say);
  };
  const services = createServiceManager({
    store: createServiceStore(db.knex),
    engine,
    apps: appService,
    appById: (id) => apps.findAppById(id),
    ports,
    installation,
    logger,
    configOf: (appId) => releaseStore.getConfig(appId),
    reconfigure: (app, set, unset, description, actor) => releases.reconfigure(app, set, unset, description, actor),
    setConfig: async (appId, set) => { await releaseStore.changeConfig(appId, set, []); },
  });
  // solum.yaml `services: [postgres]`: the DU's manifest label says which kinds the app needs.
  async function ensureManifestServices(app: App, build: Build, say: (line: string) => void): Promise<void> {
    const labels = build.duId ? await engine.imageLabels(build.duId) : undefined;
    const wanted = (JSON.parse(labels?.['io.solum.manifest'] ?? '{}') as { services?: string[] }).services ?? [];
    if (wanted.length > 0) await services.ensureForApp(app, wanted.map(parseServiceKind), say);
  }
  const buildControl = createBuildControl({ apps: appService, builds, events, stopLocal: (id) => worker.cancel(id), removeCaches });
  const buildSources = createBuildSources({
    apps: appService,
    builds,
    queue,
    engine,
    installation,
    limits: config.upload,
    nextBuildNumber: (id) => apps.nextBuildNumber(id),
    release: (app, build) => releases.releaseBuild(app, build, () => undefined),
  });
  const sources = createSourceStore(db.knex);
  const pulls = createPullBuilds({
    apps: appService,
    builds,
    sources,
    queue,
    repoPath: (app) => repos.pathOf(app.name),
    knownHostsFile: path.join(config.dataDir, 'known_hosts'),
    fetchTimeoutMs: config.fetchTimeoutMs,
  });
  statuses = createCommitStatuses({ apps: appService, sources, buildUrl: (id) => `http://${config.publicHost}:${String(httpPort())}/v1/builds/${id}`, logger });
  const webhooks = createWebhooks({ apps: appService, appStore: apps, sources, pulls, url: (app) => `http://${config.publicHost}:${String(httpPort())}/v1/apps/${app}/webhook` });
  const securityRebuilds = createSecurityRebuilds({
    apps,
    builds,
    releases: releaseStore,
    packs: () => registry.packs(),
    imageId: (ref) => engine.imageId(ref),
    queue,
    repoPath: (app) => repos.pathOf(app.name),
  });
  // DUs released to an environment count as released too.
  const releasedAnywhere = { ...releaseStore, listReleases: async (id: number) => [...(await releaseStore.listReleases(id)), ...(await environments.releasesOfApp(id))] };
  const retention = createRetention({ engine, apps, builds, releases: releasedAnywhere, installation, keep: config.retention.keep, intervalMs: config.retention.intervalMs, logger });
  const commands = createSshCommands({ services, pipelines, securityRebuilds, pulls, retention, registry, accounts, apps: appService, builds, releases, buildControl });
  const api = createApiApp({
    authenticator,
    accounts,
    appService,
    releases,
    buildControl,
    securityRebuilds,
    buildSources,
    pulls,
    webhooks,
    statuses,
    retention,
    registry,
    services,
    buildpackArchives,
    users,
    builds,
    pipelines,
    logger,
    internal: workerArchiveMiddleware({ token: config.workerToken, builds, archivesDir: config.archivesDir }),
    git: gitHttpMiddleware({ authenticator, access, logger, onPush: (_app, bytes) => { metrics.push('http', bytes); } }),
    metrics,
    events,
    rootDir: config.rootDir,
    checks: {
      database: async () => {
        await db.knex.raw('select 1');
      },
      docker: () => engine.ping(),
    },
  });
  const handle = api.callback();
  const httpServer = http.createServer((req, res) => { void handle(req, res); });
  // Pushes upload for as long as they need and then wait for their build: Node's 300 s request
  // timeout would cut them off. Headers must still arrive promptly.
  httpServer.requestTimeout = 0;
  httpServer.headersTimeout = 30_000;
  let ssh: ReturnType<typeof createSshTransport> | undefined;

  const startAll = async (): Promise<{ httpPort: number; sshPort: number; routerPort: number }> => {
    const admin = await ensureAdmin(users, config.dataDir);
    if (admin.created) logger.info({ tokenFile: admin.tokenFile }, 'created user admin; its API token is in the token file');
    const hostKey = await loadOrCreateHostKey(config.dataDir);
    logger.info({ fingerprint: hostKey.fingerprint, created: hostKey.created }, 'ssh host key');
    const hooks = await repos.reinstallHooks();
    const staleQuarantines = await repos.removeStaleQuarantines(maxPushIdleMs);
    const hookUrl = await hookServer.start();
    logger.debug({ hookUrl }, 'hook endpoint listening on loopback');
    const routerPort = await router.start();
    await services.adopt();
    await deployer.adopt((id) => apps.findAppById(id));
    await pipelines.start();
    await worker.start();
    await tracker.start();
    retention.start();
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.httpPort, config.bind, resolve);
    });
    const httpPort = (httpServer.address() as AddressInfo).port;
    ssh = createSshTransport({ hostKey: hostKey.privateKey, bind: config.bind, port: config.sshPort, authenticator, access, commands, logger, onPush: (bytes) => { metrics.push('ssh', bytes); } });
    const sshPort = await ssh.start();
    logger.info({ httpPort, sshPort, routerPort, bind: config.bind, database: db.dialect, repos: hooks, staleQuarantines, packs: registry.packs().map((p) => p.name) }, 'solum started');
    logger.debug({ installation }, 'installation');
    return { httpPort, sshPort, routerPort };
  };

  const stopAll = async (): Promise<void> => {
    // New work stops first; running builds finish and their pushes get their answer; then the rest.
    retention.stop();
    await ssh?.stop();
    const closed = new Promise<void>((resolve) => httpServer.close(() => { resolve(); }));
    httpServer.closeIdleConnections();
    await worker.stop();
    await tracker.stop();
    await hookServer.stop();
    // App processes keep running; the next start re-adopts them.
    await router.stop();
    httpServer.closeAllConnections();
    await closed;
    await db.close();
  };

  return {
    async start() {
      try {
        return await startAll();
      } catch (err) {
        // Whatever started before the failure is stopped, so a failed start leaves nothing running.
        await stopAll().catch(() => undefined);
        throw err;
      }
    },
    stop: stopAll,
  };
}

/** What both a server and a `solum worker` build with: the pack registry and the build runner. */
async function buildingParts(config: Config, logger: Logger, db: Database, engine: ContainerEngine, installation: string) {
  const apps = createAppStore(db.knex);
  const builds = createBuildStore(db.knex);
  const registry = createPackRegistry({
    stock: await loadStockPacks(config.languagePacksDir),
    store: createPackStore(db.knex),
    apps,
    builds,
    imageId: (ref) => engine.imageId(ref),
    engine,
    installation,
    buildArgs: { BASE_IMAGE: config.baseImage },
    logger,
  });
  await registry.load();
  const releaseStore = createReleaseStore(db.knex);
  // Buildpacks admins upload live on the server's disk: a worker elsewhere builds only with git URLs.
  const buildpackArchives = createBuildpackArchives({ store: createBuildpackStore(db.knex), apps, dir: path.join(config.dataDir, 'buildpacks') });
  const runner = createBuildRunner({
    engine,
    installation,
    packs: () => registry.packs(),
    builderNetwork: config.builderNetwork,
    configOf: (appId) => releaseStore.getConfig(appId),
    fetchBuildpack: (url, index) => buildpackArchives.fetch(url, index),
    previousBuild: async (app, build) => (await builds.listBuilds(app.id)).find((b) => b.id !== build.id && b.status === 'succeeded' && b.duImage !== null),
  });
  return { apps, builds, registry, runner, buildpackArchives };
}

/** A dependency a `solum worker` does not have: any call to it fails, saying so. */
function serverOnly(what: string): object {
  const fail = (): never => {
    throw new Error(`${what}: only the Solum server does this, not a build worker`);
  };
  return new Proxy({}, { get: () => fail });
}

/** What a build worker takes from the configuration, in a server or a `solum worker` alike. */
const workerSettings = (config: Config, logger: Logger, engine: ContainerEngine, installation: string, workerId: string) => ({
  engine,
  installation,
  logger,
  workerId,
  concurrency: config.buildConcurrency,
  archivesDir: config.archivesDir,
  limits: config.buildLimits,
  logMaxBytes: config.buildLogMaxBytes,
});

export interface SolumWorker {
  start(): Promise<{ workerId: string }>;
  stop(): Promise<void>;
}

/**
 * `solum worker`: a process that only runs builds, claiming them from the server's PostgreSQL with
 * its own Docker engine. The server follows and releases what it builds (build-tracker.ts).
 */
export async function createSolumWorker(config: Config, logger: Logger, overrides: Pick<SolumOverrides, 'engine'> = {}): Promise<SolumWorker> {
  if (!config.databaseUrl) throw new Error("a worker claims builds from the server's PostgreSQL: set DATABASE_URL");
  if (config.buildConcurrency < 1) throw new Error('a worker needs SOLUM_BUILD_CONCURRENCY of 1 or more');
  await fs.mkdir(config.archivesDir, { recursive: true, mode: 0o700 });
  const db = await createDatabase({ url: config.databaseUrl });
  await db.migrate();
  const installation = await createSettingsStore(db.knex).installationId();
  const engine = overrides.engine ?? createDockerEngine({ dockerHost: config.dockerHost });
  const { apps, builds, registry, runner } = await buildingParts(config, logger, db, engine, installation);
  const workerId = newWorkerId();
  const events = createBuildEvents();
  // A pipeline's stages before its build (tree tests, the run's record) run where the build runs,
  // so a worker wraps its runner like the server does; the rest of a pipeline (deploys, approvals,
  // promotion) is the server's, and those parts fail loudly if anything here ever called them.
  const pipelines = createPipelineService({
    apps: serverOnly('apps') as AppService,
    appStore: apps,
    store: createPipelineStore(db.knex),
    environments: createEnvironmentStore(db.knex),
    deployer: serverOnly('deploys') as Deployer,
    engine,
    installation,
    packs: () => registry.packs(),
    caBundle: config.builderNetwork.caBundle,
    limits: config.buildLimits,
    url: (serverOnly('the router') as { url: (name: string) => string }).url,
    routerAddress: (serverOnly('the router') as { address: () => string }).address,
    runUrl: (id) => `${config.serverUrl ?? ''}/v1/pipeline-runs/${id}`,
    events,
    logger,
  });
  const pipelinedRunner = pipelines.wrapRunner(runner);
  const worker = createBuildWorker({
    builds,
    apps,
    // Packs registered on the server since this worker started are seen by its next build.
    runner: async (input) => {
      await registry.load();
      return pipelinedRunner(input);
    },
    events,
    ...workerSettings(config, logger, engine, installation, workerId),
    archiveOf: remoteArchives({ serverUrl: config.serverUrl, token: config.workerToken, workerId, archivesDir: config.archivesDir, timeoutMs: config.fetchTimeoutMs }),
  });
  return {
    async start() {
      await engine.ping();
      await worker.start();
      logger.info({ workerId, concurrency: config.buildConcurrency, server: config.serverUrl, packs: registry.packs().map((p) => p.name) }, 'solum worker started');
      return { workerId };
    },
    async stop() {
      await worker.stop();
      await db.close();
    },
  };
}
