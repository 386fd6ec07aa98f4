// Deploys: config vars, releases (a DU + config made live) and each app's formation.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.integer('release_seq').notNullable().defaultTo(0);
    // process type → number of containers; web defaults to one
    t.jsonb('formation').notNullable().defaultTo(JSON.stringify({ web: 1 }));
    // stopped by its users: no processes run and none are restarted until it is started again
    t.boolean('stopped').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('config_vars', (t) => {
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('value').notNullable();
    t.primary(['app_id', 'key']);
  });
  await knex.schema.createTable('releases', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.integer('build_id').references('builds.id').onDelete('SET NULL');
    t.text('du_id').notNullable();
    t.text('du_image').notNullable();
    t.jsonb('config').notNullable();
    t.jsonb('process_types').notNullable();
    // pending → active → superseded, or pending → failed
    t.text('status').notNullable().defaultTo('pending');
    t.text('description').notNullable();
    t.text('error');
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['app_id', 'version']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('releases');
  await knex.schema.dropTableIfExists('config_vars');
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('release_seq');
    t.dropColumn('formation');
    t.dropColumn('stopped');
  });
}
