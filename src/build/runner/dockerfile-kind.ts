// The dockerfile pack kind: `docker build` of the pushed tree with the app's own Dockerfile; the
// image is the DU. Without a Procfile web line (or solum.yaml run) the image's CMD is the web command.
import type { BuildOutcome } from '../../db/build-store.js';
import type { Containers } from '../../containers/containers.js';
import { archiveWithFiles } from './archive.js';
import { duLabelsOf, duRepository, failed, stoppedOutcome, succeeded, type BuildContext } from './build-context.js';

/** The image ID of the first FROM of a Dockerfile, when it names a local image (for security rebuilds). */
async function baseImageOf(dockerfile: string, containers: Containers): Promise<string | null> {
  const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/im.exec(dockerfile)?.[1];
  if (!from || from.includes('$')) return null;
  return (await containers.imageId(from)) ?? null;
}

export async function buildWithDockerfile(c: BuildContext, dockerfile: string | null): Promise<BuildOutcome> {
  c.processTypes.set('web', c.processTypes.get('web') ?? c.manifest.run ?? '');
  const fromImage = await baseImageOf(dockerfile ?? '', c.containers);
  try {
    const built = await c.containers.buildImage(archiveWithFiles(c.archive, new Map()), {
      tag: `${duRepository(c.app.name)}:${c.build.number}`,
      labels: duLabelsOf(c, fromImage ?? ''),
      network: c.pack.network,
      memoryBytes: c.limits.memoryBytes,
      signal: c.signal,
      onOutput: (text) => { c.log.output(text); },
    });
    // The SBOM is read from the built image; its digest label needs a FROM-only rebuild of it.
    const duId = c.sbom ? await c.sbom.labelImage(c, built, `${duRepository(c.app.name)}:${c.build.number}`, [{ name: c.pack.name, image: fromImage }]) : built;
    return succeeded(c, duId, fromImage);
  } catch (err) {
    return stoppedOutcome(c) ?? failed(c, `docker build failed: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
}
