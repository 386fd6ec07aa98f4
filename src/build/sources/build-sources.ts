// The ways into a build besides a push: an uploaded artifact (tar / tar.gz) built through the
// app's language pack, and an existing local image registered as a DU. Same build records, logs
// and DUs as a push; both go live like a push to the deploy branch.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { AppService } from '../../apps/app-service.js';
import type { App } from '../../db/app-store.js';
import type { Build, BuildStore } from '../../db/build-store.js';
import type { User } from '../../db/user-store.js';
import { AppError, badRequest, conflict, forbidden } from '../../errors.js';
import { LABEL } from '../../containers/labels.js';
import { normalizeArtifact, type ArtifactLimits } from './artifact.js';
import type { BuildQueue } from '../queue/build-queue.js';
import type { Containers } from '../../containers/containers.js';
import { writeDuLabels } from '../../containers/du-labels.js';
import { duRepository } from '../runner/build-runner.js';

export interface BuildSources {
  upload(actor: User | null, app: string, body: Readable): Promise<Build>;
  registerImage(actor: User | null, app: string, image: string): Promise<{ build: Build; releaseError: string | undefined }>;
}

export function createBuildSources(deps: {
  apps: AppService;
  builds: BuildStore;
  queue: BuildQueue;
  containers: Pick<Containers, 'imageId' | 'imageLabels' | 'buildImage' | 'installation'>;
  /** Whether the app's builds go through a pipeline (an image cannot run its tree tests). */
  hasPipeline: (appId: number) => Promise<boolean>;
  limits: ArtifactLimits;
  nextBuildNumber: (appId: number) => Promise<number>;
  release: (app: App, build: Build) => Promise<string | undefined>;
}): BuildSources {
  return {
    async upload(actor, name, body) {
      const { app } = await deps.apps.require(actor, name, 'write');
      const archivePath = deps.queue.newArchivePath();
      const { sha256 } = await normalizeArtifact(body, archivePath, deps.limits);
      // The upload's SHA-256 stands where a push has its commit.
      return deps.queue.enqueue({ app, ref: 'upload', commit: sha256, archivePath, source: 'upload' });
    },
    async registerImage(actor, name, image) {
      const { app } = await deps.apps.require(actor, name, 'write');
      if (!/^[\w][\w.:/@-]{0,254}$/.test(image)) throw badRequest('give a local image reference or ID');
      const imageId = await deps.containers.imageId(image);
      if (!imageId) throw new AppError('not_found', `no local image '${image}' on this Docker engine`);
      // Another app's DU (or another installation's) is not an image to take: its source is theirs.
      const labels = (await deps.containers.imageLabels(imageId)) ?? {};
      const owner = labels[LABEL.app];
      if ((labels[LABEL.installation] !== undefined && labels[LABEL.installation] !== deps.containers.installation) || (owner !== undefined && owner !== app.name)) {
        throw forbidden(`the image ${image} belongs to ${owner !== undefined && labels[LABEL.installation] === deps.containers.installation ? `the app ${owner}` : 'another Solum installation'}: register images you built yourself`);
      }
      if (await deps.hasPipeline(app.id)) throw conflict(`${app.name} deploys through its pipeline, which tests the pushed tree first: push or upload the source instead of registering an image`);
      const number = await deps.nextBuildNumber(app.id);
      // A one-line build on top of the image gives it Solum's labels (the image itself is untouched).
      const pack = tar.pack();
      pack.entry({ name: 'Dockerfile' }, `FROM ${imageId}\n`);
      pack.finalize();
      const duId = await deps.containers.buildImage(Readable.from(pack), {
        tag: `${duRepository(app.name)}:${number}`,
        labels: writeDuLabels({
          installation: deps.containers.installation,
          app: app.name,
          build: number,
          languagePack: null,
          languagePackImage: null,
          externalImage: imageId,
          // No Procfile: the image's own CMD is the web command.
          processTypes: { web: '' },
          manifest: { env: {} },
        }),
        network: 'none',
        memoryBytes: 256 * 1024 * 1024,
      });
      const build = await deps.builds.recordExternal({
        appId: app.id,
        number,
        commit: createHash('sha256').update(imageId).digest('hex'),
        duId,
        duImage: `${duRepository(app.name)}:${number}`,
        image: imageId,
      });
      await deps.builds.appendLog(build.id, 1, `-----> Registered image ${image} (${imageId}) as deployment unit ${duId}\n`);
      return { build, releaseError: await deps.release(app, build) };
    },
  };
}
