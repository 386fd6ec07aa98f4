// Preview apps (decision 0020): per-app preview settings, and each preview as a deploy target of its
// own (key `pre-<id>`) with the release tables an environment has, plus the service instances made for it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('preview_settings', (t) => {
    t.integer('app_id').primary().references('apps.id').onDelete('CASCADE');
    // A branch glob (`preview/*`); null: no branch is a preview by its name (the default).
    t.text('pattern');
    t.boolean('pull_requests').notNullable().defaultTo(false);
    t.integer('ttl_seconds').notNullable().defaultTo(7 * 24 * 3600);
    t.integer('max_previews').notNullable().defaultTo(10);
  });
  await knex.schema.createTable('previews', (t) => {
    t.increments('id').primary();
    // Destroying the app removes the rows; the reconciler removes whatever Docker still holds
    // labelled with a preview the database no longer has.
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('branch').notNullable();
    // The host's first label, `<app>-<name>`: unique across every app's previews.
    t.text('router_name').notNullable().unique();
    // 'push' or 'pull-request'
    t.text('source').notNullable();
    // building → up | failed; any → doomed (the reconciler removes everything, then the rows)
    t.text('state').notNullable().defaultTo('building');
    t.integer('release_seq').notNullable().defaultTo(0);
    t.jsonb('formation').notNullable().defaultTo(JSON.stringify({ web: 1 }));
    t.boolean('stopped').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_push_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['app_id', 'name']);
  });
  await knex.schema.createTable('preview_config_vars', (t) => {
    t.integer('preview_id').notNullable().references('previews.id').onDelete('CASCADE');
    t.text('key').notNullable();
    t.text('value').notNullable();
    t.primary(['preview_id', 'key']);
  });
  await knex.schema.createTable('preview_releases', (t) => {
    t.increments('id').primary();
    t.integer('preview_id').notNullable().references('previews.id').onDelete('CASCADE');
    t.integer('version').notNullable();
    t.integer('build_id').references('builds.id').onDelete('SET NULL');
    t.text('du_id').notNullable();
    t.text('du_image').notNullable();
    t.jsonb('config').notNullable();
    t.jsonb('process_types').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.text('description').notNullable();
    t.text('error');
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['preview_id', 'version']);
  });
  // The fresh service instances a preview got for the app's links (destroyed with it).
  await knex.schema.createTable('preview_services', (t) => {
    t.integer('preview_id').notNullable().references('previews.id').onDelete('CASCADE');
    t.text('service').notNullable().unique();
    t.text('env_var').notNullable();
    t.primary(['preview_id', 'service']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('preview_services');
  await knex.schema.dropTableIfExists('preview_releases');
  await knex.schema.dropTableIfExists('preview_config_vars');
  await knex.schema.dropTableIfExists('previews');
  await knex.schema.dropTableIfExists('preview_settings');
}
