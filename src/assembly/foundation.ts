// The parts everything else stands on, built once per process: the database and its stores, the
// installation's identity and the container port with its networks (firewall table and egress proxy).
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import type { ContainerEngine } from '../containers/container-engine.js';
import { createContainers, type Containers } from '../containers/containers.js';
import { createDockerEngine } from '../containers/docker-engine.js';
import { hostNetworks, isolatedNetworks } from '../containers/networks.js';
import { createAppStore } from '../db/app-store.js';
import { createBuildStore } from '../db/build-store.js';
import { createBuildpackStore } from '../db/buildpack-store.js';
import { createCronStore } from '../db/cron-store.js';
import { createDatabase, type Database } from '../db/database.js';
import { createEnvironmentStore } from '../db/environment-store.js';
import { createPreviewStore } from '../db/preview-store.js';
import { createPackStore } from '../db/pack-store.js';
import { createPipelineStore } from '../db/pipeline-store.js';
import { createReleaseStore } from '../db/release-store.js';
import { createCanaryStore } from '../db/canary-store.js';
import { createSbomStore } from '../db/sbom-store.js';
import { createServiceStore } from '../db/service-store.js';
import { createSettingsStore } from '../db/settings-store.js';
import { createSourceStore } from '../db/source-store.js';
import { createNotificationStore } from '../db/notification-store.js';
import { createUserStore } from '../db/user-store.js';
import { createDomainStore } from '../db/domain-store.js';
import { cachedStores } from '../db/read-cache.js';
import type { Logger } from '../logger.js';

export type Stores = ReturnType<typeof storesOf>;

const storesOf = (db: Database) => ({
  // What every API request asks (the token, the app and the role, the build) is read through a
  // one-second cache; with the embedded database every write passes here, so any row may be kept.
  ...cachedStores(
    { users: createUserStore(db.knex), apps: createAppStore(db.knex), builds: createBuildStore(db.knex), releases: createReleaseStore(db.knex) },
    { ttlMs: 1000, coherent: db.dialect === 'pglite' },
  ),
  environments: createEnvironmentStore(db.knex),
  previews: createPreviewStore(db.knex),
  pipelines: createPipelineStore(db.knex),
  services: createServiceStore(db.knex),
  packs: createPackStore(db.knex),
  buildpacks: createBuildpackStore(db.knex),
  sources: createSourceStore(db.knex),
  domains: createDomainStore(db.knex),
  notifications: createNotificationStore(db.knex),
  cron: createCronStore(db.knex),
  canaries: createCanaryStore(db.knex),
  sboms: createSbomStore(db.knex),
});

export interface Foundation {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly stores: Stores;
  readonly installation: string;
  readonly containers: Containers;
}

/**
 * Opens the data: the server keeps its embedded database in the data dir unless DATABASE_URL is
 * set; a `solum worker` always shares the server's PostgreSQL.
 */
export async function openFoundation(config: Config, logger: Logger, o: { role: 'server' | 'worker'; engine?: ContainerEngine | undefined }): Promise<Foundation> {
  if (o.role === 'server') await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await fs.mkdir(config.archivesDir, { recursive: true, mode: 0o700 });
  const db = await createDatabase(o.role === 'server' ? { url: config.databaseUrl, dataDir: config.dataDir } : { url: config.databaseUrl });
  await db.migrate();
  const installation = await createSettingsStore(db.knex).installationId();
  const docker = createDockerEngine({ dockerHost: config.dockerHost });
  // A test's fake engine has no networks: it runs in host mode.
  const networks =
    config.network.mode === 'host' || o.engine
      ? hostNetworks(config.builderNetwork)
      : isolatedNetworks({
          engine: docker,
          installation,
          role: o.role,
          pools: config.network.subnets,
          networkPrefix: config.network.subnetPrefix,
          egress: config.builderNetwork,
          allow: config.network.egressAllow,
          appEgress: config.network.appEgress,
          proxyPort: config.network.egressProxyPort,
          // A build cannot outlive its timeout: a build network older than that with nothing on it is left over.
          staleBuildSeconds: Math.ceil(config.buildLimits.timeoutMs / 1000) + 600,
          logger,
        });
  const containers = createContainers(o.engine ?? docker, {
    installation,
    egress: config.builderNetwork,
    jobLimits: config.buildLimits,
    processMemoryBytes: config.deploy.memoryBytes,
    processNanoCpus: config.deploy.nanoCpus,
    networks,
  });
  return { config, logger, db, stores: storesOf(db), installation, containers };
}
