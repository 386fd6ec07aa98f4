// Named environments of an app (staging, production, …): each with its own config vars, formation
// and release history. `releases` is a ReleaseStore keyed by environment ID, so the deployer runs
// an environment's releases exactly as it runs an app's.
import type { Knex } from 'knex';
import { createReleaseStore, type Release, type ReleaseStore } from './release-store.js';

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

const toEnvironment = (r: EnvironmentRow): Environment => ({ id: r.id, appId: r.app_id, name: r.name, createdAt: r.created_at });

export interface EnvironmentStore {
  list(appId: number): Promise<Environment[]>;
  find(appId: number, name: string): Promise<Environment | undefined>;
  byId(id: number): Promise<Environment | undefined>;
  /** Creates the environment unless it exists; returns it either way. */
  ensure(appId: number, name: string): Promise<Environment>;
  remove(id: number): Promise<boolean>;
  /** The environment whose router name (`<app>-<env>`) is `name`, if any. */
  findByRouterName(name: string): Promise<{ app: string; environment: string } | undefined>;
  /** Releases of every environment of an app (which DUs are in use). */
  releasesOfApp(appId: number): Promise<Release[]>;
  /** Releases, config vars and formation per environment (appId = environment ID). */
  readonly releases: ReleaseStore;
}

export function createEnvironmentStore(knex: Knex): EnvironmentStore {
  // The same release rules as an app's, over the environments' own tables.
  const releases = createReleaseStore(knex, { owners: 'environments', releases: 'environment_releases', config: 'environment_config_vars', key: 'environment_id' });
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
    async findByRouterName(name) {
      const row = await knex('environments')
        .join('apps', 'apps.id', 'environments.app_id')
        .whereRaw("apps.name || '-' || environments.name = ?", [name])
        .first<{ app: string; environment: string } | undefined>('apps.name as app', 'environments.name as environment');
      return row;
    },
    async releasesOfApp(appId) {
      const envs = await knex('environments').where({ app_id: appId }).select<{ id: number }[]>('id');
      return (await Promise.all(envs.map((e) => releases.listReleases(e.id)))).flat();
    },
    releases,
  };
}
