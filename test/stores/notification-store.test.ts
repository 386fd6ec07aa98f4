// Notification subscriptions and their delivery log on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createNotificationStore } from '../../src/db/notification-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';

for (const kind of databaseKinds) {
  test(`subscriptions reach their app's events and the installation's; deliveries retry until delivered or failed [${kind}]`, async (t) => {
    const { db, done } = await openTestDatabase(kind);
    t.teardown(done);
    const owner = await createUserStore(db.knex).createUser(parseUserName('ann'), false);
    if (owner === 'duplicate') throw new Error('duplicate');
    const apps = createAppStore(db.knex);
    const a = (await apps.createApp(parseAppName('one'), owner.id)).app;
    const b = (await apps.createApp(parseAppName('two'), owner.id)).app;
    const store = createNotificationStore(db.knex);
    const forA = await store.subscribe({ appId: a.id, url: 'https://a.example/hook', secret: 's', format: 'json', events: ['build.failed'], allowLocal: false, createdBy: 'ann' });
    const all = await store.subscribe({ appId: null, url: 'https://ops.example/hook', secret: 't', format: 'slack', events: ['*'], allowLocal: true, createdBy: 'admin' });
    t.deepEqual((await store.reaching(a.id, 'build.failed')).map((s) => s.id), [forA.id, all.id]);
    t.deepEqual((await store.reaching(a.id, 'release.live')).map((s) => s.id), [all.id]);
    t.deepEqual((await store.reaching(b.id, 'build.failed')).map((s) => s.id), [all.id], "another app's subscription never reaches it");
    t.deepEqual((await store.list(null)).map((s) => s.id), [all.id]);
    t.like(await store.get(all.id), { format: 'slack', allowLocal: true, events: ['*'] });

    await store.enqueue(forA.id, 'build.failed', '{"x":1}');
    const [d] = await store.due(new Date(), 10);
    t.like(d, { subscriptionId: forA.id, status: 'pending', attempts: 0 });
    const later = new Date(Date.now() + 60_000);
    await store.recordAttempt(d!.id, { status: 'pending', statusCode: 500, error: 'the receiver answered 500', nextAttemptAt: later });
    t.deepEqual(await store.due(new Date(), 10), [], 'not due before its next attempt');
    t.is((await store.due(new Date(later.getTime() + 1), 10)).length, 1);
    await store.recordAttempt(d!.id, { status: 'delivered', statusCode: 204, error: null, nextAttemptAt: null });
    const [logged] = await store.deliveries(forA.id, 10);
    t.like(logged, { status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null });
    t.truthy(logged?.deliveredAt);
    t.true(await store.remove(forA.id));
    t.deepEqual(await store.deliveries(forA.id, 10), [], 'the log goes with its subscription');
  });
}
