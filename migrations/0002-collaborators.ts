// Per-app access: collaborators with roles, and the public (anonymous clone) switch.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.boolean('public').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('collaborators', (t) => {
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['app_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('collaborators');
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('public');
  });
}
