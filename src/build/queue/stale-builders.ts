// Builder containers whose build is no longer running (a crash mid-build) are garbage; those of
// builds other workers are running are not.
import type { Containers } from '../../containers/containers.js';
import { LABEL } from '../../containers/labels.js';
import type { BuildStore } from '../../db/build-store.js';

/** Removes this installation's builders of builds that are not running; resolves how many. */
export async function removeStaleBuilders(containers: Pick<Containers, 'list' | 'remove'>, builds: Pick<BuildStore, 'getBuild'>): Promise<number> {
  let removed = 0;
  for (const c of await containers.list({ [LABEL.role]: 'builder' })) {
    const build = await builds.getBuild(Number(c.labels[LABEL.buildId]));
    if (build?.status === 'running') continue;
    await containers.remove(c.id);
    removed++;
  }
  return removed;
}
