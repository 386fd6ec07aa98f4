// Apps: the named things users push to.
import type { Knex } from 'knex';
import type { AppName } from '../names.js';

export interface App {
  readonly id: number;
  readonly name: AppName;
  readonly ownerId: number;
  readonly deployBranch: string;
  readonly languagePack: string | null;
  readonly createdAt: Date;
}

interface AppRow {
  id: number;
  name: string;
  owner_id: number;
  deploy_branch: string;
  language_pack: string | null;
  build_seq: number;
  created_at: Date;
}

const toApp = (r: AppRow): App => ({
  id: r.id,
  name: r.name as AppName,
  ownerId: r.owner_id,
  deployBranch: r.deploy_branch,
  languagePack: r.language_pack,
  createdAt: r.created_at,
});

export interface AppStore {
  /** Creates the app, or returns the existing one when another request created it first. */
  createApp(name: AppName, ownerId: number): Promise<{ app: App; created: boolean }>;
  findApp(name: AppName): Promise<App | undefined>;
  findAppById(id: number): Promise<App | undefined>;
  listApps(filter: { ownerId?: number }): Promise<App[]>;
  /** Reserves the next build number of an app (1, 2, …). */
  nextBuildNumber(appId: number): Promise<number>;
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
      if (filter.ownerId !== undefined) void q.where({ owner_id: filter.ownerId });
      return (await q).map(toApp);
    },
    async nextBuildNumber(appId) {
      const [row] = await knex<AppRow>('apps')
        .where({ id: appId })
        .increment('build_seq', 1)
        .returning<{ build_seq: number }[]>('build_seq');
      if (!row) throw new Error(`app ${appId} not found`);
      return row.build_seq;
    },
  };
}
