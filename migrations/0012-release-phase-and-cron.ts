// Apps as Heroku and Dokku users write them: scheduled jobs with the last slot each one claimed (so a
// restart neither loses nor doubles a run), and a monorepo app's base directory and watch paths.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cron_jobs', (t) => {
    t.increments('id').primary();
    t.integer('app_id').notNullable().references('apps.id').onDelete('CASCADE');
    // the entry's ID in app.json (or one derived from its schedule and command)
    t.text('job').notNullable();
    t.text('schedule').notNullable();
    t.text('command').notNullable();
    t.text('zone').notNullable().defaultTo('UTC');
    // the newest schedule time a scheduler claimed (ran or skipped): a slot is claimed once
    t.timestamp('last_slot', { useTz: true });
    // set while a run goes on: another slot meanwhile is skipped and counted
    t.timestamp('running_since', { useTz: true });
    t.text('run_id');
    t.integer('runs').notNullable().defaultTo(0);
    t.integer('skipped').notNullable().defaultTo(0);
    t.timestamp('last_started_at', { useTz: true });
    t.timestamp('last_finished_at', { useTz: true });
    t.integer('last_exit_code');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['app_id', 'job']);
  });
  await knex.schema.alterTable('apps', (t) => {
    // a directory of the repository the app is built from (null: the whole tree)
    t.text('base_dir');
    // paths a push must change to build (empty: every push of the deploy branch builds)
    t.jsonb('watch_paths').notNullable().defaultTo('[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('apps', (t) => {
    t.dropColumn('base_dir');
    t.dropColumn('watch_paths');
  });
  await knex.schema.dropTableIfExists('cron_jobs');
}
