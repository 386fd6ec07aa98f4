// Pipelines: environments of an app (each with its own config vars, formation and release history),
// pipeline definitions, and every run of one with its stages.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The app's own releases and config vars stay its default environment; named environments live here.
  await knex.schema.createTable('environments', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.integer('release_seq').notNullable().defaultTo(0);
    t.jsonb('formation').notNullable().defaultTo(JSON.stringify({ web: 1 }));
    t.boolean('stopped').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['app_id', 'name']);
  });
  await knex.schema.createTable('environment_config_vars', (t) => {
    t.integer('environment_id').notNullable().references('environments.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('value').notNullable();
    t.primary(['environment_id', 'key']);
  });
  await knex.schema.createTable('environment_releases', (t) => {
    t.increments('id').primary();
    t.integer('environment_id').notNullable().references('environments.id').onDelete('CASCADE');
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
    t.unique(['environment_id', 'version']);
  });
  // One pipeline per app: defined through the API or by the solum.yaml of the latest push.
  await knex.schema.createTable('pipelines', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().unique().references('apps.id').onDelete('CASCADE');
    t.jsonb('definition').notNullable();
    // 'api' or 'repo'
    t.text('source').notNullable();
    // HMAC key of external-check callbacks
    t.text('secret').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('pipeline_runs', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.integer('pipeline_id').references('pipelines.id').onDelete('SET NULL');
    // a build that runs again (requeued) starts a new run; the newest run of a build is its run
    t.integer('build_id').references('builds.id').onDelete('SET NULL');
    t.text('commit').notNullable();
    // running → waiting ⇄ running → succeeded | failed | rejected
    t.text('status').notNullable().defaultTo('running');
    t.text('du_id');
    t.text('du_image');
    t.text('error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['app_id']);
    t.index(['build_id']);
  });
  await knex.schema.createTable('pipeline_stages', (t) => {
    t.increments('id').primary();
    t.integer('run_id').notNullable().references('pipeline_runs.id').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.text('name').notNullable();
    t.jsonb('spec').notNullable();
    // pending → running | waiting → succeeded | failed | rejected | skipped
    t.text('status').notNullable().defaultTo('pending');
    t.text('log').notNullable().defaultTo('');
    t.text('decided_by');
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.unique(['run_id', 'position']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('pipeline_stages');
  await knex.schema.dropTableIfExists('pipeline_runs');
  await knex.schema.dropTableIfExists('pipelines');
  await knex.schema.dropTableIfExists('environment_releases');
  await knex.schema.dropTableIfExists('environment_config_vars');
  await knex.schema.dropTableIfExists('environments');
}
