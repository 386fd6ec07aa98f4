// Composition root: assembles the server and `solum worker` from the same named parts (assembly/),
// each built once, and orders their start and stop. Nothing imports it but main.ts and the tests.
import type { AddressInfo } from 'node:net';
import type { PolicySettings } from './access/policy.js';
import { ensureAdmin } from './access/bootstrap.js';
import { createBuildWorker } from './build/queue/build-worker.js';
import { remoteArchives } from './build/queue/remote-archive.js';
import type { Config } from './config.js';
import type { ContainerEngine } from './containers/container-engine.js';
import type { Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createAddresses } from './assembly/addresses.js';
import { assembleBuilding } from './assembly/building.js';
import { assembleDomain } from './assembly/domain.js';
import { assembleEdge } from './assembly/edge.js';
import { assembleEdges } from './assembly/edges.js';
import { openFoundation } from './assembly/foundation.js';
import { assembleIntake } from './assembly/intake.js';
import { loadOrCreateSigningKey } from './supply-chain/signing-key.js';

export interface Solum {
  start(): Promise<{ httpPort: number; sshPort: number; routerPort: number; httpsPort: number | null }>;
  stop(): Promise<void>;
}

export interface SolumOverrides {
  /** A different container engine (tests of worker logic only). */
  readonly engine?: ContainerEngine;
  readonly policy?: PolicySettings;
}

export async function createSolum(config: Config, logger: Logger, overrides: SolumOverrides = {}): Promise<Solum> {
  const f = await openFoundation(config, logger, { role: 'server', engine: overrides.engine });
  const addresses = createAddresses(config);
  const metrics = createMetrics({ defaultMetrics: true });
  // Created at first start, like the SSH host key; only its public half is ever shown.
  const signing = await loadOrCreateSigningKey(config.dataDir);
  if (signing.created) logger.info({ keyId: signing.key.keyId }, 'created the provenance signing key');
  const building = await assembleBuilding(f, (id) => addresses.runUrl(id), { signer: signing.key, repoUrl: (app) => `${addresses.api()}/${app}.git` });
  const edge = await assembleEdge(f, metrics);
  const domain = assembleDomain(f, building, { policy: overrides.policy ?? { createAppsOnPush: config.createAppsOnPush }, runUrl: (id) => addresses.runUrl(id), edge });
  const intake = assembleIntake(f, building, domain, { addresses, metrics, signer: signing.key });
  const edges = await assembleEdges(f, building, domain, intake, metrics);
  const { httpServer, ssh } = edges;

  const startAll = async (): Promise<{ httpPort: number; sshPort: number; routerPort: number; httpsPort: number | null }> => {
    const admin = await ensureAdmin(f.stores.users, config.dataDir);
    if (admin.created) logger.info({ tokenFile: admin.tokenFile }, 'created user admin; its API token is in the token file');
    logger.info({ fingerprint: edges.hostKey.fingerprint, created: edges.hostKey.created }, 'ssh host key');
    // The firewall table and the egress proxy before anything can start a container.
    await f.containers.networks.start();
    const hooks = await domain.repos.reinstallHooks();
    const staleQuarantines = await domain.repos.removeStaleQuarantines(intake.maxPushIdleMs);
    const hookUrl = await intake.hookServer.start();
    logger.debug({ hookUrl }, 'hook endpoint listening on loopback');
    await domain.domains.load();
    const routerPort = await edge.start();
    await domain.instances.adopt();
    await domain.advancer.recover();
    await domain.oneOffs.recover();
    // Running canaries are re-adopted with their targets' live releases (decision 0019).
    const canaries = await domain.canaries.adoptable();
    await domain.deployer.adopt((await domain.targets.active()).map((a) => ({ ...a, canary: canaries.get(a.target.key) })));
    domain.canaries.startMonitor();
    // After re-adoption (a doomed preview's processes are not re-adopted): the reconciler finishes any teardown a stop cut short.
    await intake.reconciler.start();
    await domain.cron.start();
    await intake.worker.start();
    await intake.tracker.start();
    intake.retention.start();
    domain.notifier.start();
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.httpPort, config.bind, resolve);
    });
    const httpPort = (httpServer.address() as AddressInfo).port;
    addresses.listening(httpPort);
    const sshPort = await ssh.start();
    const httpsPort = edge.router.httpsPort();
    logger.info({ httpPort, sshPort, routerPort, httpsPort, bind: config.bind, database: f.db.dialect, repos: hooks, staleQuarantines, packs: building.registry.packs().map((p) => p.name) }, 'solum started');
    logger.debug({ installation: f.installation }, 'installation');
    return { httpPort, sshPort, routerPort, httpsPort };
  };

  const stopAll = async (): Promise<void> => {
    // New work stops first; running builds finish and their pushes get their answer; then the rest.
    intake.retention.stop();
    await domain.cron.stop();
    domain.canaries.stopMonitor();
    await intake.reconciler.stop();
    await ssh.stop();
    const closed = new Promise<void>((resolve) => httpServer.close(() => { resolve(); }));
    httpServer.closeIdleConnections();
    await intake.worker.stop();
    await intake.tracker.stop();
    await intake.hookServer.stop();
    // Deliveries not yet sent stay queued in the database for the next start.
    await domain.notifier.stop();
    await intake.notes.settled();
    // App processes keep running; the next start re-adopts them.
    await edge.stop();
    httpServer.closeAllConnections();
    await closed;
    // Builds have ended: the egress proxy and the firewall table go with the process (app processes
    // keep running, unwalled until the next start re-creates the table: decision 0014).
    await f.containers.networks.stop();
    await f.db.close();
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

export interface SolumWorker {
  start(): Promise<{ workerId: string }>;
  stop(): Promise<void>;
}

/**
 * `solum worker`: a process that only runs builds, claiming them from the server's PostgreSQL with
 * its own Docker engine. The server follows and releases what it builds (build-tracker.ts). A
 * pipeline's stages before its build run here like in the server; the rest of a run is the server's.
 */
export async function createSolumWorker(config: Config, logger: Logger, overrides: Pick<SolumOverrides, 'engine'> = {}): Promise<SolumWorker> {
  if (!config.databaseUrl) throw new Error("a worker claims builds from the server's PostgreSQL: set DATABASE_URL");
  if (config.buildConcurrency < 1) throw new Error('a worker needs SOLUM_BUILD_CONCURRENCY of 1 or more');
  const f = await openFoundation(config, logger, { role: 'worker', engine: overrides.engine });
  const building = await assembleBuilding(f, (id) => `${config.serverUrl ?? ''}/v1/pipeline-runs/${id}`, {
    signer: undefined,
    repoUrl: (app) => (config.serverUrl ? `${config.serverUrl}/${app}.git` : null),
  });
  const { registry, runner, workerId } = building;
  const worker = createBuildWorker({
    ...building.workerOptions,
    // Packs registered on the server since this worker started are seen by its next build.
    runner: async (input) => {
      await registry.load();
      return runner(input);
    },
    archiveOf: remoteArchives({ serverUrl: config.serverUrl, token: config.workerToken, workerId, archivesDir: config.archivesDir, timeoutMs: config.fetchTimeoutMs }),
  });
  return {
    async start() {
      await f.containers.ping();
      await f.containers.networks.start();
      await worker.start();
      logger.info({ workerId, concurrency: config.buildConcurrency, server: config.serverUrl, packs: registry.packs().map((p) => p.name) }, 'solum worker started');
      return { workerId };
    },
    async stop() {
      await worker.stop();
      await f.containers.networks.stop();
      await f.db.close();
    },
  };
}
