// What a server and a `solum worker` both build with: the pack registry, the build runner with the
// app's pipeline around it, build events and the worker's settings.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createBuildEvents, type BuildEvents } from '../build/queue/build-events.js';
import { newWorkerId, type BuildWorkerOptions } from '../build/queue/build-worker.js';
import { createBuildpackArchives, type BuildpackArchives } from '../build/packs/buildpack-archives.js';
import { loadStockPacks } from '../build/packs/language-packs.js';
import { createPackRegistry, type PackRegistry } from '../build/packs/pack-registry.js';
import { withBaseDirectory } from '../build/runner/base-directory.js';
import { createBuildRunner, type BuildRunner } from '../build/runner/build-runner.js';
import { environmentEnsurer, type EnsureEnvironment } from '../pipelines/pipeline-environments.js';
import { pipelineBuilds } from '../pipelines/pipeline-builds.js';
import { builderIdOf } from '../supply-chain/provenance.js';
import { createProvenanceRecorder } from '../supply-chain/provenance-recorder.js';
import { createSbomRecorder, type SbomRecorder } from '../supply-chain/sbom-recorder.js';
import type { SigningKey } from '../supply-chain/signing-key.js';
import type { Foundation } from './foundation.js';

export interface Building {
  readonly registry: PackRegistry;
  /** Buildpacks admins upload live on the server's disk: a worker elsewhere builds only with git URLs. */
  readonly buildpackArchives: BuildpackArchives;
  /** The build runner with the app's pipeline around it (tree tests first, the build stage recorded), on the app's base directory. */
  readonly runner: BuildRunner;
  readonly ensureEnvironment: EnsureEnvironment;
  readonly events: BuildEvents;
  readonly workerId: string;
  /** What a build worker takes from the configuration, in a server or a `solum worker` alike. */
  readonly workerOptions: Omit<BuildWorkerOptions, 'runner'>;
  /** Reads DUs' and pack images' SBOMs. */
  readonly sboms: SbomRecorder;
}

/** Solum's own version (package.json), which SBOMs and provenance name as their tool. */
async function solumVersion(rootDir: string): Promise<string> {
  try {
    const p = JSON.parse(await fs.readFile(path.join(rootDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof p.version === 'string' ? p.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export async function assembleBuilding(
  f: Foundation,
  runUrl: (id: number) => string,
  // The signing key is the server's alone: a worker's statements are signed by the server.
  attest: { signer: SigningKey | undefined; repoUrl: (app: string) => string | null },
): Promise<Building> {
  const { config, logger, stores, containers } = f;
  const version = await solumVersion(config.rootDir);
  const sboms = createSbomRecorder({ containers, store: stores.sboms, limits: config.sbom, solumVersion: version, logger });
  const registry = createPackRegistry({
    stock: await loadStockPacks(config.languagePacksDir),
    store: stores.packs,
    apps: stores.apps,
    builds: stores.builds,
    imageId: (ref) => containers.imageId(ref),
    containers,
    buildArgs: { BASE_IMAGE: config.baseImage },
    logger,
  });
  await registry.load();
  const buildpackArchives = createBuildpackArchives({ store: stores.buildpacks, apps: stores.apps, dir: path.join(config.dataDir, 'buildpacks') });
  const baseRunner = createBuildRunner({
    containers,
    packs: () => registry.packs(),
    dockerfileImages: config.dockerfileImages,
    configOf: (appId) => stores.releases.getConfig(appId),
    fetchBuildpack: (url, index) => buildpackArchives.fetch(url, index),
    // A pull request's build never feeds a later one.
    previousBuild: async (app, build) => (await stores.builds.listBuilds(app.id)).find((b) => b.id !== build.id && b.status === 'succeeded' && b.duImage !== null && b.source !== 'pull-request'),
    sbom: sboms,
  });
  const events = createBuildEvents();
  const ensureEnvironment = environmentEnsurer({ appStore: stores.apps, environments: stores.environments, previewNamed: async (name) => (await stores.previews.byRouterName(name)) !== undefined });
  const withPipeline = pipelineBuilds({ store: stores.pipelines, ensureEnvironment, containers, packs: () => registry.packs(), testTimeoutMs: config.buildLimits.timeoutMs,
    logMaxBytes: config.buildLogMaxBytes, runUrl, events, logger });
  const workerId = newWorkerId();
  const provenance = createProvenanceRecorder({
    store: stores.sboms,
    containers,
    signer: attest.signer,
    builderId: builderIdOf(f.installation),
    solumVersion: version,
    installation: f.installation,
    workerId,
    repoUrl: attest.repoUrl,
    logger,
  });
  return {
    sboms,
    registry,
    buildpackArchives,
    // A monorepo app's base directory is its tree for the pipeline's tree tests and the build alike.
    runner: withBaseDirectory(withPipeline(baseRunner)),
    ensureEnvironment,
    events,
    workerId,
    workerOptions: {
      builds: stores.builds,
      apps: stores.apps,
      events,
      containers,
      logger,
      workerId,
      concurrency: config.buildConcurrency,
      archivesDir: config.archivesDir,
      limits: config.buildLimits,
      logMaxBytes: config.buildLogMaxBytes,
      attest: (i) => provenance.record(i),
    },
  };
}
