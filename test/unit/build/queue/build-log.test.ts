// The build log: lines, progress bars and colour codes.
import test from 'ava';
import { createBuildEvents } from '../../../../src/build/queue/build-events.js';
import { createBuildLog } from '../../../../src/build/queue/build-log.js';
import type { Build, BuildStore } from '../../../../src/db/build-store.js';
import type { AppName } from '../../../../src/names.js';

const build: Build = {
  id: 7, appId: 1, app: 'hello' as AppName, number: 3, status: 'running', ref: 'refs/heads/main', commit: 'abc'.padEnd(40, '0'),
  languagePack: null, languagePackImage: null, duId: null, duImage: null, exitCode: null, error: null,
  createdAt: new Date(), startedAt: new Date(), finishedAt: null, archive: 'x.tar', cancelRequested: false, source: 'push', workerId: 'w', baseCommit: null, releaseState: null, duManifest: null, buildpacks: [], languagePacks: [],
};

function memoryLog(): { log: ReturnType<typeof createBuildLog>; lines: string[] } {
  const lines: string[] = [];
  const events = createBuildEvents();
  events.subscribe(build.id, { onLine: (l) => lines.push(l), onFinished: () => undefined });
  const store = { appendLog: () => Promise.resolve() } as unknown as BuildStore;
  return { log: createBuildLog({ buildId: build.id, store, events, maxBytes: 1 << 20, onStoreError: () => undefined }), lines };
}

test('build log: lines split across chunks, progress bars and colour codes cleaned', async (t) => {
  const { log, lines } = memoryLog();
  log.output('par');
  log.output('tial\nprogress 10%\rprogress 100%\n\u001b[32mgreen\u001b[0m\n');
  log.output('tail');
  await log.close();
  t.deepEqual(lines, ['partial', 'progress 100%', 'green', 'tail']);
});
