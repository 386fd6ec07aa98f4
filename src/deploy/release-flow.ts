// Makes a release on a deploy target: creates it, deploys it unless the target is stopped, and ends
// it active or failed, telling the pusher what happened. Apps and their environments share it.
import type { Release } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import type { Deployer } from './deployer.js';
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
  /** Told when a release ends active or failed. */
  onRelease?: (target: DeployTarget, release: Release) => void;
}): ReleaseFlow {
  const log = d.logger.child({ component: 'releases' });
  return {
    async release(target, input, say) {
      const book = target.releases;
      const created = await book.createRelease(input);
      const name = releaseName(target, created.version);
      if (!target.environment && (await book.isStopped())) {
        await book.activate(created.id);
        say(`-----> Released ${name} (the app is stopped: start it to run it)`);
        return (await book.getRelease(created.version)) ?? created;
      }
      const error = await d.deployer.deploy(target, created, say);
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
      d.onRelease?.(target, final);
      return final;
    },
  };
}
