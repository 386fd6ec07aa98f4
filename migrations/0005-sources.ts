// Pull builds and webhooks: each app's source (a git URL and ref), its deploy key and webhook secret.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.text('source_url');
    t.text('source_ref');
    // OpenSSH private key Solum uses to fetch ssh:// sources; its public half is shown to users
    t.text('deploy_key');
    t.text('webhook_secret');
    // A GitHub-compatible commit statuses endpoint (…/statuses) and the token to post with
    t.text('status_url');
    t.text('status_token');
  });
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    t.text('delivery_id').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['app_id', 'delivery_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.alterTable('apps', (t) => {
    for (const c of ['source_url', 'source_ref', 'deploy_key', 'webhook_secret', 'status_url', 'status_token']) t.dropColumn(c);
  });
}
