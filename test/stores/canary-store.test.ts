// Canary releases on both databases: one running per target, its share, how it ended; a release
// promoted from pending or superseded.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createCanaryStore } from '../../src/db/canary-store.js';
import { createReleaseStore } from '../../src/db/release-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`canaries: one running per target even when two starts race; share changed; ended once; history; promote [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const releases = createReleaseStore(db.knex);
    const store = createCanaryStore(db.knex);
    const ann = await created(users.createUser(parseUserName('ann'), false));
    const { app } = await apps.createApp(parseAppName('web'), ann.id);
    const make = () => releases.createRelease({ appId: app.id, buildId: null, duId: 'sha256:x', duImage: 'solum/web:1', config: {}, processTypes: { web: 'x' }, description: 'd', createdBy: null });
    const v1 = await make();
    t.true(await releases.activate(v1.id));
    const v2 = await make();
    const key = `app-${app.id}`;

    const [a, b] = await Promise.all([
      store.start({ targetKey: key, releaseId: v2.id, version: v2.version, percent: 30, startedBy: 'ann' }),
      store.start({ targetKey: key, releaseId: v2.id, version: v2.version, percent: 40, startedBy: 'ann' }),
    ]);
    t.is([a, b].filter((c) => c !== undefined).length, 1, 'only one of two racing starts wins');
    t.is(await store.start({ targetKey: 'app-999', releaseId: v2.id, version: 2, percent: 0, startedBy: null }).catch(() => 'refused'), 'refused', 'the database refuses a share outside 1–99');
    const running = await store.running(key);
    t.truthy(running);
    if (!running) return;
    t.true(await store.setPercent(running.id, 55));
    t.like(await store.running(key), { version: 2, percent: 55, status: 'running' });
    t.deepEqual((await store.allRunning()).map((c) => c.targetKey), [key]);
    t.true(await store.end(running.id, 'aborted', 'health check failed'));
    t.false(await store.end(running.id, 'promoted', null), 'an ended canary stays ended');
    t.is(await store.running(key), undefined);
    t.like((await store.history(key))[0], { status: 'aborted', reason: 'health check failed' });
    t.truthy(await store.start({ targetKey: key, releaseId: v1.id, version: 1, percent: 10, startedBy: null }), 'a new one may start once the last ended');

    // Promote: a pending release, then back to a superseded one.
    t.true(await releases.promote(v2.id));
    t.like(await releases.activeRelease(app.id), { version: 2 });
    t.like(await releases.getRelease(app.id, 1), { status: 'superseded' });
    t.true(await releases.promote(v1.id));
    t.like(await releases.activeRelease(app.id), { version: 1 });
    t.false(await releases.promote(v1.id), 'the active release is not promoted again');
  });
}
