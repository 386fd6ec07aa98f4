// Canary releases (decision 0019): a candidate release serving a share of new sessions beside a
// target's live release, one running per target at a time, and what became of each (promoted,
// aborted and why). A build pushed with `-o solum.canary=PERCENT` carries the share it starts at.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('canaries', (t) => {
    t.increments('id').primary();
    // The deploy target's key (`app-<id>` or `env-<id>`, src/deploy/target.ts).
    t.text('target_key').notNullable();
    // The candidate release's row ID and version in the target's releases.
    t.integer('release_id').notNullable();
    t.integer('version').notNullable();
    t.integer('percent').notNullable();
    // running → promoted | aborted
    t.text('status').notNullable().defaultTo('running');
    t.text('reason');
    t.text('started_by');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    t.index(['target_key']);
  });
  // One running canary per target, whoever asks at the same time.
  await knex.raw("CREATE UNIQUE INDEX canaries_one_running ON canaries (target_key) WHERE status = 'running'");
  await knex.raw('ALTER TABLE canaries ADD CONSTRAINT canaries_percent CHECK (percent BETWEEN 1 AND 99)');
  await knex.schema.alterTable('builds', (t) => {
    t.integer('canary_percent');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('builds', (t) => {
    t.dropColumn('canary_percent');
  });
  await knex.schema.dropTableIfExists('canaries');
}
