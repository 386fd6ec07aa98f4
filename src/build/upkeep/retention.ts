// Retention: keep each app's newest DUs (and every DU a release points to, so rollback always
// works) and remove the rest, with leftover builders and build caches of apps that are gone.
// Runs on a schedule and on demand; only ever touches what carries this installation's label.
import type { AppStore } from '../../db/app-store.js';
import type { BuildStore } from '../../db/build-store.js';
import type { ReleaseStore } from '../../db/release-store.js';
import type { User } from '../../db/user-store.js';
import { forbidden } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Containers } from '../../containers/containers.js';
import { LABEL } from '../../containers/labels.js';
import { removeStaleBuilders } from '../queue/stale-builders.js';

export interface PruneReport {
  readonly images: readonly string[];
  readonly containers: number;
  readonly volumes: readonly string[];
}

export interface Retention {
  prune(actor: User | null): Promise<PruneReport>;
  /** A prune asked for by Solum itself (a preview torn down: its DUs beyond retention go). */
  sweep(): Promise<PruneReport>;
  start(): void;
  stop(): void;
}

/** The DU image IDs to remove: not among an app's newest `keep` builds and not in any release. Pure. */
export function dusToRemove(
  images: ReadonlyArray<{ id: string; app: string; build: number }>,
  keep: number,
  released: ReadonlySet<string>,
): string[] {
  const byApp = new Map<string, Array<{ id: string; build: number }>>();
  for (const i of images) byApp.set(i.app, [...(byApp.get(i.app) ?? []), i]);
  const out: string[] = [];
  for (const list of byApp.values()) {
    list.sort((a, b) => b.build - a.build);
    for (const [n, i] of list.entries()) if (n >= keep && !released.has(i.id)) out.push(i.id);
  }
  return out;
}

export function createRetention(deps: {
  containers: Containers;
  apps: AppStore;
  builds: BuildStore;
  releases: ReleaseStore;
  keep: number;
  intervalMs: number;
  logger: Logger;
}): Retention {
  const log = deps.logger.child({ component: 'retention' });
  let timer: NodeJS.Timeout | undefined;

  const run = async (): Promise<PruneReport> => {
    const images = (await deps.containers.listImages({ [LABEL.role]: 'deployment-unit' })).map((i) => ({
      id: i.id,
      app: i.labels[LABEL.app] ?? '',
      build: Number(i.labels[LABEL.build] ?? 0),
    }));
    const released = new Set<string>();
    const appIds = new Set((await deps.apps.listApps({})).map((a) => a.id));
    for (const id of appIds) for (const r of await deps.releases.listReleases(id)) released.add(r.duId);
    const remove = dusToRemove(images, deps.keep, released);
    for (const id of remove) await deps.containers.removeImage(id);
    const containers = await removeStaleBuilders(deps.containers, deps.builds);
    const appNames = new Set((await deps.apps.listApps({})).map((a) => a.name as string));
    const volumes: string[] = [];
    for (const v of await deps.containers.listVolumes({ [LABEL.role]: 'build-cache' })) {
      if (appNames.has(v.labels[LABEL.app] ?? '')) continue;
      await deps.containers.removeVolumes({ [LABEL.role]: 'build-cache', [LABEL.app]: v.labels[LABEL.app] ?? '' });
      volumes.push(v.name);
    }
    if (remove.length + containers + volumes.length > 0) log.info({ images: remove.length, containers, volumes: volumes.length }, 'pruned');
    return { images: remove, containers, volumes };
  };

  return {
    async prune(actor) {
      if (!actor?.isAdmin) throw forbidden('pruning is an operator task: admins only');
      return run();
    },
    sweep: () => run(),
    start() {
      timer = setInterval(() => { run().catch((err: unknown) => { log.error({ err }, 'scheduled prune failed'); }); }, deps.intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
