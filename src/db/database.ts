// Database factory: PGlite in the data dir by default, PostgreSQL through `pg` when a URL is given.
import fs from 'node:fs/promises';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import * as init from '../../migrations/0001-init.js';
import * as collaborators from '../../migrations/0002-collaborators.js';
import * as releases from '../../migrations/0003-releases.js';
import * as buildEngine from '../../migrations/0004-build-engine.js';
import * as sources from '../../migrations/0005-sources.js';
import * as workers from '../../migrations/0006-workers.js';
import * as services from '../../migrations/0007-services.js';
import * as pipelines from '../../migrations/0008-pipelines.js';
import * as packContracts from '../../migrations/0009-pack-contracts.js';
import * as tenantBounds from '../../migrations/0010-tenant-bounds.js';
import * as supplyChain from '../../migrations/0011-supply-chain.js';
import * as releasePhaseAndCron from '../../migrations/0012-release-phase-and-cron.js';
import * as edge from '../../migrations/0013-edge.js';
import * as notifications from '../../migrations/0014-notifications.js';
import * as canaryReleases from '../../migrations/0015-canary-releases.js';
import * as previews from '../../migrations/0016-previews.js';
import { PgLiteClient } from './pglite-client.js';

export type Dialect = 'pglite' | 'postgres';

export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  migrate(): Promise<void>;
  /** Applies the next pending migration alone; resolves its name, or undefined when none is pending. */
  migrateNext(): Promise<string | undefined>;
  /** Undoes every applied migration, newest first (for the migration tests). */
  rollbackAll(): Promise<void>;
  close(): Promise<void>;
}

/** The migrations, in the order they apply. */
export const migrationNames = (): readonly string[] => migrations.map(([name]) => name);

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Listed explicitly so the compiled tree needs no directory scanning and order is code, not file names.
const migrations: ReadonlyArray<readonly [string, Migration]> = [
  ['0001-init', init],
  ['0002-collaborators', collaborators],
  ['0003-releases', releases],
  ['0004-build-engine', buildEngine],
  ['0005-sources', sources],
  ['0006-workers', workers],
  ['0007-services', services],
  ['0008-pipelines', pipelines],
  ['0009-pack-contracts', packContracts],
  ['0010-tenant-bounds', tenantBounds],
  ['0011-supply-chain', supplyChain],
  ['0012-release-phase-and-cron', releasePhaseAndCron],
  ['0013-edge', edge],
  ['0014-notifications', notifications],
  ['0015-canary-releases', canaryReleases],
  ['0016-previews', previews],
];

const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: () => Promise.resolve([...migrations]),
  getMigrationName: (m) => m[0],
  getMigration: (m) => Promise.resolve(m[1]),
};

// COUNT(*) and BIGINT come back as strings from pg; every id and count here fits in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export async function createDatabase(options: { url?: string | undefined; dataDir?: string }): Promise<Database> {
  let knex: Knex;
  let dialect: Dialect;
  if (options.url) {
    dialect = 'postgres';
    knex = knexFactory({ client: 'pg', connection: options.url, pool: { min: 0, max: 10 } });
  } else {
    dialect = 'pglite';
    const connection: Record<string, string> = {};
    if (options.dataDir) {
      const dir = path.join(options.dataDir, 'pgdata');
      await fs.mkdir(dir, { recursive: true });
      connection.filename = dir;
    }
    knex = knexFactory({ client: PgLiteClient, dialect: 'postgres', connection });
  }
  return {
    knex,
    dialect,
    async migrate() {
      await knex.migrate.latest({ migrationSource });
    },
    async migrateNext() {
      const [, pending] = (await knex.migrate.list({ migrationSource })) as [unknown, Array<readonly [string, Migration]>];
      if (pending.length === 0) return undefined;
      await knex.migrate.up({ migrationSource });
      return pending[0]?.[0];
    },
    async rollbackAll() {
      await knex.migrate.rollback({ migrationSource }, true);
    },
    async close() {
      await knex.destroy();
    },
  };
}
