// Read-through caches in front of the stores the API asks on every request (the caller's token,
// the app and their role on it, the build), so a request costs no query in the common case. Every
// write through this process forgets what it touched at once; nothing is kept longer than `ttlMs`
// (one second), so a revoked token or removed role stops working within a second even when it
// changed behind this process's back. Builds other processes may still change (a worker's, on
// PostgreSQL) are kept only once they can no longer change.
import type { AppStore } from './app-store.js';
import { finishedStatuses, type Build, type BuildStore } from './build-store.js';
import type { Release, ReleaseStore } from './release-store.js';
import type { UserStore } from './user-store.js';

/** A map whose entries are forgotten `ttlMs` after they were set. */
export class TtlMap<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();
  /** Bumped by every forget, so a read that started before a write cannot keep what it read. */
  generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly max = 10_000,
  ) {}

  get(key: K): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V): void {
    if (this.entries.size >= this.max) this.entries.clear();
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
  }

  delete(key: K): void {
    this.generation++;
    this.entries.delete(key);
  }

  /** Forgets every entry whose value matches. */
  deleteWhere(match: (value: V, key: K) => boolean): void {
    this.generation++;
    for (const [k, e] of this.entries) if (match(e.value, k)) this.entries.delete(k);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}

export interface ReadCacheOptions {
  readonly ttlMs: number;
  /** Every write to the data goes through this process (the embedded database): any row may be kept. */
  readonly coherent: boolean;
  readonly now?: () => number;
}

/**
 * The value under `key`, else what `load` gives, kept unless `keep` refuses it or something was
 * forgotten while it loaded (a write raced the read).
 */
const through = async <K, V>(map: TtlMap<K, V>, key: K, load: () => Promise<V | undefined>, keep: (v: V) => boolean = () => true): Promise<V | undefined> => {
  const hit = map.get(key);
  if (hit !== undefined) return hit;
  const generation = map.generation;
  const v = await load();
  if (v !== undefined && keep(v) && map.generation === generation) map.set(key, v);
  return v;
};

export function cachedStores(stores: { users: UserStore; apps: AppStore; builds: BuildStore; releases: ReleaseStore }, o: ReadCacheOptions): { users: UserStore; apps: AppStore; builds: BuildStore; releases: ReleaseStore } {
  const usersById = new TtlMap<number, Awaited<ReturnType<UserStore['findUserById']>>>(o.ttlMs, o.now);
  // Only the server writes releases: an app's live release is kept until one of its releases changes.
  const live = new TtlMap<number, Release | 'none'>(o.ttlMs, o.now);
  const tokens = new TtlMap<string, Awaited<ReturnType<UserStore['findUserByTokenHash']>>>(o.ttlMs, o.now);
  const appsByName = new TtlMap<string, Awaited<ReturnType<AppStore['findApp']>>>(o.ttlMs, o.now);
  const appsById = new TtlMap<number, Awaited<ReturnType<AppStore['findAppById']>>>(o.ttlMs, o.now);
  // A role of null (no membership) is kept too, as the string 'none'.
  const roles = new TtlMap<string, NonNullable<Awaited<ReturnType<AppStore['roleOf']>>> | 'none'>(o.ttlMs, o.now);
  const builds = new TtlMap<number, Build>(o.ttlMs, o.now);
  const { users: u, apps: a, builds: b, releases: r } = stores;

  const forgetUser = (userId: number): void => {
    tokens.deleteWhere((user) => user?.id === userId);
    usersById.delete(userId);
  };
  const forgetApp = (id: number): void => {
    appsById.delete(id);
    appsByName.deleteWhere((app) => app?.id === id);
    roles.deleteWhere((_v, key) => key.startsWith(`${id}:`));
    builds.deleteWhere((build) => build.appId === id);
  };
  /** Whether a build may be kept: always when coherent; else once nothing will change it. */
  const keepable = (build: Build): boolean => o.coherent || (finishedStatuses.includes(build.status) && (build.releaseState === null || build.releaseState === 'done'));
  /** Passes `result` on after forgetting the builds a write touched (`'all'` when it cannot say which). */
  const forgetBuilds = <T>(result: T, ids: readonly number[] | 'all'): T => {
    if (ids === 'all') builds.clear();
    else for (const id of ids) builds.delete(id);
    return result;
  };
  const idsOf = (list: readonly Build[]): number[] => list.map((x) => x.id);

  const users: UserStore = {
    ...u,
    findUserByTokenHash: (hash, now) => through(tokens, hash, () => u.findUserByTokenHash(hash, now)),
    findUserById: (id) => through(usersById, id, () => u.findUserById(id)),
    async deleteUser(id) {
      forgetUser(id);
      return u.deleteUser(id);
    },
    async revokeToken(userId, tokenId) {
      forgetUser(userId);
      const r = await u.revokeToken(userId, tokenId);
      forgetUser(userId);
      return r;
    },
  };

  const apps: AppStore = {
    ...a,
    findApp: (name) => through(appsByName, name, () => a.findApp(name)),
    findAppById: (id) => through(appsById, id, () => a.findAppById(id)),
    async roleOf(appId, userId) {
      const role = await through(roles, `${appId}:${userId}`, async () => (await a.roleOf(appId, userId)) ?? 'none');
      return role === 'none' || role === undefined ? null : role;
    },
    async update(id, changes) {
      forgetApp(id);
      const r = await a.update(id, changes);
      forgetApp(id);
      return r;
    },
    async deleteApp(id) {
      forgetApp(id);
      const r = await a.deleteApp(id);
      forgetApp(id);
      return r;
    },
    async setCollaborator(appId, userId, role) {
      roles.delete(`${appId}:${userId}`);
      await a.setCollaborator(appId, userId, role);
      roles.delete(`${appId}:${userId}`);
    },
    async removeCollaborator(appId, userId) {
      roles.delete(`${appId}:${userId}`);
      const r = await a.removeCollaborator(appId, userId);
      roles.delete(`${appId}:${userId}`);
      return r;
    },
  };

  const buildStore: BuildStore = {
    ...b,
    getBuild: (id) => through(builds, id, () => b.getBuild(id), keepable),
    cancel: async (id) => forgetBuilds(await b.cancel(id), [id]),
    claim: async (workerId) => {
      const claimed = await b.claim(workerId);
      return forgetBuilds(claimed, claimed ? [claimed.id] : []);
    },
    heartbeat: async (id, workerId) => forgetBuilds(await b.heartbeat(id, workerId), [id]),
    finish: async (id, workerId, outcome, extra) => forgetBuilds(await b.finish(id, workerId, outcome, extra), [id]),
    claimRelease: async () => {
      const claimed = await b.claimRelease();
      return forgetBuilds(claimed, claimed ? [claimed.id] : []);
    },
    endRelease: async (id) => {
      await b.endRelease(id);
      forgetBuilds(undefined, [id]);
    },
    resetReleasing: async () => forgetBuilds(await b.resetReleasing(), 'all'),
    abandonStale: async (before) => {
      const list = await b.abandonStale(before);
      return forgetBuilds(list, idsOf(list));
    },
    abandon: async (ids) => forgetBuilds(await b.abandon(ids), ids),
  };
  const releases: ReleaseStore = {
    ...r,
    async activeRelease(ownerId) {
      const v = await through(live, ownerId, async () => (await r.activeRelease(ownerId)) ?? 'none');
      return v === 'none' ? undefined : v;
    },
    createRelease: async (input) => {
      const created = await r.createRelease(input);
      live.delete(input.appId);
      return created;
    },
    // Which owner a release ID belongs to is not known here: any change forgets every live release.
    activate: async (id) => {
      live.clear();
      const ok = await r.activate(id);
      live.clear();
      return ok;
    },
    promote: async (id) => {
      live.clear();
      const ok = await r.promote(id);
      live.clear();
      return ok;
    },
    fail: async (id, error) => {
      live.clear();
      const ok = await r.fail(id, error);
      live.clear();
      return ok;
    },
  };
  return { users, apps, builds: buildStore, releases };
}
