// Queues builds: reserves the app's next number, records the row with its archive, wakes the worker.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { App, AppStore } from '../../db/app-store.js';
import type { Build, BuildStore } from '../../db/build-store.js';

export interface BuildQueue {
  /** A fresh path for a source archive that `enqueue` will adopt. */
  newArchivePath(): string;
  /** `onQueued` runs after the row exists and before any worker is woken. */
  enqueue(
    input: { app: App; ref: string; commit: string; archivePath: string; baseCommit?: string; source?: string; languagePack?: string | undefined; buildpacks?: readonly string[]; canaryPercent?: number | undefined },
    onQueued?: (build: Build) => void,
  ): Promise<Build>;
}

export function createBuildQueue(deps: { apps: AppStore; builds: BuildStore; archivesDir: string; notify: () => void; onQueued?: (build: Build) => void }): BuildQueue {
  return {
    newArchivePath() {
      return path.join(deps.archivesDir, `${randomUUID()}.tar`);
    },
    async enqueue(input, onQueued) {
      if (path.dirname(input.archivePath) !== deps.archivesDir) throw new Error('archive outside the archives dir');
      try {
        const number = await deps.apps.nextBuildNumber(input.app.id);
        const build = await deps.builds.createBuild({
          appId: input.app.id,
          number,
          ref: input.ref,
          commit: input.commit,
          archive: path.basename(input.archivePath),
          ...(input.baseCommit ? { baseCommit: input.baseCommit } : {}),
          ...(input.source ? { source: input.source } : {}),
          ...(input.languagePack ? { languagePack: input.languagePack } : {}),
          ...(input.buildpacks && input.buildpacks.length > 0 ? { buildpacks: input.buildpacks } : {}),
          ...(input.canaryPercent !== undefined ? { canaryPercent: input.canaryPercent } : {}),
        });
        onQueued?.(build);
        deps.onQueued?.(build);
        deps.notify();
        return build;
      } catch (err) {
        await fs.rm(input.archivePath, { force: true });
        throw err;
      }
    },
  };
}
