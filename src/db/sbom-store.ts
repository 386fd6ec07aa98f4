// SBOMs of builds and pack images with the index of their components, and each build's
// provenance statement and DSSE envelope.
import type { Knex } from 'knex';

/** A component row as the index keeps it (see supply-chain/sbom.ts ComponentRow). */
export interface StoredComponent {
  readonly ecosystem: string;
  readonly name: string;
  readonly matchName: string;
  readonly sourceName: string | null;
  readonly version: string;
  readonly purl: string | null;
  readonly pinnedBy: string | null;
}

export interface StoredSbom {
  readonly id: number;
  readonly buildId: number | null;
  readonly packImage: string | null;
  readonly packName: string | null;
  /** The exact bytes the digest is of. */
  readonly document: string;
  readonly digest: string;
  readonly componentCount: number;
  readonly generatedMs: number;
  readonly createdAt: Date;
}

/** A component found by name, with what holds it. */
export interface ComponentHit extends StoredComponent {
  readonly buildId: number | null;
  readonly packImage: string | null;
  readonly packName: string | null;
}

export interface StoredProvenance {
  readonly buildId: number;
  readonly statement: string;
  readonly subjectDigest: string;
  /** The DSSE envelope (JSON); null until signed. */
  readonly envelope: string | null;
  readonly createdAt: Date;
}

interface SbomRow {
  id: number;
  build_id: number | null;
  pack_image: string | null;
  pack_name: string | null;
  document: string;
  digest: string;
  component_count: number;
  generated_ms: number;
  created_at: Date;
}

interface ComponentRow {
  sbom_id: number;
  ecosystem: string;
  name: string;
  match_name: string;
  source_name: string | null;
  version: string;
  purl: string | null;
  pinned_by: string | null;
}

interface ProvenanceRow {
  build_id: number;
  statement: string;
  subject_digest: string;
  envelope: string | null;
  created_at: Date;
}

const toSbom = (r: SbomRow): StoredSbom => ({
  id: r.id,
  buildId: r.build_id,
  packImage: r.pack_image,
  packName: r.pack_name,
  document: r.document,
  digest: r.digest,
  componentCount: r.component_count,
  generatedMs: r.generated_ms,
  createdAt: r.created_at,
});

const toProvenance = (r: ProvenanceRow): StoredProvenance => ({ buildId: r.build_id, statement: r.statement, subjectDigest: r.subject_digest, envelope: r.envelope, createdAt: r.created_at });

export interface NewSbom {
  readonly document: string;
  readonly digest: string;
  readonly components: readonly StoredComponent[];
  readonly generatedMs: number;
}

export interface SbomStore {
  /** Records (or replaces) a build's SBOM and its index rows in one transaction. */
  saveForBuild(buildId: number, sbom: NewSbom): Promise<StoredSbom>;
  /** Records a pack image's SBOM unless one is kept for that image already; returns the kept one. */
  saveForPackImage(image: string, packName: string, sbom: NewSbom): Promise<StoredSbom>;
  ofBuild(buildId: number): Promise<StoredSbom | undefined>;
  ofPackImage(image: string): Promise<StoredSbom | undefined>;
  /** Removes a build's SBOM (its build did not end with a DU). */
  removeForBuild(buildId: number): Promise<boolean>;
  /** Components whose name (or Debian source name) is `matchName`, optionally of one ecosystem. */
  findComponents(matchName: string, ecosystem?: string): Promise<ComponentHit[]>;
  saveProvenance(p: { buildId: number; statement: string; subjectDigest: string; envelope: string | null }): Promise<void>;
  provenanceOf(buildId: number): Promise<StoredProvenance | undefined>;
  /** Signs a statement left unsigned; false when it was signed already (or is gone). */
  setEnvelope(buildId: number, envelope: string): Promise<boolean>;
}

const rowsOf = (sbomId: number, components: readonly StoredComponent[]): ComponentRow[] =>
  components.map((c) => ({ sbom_id: sbomId, ecosystem: c.ecosystem, name: c.name, match_name: c.matchName, source_name: c.sourceName, version: c.version, purl: c.purl, pinned_by: c.pinnedBy }));

export function createSbomStore(knex: Knex): SbomStore {
  const insertComponents = async (trx: Knex.Transaction, sbomId: number, components: readonly StoredComponent[]): Promise<void> => {
    const rows = rowsOf(sbomId, components);
    // PostgreSQL takes at most 65535 parameters in one statement: 8 columns a row.
    for (let i = 0; i < rows.length; i += 1000) await trx('sbom_components').insert(rows.slice(i, i + 1000));
  };
  return {
    async saveForBuild(buildId, s) {
      return knex.transaction(async (trx) => {
        await trx('sboms').where({ build_id: buildId }).delete();
        const [row] = await trx<SbomRow>('sboms')
          .insert({ build_id: buildId, document: s.document, digest: s.digest, component_count: s.components.length, generated_ms: Math.round(s.generatedMs) })
          .returning('*');
        if (!row) throw new Error(`SBOM of build ${buildId} not stored`);
        await insertComponents(trx, row.id, s.components);
        return toSbom(row);
      });
    },
    async saveForPackImage(image, packName, s) {
      return knex.transaction(async (trx) => {
        const [row] = await trx<SbomRow>('sboms')
          .insert({ pack_image: image, pack_name: packName, document: s.document, digest: s.digest, component_count: s.components.length, generated_ms: Math.round(s.generatedMs) })
          .onConflict('pack_image')
          .ignore()
          .returning('*');
        if (row) {
          await insertComponents(trx, row.id, s.components);
          return toSbom(row);
        }
        const kept = await trx<SbomRow>('sboms').where({ pack_image: image }).first();
        if (!kept) throw new Error(`SBOM of pack image ${image} vanished`);
        return toSbom(kept);
      });
    },
    async ofBuild(buildId) {
      const row = await knex<SbomRow>('sboms').where({ build_id: buildId }).first();
      return row && toSbom(row);
    },
    async ofPackImage(image) {
      const row = await knex<SbomRow>('sboms').where({ pack_image: image }).first();
      return row && toSbom(row);
    },
    async removeForBuild(buildId) {
      return (await knex('sboms').where({ build_id: buildId }).delete()) > 0;
    },
    async findComponents(name, ecosystem) {
      const q = knex('sbom_components as c')
        .join('sboms as s', 's.id', 'c.sbom_id')
        .where((w) => { void w.where('c.match_name', name).orWhere('c.source_name', name); })
        .select<Array<ComponentRow & { build_id: number | null; pack_image: string | null; pack_name: string | null }>>('c.*', 's.build_id', 's.pack_image', 's.pack_name')
        .orderBy([{ column: 's.id' }, { column: 'c.version' }]);
      if (ecosystem) void q.andWhere('c.ecosystem', ecosystem);
      return (await q).map((r) => ({
        ecosystem: r.ecosystem,
        name: r.name,
        matchName: r.match_name,
        sourceName: r.source_name,
        version: r.version,
        purl: r.purl,
        pinnedBy: r.pinned_by,
        buildId: r.build_id,
        packImage: r.pack_image,
        packName: r.pack_name,
      }));
    },
    async saveProvenance(p) {
      await knex('provenance')
        .insert({ build_id: p.buildId, statement: p.statement, subject_digest: p.subjectDigest, envelope: p.envelope })
        .onConflict('build_id')
        .merge(['statement', 'subject_digest', 'envelope']);
    },
    async provenanceOf(buildId) {
      const row = await knex<ProvenanceRow>('provenance').where({ build_id: buildId }).first();
      return row && toProvenance(row);
    },
    async setEnvelope(buildId, envelope) {
      return (await knex('provenance').where({ build_id: buildId }).whereNull('envelope').update({ envelope })) === 1;
    },
  };
}
