// Named environments of an app (staging, production, …): each with its own config vars, formation
// and release history. `releases` speaks the ReleaseStore interface keyed by environment ID, so
// the deployer runs an environment's releases exactly as it runs an app's.
import type { Knex } from 'knex';
import type { Formation, Release, ReleaseStatus, ReleaseStore } from './release-store.js';

export interface Environment {
  readonly id: number;
  readonly appId: number;
  readonly name: string;
  readonly createdAt: Date;
}

interface EnvironmentRow {
  id: number;
  app_id: number;
  name: string;
  created_at: Date;
}

interface ReleaseRow {
  id: number;
  environment_id: number;
  version: number;
  build_id: number | null;
  du_id: string;
  du_image: string;
  config: Record<string, string> | string;
  process_types: Record<string, string> | string;
  status: ReleaseStatus;
  description: string;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

const toEnvironment = (r: EnvironmentRow): Environment => ({ id: r.id, appId: r.app_id, name: r.name, createdAt: r.created_at });

/** `appId` of these releases is the environment's ID. */
const toRelease = (r: ReleaseRow): Release => ({
  id: r.id,
  appId: r.environment_id,
  version: r.version,
  buildId: r.build_id,
  duId: r.du_id,
  duImage: r.du_image,
  config: json(r.config),
  processTypes: json(r.process_types),
  status: r.status,
  description: r.description,
  error: r.error,
  createdBy: r.created_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

export interface EnvironmentStore {
  list(appId: number): Promise<Environment[]>;
  find(appId: number, name: string): Promise<Environment | undefined>;
  byId(id: number): Promise<Environment | undefined>;
  /** Creates the environment unless it exists; returns it either way. */
  ensure(appId: number, name: string): Promise<Environment>;
  remove(id: number): Promise<boolean>;
  /** Releases of every environment of an app (which DUs are in use). */
  releasesOfApp(appId: number): Promise<Release[]>;
  /** Releases, config vars and formation per environment (appId = environment ID). */
  readonly releases: ReleaseStore;
}

export function createEnvironmentStore(knex: Knex): EnvironmentStore {
  const readConfig = async (db: Knex | Knex.Transaction, envId: number): Promise<Record<string, string>> => {
    const rows = await db('environment_config_vars').where({ environment_id: envId }).orderBy('key').select<{ key: string; value: string }[]>('key', 'value');
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  };
  const releases: ReleaseStore = {
    async createRelease(input) {
      return knex.transaction(async (trx) => {
        const [seq] = await trx('environments').where({ id: input.appId }).increment('release_seq', 1).returning<{ release_seq: number }[]>('release_seq');
        if (!seq) throw new Error(`environment ${input.appId} not found`);
        const [row] = await trx<ReleaseRow>('environment_releases')
          .insert({
            environment_id: input.appId,
            version: seq.release_seq,
            build_id: input.buildId,
            du_id: input.duId,
            du_image: input.duImage,
            config: JSON.stringify(input.config),
            process_types: JSON.stringify(input.processTypes),
            description: input.description,
            created_by: input.createdBy,
            status: 'pending',
          })
          .returning('*');
        if (!row) throw new Error('insert returned no row');
        return toRelease(row);
      });
    },
    async getRelease(envId, version) {
      const row = await knex<ReleaseRow>('environment_releases').where({ environment_id: envId, version }).first();
      return row && toRelease(row);
    },
    async listReleases(envId) {
      return (await knex<ReleaseRow>('environment_releases').where({ environment_id: envId }).orderBy('version', 'desc')).map(toRelease);
    },
    async activeRelease(envId) {
      const row = await knex<ReleaseRow>('environment_releases').where({ environment_id: envId, status: 'active' }).first();
      return row && toRelease(row);
    },
    async allActive() {
      return (await knex<ReleaseRow>('environment_releases').where({ status: 'active' }).orderBy('environment_id')).map(toRelease);
    },
    async activate(id) {
      return knex.transaction(async (trx) => {
        const row = await trx<ReleaseRow>('environment_releases').where({ id, status: 'pending' }).forUpdate().first();
        if (!row) return false;
        await trx('environment_releases').where({ environment_id: row.environment_id, status: 'active' }).update({ status: 'superseded' });
        const n = await trx('environment_releases').where({ id, status: 'pending' }).update({ status: 'active', finished_at: trx.fn.now() });
        return n === 1;
      });
    },
    async fail(id, error) {
      return (await knex('environment_releases').where({ id, status: 'pending' }).update({ status: 'failed', error, finished_at: knex.fn.now() })) === 1;
    },
    getConfig: (envId) => readConfig(knex, envId),
    async changeConfig(envId, set, unset) {
      return knex.transaction(async (trx) => {
        if (unset.length > 0) await trx('environment_config_vars').where({ environment_id: envId }).whereIn('key', [...unset]).delete();
        const rows = Object.entries(set).map(([key, value]) => ({ environment_id: envId, key, value }));
        if (rows.length > 0) await trx('environment_config_vars').insert(rows).onConflict(['environment_id', 'key']).merge(['value']);
        return readConfig(trx, envId);
      });
    },
    async getFormation(envId) {
      const row = await knex('environments').where({ id: envId }).first<{ formation: Formation | string } | undefined>('formation');
      return row ? json(row.formation) : { web: 1 };
    },
    async setFormation(envId, formation) {
      await knex('environments').where({ id: envId }).update({ formation: JSON.stringify(formation) });
    },
    async isStopped(envId) {
      const row = await knex('environments').where({ id: envId }).first<{ stopped: boolean } | undefined>('stopped');
      return row?.stopped ?? false;
    },
    async setStopped(envId, stopped) {
      await knex('environments').where({ id: envId }).update({ stopped });
    },
  };
  return {
    async list(appId) {
      return (await knex<EnvironmentRow>('environments').where({ app_id: appId }).orderBy('name')).map(toEnvironment);
    },
    async find(appId, name) {
      const row = await knex<EnvironmentRow>('environments').where({ app_id: appId, name }).first();
      return row && toEnvironment(row);
    },
    async byId(id) {
      const row = await knex<EnvironmentRow>('environments').where({ id }).first();
      return row && toEnvironment(row);
    },
    async ensure(appId, name) {
      await knex('environments').insert({ app_id: appId, name }).onConflict(['app_id', 'name']).ignore();
      const row = await knex<EnvironmentRow>('environments').where({ app_id: appId, name }).first();
      if (!row) throw new Error(`environment ${name} of app ${appId} vanished`);
      return toEnvironment(row);
    },
    async remove(id) {
      return (await knex('environments').where({ id }).delete()) === 1;
    },
    async releasesOfApp(appId) {
      const rows = await knex('environment_releases as r').join('environments as e', 'e.id', 'r.environment_id').where('e.app_id', appId).orderBy('r.id', 'desc').select<ReleaseRow[]>('r.*');
      return rows.map(toRelease);
    },
    releases,
  };
}
