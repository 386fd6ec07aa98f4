// App and build pack records on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createBuildStore } from '../../src/db/build-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`app buildpacks and language packs; a build's buildpacks and every pack it ran [${kind}]`, async (t) => {
    const { db, done } = await openTestDatabase(kind);
    t.teardown(done);
    const owner = await createUserStore(db.knex).createUser(parseUserName('ann'), false);
    if (owner === 'duplicate') throw new Error('duplicate');
    const apps = createAppStore(db.knex);
    const { app } = await apps.createApp(parseAppName('bp'), owner.id);
    t.deepEqual([app.buildpacks, app.languagePacks], [[], []]);
    const updated = await apps.update(app.id, { buildpacks: ['https://x/a.git', 'https://x/b.git'], languagePacks: ['base', 'app'] });
    t.deepEqual([updated?.buildpacks, updated?.languagePacks], [['https://x/a.git', 'https://x/b.git'], ['base', 'app']]);
    t.deepEqual((await apps.findApp(parseAppName('bp')))?.buildpacks, ['https://x/a.git', 'https://x/b.git']);
    const builds = createBuildStore(db.knex);
    const b = await builds.createBuild({ appId: app.id, number: 1, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'a.tar', buildpacks: ['https://x/c.git'] });
    t.deepEqual(b.buildpacks, ['https://x/c.git']);
    t.deepEqual(b.languagePacks, []);
    const claimed = await builds.claim('w');
    t.is(claimed?.id, b.id);
    const uses = [{ name: 'base', image: 'sha256:b' }, { name: 'app', image: 'sha256:a' }];
    t.true(await builds.finish(b.id, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: 'app', languagePackImage: 'sha256:a', duId: 'sha256:d', duImage: 'solum/bp:1', languagePacks: uses }));
    t.deepEqual((await builds.getBuild(b.id))?.languagePacks, uses);
    // An outcome without the list records its one pack.
    const b2 = await builds.createBuild({ appId: app.id, number: 2, ref: 'refs/heads/main', commit: 'd'.repeat(40), archive: 'b.tar' });
    await builds.claim('w');
    await builds.finish(b2.id, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: 'shell', languagePackImage: 'sha256:s', duId: 'sha256:e', duImage: 'solum/bp:2' });
    t.deepEqual((await builds.getBuild(b2.id))?.languagePacks, [{ name: 'shell', image: 'sha256:s' }]);
  });
}
