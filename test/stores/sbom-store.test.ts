// SBOMs, their component index and provenance on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createBuildStore } from '../../src/db/build-store.js';
import { createSbomStore } from '../../src/db/sbom-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';

const component = (name: string, version: string, extra: Partial<{ sourceName: string; pinnedBy: string; ecosystem: string }> = {}) => ({
  ecosystem: extra.ecosystem ?? 'npm', name, matchName: name.toLowerCase(), sourceName: extra.sourceName ?? null, version, purl: null, pinnedBy: extra.pinnedBy ?? null,
});

for (const kind of databaseKinds) {
  test(`SBOMs of builds and pack images, found by component name or Debian source; provenance signed once [${kind}]`, async (t) => {
    const { db, done } = await openTestDatabase(kind);
    t.teardown(done);
    const owner = await createUserStore(db.knex).createUser(parseUserName('ann'), false);
    if (owner === 'duplicate') throw new Error('duplicate');
    const apps = createAppStore(db.knex);
    const { app } = await apps.createApp(parseAppName('sb'), owner.id);
    const builds = createBuildStore(db.knex);
    const b = await builds.createBuild({ appId: app.id, number: 1, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'a.tar' });
    const store = createSbomStore(db.knex);
    // More rows than one INSERT may carry parameters for.
    const many = Array.from({ length: 9000 }, (_, i) => component(`pkg-${i}`, '1.0.0'));
    const saved = await store.saveForBuild(b.id, { document: '{"a":1}', digest: 'sha256:aa', components: [component('Lodash', '4.17.20', { pinnedBy: 'package-lock.json' }), ...many], generatedMs: 12.4 });
    t.like(saved, { buildId: b.id, componentCount: 9001, generatedMs: 12, document: '{"a":1}' });
    // Replaced, not doubled.
    await store.saveForBuild(b.id, { document: '{"a":2}', digest: 'sha256:bb', components: [component('lodash', '4.17.20', { pinnedBy: 'package-lock.json' })], generatedMs: 1 });
    t.is((await store.ofBuild(b.id))?.document, '{"a":2}');
    const pack = await store.saveForPackImage('sha256:p1', 'node', { document: '{}', digest: 'sha256:cc', components: [component('libssl3', '3.0.11-1', { ecosystem: 'deb', sourceName: 'openssl' })], generatedMs: 3 });
    t.is((await store.saveForPackImage('sha256:p1', 'node', { document: '{"other":1}', digest: 'sha256:dd', components: [], generatedMs: 1 })).id, pack.id, 'one SBOM per pack image');
    t.like((await store.findComponents('lodash'))[0], { buildId: b.id, version: '4.17.20', pinnedBy: 'package-lock.json' });
    t.deepEqual((await store.findComponents('openssl', 'deb')).map((h) => [h.name, h.packImage, h.packName]), [['libssl3', 'sha256:p1', 'node']]);
    t.deepEqual(await store.findComponents('openssl', 'npm'), []);
    await store.saveProvenance({ buildId: b.id, statement: '{"s":1}', subjectDigest: 'sha256:du', envelope: null });
    t.true(await store.setEnvelope(b.id, '{"e":1}'));
    t.false(await store.setEnvelope(b.id, '{"e":2}'), 'a signed statement is not signed again');
    t.is((await store.provenanceOf(b.id))?.envelope, '{"e":1}');
    t.true(await store.removeForBuild(b.id));
    t.deepEqual(await store.findComponents('lodash'), []);
    await db.knex('builds').where({ id: b.id }).delete();
    t.is(await store.provenanceOf(b.id), undefined, 'provenance goes with its build');
  });
}
