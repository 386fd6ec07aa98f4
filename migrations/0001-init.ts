// First schema: users, their SSH keys and API tokens, apps, builds and build logs.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('settings', (t) => {
    t.text('key').primary();
    t.text('value').notNullable();
  });
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.text('name').notNullable().unique();
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('ssh_keys', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('algo').notNullable();
    // base64 of the SSH wire-format public key blob; a key belongs to at most one user
    t.text('blob').notNullable().unique();
    t.text('fingerprint').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.unique(['user_id', 'name']);
  });
  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id').primary();
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('last_used_at', { useTz: true });
  });
  await knex.schema.createTable('apps', (t) => {
    t.increments('id').primary();
    t.text('name').notNullable().unique();
    t.integer('owner_id').notNullable().references('users.id');
    t.text('deploy_branch').notNullable().defaultTo('main');
    t.text('language_pack');
    t.integer('build_seq').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('builds', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.integer('number').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.text('ref').notNullable();
    t.text('commit').notNullable();
    t.text('language_pack');
    t.text('language_pack_image');
    t.text('du_id');
    t.text('du_image');
    t.integer('exit_code');
    t.text('error');
    // the source archive file (name under the archives dir) the worker builds from
    t.text('archive');
    t.text('worker_id');
    t.timestamp('heartbeat_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.unique(['app_id', 'number']);
    t.index(['status', 'id']);
  });
  await knex.schema.createTable('build_logs', (t) => {
    t.integer('build_id').notNullable().references('builds.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('chunk').notNullable();
    t.primary(['build_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['build_logs', 'builds', 'apps', 'api_tokens', 'ssh_keys', 'users', 'settings']) {
    await knex.schema.dropTableIfExists(table);
  }
}
