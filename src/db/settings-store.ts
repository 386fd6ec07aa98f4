// Installation-wide settings kept in the database, shared by every server and worker using it.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export interface SettingsStore {
  /**
   * This installation's ID: labels every container and image it makes, so that several
   * installations (or test runs) sharing one Docker engine never touch each other's.
   */
  installationId(): Promise<string>;
}

export function createSettingsStore(knex: Knex): SettingsStore {
  return {
    async installationId() {
      await knex('settings').insert({ key: 'installation-id', value: randomBytes(8).toString('hex') }).onConflict('key').ignore();
      const row = await knex('settings').where({ key: 'installation-id' }).first<{ value: string } | undefined>('value');
      if (!row) throw new Error('installation ID missing after insert');
      return row.value;
    },
  };
}
