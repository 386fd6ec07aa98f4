// The read caches: what they keep, what a write forgets at once, and that nothing outlives its second.
import test from 'ava';
import type { AppStore } from '../../../src/db/app-store.js';
import type { Build, BuildStore } from '../../../src/db/build-store.js';
import { cachedStores, TtlMap } from '../../../src/db/read-cache.js';
import type { ReleaseStore } from '../../../src/db/release-store.js';
import type { User, UserStore } from '../../../src/db/user-store.js';
import { parseUserName } from '../../../src/names.js';
import { sampleBuild } from '../../support/samples.js';

const alice: User = { id: 1, name: parseUserName('alice'), isAdmin: false, createdAt: new Date() };

function world(coherent: boolean) {
  let clock = 0;
  const calls = { token: 0, role: 0, build: 0 };
  let tokenValid = true;
  let role: 'read' | null = 'read';
  let build: Build = { ...sampleBuild, status: 'running' };
  const users = { findUserByTokenHash: () => { calls.token++; return Promise.resolve(tokenValid ? alice : undefined); }, revokeToken: () => { tokenValid = false; return Promise.resolve(true); } } as unknown as UserStore;
  const apps = { roleOf: () => { calls.role++; return Promise.resolve(role); }, removeCollaborator: () => { role = null; return Promise.resolve(true); } } as unknown as AppStore;
  const builds = { getBuild: () => { calls.build++; return Promise.resolve(build); }, finish: () => { build = { ...build, status: 'succeeded', releaseState: null }; return Promise.resolve(true); } } as unknown as BuildStore;
  const stores = cachedStores({ users, apps, builds, releases: {} as ReleaseStore }, { ttlMs: 1000, coherent, now: () => clock });
  return { stores, calls, tick: (ms: number) => { clock += ms; }, revokeBehindTheBack: () => { tokenValid = false; } };
}

test('a token is looked up once a second at most; revoking it here forgets it at once', async (t) => {
  const w = world(true);
  for (let i = 0; i < 5; i++) t.is((await w.stores.users.findUserByTokenHash('h', new Date()))?.id, 1);
  t.is(w.calls.token, 1);
  await w.stores.users.revokeToken(1, 9);
  t.is(await w.stores.users.findUserByTokenHash('h', new Date()), undefined);
});

test('a change made behind this process is seen within the second', async (t) => {
  const w = world(false);
  await w.stores.users.findUserByTokenHash('h', new Date());
  w.revokeBehindTheBack();
  w.tick(999);
  t.truthy(await w.stores.users.findUserByTokenHash('h', new Date()), 'kept for its second');
  w.tick(1);
  t.is(await w.stores.users.findUserByTokenHash('h', new Date()), undefined, 'then asked again');
});

test('a removed role is forgotten at once', async (t) => {
  const w = world(true);
  t.is(await w.stores.apps.roleOf(3, 1), 'read');
  t.is(await w.stores.apps.roleOf(3, 1), 'read');
  t.is(w.calls.role, 1);
  await w.stores.apps.removeCollaborator(3, 1);
  t.is(await w.stores.apps.roleOf(3, 1), null);
});

test('builds: any row with the embedded database; elsewhere only once they cannot change', async (t) => {
  const shared = world(false);
  await shared.stores.builds.getBuild(7);
  await shared.stores.builds.getBuild(7);
  t.is(shared.calls.build, 2, 'a running build is read every time');
  await shared.stores.builds.finish(7, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: null, languagePackImage: null, duId: null, duImage: null });
  await shared.stores.builds.getBuild(7);
  await shared.stores.builds.getBuild(7);
  t.is(shared.calls.build, 3, 'a finished one is kept');
  const embedded = world(true);
  await embedded.stores.builds.getBuild(7);
  await embedded.stores.builds.getBuild(7);
  t.is(embedded.calls.build, 1);
  await embedded.stores.builds.finish(7, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: null, languagePackImage: null, duId: null, duImage: null });
  t.is((await embedded.stores.builds.getBuild(7))?.status, 'succeeded', 'a write forgets the row');
});

test('a read that raced a write does not keep what it read', (t) => {
  const map = new TtlMap<string, number>(1000, () => 0);
  const generation = map.generation;
  map.delete('x');
  t.not(map.generation, generation);
});
