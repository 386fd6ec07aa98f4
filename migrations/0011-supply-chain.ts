// Supply chain: each build's SBOM (CycloneDX JSON, stored as the exact bytes its digest is of) and
// pack images' SBOMs, an index of their components for "which DUs hold NAME", and each build's
// provenance statement with its DSSE envelope.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sboms', (t) => {
    t.increments('id').primary();
    // Exactly one of the two: a build's DU, or a pack image (by image ID).
    t.integer('build_id').unique().references('builds.id').onDelete('CASCADE');
    t.text('pack_image').unique();
    t.text('pack_name');
    t.text('document').notNullable();
    t.text('digest').notNullable();
    t.integer('component_count').notNullable();
    t.integer('generated_ms').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE sboms ADD CONSTRAINT sboms_one_subject CHECK ((build_id IS NULL) <> (pack_image IS NULL))');
  await knex.schema.createTable('sbom_components', (t) => {
    t.integer('sbom_id').notNullable().references('sboms.id').onDelete('CASCADE');
    t.text('ecosystem').notNullable();
    t.text('name').notNullable();
    t.text('match_name').notNullable();
    t.text('source_name');
    t.text('version').notNullable();
    t.text('purl');
    t.text('pinned_by');
    t.index(['match_name']);
    t.index(['source_name']);
    t.index(['sbom_id']);
  });
  await knex.schema.createTable('provenance', (t) => {
    t.integer('build_id').primary().references('builds.id').onDelete('CASCADE');
    // The statement's bytes (what the envelope's payload is), so it can be signed later.
    t.text('statement').notNullable();
    t.text('subject_digest').notNullable();
    // Null until signed: a `solum worker` elsewhere has no key; the server signs on first read.
    t.text('envelope');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('provenance');
  await knex.schema.dropTable('sbom_components');
  await knex.schema.dropTable('sboms');
}
