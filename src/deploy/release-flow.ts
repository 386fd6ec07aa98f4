// Makes a release on a deploy target: creates it, runs its release phase, deploys it unless the
// target is stopped, and ends it active or failed, telling the pusher what happened; postdeploy
// follows once it is live. Apps and their environments share it.
import type { Release } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import type { Deployer } from './deployer.js';
import type { ReleaseSteps } from './release-steps.js';
import type { DeployTarget, ReleaseBook } from './target.js';

export type ReleaseInput = Parameters<ReleaseBook['createRelease']>[0];

export interface ReleaseFlow {
  /** Creates a release and deploys it; the release ends active or failed. */
  release(target: DeployTarget, input: ReleaseInput, say: (line: string) => void): Promise<Release>;
}

/** How output names a release of a target: `v3` for an app, `staging v3` for an environment. Pure. */
export const releaseName = (target: Pick<DeployTarget, 'environment'>, version: number): string =>
  target.environment ? `${target.environment.name} v${version}` : `v${version}`;

export function createReleaseFlow(d: {
  deployer: Deployer;
  url: (name: string) => string;
  logger: Logger;
  /** What the DU's settings ask around the deploy (release phase, postdeploy); none: deploy only. */
  steps?: ReleaseSteps;
  /** Told when a release ends active or failed. */
  onRelease?: (target: DeployTarget, release: Release) => void;
}): ReleaseFlow {
  const log = d.logger.child({ component: 'releases' });
  return {
    async release(target, given, say) {
      const book = target.releases;
      const prepared = d.steps ? await d.steps.prepare(target, given, say) : { input: given };
      const created = await book.createRelease(prepared.input);
      const name = releaseName(target, created.version);
      const first = !(await book.listReleases()).some((r) => r.id !== created.id && (r.status === 'active' || r.status === 'superseded'));
      // The release phase runs before any process of the release starts, stopped app or not.
      const early = prepared.error ?? (await d.steps?.releasePhase(target, created, say));
      if (!early && !target.environment && (await book.isStopped())) {
        await book.activate(created.id);
        say(`-----> Released ${name} (the app is stopped: start it to run it)`);
        const final = (await book.getRelease(created.version)) ?? created;
        await d.steps?.afterLive(target, final, say, { first, running: false });
        return final;
      }
      const error = early ?? (await d.deployer.deploy(target, created, say));
      if (error) {
        await book.fail(created.id, error);
        const live = await book.activeRelease();
        say(`!     ${target.environment ? name : `Release ${name}`} failed: ${error}`);
        if (live) say(`!     ${releaseName(target, live.version)} is still serving`);
        else say(`!     nothing was serving${target.environment ? ` in ${target.environment.name}` : ''} before; nothing is serving now`);
        log.warn({ target: target.name, version: created.version, error }, 'release failed');
      } else {
        await book.activate(created.id);
        say(`-----> Released ${name}${target.environment ? ` (DU ${created.duId.slice(0, 19)})` : ''}: ${d.url(target.name)}`);
        log.info({ target: target.name, version: created.version }, 'release live');
      }
      const final = (await book.getRelease(created.version)) ?? created;
      if (!error) await d.steps?.afterLive(target, final, say, { first, running: true });
      d.onRelease?.(target, final);
      return final;
    },
  };
}
