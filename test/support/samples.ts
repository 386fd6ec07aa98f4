// Records and helpers the fast tests share: a sample app and build, an in-memory build log, a full
// pipeline definition, and the code of the AppError a call throws.
import { createBuildEvents } from '../../src/build/queue/build-events.js';
import { createBuildLog } from '../../src/build/queue/build-log.js';
import type { App } from '../../src/db/app-store.js';
import type { Build, BuildStore } from '../../src/db/build-store.js';
import { AppError } from '../../src/errors.js';
import type { AppName } from '../../src/names.js';

export const sampleApp: App = { id: 1, name: 'hello' as AppName, ownerId: 1, deployBranch: 'main', languagePack: null, public: false, buildTimeoutSeconds: null, buildMemoryMb: null, buildpacks: [], languagePacks: [], pullRequestBuilds: false, baseDir: null, watchPaths: [], createdAt: new Date() };

export const sampleBuild: Build = {
  id: 7, appId: 1, app: 'hello' as AppName, number: 3, status: 'running', ref: 'refs/heads/main', commit: 'abc'.padEnd(40, '0'),
  languagePack: null, languagePackImage: null, duId: null, duImage: null, exitCode: null, error: null,
  createdAt: new Date(), startedAt: new Date(), finishedAt: null, archive: 'x.tar', cancelRequested: false, source: 'push', workerId: 'w', baseCommit: null, releaseState: null, duManifest: null, buildpacks: [], canaryPercent: null, languagePacks: [],
};

/** A build log whose lines are collected in memory (its store drops them). */
export function memoryLog(build: Build = sampleBuild): { log: ReturnType<typeof createBuildLog>; lines: string[] } {
  const lines: string[] = [];
  const events = createBuildEvents();
  events.subscribe(build.id, { onLine: (l) => lines.push(l), onFinished: () => undefined });
  const store = { appendLog: () => Promise.resolve() } as unknown as BuildStore;
  return { log: createBuildLog({ buildId: build.id, store, events, maxBytes: 1 << 20, onStoreError: () => undefined }), lines };
}

/** A pipeline with every kind of stage. */
export const fullPipeline = {
  stages: [
    { name: 'unit-test', test: 'npm test' },
    'build',
    { deploy: 'staging' },
    { name: 'smoke', test: 'node smoke.js', environment: 'staging' },
    { gate: 'approval', users: ['carol'] },
    { gate: 'external', name: 'ci' },
    { promote: 'production' },
  ],
};

/** The code of the AppError `f` throws; undefined when it returns. */
export const errorCode = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-an-app-error';
  }
};
