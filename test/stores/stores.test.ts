// The stores on both databases: PGlite (embedded) and PostgreSQL, same migrations, same queries.
import test from 'ava';
import { hashToken } from '../../src/access/tokens.js';
import { createAppStore } from '../../src/db/app-store.js';
import { createBuildStore, type BuildOutcome } from '../../src/db/build-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { created, databaseKinds, openTestDatabase as open } from '../support/database.js';

const ok: BuildOutcome = { status: 'succeeded', exitCode: 0, error: null, languagePack: 'shell', languagePackImage: 'sha256:p', duId: 'sha256:d', duImage: 'solum/a:1' };

for (const kind of databaseKinds) {
  test(`users, keys and tokens [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const alice = await created(users.createUser(parseUserName('alice'), false));
    const bob = await created(users.createUser(parseUserName('bob'), false));
    t.is(await users.createUser(parseUserName('bob'), false), 'duplicate');
    const key = { name: 'laptop', algo: 'ssh-ed25519', blob: 'QUJD', fingerprint: 'SHA256:x' };
    const added = await users.addKey(alice.id, key);
    t.not(added, 'duplicate');
    t.is(await users.addKey(bob.id, { ...key, name: 'other' }), 'duplicate', 'a key belongs to at most one user');
    t.is(await users.addKey(alice.id, { ...key, blob: 'REVG' }), 'duplicate', 'key names are unique per user');
    t.is<string | undefined, string>((await users.findKeyOwner('QUJD'))?.user.name, 'alice');
    t.is(await users.findKeyOwner('nope'), undefined);
    t.is((await users.listKeys(alice.id)).length, 1);

    const now = new Date();
    await users.addToken(alice.id, 'live', hashToken('t-live'), null);
    await users.addToken(alice.id, 'future', hashToken('t-future'), new Date(now.getTime() + 60_000));
    await users.addToken(alice.id, 'expired', hashToken('t-expired'), new Date(now.getTime() - 1));
    t.is<string | undefined, string>((await users.findUserByTokenHash(hashToken('t-live'), now))?.name, 'alice');
    t.is<string | undefined, string>((await users.findUserByTokenHash(hashToken('t-future'), now))?.name, 'alice');
    t.is(await users.findUserByTokenHash(hashToken('t-expired'), now), undefined);
    t.is(await users.findUserByTokenHash(hashToken('t-unknown'), now), undefined);
    await db.knex('api_tokens').where({ name: 'live' }).update({ revoked_at: now });
    t.is(await users.findUserByTokenHash(hashToken('t-live'), now), undefined, 'revoked');
    t.deepEqual((await users.listTokens(alice.id)).map((x) => [x.name, x.revokedAt !== null]), [['live', true], ['future', false], ['expired', false]]);
    const future = (await users.listTokens(alice.id)).find((x) => x.name === 'future');
    t.false(await users.revokeToken(bob.id, future!.id), "another user's token");
    t.true(await users.revokeToken(alice.id, future!.id));
    t.is(await users.findUserByTokenHash(hashToken('t-future'), now), undefined);
    const keyId = (await users.listKeys(alice.id))[0]!.id;
    t.true(await users.keyExists(keyId));
    t.true(await users.removeKey(alice.id, 'laptop'));
    t.false(await users.keyExists(keyId));
    t.true(await users.deleteUser(bob.id));
    t.is(await users.findUserByName('bob'), undefined);
  });

  test(`apps: created once, numbered builds [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const owner = await created(users.createUser(parseUserName('owner'), false));
    const name = parseAppName('hello');
    const [a, b] = await Promise.all([apps.createApp(name, owner.id), apps.createApp(name, owner.id)]);
    t.is(a.app.id, b.app.id);
    t.is([a.created, b.created].filter(Boolean).length, 1);
    const numbers = await Promise.all([1, 2, 3, 4, 5].map(() => apps.nextBuildNumber(a.app.id)));
    t.deepEqual(numbers.sort(), [1, 2, 3, 4, 5]);
    t.deepEqual((await apps.listApps({ visibleTo: owner.id })).map((x) => x.name), ['hello']);
    const other = await created(users.createUser(parseUserName('other'), false));
    t.deepEqual(await apps.listApps({ visibleTo: other.id }), []);
    await apps.setCollaborator(a.app.id, other.id, 'read');
    t.is(await apps.roleOf(a.app.id, other.id), 'read');
    await apps.setCollaborator(a.app.id, other.id, 'write');
    t.is(await apps.roleOf(a.app.id, other.id), 'write');
    t.deepEqual((await apps.listApps({ visibleTo: other.id })).map((x) => x.name), ['hello']);
    t.deepEqual((await apps.listCollaborators(a.app.id)).map((c) => [c.user, c.role]), [['other', 'write']]);
    t.true(await apps.removeCollaborator(a.app.id, other.id));
    t.is(await apps.roleOf(a.app.id, other.id), null);
    t.true((await apps.update(a.app.id, { public: true }))?.public ?? false);
    t.true(await apps.deleteApp(a.app.id));
    t.is(await apps.findApp(name), undefined);
  });

  test(`build queue: oldest first, one running build per app, each build claimed exactly once by concurrent workers [${kind}]`, async (t) => {
    const { db, done } = await open(kind);
    t.teardown(done);
    const users = createUserStore(db.knex);
    const apps = createAppStore(db.knex);
    const builds = createBuildStore(db.knex);
    const owner = await created(users.createUser(parseUserName('owner'), false));
    const appIds: number[] = [];
    for (const n of ['qa', 'qb', 'qc']) appIds.push((await apps.createApp(parseAppName(n), owner.id)).app.id);
    // Four builds per app, interleaved: ids[k] belongs to app k % 3.
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) {
      const appId = appIds[i % 3]!;
      ids.push((await builds.createBuild({ appId, number: Math.floor(i / 3) + 1, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: `${i}.tar` })).id);
    }
    const first = await builds.claim('w0');
    t.is(first?.id, ids[0], 'oldest first');
    t.is(first?.status, 'running');

    // Concurrent claims: only one build per app can run, so exactly the two other apps' oldest start.
    const round = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => builds.claim(w)));
    t.deepEqual(round.filter((b) => b !== undefined).map((b) => b.id).sort((x, y) => x - y), [ids[1], ids[2]]);
    t.is(await builds.claim('w5'), undefined);
    t.false(await builds.finish(ids[0]!, 'someone-else', ok), 'only the holder may finish a build');
    t.true(await builds.finish(ids[0]!, 'w0', ok));
    t.false(await builds.finish(ids[0]!, 'w0', ok), 'a finished build stays finished');
    t.like(await builds.getBuild(ids[0]!), { status: 'succeeded', duId: 'sha256:d', app: 'qa' });
    t.false(await builds.heartbeat(ids[0]!, 'w0'));
    t.is((await builds.claim('w0'))?.id, ids[3], "the app's next build starts once its previous one finished");

    // Drain the rest with four concurrent workers: every build runs exactly once, never two of one app at a time.
    await db.knex('builds').whereIn('id', [ids[1]!, ids[2]!, ids[3]!]).update({ status: 'succeeded' });
    await db.knex('apps').update({ running_build_id: null });
    const claimed: number[] = [];
    let overlap = false;
    const runningApps = new Set<number>();
    await Promise.all(
      ['w1', 'w2', 'w3', 'w4'].map(async (w) => {
        for (;;) {
          const b = await builds.claim(w);
          if (!b) {
            if ((await builds.activeBuilds(appIds[0]!)).length + (await builds.activeBuilds(appIds[1]!)).length + (await builds.activeBuilds(appIds[2]!)).length === 0) return;
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          if (runningApps.has(b.appId)) overlap = true;
          runningApps.add(b.appId);
          claimed.push(b.id);
          await new Promise((r) => setTimeout(r, 5));
          runningApps.delete(b.appId);
          t.true(await builds.finish(b.id, w, ok));
        }
      }),
    );
    t.false(overlap, 'two builds of one app never ran at once');
    t.deepEqual(claimed.sort((x, y) => x - y), ids.slice(4));

    // Cancel: a queued build at once; a running one by request; a finished one not at all.
    const q = await builds.createBuild({ appId: appIds[0]!, number: 99, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'q.tar' });
    t.is(await builds.cancel(q.id), 'canceled');
    t.is((await builds.getBuild(q.id))?.status, 'canceled');
    const r = await builds.createBuild({ appId: appIds[1]!, number: 98, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'r.tar' });
    t.is((await builds.claim('w9'))?.id, r.id);
    t.is(await builds.cancel(r.id), 'requested');
    t.true((await builds.getBuild(r.id))?.cancelRequested);
    t.is(await builds.cancel(ids[0]!), 'finished');

    // Running builds whose heartbeat went stale are abandoned and free their app; fresh ones are not.
    await db.knex('builds').where({ id: r.id }).update({ heartbeat_at: new Date(Date.now() - 60_000) });
    const abandoned = await builds.abandonStale(new Date(Date.now() - 30_000));
    t.deepEqual(abandoned.map((b) => b.id), [r.id]);
    t.is((await builds.getBuild(r.id))?.status, 'abandoned');
    const again = await builds.createBuild({ appId: appIds[1]!, number: 97, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'a.tar' });
    t.is((await builds.claim('w9'))?.id, again.id, 'an abandoned build does not block its app');

    await builds.appendLog(ids[0]!, 1, 'one\n');
    await builds.appendLog(ids[0]!, 2, 'two\n');
    t.is(await builds.readLog(ids[0]!), 'one\ntwo\n');
    await builds.appendLog(ids[0]!, 3, 'three\nfour\n');
    t.deepEqual(await builds.logEnd(ids[0]!), { seq: 3, lines: 4 });
    t.deepEqual((await builds.logChunksAfter(ids[0]!, 1)).map((c) => c.seq), [2, 3]);
    t.deepEqual(await builds.logEnd(ids[1]!), { seq: 0, lines: 0 });
    t.deepEqual((await builds.listBuilds(appIds[2]!)).map((b) => b.number), [4, 3, 2, 1]);
  });
}
