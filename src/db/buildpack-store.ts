// Buildpacks uploaded as archives: their names and checksums (the tars live under the data dir).
import type { Knex } from 'knex';

export interface BuildpackArchive {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly createdBy: string | null;
  readonly createdAt: Date;
}

interface Row {
  name: string;
  sha256: string;
  bytes: number;
  created_by: string | null;
  created_at: Date;
}

const toArchive = (r: Row): BuildpackArchive => ({ name: r.name, sha256: r.sha256, bytes: r.bytes, createdBy: r.created_by, createdAt: r.created_at });

export interface BuildpackStore {
  list(): Promise<BuildpackArchive[]>;
  get(name: string): Promise<BuildpackArchive | undefined>;
  /** 'duplicate' when the name is taken. */
  add(a: { name: string; sha256: string; bytes: number; createdBy: string }): Promise<BuildpackArchive | 'duplicate'>;
  remove(name: string): Promise<boolean>;
}

export function createBuildpackStore(knex: Knex): BuildpackStore {
  return {
    async list() {
      return (await knex<Row>('buildpack_archives').orderBy('name')).map(toArchive);
    },
    async get(name) {
      const row = await knex<Row>('buildpack_archives').where({ name }).first();
      return row && toArchive(row);
    },
    async add(a) {
      const [row] = await knex<Row>('buildpack_archives')
        .insert({ name: a.name, sha256: a.sha256, bytes: a.bytes, created_by: a.createdBy })
        .onConflict('name')
        .ignore()
        .returning('*');
      return row ? toArchive(row) : 'duplicate';
    },
    async remove(name) {
      return (await knex('buildpack_archives').where({ name }).delete()) === 1;
    },
  };
}
