// Backing service instances and links on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createServiceStore } from '../../src/db/service-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`service instances and links [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const store = createServiceStore(db.knex);
    const ann = await created(users.createUser(parseUserName('ann'), false));
    const bob = await created(users.createUser(parseUserName('bob'), false));
    const { app: web } = await apps.createApp(parseAppName('web'), ann.id);
    const { app: worker } = await apps.createApp(parseAppName('worker'), ann.id);

    const db1 = await created(store.create({ name: 'db1', kind: 'postgres', ownerId: ann.id, port: 21001, password: 'p1' }));
    t.like(db1, { name: 'db1', kind: 'postgres', ownerId: ann.id, owner: 'ann', port: 21001, password: 'p1', containerId: null });
    t.is(await store.create({ name: 'db1', kind: 'redis', ownerId: bob.id, port: 21002, password: 'x' }), 'duplicate', 'names are unique');
    t.is(await store.create({ name: 'other', kind: 'redis', ownerId: bob.id, port: 21001, password: 'x' }), 'duplicate', 'ports are unique');
    const cache = await created(store.create({ name: 'cache', kind: 'redis', ownerId: bob.id, port: 21003, password: 'p3' }));
    await store.setContainer(db1.id, 'c0ffee');
    t.is((await store.find('db1'))?.containerId, 'c0ffee');
    t.deepEqual((await store.list({})).map((i) => i.name), ['cache', 'db1']);
    t.deepEqual((await store.list({ ownerId: ann.id })).map((i) => i.name), ['db1']);

    // One link per instance and app; one instance per config var and app.
    t.like(await created(store.link(db1.id, web.id, 'DATABASE_URL')), { service: 'db1', app: 'web', envVar: 'DATABASE_URL' });
    t.is(await store.link(db1.id, web.id, 'POSTGRES_DB1_URL'), 'duplicate');
    t.is(await store.link(cache.id, web.id, 'DATABASE_URL'), 'duplicate');
    await created(store.link(cache.id, web.id, 'REDIS_URL'));
    await created(store.link(db1.id, worker.id, 'DATABASE_URL'));
    t.deepEqual((await store.linksOfApp(web.id)).map((l) => [l.service, l.envVar]), [['cache', 'REDIS_URL'], ['db1', 'DATABASE_URL']]);
    t.deepEqual((await store.linksOfService(db1.id)).map((l) => l.app), ['web', 'worker']);
    t.like(await store.unlink(cache.id, web.id), { envVar: 'REDIS_URL' });
    t.is(await store.unlink(cache.id, web.id), undefined);

    // Destroying an app removes its links, never the instance.
    t.true(await apps.deleteApp(worker.id));
    t.deepEqual((await store.linksOfService(db1.id)).map((l) => l.app), ['web']);
    t.truthy(await store.find('db1'));
    // An instance outlives its owner's account.
    await users.deleteUser(bob.id);
    t.like(await store.find('cache'), { ownerId: null, owner: null });
    // Removing an instance removes its links.
    t.true(await store.remove(db1.id));
    t.deepEqual(await store.linksOfApp(web.id), []);
    t.false(await store.remove(db1.id));
  });
}
