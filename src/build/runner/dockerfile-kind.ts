// The dockerfile pack kind: `docker build` of the pushed tree with the app's own Dockerfile; the
// image is the DU. Without a Procfile web line (or solum.yaml run) the image's CMD is the web command.
import type { BuildOutcome } from '../../db/build-store.js';
import type { Containers } from '../../containers/containers.js';
import { LABEL } from '../../containers/labels.js';
import { archiveWithFiles } from './archive.js';
import { duLabelsOf, duRepository, failed, stoppedOutcome, succeeded, type BuildContext } from './build-context.js';
import { checkDockerfile, type ImageUse } from './dockerfile-policy.js';

/**
 * Why an image the Dockerfile names is not this app's to use although its name is allowed: it
 * carries another app's or another installation's labels (a DU retagged under an allowed name).
 */
async function foreignImage(c: BuildContext, containers: Containers, use: ImageUse): Promise<string | undefined> {
  const labels = await containers.imageLabels(use.image);
  if (!labels) return undefined;
  const installation = labels[LABEL.installation];
  const app = labels[LABEL.app];
  if ((installation !== undefined && installation !== containers.installation) || (app !== undefined && app !== c.app.name)) {
    return `Dockerfile line ${use.line}: ${use.instruction} ${use.image} is a deployment unit of ${app !== undefined && installation === containers.installation ? `the app ${app}` : 'another Solum installation'}, not of ${c.app.name}`;
  }
  return undefined;
}

export async function buildWithDockerfile(c: BuildContext, dockerfile: string | null, allowed: readonly string[]): Promise<BuildOutcome> {
  c.processTypes.set('web', c.processTypes.get('web') ?? c.manifest.run ?? '');
  // Checked with a real parser before anything is built: which images it may start and copy from.
  const check = checkDockerfile(dockerfile ?? '', { allowed, app: c.app.name });
  const refusals = [...check.refusals];
  for (const use of check.images) {
    const foreign = await foreignImage(c, c.containers, use);
    if (foreign) refusals.push(foreign);
  }
  if (refusals.length > 0) {
    for (const r of refusals) c.log.line(`!     ${r}`);
    return failed(c, refusals.join('; '));
  }
  // The image the first stage starts from, when it is a local one (for security rebuilds).
  const first = check.images.find((u) => u.instruction === 'FROM');
  const fromImage = first ? ((await c.containers.imageId(first.image)) ?? null) : null;
  try {
    // RUN steps get the build's network (and the egress proxy), never the host's.
    const network = await c.networkFor([c.pack]);
    const built = await c.containers.buildImage(archiveWithFiles(c.archive, new Map()), {
      tag: `${duRepository(c.app.name)}:${c.build.number}`,
      labels: duLabelsOf(c, fromImage ?? ''),
      network,
      // The same limits as a builder container's.
      memoryBytes: c.limits.memoryBytes,
      nanoCpus: c.limits.nanoCpus,
      pids: c.limits.pids,
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
