// Releases (a DU plus config vars made live), the current config vars and each app's formation.
import type { Knex } from 'knex';

export type ReleaseStatus = 'pending' | 'active' | 'failed' | 'superseded';

export interface Release {
  readonly id: number;
  readonly appId: number;
  readonly version: number;
  readonly buildId: number | null;
  readonly duId: string;
  readonly duImage: string;
  readonly config: Readonly<Record<string, string>>;
  readonly processTypes: Readonly<Record<string, string>>;
  readonly status: ReleaseStatus;
  readonly description: string;
  readonly error: string | null;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
}

export type Formation = Readonly<Record<string, number>>;

interface ReleaseRow {
  id: number;
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
  /** The owner's ID, under the column `ReleaseTables.key` names. */
  [column: string]: unknown;
}

/**
 * Where a kind of owner keeps its releases: apps (the default) or, with the same columns keyed
 * differently, an app's named environments (db/environment-store.ts).
 */
export interface ReleaseTables {
  /** Holds `release_seq`, `formation` and `stopped` per owner. */
  readonly owners: string;
  readonly releases: string;
  readonly config: string;
  /** The owner ID column of `releases` and `config`. */
  readonly key: string;
}

const appTables: ReleaseTables = { owners: 'apps', releases: 'releases', config: 'config_vars', key: 'app_id' };

// PGlite and pg both parse jsonb, but a driver that hands back text must not break us.
const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

const toReleaseOf = (key: string) => (r: ReleaseRow): Release => ({
  id: r.id,
  appId: r[key] as number,
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

export interface ReleaseStore {
  /** Creates release vN+1 (pending) in one transaction with the app's version counter. */
  createRelease(input: {
    appId: number;
    buildId: number | null;
    duId: string;
    duImage: string;
    config: Record<string, string>;
    processTypes: Record<string, string>;
    description: string;
    createdBy: string | null;
  }): Promise<Release>;
  getRelease(appId: number, version: number): Promise<Release | undefined>;
  listReleases(appId: number): Promise<Release[]>;
  /** The release currently serving (status active), if any. */
  activeRelease(appId: number): Promise<Release | undefined>;
  /** Active releases of every app, for re-adoption at start. */
  allActive(): Promise<Release[]>;
  /** pending → active; the previously active release becomes superseded. */
  activate(id: number): Promise<boolean>;
  /** pending → failed with the reason. */
  fail(id: number, error: string): Promise<boolean>;
  /** A canary's candidate (pending, or an earlier release) → active; the active one becomes superseded. */
  promote(id: number): Promise<boolean>;
  getConfig(appId: number): Promise<Record<string, string>>;
  /** Sets and unsets config vars in one transaction; returns the new config. */
  changeConfig(appId: number, set: Readonly<Record<string, string>>, unset: readonly string[]): Promise<Record<string, string>>;
  getFormation(appId: number): Promise<Formation>;
  setFormation(appId: number, formation: Formation): Promise<void>;
  isStopped(appId: number): Promise<boolean>;
  setStopped(appId: number, stopped: boolean): Promise<void>;
}

export function createReleaseStore(knex: Knex, tables: ReleaseTables = appTables): ReleaseStore {
  const { owners, releases, config, key } = tables;
  const toRelease = toReleaseOf(key);
  const readConfig = async (db: Knex | Knex.Transaction, appId: number): Promise<Record<string, string>> => {
    const rows = await db(config).where({ [key]: appId }).orderBy('key').select<{ key: string; value: string }[]>('key', 'value');
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  };
  return {
    async createRelease(input) {
      return knex.transaction(async (trx) => {
        const [seq] = await trx(owners).where({ id: input.appId }).increment('release_seq', 1).returning<{ release_seq: number }[]>('release_seq');
        if (!seq) throw new Error(`${owners} ${input.appId} not found`);
        const [row] = await trx<ReleaseRow>(releases)
          .insert({
            [key]: input.appId,
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
    async getRelease(appId, version) {
      const row = await knex<ReleaseRow>(releases).where({ [key]: appId, version }).first();
      return row && toRelease(row);
    },
    async listReleases(appId) {
      return (await knex<ReleaseRow>(releases).where({ [key]: appId }).orderBy('version', 'desc')).map(toRelease);
    },
    async activeRelease(appId) {
      const row = await knex<ReleaseRow>(releases).where({ [key]: appId, status: 'active' }).first();
      return row && toRelease(row);
    },
    async allActive() {
      return (await knex<ReleaseRow>(releases).where({ status: 'active' }).orderBy(key)).map(toRelease);
    },
    async activate(id) {
      return knex.transaction(async (trx) => {
        const row = await trx<ReleaseRow>(releases).where({ id, status: 'pending' }).forUpdate().first();
        if (!row) return false;
        await trx(releases).where({ [key]: row[key], status: 'active' }).update({ status: 'superseded' });
        const n = await trx(releases).where({ id, status: 'pending' }).update({ status: 'active', finished_at: trx.fn.now() });
        return n === 1;
      });
    },
    async fail(id, error) {
      return (await knex(releases).where({ id, status: 'pending' }).update({ status: 'failed', error, finished_at: knex.fn.now() })) === 1;
    },
    async promote(id) {
      return knex.transaction(async (trx) => {
        const row = await trx<ReleaseRow>(releases).where({ id }).whereIn('status', ['pending', 'superseded']).forUpdate().first();
        if (!row) return false;
        await trx(releases).where({ [key]: row[key], status: 'active' }).update({ status: 'superseded' });
        const n = await trx(releases).where({ id }).whereIn('status', ['pending', 'superseded']).update({ status: 'active', finished_at: trx.fn.now() });
        return n === 1;
      });
    },
    getConfig: (appId) => readConfig(knex, appId),
    async changeConfig(appId, set, unset) {
      return knex.transaction(async (trx) => {
        if (unset.length > 0) await trx(config).where({ [key]: appId }).whereIn('key', [...unset]).delete();
        const rows = Object.entries(set).map(([name, value]) => ({ [key]: appId, key: name, value }));
        if (rows.length > 0) await trx(config).insert(rows).onConflict([key, 'key']).merge(['value']);
        return readConfig(trx, appId);
      });
    },
    async getFormation(appId) {
      const row = await knex(owners).where({ id: appId }).first<{ formation: Formation | string } | undefined>('formation');
      return row ? json(row.formation) : { web: 1 };
    },
    async setFormation(appId, formation) {
      await knex(owners).where({ id: appId }).update({ formation: JSON.stringify(formation) });
    },
    async isStopped(appId) {
      const row = await knex(owners).where({ id: appId }).first<{ stopped: boolean } | undefined>('stopped');
      return row?.stopped ?? false;
    },
    async setStopped(appId, stopped) {
      await knex(owners).where({ id: appId }).update({ stopped });
    },
  };
}
