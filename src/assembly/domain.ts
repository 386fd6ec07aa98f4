// The server's domain: accounts and apps, deploy targets with their releases, the router and the
// deployer, backing services and pipelines. Built once, in dependency order, with no late binding.
import { createAccountService } from '../access/account-service.js';
import type { PolicySettings } from '../access/policy.js';
import { createAppService } from '../apps/app-service.js';
import { createServiceInstances } from '../backing-services/service-instances.js';
import { parseServiceKind } from '../backing-services/service-kinds.js';
import { createServiceManager } from '../backing-services/service-manager.js';
import { LABEL } from '../containers/labels.js';
import type { App } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import type { NetworkRef } from '../containers/containers.js';
import { createCronScheduler } from '../deploy/cron-scheduler.js';
import { createDeployer, WEB_ALIAS } from '../deploy/deployer.js';
import { createOneOffs } from '../deploy/one-off.js';
import { createReleaseSteps } from '../deploy/release-steps.js';
import { createRunQuota, createRunService } from '../deploy/run-service.js';
import { createPortAllocator, fixedPorts, ISOLATED_WEB_PORT } from '../deploy/ports.js';
import { createReleaseFlow } from '../deploy/release-flow.js';
import { createReleaseService } from '../deploy/release-service.js';
import { createCanaryService } from '../deploy/canary-service.js';
import { createDomainService } from '../edge/domain-service.js';
import type { Edge } from './edge.js';
import { createTargets, type DeployTarget } from '../deploy/target.js';
import { createRepoStore } from '../git/repo-store.js';
import { hookScript } from '../hooks/hook-installer.js';
import { createPipelineService } from '../pipelines/pipeline-service.js';
import { AppError } from '../errors.js';
import { createRunAdvancer } from '../pipelines/run-advancer.js';
import { createNotifier } from '../notifications/notifier.js';
import type { Building } from './building.js';
import type { Foundation } from './foundation.js';

export type Domain = Awaited<ReturnType<typeof assembleDomain>>;

export function assembleDomain(f: Foundation, b: Building, o: { policy: PolicySettings; runUrl: (id: number) => string; edge: Edge }) {
  const { config, logger, stores, containers } = f;
  const repos = createRepoStore({ reposDir: config.reposDir, hookScript: hookScript() });
  const router = o.edge.router;
  // Backing services keep a port of their own from the range (it is in their URLs); app processes on
  // networks of their own all listen on one port, on the host network each on one from the range.
  const ports = createPortAllocator(config.deploy.ports);
  const isolated = containers.networks.mode === 'isolated';
  const instances = createServiceInstances({ store: stores.services, containers, ports, logger, nanoCpus: config.deploy.serviceNanoCpus });
  // Services linked to an app are on its network before any container of its releases starts (environments have no links).
  // A preview never reaches the app's own instances: it joins the fresh ones made for it (decision 0020).
  const joinServices = async (target: DeployTarget, network: NetworkRef): Promise<void> => {
    if (target.preview) await instances.joinNamed((await stores.previews.services(target.preview.id)).map((s) => s.service), network);
    else if (!target.environment) await instances.joinApp(target.app.id, network);
  };
  const deployer = createDeployer({
    containers,
    router,
    ports: isolated ? fixedPorts() : ports,
    logger,
    graceMs: config.deploy.graceMs,
    healthTimeoutMs: config.deploy.healthTimeoutMs,
    beforeStart: joinServices,
  });
  const targets = createTargets({
    appReleases: stores.releases,
    environmentReleases: stores.environments.releases,
    appById: (id) => stores.apps.findAppById(id),
    environmentById: (id) => stores.environments.byId(id),
    previewReleases: stores.previews.releases,
    previewById: (id) => stores.previews.byId(id),
  });
  const removeCaches = (app: string): Promise<number> => containers.removeVolumes({ [LABEL.app]: app, [LABEL.role]: 'build-cache' });
  const accounts = createAccountService({ users: stores.users, policy: o.policy, ownedApps: async (id) => (await stores.apps.listOwnedBy(id)).map((a) => a.name) });
  const apps = createAppService({
    apps: stores.apps,
    builds: stores.builds,
    users: stores.users,
    repos,
    policy: o.policy,
    // Its previews' rows go with the app: the service instances made for them go first (decision 0020).
    stopProcesses: async (app) => {
      for (const p of await stores.previews.list(app.id, { all: true })) {
        for (const s of await stores.previews.services(p.id)) {
          const i = await stores.services.find(s.service);
          if (i) await instances.serialized(i.name, () => instances.destroy(i));
        }
      }
      await deployer.stopApp(app);
    },
    packExists: (name) => Promise.resolve(b.registry.packs().some((p) => p.name === name)),
    // A new app may not take the host of an environment or of a preview (decision 0020) either.
    environmentNamed: async (name) => {
      const env = await stores.environments.findByRouterName(name);
      if (env) return env;
      const preview = await stores.previews.byRouterName(name);
      const owner = preview && (await stores.apps.findAppById(preview.appId));
      return preview && owner ? { app: owner.name, environment: `preview ${preview.name}` } : undefined;
    },
    maxAppsPerUser: config.quotas.apps,
    removeImages: async (app) => {
      await containers.removeImages({ [LABEL.app]: app });
      await removeCaches(app);
    },
  });
  const processQuota = {
    max: config.quotas.processes,
    // The formations of the owner's apps and of their previews (decision 0020; environments have
    // their own, they are the app admins' to scale).
    used: async (ownerId: number) => {
      const sum = (f: Readonly<Record<string, number>>): number => Object.values(f).reduce((x, y) => x + y, 0);
      let n = 0;
      for (const a of await stores.apps.listOwnedBy(ownerId)) {
        n += sum(await stores.releases.getFormation(a.id));
        for (const p of await stores.previews.list(a.id)) n += sum(await stores.previews.releases.getFormation(p.id));
      }
      return n;
    },
    ownerIsAdmin: async (ownerId: number) => (await stores.users.findUserById(ownerId))?.isAdmin ?? false,
  };
  // One-off containers of releases: the release phase, postdeploy, scheduled jobs and `run`.
  const oneOffs = createOneOffs({ containers, beforeStart: joinServices, logger });
  const runQuota = createRunQuota(config.quotas.oneOffRuns);
  const cron = createCronScheduler({
    store: stores.cron,
    apps,
    appById: (id) => stores.apps.findAppById(id),
    targets,
    containers,
    oneOffs,
    quota: runQuota,
    timeoutMs: config.oneOffs.timeoutMs,
    tickMs: config.oneOffs.cronTickMs,
    logger,
  });
  const steps = createReleaseSteps({
    containers,
    oneOffs,
    timeoutMs: config.oneOffs.timeoutMs,
    logMaxBytes: config.buildLogMaxBytes,
    // app.json's formation counts against the owner's process quota like scaling does (environments are not counted).
    formationAllowed: async (target, before, after) => {
      const sum = (f: Readonly<Record<string, number>>): number => Object.values(f).reduce((a, n) => a + n, 0);
      const more = sum(after) - sum(before);
      if (target.environment || more <= 0 || (await processQuota.ownerIsAdmin(target.app.ownerId))) return undefined;
      const used = await processQuota.used(target.app.ownerId);
      return used + more > processQuota.max ? `the apps of ${target.name}'s owner would run ${used + more} processes, more than the ${processQuota.max} a user may` : undefined;
    },
    onLive: (target, release, manifest, say) => cron.sync(target, release, manifest, say),
    logger,
  });
  const flow = createReleaseFlow({
    deployer,
    url: (name) => router.url(name),
    logger,
    steps,
    // Only an app's own releases are announced: environments are a pipeline's to report.
    onRelease: (target, r) => { if (!target.environment && !target.preview) b.events.state({ type: 'release', app: target.app.name, number: r.version, status: r.status }); },
  });
  const runs = createRunService({ apps, targets, oneOffs, quota: runQuota, timeoutMs: config.oneOffs.timeoutMs, maxOutputBytes: config.buildLogMaxBytes });
  const releases = createReleaseService({
    apps,
    targets,
    flow,
    deployer,
    processTypesOf: async (duId) => (await containers.readDu(duId))?.processTypes,
    url: (name) => router.url(name),
    processQuota,
  });
  const canaries = createCanaryService({
    apps,
    targets,
    appById: (id) => stores.apps.findAppById(id),
    store: stores.canaries,
    deployer,
    steps,
    announce: (app, version, status) => { b.events.state({ type: 'release', app: app.name, number: version, status }); },
    logger,
    processQuota,
    checkIntervalMs: config.deploy.canaryCheckMs,
    failuresToAbort: 3,
  });
  const services = createServiceManager({
    store: stores.services,
    instances,
    containers,
    apps,
    appById: (id) => stores.apps.findAppById(id),
    logger,
    configOf: (appId) => stores.releases.getConfig(appId),
    reconfigure: (app, set, unset, description, actor) => releases.reconfigure(app, set, unset, description, actor),
    setConfig: async (appId, set) => { await stores.releases.changeConfig(appId, set, []); },
    maxPerUser: config.quotas.services,
    ownerIsAdmin: (id) => processQuota.ownerIsAdmin(id),
  });
  const notifier = createNotifier({ store: stores.notifications, apps, logger, retryBaseMs: config.notifications.retryBaseMs, maxAttempts: config.notifications.maxAttempts });
  const advancer = createRunAdvancer({
    store: stores.pipelines,
    appStore: stores.apps,
    ensureEnvironment: b.ensureEnvironment,
    targets,
    flow,
    containers,
    testTimeoutMs: config.buildLimits.timeoutMs,
    logMaxBytes: config.buildLogMaxBytes,
    url: (name) => router.url(name),
    routerAddress: () => router.address(),
    webUrl: () => `http://${WEB_ALIAS}:${ISOLATED_WEB_PORT}/`,
    runUrl: o.runUrl,
    logger,
    onWaiting: (app, run, stage) => { void notifier.notify(app.id, { event: 'pipeline.waiting', app: app.name, occurredAt: new Date(), pipeline: { run: run.id, stage, url: o.runUrl(run.id) } }); },
  });
  const pipelines = createPipelineService({
    apps,
    appStore: stores.apps,
    store: stores.pipelines,
    environments: stores.environments,
    ensureEnvironment: b.ensureEnvironment,
    targets,
    deployer,
    advancer,
    url: (name) => router.url(name),
    runUrl: o.runUrl,
    logger,
  });
  /**
   * A successful build's release to the app: first the backing services its solum.yaml asks for
   * (`services: [postgres]`, read from the DU's manifest), so the release's config has their URLs.
   */
  const releaseToApp = async (app: App, build: Build, say: (line: string) => void): Promise<string | undefined> => {
    // A webhook's push event can arrive late or be replayed: it never takes the app back to a
    // commit the live release already contains (a rollback is a deliberate act, not a delivery).
    if (build.source === 'webhook') {
      const live = await stores.releases.activeRelease(app.id);
      const liveBuild = live?.buildId ? await stores.builds.getBuild(live.buildId) : undefined;
      if (liveBuild && liveBuild.commit !== build.commit && (await repos.isAncestor(app.name, build.commit, liveBuild.commit))) {
        const why = `${build.commit.slice(0, 12)} is older than the live release v${live?.version ?? ''} (${liveBuild.commit.slice(0, 12)}): not released`;
        say(`!     ${why}`);
        return why;
      }
    }
    try {
      const wanted = (build.duId ? (await containers.readDu(build.duId))?.manifest.services : undefined) ?? [];
      if (wanted.length > 0) await services.ensureForApp(app, wanted.map(parseServiceKind), say);
    } catch (err) {
      const message = err instanceof AppError ? err.message : 'preparing the release failed';
      logger.warn({ err, app: app.name }, 'preparing backing services for a release failed');
      say(`!     ${message}`);
      return message;
    }
    if (build.canaryPercent !== null) return releases.releaseBuild(app, build, say, (release) => canaries.releaseBuildAsCanary(app, release, build.canaryPercent ?? 0, say));
    return releases.releaseBuild(app, build, say);
  };
  /** A build that belongs to a pipeline run advances the run instead of releasing to the app itself. */
  const releaseBuild = async (app: App, build: Build, say: (line: string) => void): Promise<string | undefined> => {
    const run = await pipelines.runOfBuild(build.id);
    return run ? pipelines.advance(run.id, say) : releaseToApp(app, build, say);
  };
  const domains = createDomainService({ apps, store: stores.domains, router, certificates: o.edge.certificates, routerDomain: config.router.domain, allowed: config.router.customDomains });
  return { policy: o.policy, notifier, repos, router, domains, ports, deployer, flow, processQuota, targets, accounts, apps, releases, canaries, releaseToApp, releaseBuild, instances, services, advancer, pipelines, removeCaches, oneOffs, cron, runs };
}
