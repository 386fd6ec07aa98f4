// Every migration applies in order, one at a time, on both databases; all of them roll back and
// apply again, so a database at any version can move forward.
import test from 'ava';
import { createDatabase, migrationNames } from '../../src/db/database.js';
import { createTestDatabase, databaseKinds } from '../support/database.js';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

for (const kind of databaseKinds) {
  test(`migrations apply in order, one at a time, then roll back and apply again [${kind}]`, async (t) => {
    const target = await createTestDatabase(kind);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-migrations-'));
    const db = await createDatabase({ url: target.url, dataDir: dir });
    t.teardown(async () => {
      await db.close();
      await target.drop();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const applied: string[] = [];
    for (let name = await db.migrateNext(); name !== undefined; name = await db.migrateNext()) applied.push(name);
    t.deepEqual(applied, [...migrationNames()], 'each migration applied once, in the listed order');
    t.true(applied.length >= 9);
    const tables = async (): Promise<string[]> =>
      (await db.knex.raw<{ rows: Array<{ tablename: string }> }>("select tablename from pg_tables where schemaname = current_schema() and tablename not like 'knex_%' order by tablename")).rows.map((r) => r.tablename);
    const all = await tables();
    for (const name of ['apps', 'builds', 'releases', 'users', 'environments', 'pipelines', 'service_instances']) t.true(all.includes(name), `${name} exists`);
    await db.rollbackAll();
    t.deepEqual(await tables(), [], 'every table is gone after rolling back');
    await db.migrate();
    t.deepEqual(await tables(), all, 'applying again gives the same tables');
    t.is(await db.migrateNext(), undefined, 'nothing is pending');
  });
}
