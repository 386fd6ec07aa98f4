// Language packs registered by operators (the stock ones ship in language-packs/ instead).
import type { Knex } from 'knex';

export interface RegisteredPack {
  readonly name: string;
  readonly version: string;
  readonly image: string;
  readonly imageId: string | null;
  readonly manifest: unknown;
  /** queued → building → ready | error (registered images start ready) */
  readonly status: string;
  /** The `docker build` output of a pack built here. */
  readonly log: string;
  readonly error: string | null;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface PackRow {
  name: string;
  version: string;
  image: string;
  image_id: string | null;
  manifest: unknown;
  status: string;
  log: string;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const toPack = (r: PackRow): RegisteredPack => ({
  name: r.name,
  version: r.version,
  image: r.image,
  imageId: r.image_id,
  manifest: typeof r.manifest === 'string' ? (JSON.parse(r.manifest) as unknown) : r.manifest,
  status: r.status,
  log: r.log,
  error: r.error,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface PackStore {
  list(): Promise<RegisteredPack[]>;
  /** 'duplicate' when the name is taken. */
  /** A pack from a local image (ready) or one to build here (queued, no image ID yet). */
  add(p: { name: string; version: string; image: string; imageId: string | null; manifest: unknown; createdBy: string; kind: 'image' | 'built' }): Promise<RegisteredPack | 'duplicate'>;
  /** Moves a built pack along queued → building → ready | error, with its build log. */
  setBuildState(name: string, state: { status: 'building' | 'ready' | 'error'; log: string; imageId?: string; error?: string }): Promise<void>;
  setImageId(name: string, imageId: string): Promise<void>;
  remove(name: string): Promise<boolean>;
}

export function createPackStore(knex: Knex): PackStore {
  return {
    async list() {
      return (await knex<PackRow>('language_packs').orderBy('name')).map(toPack);
    },
    async add(p) {
      const [row] = await knex<PackRow>('language_packs')
        .insert({
          name: p.name,
          version: p.version,
          kind: p.kind,
          image: p.image,
          image_id: p.imageId,
          manifest: JSON.stringify(p.manifest),
          status: p.kind === 'image' ? 'ready' : 'queued',
          created_by: p.createdBy,
        } as Partial<PackRow>)
        .onConflict('name')
        .ignore()
        .returning('*');
      return row ? toPack(row) : 'duplicate';
    },
    async setBuildState(name, s) {
      await knex('language_packs')
        .where({ name })
        .update({ status: s.status, log: s.log, error: s.error ?? null, ...(s.imageId ? { image_id: s.imageId } : {}), updated_at: knex.fn.now() });
    },
    async setImageId(name, imageId) {
      await knex('language_packs').where({ name }).update({ image_id: imageId, updated_at: knex.fn.now() });
    },
    async remove(name) {
      return (await knex('language_packs').where({ name }).delete()) === 1;
    },
  };
}
