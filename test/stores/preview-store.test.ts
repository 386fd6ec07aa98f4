// Preview apps' rows on both databases: settings, one router name across every app, releases of
// their own, the idle clock, the quota count and teardown marking.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createEnvironmentStore } from '../../src/db/environment-store.js';
import { createReleaseStore } from '../../src/db/release-store.js';
import { createTargets } from '../../src/deploy/target.js';
import { createPreviewStore, defaultPreviewSettings } from '../../src/db/preview-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`previews: settings, unique router names across apps, own config and releases, idle, doom, count [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const store = createPreviewStore(db.knex);
    const ann = await created(users.createUser(parseUserName('ann'), false));
    const bob = await created(users.createUser(parseUserName('bob'), false));
    const { app: a } = await apps.createApp(parseAppName('a'), ann.id);
    const { app: ab } = await apps.createApp(parseAppName('a-b'), bob.id);

    t.deepEqual(await store.settings(a.id), defaultPreviewSettings, 'previews are off by default');
    t.like(await store.setSettings(a.id, { pattern: 'preview/*', ttlSeconds: 30 }), { pattern: 'preview/*', ttlSeconds: 30, pullRequests: false, maxPreviews: 10 });
    t.like(await store.settings(a.id), { pattern: 'preview/*', ttlSeconds: 30 });

    const p = await store.create({ appId: a.id, name: 'b-c', branch: 'preview/b-c', routerName: 'a-b-c', source: 'push' });
    if (p === 'duplicate') return t.fail('created');
    t.is(p.state, 'building');
    t.is(await store.create({ appId: ab.id, name: 'c', branch: 'preview/c', routerName: 'a-b-c', source: 'push' }), 'duplicate', "another app's preview cannot take the same host");
    t.is(await store.create({ appId: a.id, name: 'b-c', branch: 'other', routerName: 'a-x', source: 'push' }), 'duplicate');
    t.is((await store.byRouterName('a-b-c'))?.id, p.id);

    await store.releases.changeConfig(p.id, { GREETING: 'preview' }, []);
    t.deepEqual(await store.releases.getConfig(p.id), { GREETING: 'preview' });
    const r = await store.releases.createRelease({ appId: p.id, buildId: null, duId: 'sha256:x', duImage: 'solum/a:1', config: {}, processTypes: { web: 'x' }, description: 'd', createdBy: null });
    t.is(r.version, 1);
    t.true(await store.releases.activate(r.id));

    await store.addService(p.id, 'pv1-db', 'DATABASE_URL');
    t.deepEqual(await store.services(p.id), [{ service: 'pv1-db', envVar: 'DATABASE_URL' }]);
    t.is(await store.countOwnedBy(ann.id), 1);
    t.is(await store.countOwnedBy(bob.id), 0, "previews count against their app's owner only");

    t.deepEqual(await store.idle(new Date(Date.now() + 10_000)), [], 'not idle before the TTL');
    t.deepEqual((await store.idle(new Date(Date.now() + 31_000))).map((x) => x.id), [p.id], 'idle after the TTL');
    await store.touch(p.id);
    t.true(await store.doom(p.id));
    t.false(await store.doom(p.id), 'dooming is once');
    await store.setState(p.id, 'up');
    t.is((await store.byId(p.id))?.state, 'doomed', 'a doomed preview stays doomed');
    t.deepEqual(await store.list(a.id), [], 'doomed previews are not listed');
    t.is((await store.list(a.id, { all: true })).length, 1);
    t.is(await store.countOwnedBy(ann.id), 0, 'doomed previews do not count');
    t.true(await store.remove(p.id));
    t.deepEqual(await store.services(p.id), [], "the preview's rows cascade");
    t.is(await store.releases.activeRelease(p.id), undefined);
  });
}

for (const kind of databaseKinds) {
  test(`previews as deploy targets: key pre-<id>, their own router name and releases; a doomed preview is not re-adopted [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const store = createPreviewStore(db.knex);
    const releases = createReleaseStore(db.knex);
    const envs = createEnvironmentStore(db.knex);
    const ann = await created(users.createUser(parseUserName('ann'), false));
    const { app } = await apps.createApp(parseAppName('shop'), ann.id);
    const p = await store.create({ appId: app.id, name: 'preview-x', branch: 'preview/x', routerName: 'shop-preview-x', source: 'push' });
    if (p === 'duplicate') return t.fail('created');
    const targets = createTargets({ appReleases: releases, environmentReleases: envs.releases, appById: (id) => apps.findAppById(id), environmentById: (id) => envs.byId(id), previewReleases: store.releases, previewById: (id) => store.byId(id) });
    const target = targets.ofPreview(app, p);
    t.like(target, { key: `pre-${p.id}`, name: 'shop-preview-x', environment: null });
    const r = await target.releases.createRelease({ buildId: null, duId: 'sha256:x', duImage: 'solum/shop:1', config: {}, processTypes: { web: 'x' }, description: 'preview', createdBy: null });
    await target.releases.activate(r.id);
    t.is(await releases.activeRelease(app.id), undefined, "a preview's release is not the app's");
    t.deepEqual((await targets.active()).map((a) => a.target.key), [`pre-${p.id}`]);
    await store.doom(p.id);
    t.deepEqual(await targets.active(), [], 'a doomed preview is left to the reconciler');
  });
}
