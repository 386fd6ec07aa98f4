// Apps' custom domains and HTTPS redirect on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createDomainStore } from '../../src/db/domain-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`custom domains: one app per host, listed, removed, gone with their app; redirect switch [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const store = createDomainStore(db.knex);
    const ann = await created(users.createUser(parseUserName('ann'), false));
    const { app: web } = await apps.createApp(parseAppName('web'), ann.id);
    const { app: shop } = await apps.createApp(parseAppName('shop'), ann.id);

    t.like(await store.add(web.id, 'www.example.org'), { host: 'www.example.org', appId: web.id });
    await store.add(web.id, 'a.example.org');
    t.is(await store.add(shop.id, 'www.example.org'), 'taken', 'a host belongs to one app');
    t.is(await store.add(web.id, 'www.example.org'), 'taken');
    await store.add(shop.id, 'shop.example.org');
    t.deepEqual((await store.listOfApp(web.id)).map((d) => d.host), ['a.example.org', 'www.example.org']);
    t.deepEqual((await store.listAll()).map((d) => [d.host, d.appId]), [['a.example.org', web.id], ['shop.example.org', shop.id], ['www.example.org', web.id]]);
    t.is((await store.find('shop.example.org'))?.appId, shop.id);
    t.false(await store.remove(shop.id, 'a.example.org'), "another app's host is not removed");
    t.true(await store.remove(web.id, 'a.example.org'));

    t.false(await store.redirects(web.id));
    await store.setRedirect(web.id, true);
    t.true(await store.redirects(web.id));
    t.deepEqual(await store.redirectingApps(), [web.id]);

    await apps.deleteApp(web.id);
    t.deepEqual((await store.listAll()).map((d) => d.host), ['shop.example.org'], "an app's domains go with it");
  });
}
