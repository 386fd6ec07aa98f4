// Pack contracts: Heroku buildpacks and several language packs per app, and what each build used.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    // Ordered buildpack URLs (Heroku buildpack API v2), run by the `buildpack` language pack.
    t.jsonb('buildpacks').notNullable().defaultTo('[]');
    // Ordered language packs the app builds with (each one's dependencies come first).
    t.jsonb('language_packs').notNullable().defaultTo('[]');
  });
  await knex.schema.alterTable('builds', (t) => {
    // Buildpack URLs asked for by this build only (push option solum.buildpack=URL).
    t.jsonb('buildpacks').notNullable().defaultTo('[]');
    // Every pack the build ran, in order, with the image ID of each: [{ name, image }].
    t.jsonb('language_packs').notNullable().defaultTo('[]');
  });
  // Buildpacks uploaded as archives (apps name them solum-buildpack:NAME); the tar is under the data dir.
  await knex.schema.createTable('buildpack_archives', (t) => {
    t.text('name').primary();
    t.text('sha256').notNullable();
    t.integer('bytes').notNullable();
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('buildpack_archives');
  await knex.schema.alterTable('builds', (t) => {
    t.dropColumn('buildpacks');
    t.dropColumn('language_packs');
  });
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('buildpacks');
    t.dropColumn('language_packs');
  });
}
