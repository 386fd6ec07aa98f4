// Retention against real Docker: old DUs go unless a release points to them; leftover builders and
// build caches of apps that no longer exist go; nothing of another installation is touched.
import test from 'ava';
import { dusToRemove } from '../../src/build/upkeep/retention.js';
import { imageExists, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

test('which DUs go: beyond the newest N per app, unless released', (t) => {
  const images = [1, 2, 3, 4].map((b) => ({ id: `a${b}`, app: 'a', build: b })).concat([{ id: 'b1', app: 'b', build: 1 }]);
  t.deepEqual(dusToRemove(images, 2, new Set(['a1'])).sort(), ['a2']);
  t.deepEqual(dusToRemove(images, 10, new Set()), []);
});

test.serial('prune removes unreleased old DUs, leftover builders and orphaned caches of this installation only', async (t) => {
  const solum = await startSolum({ env: { SOLUM_KEEP_DUS: '1' } });
  const app = randomName('keep');
  const ghost = randomName('ghost');
  const made: string[] = [];
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await removeAppImages(ghost);
    for (const r of made) await run('docker', ['rm', '-f', r]);
    await run('docker', ['volume', 'rm', '-f', `cache-${ghost}`, `cache-other-${ghost}`]);
  });
  const installation = /"installation":"([0-9a-f]+)"/.exec(solum.logs())?.[1] ?? '';
  t.truthy(installation);
  // Two released DUs of a real app: both stay, though only one is "newest".
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'build.sh': 'echo v1\n' });
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  await writeAndCommit(repo, { 'build.sh': 'echo v2\n' }, 'v2');
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

  // Unreleased DUs of an app (as a pull-request build would leave), a leftover builder, and caches.
  const label = (extra: string[]) => ['--label', `io.solum.installation=${installation}`, ...extra.flatMap((l) => ['--label', l])];
  for (const b of [1, 2]) {
    const r = await run('docker', ['build', '-q', '--network', 'none', ...label([`io.solum.app=${ghost}`, 'io.solum.role=deployment-unit', `io.solum.build=${b}`]), '-t', `solum/${ghost}:${b}`, '-'], { input: `FROM solum/base:bookworm\nRUN echo ${b} > /b\n` });
    t.is(r.code, 0, r.stderr);
  }
  const builder = await run('docker', ['create', ...label(['io.solum.role=builder', 'io.solum.build-id=99999', `io.solum.app=${ghost}`]), 'solum/base:bookworm', 'true']);
  made.push(builder.stdout.trim());
  await run('docker', ['volume', 'create', ...label([`io.solum.app=${ghost}`, 'io.solum.role=build-cache']), `cache-${ghost}`]);
  // Another installation's cache: not ours to remove.
  await run('docker', ['volume', 'create', '--label', 'io.solum.installation=someone-else', '--label', `io.solum.app=${ghost}`, '--label', 'io.solum.role=build-cache', `cache-other-${ghost}`]);

  const eve = await createUser(solum, 'eve');
  t.is((await solum.api('POST', '/v1/prune', undefined, eve.token)).status, 403, 'an operator task');
  const pruned = await solum.api('POST', '/v1/prune');
  t.is(pruned.status, 200, pruned.text);
  const report = pruned.json as { images: string[]; containers: number; volumes: string[] };
  t.is(report.images.length, 1);
  t.false(await imageExists(`solum/${ghost}:1`), 'the older unreleased DU went');
  t.true(await imageExists(`solum/${ghost}:2`), 'the newest stays');
  t.true(await imageExists(`solum/${app}:1`) && (await imageExists(`solum/${app}:2`)), 'released DUs stay for rollback');
  t.true(report.containers >= 1);
  t.is((await run('docker', ['ps', '-aq', '--filter', 'label=io.solum.build-id=99999'])).stdout.trim(), '');
  t.deepEqual(report.volumes, [`cache-${ghost}`]);
  t.is((await run('docker', ['volume', 'inspect', `cache-other-${ghost}`])).code, 0, "another installation's volume is untouched");
});
