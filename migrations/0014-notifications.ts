// Deploy notifications: webhook subscriptions per app (or for the whole installation, app_id null)
// and the log of every delivery with its attempts and the receiver's answers.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_subscriptions', (t) => {
    t.increments('id').primary();
    t.integer('app_id').references('apps.id').onDelete('CASCADE');
    t.text('url').notNullable();
    t.text('secret').notNullable();
    // 'json' (Solum's signed payload) or 'slack' (an incoming-webhook `text` payload, signed too).
    t.text('format').notNullable();
    // The events it wants, comma-separated; '*' for all.
    t.text('events').notNullable();
    // An admin made it: it may point at this machine.
    t.boolean('allow_local').notNullable().defaultTo(false);
    t.text('created_by');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['app_id']);
  });
  await knex.schema.createTable('notification_deliveries', (t) => {
    t.increments('id').primary();
    t.integer('subscription_id').notNullable().references('notification_subscriptions.id').onDelete('CASCADE');
    t.text('event').notNullable();
    t.text('payload').notNullable();
    // pending → delivered | failed (attempts used up)
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('last_status_code');
    t.text('last_error');
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('delivered_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
    t.index(['subscription_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notification_deliveries');
  await knex.schema.dropTableIfExists('notification_subscriptions');
}
