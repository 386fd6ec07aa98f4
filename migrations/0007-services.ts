// Backing services: instances (a postgres or redis container with its volume, port and password)
// and their links to apps (which config var carries the instance's URL).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('service_instances', (t) => {
    t.increments('id').primary();
    t.text('name').notNullable().unique();
    t.text('kind').notNullable();
    // The creating user; an instance outlives its owner's account (admins still manage it).
    t.integer('owner_id').references('users.id').onDelete('SET NULL');
    t.integer('port').notNullable().unique();
    t.text('password').notNullable();
    t.text('container_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('service_links', (t) => {
    t.integer('service_id').notNullable().references('service_instances.id').onDelete('CASCADE');
    // Destroying an app removes its links (and its config vars), never the instance.
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.text('env_var').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['service_id', 'app_id']);
    t.unique(['app_id', 'env_var']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('service_links');
  await knex.schema.dropTableIfExists('service_instances');
}
