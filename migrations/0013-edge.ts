// The edge (decision 0017): custom domains an app answers to besides `<app>.<domain>`, each host
// once in the installation, and whether an app's plain-HTTP requests are redirected to HTTPS.
// Certificates themselves are files in the data directory (keys never enter the database).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('app_domains', (t) => {
    t.string('host', 253).primary();
    t.integer('app_id').notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['app_id']);
  });
  await knex.schema.alterTable('apps', (t) => {
    t.boolean('https_redirect').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('https_redirect');
  });
  await knex.schema.dropTable('app_domains');
}
