// Build engine: one running build per app, cancellation, per-app limits and the language-pack registry.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    // The app's running build: claiming sets it in the same statement, so two workers can never
    // run two builds of one app at once.
    t.integer('running_build_id');
    t.integer('build_timeout_seconds');
    t.integer('build_memory_mb');
  });
  await knex.schema.alterTable('builds', (t) => {
    t.boolean('cancel_requested').notNullable().defaultTo(false);
    // Where the build's source came from: push, api, webhook, upload, rebuild
    t.text('source').notNullable().defaultTo('push');
    t.text('language_pack_version');
    // For pushes: the deploy ref's value the push expects to replace (zeros for a new branch)
    t.text('base_commit');
  });
  await knex.schema.createTable('language_packs', (t) => {
    t.increments('id').primary();
    t.text('name').notNullable().unique();
    t.text('version').notNullable();
    // stock (shipped in language-packs/), image (registered from a local image), dockerfile (built here)
    t.text('kind').notNullable();
    t.text('image').notNullable();
    t.text('image_id');
    t.jsonb('manifest').notNullable();
    // queued → building → ready | error
    t.text('status').notNullable();
    t.text('log').notNullable().defaultTo('');
    t.text('error');
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('language_packs');
  await knex.schema.alterTable('builds', (t) => {
    t.dropColumn('cancel_requested');
    t.dropColumn('source');
    t.dropColumn('language_pack_version');
    t.dropColumn('base_commit');
  });
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('running_build_id');
    t.dropColumn('build_timeout_seconds');
    t.dropColumn('build_memory_mb');
  });
}
