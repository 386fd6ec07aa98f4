// Apps: the named things users push to, and who may do what to them.
import type { Knex } from 'knex';
import type { AppRole } from '../roles.js';
import type { AppName, UserName } from '../names.js';

export interface App {
  readonly id: number;
  readonly name: AppName;
  readonly ownerId: number;
  readonly deployBranch: string;
  readonly languagePack: string | null;
  /** Anyone may clone it over HTTP without credentials. */
  readonly public: boolean;
  /** Per-app build limits; null means the server's defaults. */
  readonly buildTimeoutSeconds: number | null;
  readonly buildMemoryMb: number | null;
  /** Buildpack URLs, in order (the `buildpack` language pack runs them). */
  readonly buildpacks: readonly string[];
  /** Language packs the app builds with, in order; empty: the pinned or detected one. */
  readonly languagePacks: readonly string[];
  /** Whether webhooks of pull requests build it (off unless an app admin turns it on). */
  readonly pullRequestBuilds: boolean;
  /** The directory of the repository the app is built from (monorepos); null: the whole tree. */
  readonly baseDir: string | null;
  /** Paths a push of the deploy branch must change to build; empty: every push builds. */
  readonly watchPaths: readonly string[];
  readonly createdAt: Date;
}

export interface AppChanges {
  readonly public?: boolean;
  readonly languagePack?: string | null;
  readonly buildTimeoutSeconds?: number | null;
  readonly buildMemoryMb?: number | null;
  readonly buildpacks?: readonly string[];
  readonly languagePacks?: readonly string[];
  readonly pullRequestBuilds?: boolean;
  readonly baseDir?: string | null;
  readonly watchPaths?: readonly string[];
}

export interface Collaborator {
  readonly userId: number;
  readonly user: UserName;
  readonly role: AppRole;
}

interface AppRow {
  id: number;
  name: string;
  owner_id: number;
  deploy_branch: string;
  language_pack: string | null;
  public: boolean;
  build_timeout_seconds: number | null;
  build_memory_mb: number | null;
  build_seq: number;
  buildpacks: unknown;
  language_packs: unknown;
  pull_request_builds: boolean;
  base_dir: string | null;
  watch_paths: unknown;
  created_at: Date;
}

/** A jsonb list of strings as either driver returns it. */
export const stringList = (v: unknown): string[] => {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
};

const toApp = (r: AppRow): App => ({
  id: r.id,
  name: r.name as AppName,
  ownerId: r.owner_id,
  deployBranch: r.deploy_branch,
  languagePack: r.language_pack,
  public: r.public,
  buildTimeoutSeconds: r.build_timeout_seconds,
  buildMemoryMb: r.build_memory_mb,
  buildpacks: stringList(r.buildpacks),
  languagePacks: stringList(r.language_packs),
  pullRequestBuilds: r.pull_request_builds,
  baseDir: r.base_dir,
  watchPaths: stringList(r.watch_paths),
  createdAt: r.created_at,
});

export interface AppStore {
  /** Creates the app, or returns the existing one when another request created it first. */
  createApp(name: AppName, ownerId: number): Promise<{ app: App; created: boolean }>;
  findApp(name: AppName): Promise<App | undefined>;
  findAppById(id: number): Promise<App | undefined>;
  /** All apps (admins), or those a user owns or collaborates on. */
  listApps(filter: { visibleTo?: number }): Promise<App[]>;
  listOwnedBy(userId: number): Promise<App[]>;
  update(id: number, changes: AppChanges): Promise<App | undefined>;
  deleteApp(id: number): Promise<boolean>;
  /** Reserves the next build number of an app (1, 2, …). */
  nextBuildNumber(appId: number): Promise<number>;
  roleOf(appId: number, userId: number): Promise<AppRole | null>;
  listCollaborators(appId: number): Promise<Collaborator[]>;
  setCollaborator(appId: number, userId: number, role: AppRole): Promise<void>;
  removeCollaborator(appId: number, userId: number): Promise<boolean>;
}

export function createAppStore(knex: Knex): AppStore {
  return {
    async createApp(name, ownerId) {
      const rows = await knex<AppRow>('apps').insert({ name, owner_id: ownerId }).onConflict('name').ignore().returning('*');
      const row = rows[0];
      if (row) return { app: toApp(row), created: true };
      const existing = await knex<AppRow>('apps').where({ name }).first();
      if (!existing) throw new Error(`app ${name} vanished while being created`);
      return { app: toApp(existing), created: false };
    },
    async findApp(name) {
      const row = await knex<AppRow>('apps').where({ name }).first();
      return row && toApp(row);
    },
    async findAppById(id) {
      const row = await knex<AppRow>('apps').where({ id }).first();
      return row && toApp(row);
    },
    async listApps(filter) {
      const q = knex<AppRow>('apps').orderBy('name');
      const userId = filter.visibleTo;
      if (userId !== undefined) {
        void q.where((w) => {
          void w.where({ owner_id: userId }).orWhereIn('id', knex('collaborators').where({ user_id: userId }).select('app_id'));
        });
      }
      return (await q).map(toApp);
    },
    async listOwnedBy(userId) {
      return (await knex<AppRow>('apps').where({ owner_id: userId }).orderBy('name')).map(toApp);
    },
    async update(id, changes) {
      const row0: Partial<AppRow> = {};
      if (changes.public !== undefined) row0.public = changes.public;
      if (changes.languagePack !== undefined) row0.language_pack = changes.languagePack;
      if (changes.buildTimeoutSeconds !== undefined) row0.build_timeout_seconds = changes.buildTimeoutSeconds;
      if (changes.buildMemoryMb !== undefined) row0.build_memory_mb = changes.buildMemoryMb;
      if (changes.buildpacks !== undefined) row0.buildpacks = JSON.stringify(changes.buildpacks);
      if (changes.languagePacks !== undefined) row0.language_packs = JSON.stringify(changes.languagePacks);
      if (changes.pullRequestBuilds !== undefined) row0.pull_request_builds = changes.pullRequestBuilds;
      if (changes.baseDir !== undefined) row0.base_dir = changes.baseDir;
      if (changes.watchPaths !== undefined) row0.watch_paths = JSON.stringify(changes.watchPaths);
      const [row] = await knex<AppRow>('apps').where({ id }).update(row0).returning('*');
      return row && toApp(row);
    },
    async deleteApp(id) {
      return (await knex('apps').where({ id }).delete()) === 1;
    },
    async nextBuildNumber(appId) {
      const [row] = await knex<AppRow>('apps')
        .where({ id: appId })
        .increment('build_seq', 1)
        .returning<{ build_seq: number }[]>('build_seq');
      if (!row) throw new Error(`app ${appId} not found`);
      return row.build_seq;
    },
    async roleOf(appId, userId) {
      const row = await knex('collaborators').where({ app_id: appId, user_id: userId }).first<{ role: AppRole } | undefined>('role');
      return row?.role ?? null;
    },
    async listCollaborators(appId) {
      const rows = await knex('collaborators')
        .join('users', 'users.id', 'collaborators.user_id')
        .where({ app_id: appId })
        .orderBy('users.name')
        .select<{ user_id: number; name: string; role: AppRole }[]>('collaborators.user_id', 'users.name', 'collaborators.role');
      return rows.map((r) => ({ userId: r.user_id, user: r.name as UserName, role: r.role }));
    },
    async setCollaborator(appId, userId, role) {
      await knex('collaborators').insert({ app_id: appId, user_id: userId, role }).onConflict(['app_id', 'user_id']).merge(['role']);
    },
    async removeCollaborator(appId, userId) {
      return (await knex('collaborators').where({ app_id: appId, user_id: userId }).delete()) === 1;
    },
  };
}
