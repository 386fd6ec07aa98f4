// Separate build workers: a build's release is handed from the worker that built it to the server
// that runs the router, through the builds table; the DU manifest is kept beside the build.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('builds', (t) => {
    // null: nothing to release; 'pending': built, waiting for the server; 'releasing'; 'done'
    t.text('release_state');
    // What the DU was built with: run command, env, ports, process types, health check (JSON)
    t.text('du_manifest');
    t.index(['release_state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('builds', (t) => {
    t.dropIndex(['release_state']);
    t.dropColumn('release_state');
    t.dropColumn('du_manifest');
  });
}
