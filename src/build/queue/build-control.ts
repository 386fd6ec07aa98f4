// What users do to builds besides reading them: cancel one (queued: at once; running: its worker
// stops the builder, here or, through the cancel flag, in another worker process).
import type { AppService } from '../../apps/app-service.js';
import type { Build, BuildStore } from '../../db/build-store.js';
import type { User } from '../../db/user-store.js';
import { conflict, notFound } from '../../errors.js';
import type { BuildEvents } from './build-events.js';

export interface BuildControl {
  /** The build, once the actor may read its app. */
  get(actor: User | null, id: number): Promise<Build>;
  /** The app's builds, newest first (read access). */
  list(actor: User | null, app: string): Promise<Build[]>;
  /** A build by its number within the app (read access). */
  byNumber(actor: User | null, app: string, number: number): Promise<Build>;
  /** A build's stored log (read access). */
  log(actor: User | null, id: number): Promise<string>;
  cancel(actor: User | null, id: number): Promise<Build>;
  /** Empties the app's build caches (write role); returns how many volumes went. */
  purgeCache(actor: User | null, app: string): Promise<number>;
}

export function createBuildControl(deps: {
  apps: AppService;
  builds: BuildStore;
  events: BuildEvents;
  /** Stops a build running in this process; false when it runs elsewhere. */
  stopLocal: (id: number) => boolean;
  removeCaches: (app: string) => Promise<number>;
}): BuildControl {
  const get = async (actor: User | null, id: number): Promise<Build> => {
    const build = await deps.builds.getBuild(id);
    // Unknown builds and builds of apps the actor cannot see look the same.
    if (!build) {
      await deps.apps.list(actor);
      throw notFound(`build ${id} does not exist`);
    }
    await deps.apps.require(actor, build.app, 'read');
    return build;
  };
  return {
    get,
    async list(actor, name) {
      const { app } = await deps.apps.require(actor, name, 'read');
      return deps.builds.listBuilds(app.id);
    },
    async byNumber(actor, name, number) {
      const { app } = await deps.apps.require(actor, name, 'read');
      const build = await deps.builds.findBuildByNumber(app.id, number);
      if (!build) throw notFound(`${app.name} has no build #${number}`);
      return build;
    },
    async log(actor, id) {
      return deps.builds.readLog((await get(actor, id)).id);
    },
    async purgeCache(actor, name) {
      const { app } = await deps.apps.require(actor, name, 'write');
      return deps.removeCaches(app.name);
    },
    async cancel(actor, id) {
      const build = await get(actor, id);
      await deps.apps.require(actor, build.app, 'write');
      const result = await deps.builds.cancel(id);
      if (result === 'finished') throw conflict(`build #${build.number} of '${build.app}' already ${build.status}`);
      const now = await deps.builds.getBuild(id);
      if (!now) throw notFound(`build ${id} does not exist`);
      // A queued build has no worker to announce its end: tell whoever waits on it (a push).
      if (result === 'canceled') deps.events.finished(now);
      else deps.stopLocal(id);
      return now;
    },
  };
}
