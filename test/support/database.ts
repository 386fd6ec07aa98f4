// Test databases: PGlite (embedded, per test) or a fresh database on the suite's PostgreSQL.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from '../../src/db/database.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The PostgreSQL server the suite uses: SOLUM_TEST_DATABASE_URL, or the one provisioning started. */
export function postgresAdminUrl(): string | undefined {
  if (process.env.SOLUM_TEST_DATABASE_URL) return process.env.SOLUM_TEST_DATABASE_URL;
  const file = path.resolve('.provision', 'test-database-url');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

export const databaseKinds: readonly DatabaseKind[] = ['pglite', 'postgres'];

export async function createTestDatabase(kind: DatabaseKind): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  if (kind === 'pglite') return { url: undefined, drop: () => Promise.resolve() };
  const admin = postgresAdminUrl();
  if (!admin) throw new Error('no PostgreSQL for the tests: run scripts/provision.sh --postgres or set SOLUM_TEST_DATABASE_URL');
  const name = `solum_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated Solum database of the given kind (PGlite in a temp dir, or a fresh PostgreSQL database). */
export async function openTestDatabase(kind: DatabaseKind): Promise<{ db: Database; done: () => Promise<void> }> {
  const t = await createTestDatabase(kind);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'solum-db-'));
  const db = await createDatabase({ url: t.url, dataDir: dir });
  await db.migrate();
  return {
    db,
    done: async () => {
      await db.close();
      await t.drop();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The value of a store call that answers 'duplicate' on a clash, which a test does not expect. */
export const created = async <T>(p: Promise<T | 'duplicate'>): Promise<T> => {
  const v = await p;
  if (v === 'duplicate') throw new Error('unexpected duplicate');
  return v;
};
