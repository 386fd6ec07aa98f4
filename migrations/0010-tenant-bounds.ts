// Tenant bounds: pull-request builds are an app admin's choice (off by default), and whether a
// commit-status endpoint may be on a loopback or link-local address (admins only).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.boolean('pull_request_builds').notNullable().defaultTo(false);
    t.boolean('status_url_local').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('pull_request_builds');
    t.dropColumn('status_url_local');
  });
}
