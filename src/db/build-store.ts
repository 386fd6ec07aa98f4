// Builds: the build history and, through claim(), the build queue itself.
import type { Knex } from 'knex';
import type { AppName } from '../names.js';
import { stringList } from './app-store.js';

export type BuildStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'abandoned';
export const finishedStatuses: readonly BuildStatus[] = ['succeeded', 'failed', 'canceled', 'abandoned'];

export interface Build {
  readonly id: number;
  readonly appId: number;
  readonly app: AppName;
  readonly number: number;
  readonly status: BuildStatus;
  readonly ref: string;
  readonly commit: string;
  readonly languagePack: string | null;
  readonly languagePackImage: string | null;
  readonly duId: string | null;
  readonly duImage: string | null;
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** Name of the source archive under the archives dir, while the build needs it. */
  readonly archive: string | null;
  readonly cancelRequested: boolean;
  readonly source: string;
  /** The worker holding a running build. */
  readonly workerId: string | null;
  /** For pushes: the value of the deploy ref the push expects to replace. */
  readonly baseCommit: string | null;
  /** A successful build that goes live: `pending` until the server releases it, then `done`. */
  readonly releaseState: ReleaseState | null;
  /** What the DU was built with (run command, env, ports, process types), from its labels. */
  readonly duManifest: Readonly<Record<string, unknown>> | null;
  /** Buildpack URLs this build asked for (push option), in order. */
  readonly buildpacks: readonly string[];
  /** Pushed with `-o solum.canary=PERCENT`: its release starts as a canary at that share (decision 0019). */
  readonly canaryPercent: number | null;
  /** Every language pack the build ran, in order, with its image ID (security rebuilds check each). */
  readonly languagePacks: readonly PackUse[];
}

export type ReleaseState = 'pending' | 'releasing' | 'done';

/** One language pack a build ran and the image ID it ran from. */
export interface PackUse {
  readonly name: string;
  readonly image: string | null;
}

const packUses = (v: unknown): PackUse[] => {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  if (!Array.isArray(parsed)) return [];
  return parsed
    .filter((x): x is { name: string; image?: unknown } => typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string')
    .map((x) => ({ name: x.name, image: typeof x.image === 'string' ? x.image : null }));
};

interface BuildRow {
  id: number;
  app_id: number;
  app_name: string;
  number: number;
  status: BuildStatus;
  ref: string;
  commit: string;
  language_pack: string | null;
  language_pack_image: string | null;
  du_id: string | null;
  du_image: string | null;
  exit_code: number | null;
  error: string | null;
  archive: string | null;
  cancel_requested: boolean;
  source: string;
  base_commit: string | null;
  worker_id: string | null;
  release_state: ReleaseState | null;
  du_manifest: string | null;
  buildpacks: unknown;
  canary_percent: number | null;
  language_packs: unknown;
  heartbeat_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const toBuild = (r: BuildRow): Build => ({
  id: r.id,
  appId: r.app_id,
  app: r.app_name as AppName,
  number: r.number,
  status: r.status,
  ref: r.ref,
  commit: r.commit,
  languagePack: r.language_pack,
  languagePackImage: r.language_pack_image,
  duId: r.du_id,
  duImage: r.du_image,
  exitCode: r.exit_code,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  archive: r.archive,
  cancelRequested: r.cancel_requested,
  source: r.source,
  workerId: r.worker_id,
  baseCommit: r.base_commit,
  releaseState: r.release_state,
  duManifest: r.du_manifest ? (JSON.parse(r.du_manifest) as Record<string, unknown>) : null,
  buildpacks: stringList(r.buildpacks),
  canaryPercent: r.canary_percent ?? null,
  languagePacks: packUses(r.language_packs),
});

export interface BuildOutcome {
  readonly status: 'succeeded' | 'failed' | 'canceled';
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly languagePack: string | null;
  readonly languagePackImage: string | null;
  readonly duId: string | null;
  readonly duImage: string | null;
  /** Every pack the build ran (absent: just `languagePack`, if any). */
  readonly languagePacks?: readonly PackUse[];
}

export interface BuildStore {
  /** `languagePack` asks for a pack for this build only (a push option). */
  createBuild(input: { appId: number; number: number; ref: string; commit: string; archive: string; source?: string; baseCommit?: string; languagePack?: string; buildpacks?: readonly string[]; canaryPercent?: number }): Promise<Build>;
  /** Records an existing image registered as a DU: a finished build with source `image`. */
  recordExternal(input: { appId: number; number: number; commit: string; duId: string; duImage: string; image: string }): Promise<Build>;
  /** Builds of an app waiting or running, oldest first (for queue positions and limits). */
  activeBuilds(appId: number): Promise<Build[]>;
  /** How many builds run right now, across all apps. */
  runningCount(): Promise<number>;
  /** How many builds wait to start, across all apps. */
  queuedCount(): Promise<number>;
  /** queued → canceled at once; running → cancel requested (its worker stops it). */
  cancel(id: number): Promise<'canceled' | 'requested' | 'finished'>;
  getBuild(id: number): Promise<Build | undefined>;
  findBuildByNumber(appId: number, number: number): Promise<Build | undefined>;
  listBuilds(appId: number): Promise<Build[]>;
  /**
   * Takes the oldest queued build of an app that has no running build, marking it the app's running
   * build in the same statement; undefined when nothing can start.
   */
  claim(workerId: string): Promise<Build | undefined>;
  heartbeat(id: number, workerId: string): Promise<boolean>;
  /**
   * Records the end of a running build held by `workerId`; false when it no longer holds it.
   * `release` hands a successful build to the server for release in the same statement.
   */
  finish(id: number, workerId: string, outcome: BuildOutcome, extra?: { release?: boolean; duManifest?: Readonly<Record<string, unknown>> | null }): Promise<boolean>;
  /** Takes the oldest build waiting for its release (pending → releasing); undefined when none. */
  claimRelease(): Promise<Build | undefined>;
  /** releasing → done. */
  endRelease(id: number): Promise<void>;
  /** Releases a stopped server left half-done go back to pending (one server runs releases). */
  resetReleasing(): Promise<number>;
  /** Builds a server follows: waiting, running, or waiting for their release. */
  listUnsettled(): Promise<Build[]>;
  /** Stored log chunks after `seq`, in order. */
  logChunksAfter(id: number, seq: number): Promise<Array<{ seq: number; chunk: string }>>;
  /** Where the stored log ends: its last chunk's seq and its line count (0 and 0 when empty). */
  logEnd(id: number): Promise<{ seq: number; lines: number }>;
  /** Marks running builds whose heartbeat is older than `staleBefore` abandoned; returns them. */
  abandonStale(staleBefore: Date): Promise<Build[]>;
  /** Marks these running builds abandoned (their worker is known to be dead); returns them. */
  abandon(ids: readonly number[]): Promise<Build[]>;
  listRunning(): Promise<Build[]>;
  appendLog(id: number, seq: number, chunk: string): Promise<void>;
  readLog(id: number): Promise<string>;
}

function selectBuilds(knex: Knex): Knex.QueryBuilder {
  return knex('builds').join('apps', 'apps.id', 'builds.app_id').select('builds.*', 'apps.name as app_name');
}

export function createBuildStore(knex: Knex): BuildStore {
  const countByStatus = async (status: BuildStatus): Promise<number> => {
    const [row] = await knex('builds').where({ status }).count<{ count: number | string }[]>({ count: '*' });
    return Number(row?.count ?? 0);
  };
  const abandon = async (ids: readonly number[]): Promise<Build[]> => {
    if (ids.length === 0) return [];
    const rows = await knex.transaction(async (trx) => {
      const done = await trx('builds')
        .whereIn('id', [...ids])
        .where({ status: 'running' })
        .update({ status: 'abandoned', error: 'the worker running this build stopped', finished_at: trx.fn.now() })
        .returning<{ id: number }[]>('id');
      if (done.length > 0) await trx('apps').whereIn('running_build_id', done.map((r) => r.id)).update({ running_build_id: null });
      return done;
    });
    const builds = await Promise.all(rows.map((r) => byId(r.id)));
    return builds.filter((b): b is Build => b !== undefined);
  };
  const byId = async (id: number): Promise<Build | undefined> => {
    const row = (await selectBuilds(knex).where('builds.id', id).first()) as BuildRow | undefined;
    return row && toBuild(row);
  };
  return {
    async createBuild(input) {
      const [row] = await knex('builds')
        .insert({ app_id: input.appId, number: input.number, ref: input.ref, commit: input.commit, archive: input.archive, source: input.source ?? 'push', base_commit: input.baseCommit ?? null, language_pack: input.languagePack ?? null, buildpacks: JSON.stringify(input.buildpacks ?? []), canary_percent: input.canaryPercent ?? null, status: 'queued' })
        .returning<{ id: number }[]>('id');
      if (!row) throw new Error('insert returned no row');
      const build = await byId(row.id);
      if (!build) throw new Error('build vanished after insert');
      return build;
    },
    getBuild: byId,
    async recordExternal(input) {
      const [row] = await knex('builds')
        .insert({
          app_id: input.appId,
          number: input.number,
          ref: 'image',
          commit: input.commit,
          source: 'image',
          status: 'succeeded',
          language_pack: null,
          language_pack_image: input.image,
          du_id: input.duId,
          du_image: input.duImage,
          exit_code: 0,
          started_at: knex.fn.now(),
          finished_at: knex.fn.now(),
        })
        .returning<{ id: number }[]>('id');
      const build = row ? await byId(row.id) : undefined;
      if (!build) throw new Error('insert returned no row');
      return build;
    },
    async findBuildByNumber(appId, number) {
      const row = (await selectBuilds(knex).where({ 'builds.app_id': appId, 'builds.number': number }).first()) as BuildRow | undefined;
      return row && toBuild(row);
    },
    async listBuilds(appId) {
      const rows = (await selectBuilds(knex).where('builds.app_id', appId).orderBy('builds.id', 'desc')) as BuildRow[];
      return rows.map(toBuild);
    },
    async activeBuilds(appId) {
      const rows = (await selectBuilds(knex).where('builds.app_id', appId).whereIn('builds.status', ['queued', 'running']).orderBy('builds.id')) as BuildRow[];
      return rows.map(toBuild);
    },
    runningCount: () => countByStatus('running'),
    queuedCount: () => countByStatus('queued'),
    async cancel(id) {
      const queued = await knex.transaction(async (trx) => {
        const rows = await trx('builds').where({ id, status: 'queued' }).update({ status: 'canceled', error: 'canceled while queued', finished_at: trx.fn.now() }).returning<{ id: number }[]>('id');
        return rows.length === 1;
      });
      if (queued) return 'canceled';
      const running = await knex('builds').where({ id, status: 'running' }).update({ cancel_requested: true });
      return running === 1 ? 'requested' : 'finished';
    },
    async claim(workerId) {
      // Locking the app row with the build and setting running_build_id in the same statement makes
      // "one running build per app" hold with any number of workers: a concurrent claimer either
      // skips the locked app or re-checks running_build_id after the first one commits.
      const result = await knex.raw<{ rows: { id: number }[] }>(
        `WITH candidate AS (
           SELECT b.id, b.app_id FROM builds b JOIN apps a ON a.id = b.app_id
            WHERE b.status = 'queued' AND a.running_build_id IS NULL
            ORDER BY b.id
            FOR UPDATE OF b, a SKIP LOCKED
            LIMIT 1
         ), app_claim AS (
           UPDATE apps SET running_build_id = (SELECT id FROM candidate)
            WHERE id = (SELECT app_id FROM candidate) AND running_build_id IS NULL
            RETURNING id
         )
         UPDATE builds SET status = 'running', worker_id = ?, started_at = now(), heartbeat_at = now()
          WHERE id = (SELECT id FROM candidate) AND EXISTS (SELECT 1 FROM app_claim)
          RETURNING id`,
        [workerId],
      );
      const claimed = result.rows[0];
      return claimed ? byId(claimed.id) : undefined;
    },
    async heartbeat(id, workerId) {
      const n = await knex('builds').where({ id, worker_id: workerId, status: 'running' }).update({ heartbeat_at: knex.fn.now() });
      return n === 1;
    },
    async finish(id, workerId, o, extra = {}) {
      return knex.transaction(async (trx) => {
        const n = await trx('builds').where({ id, worker_id: workerId, status: 'running' }).update({
          release_state: extra.release && o.status === 'succeeded' ? 'pending' : null,
          du_manifest: extra.duManifest ? JSON.stringify(extra.duManifest) : null,
          status: o.status,
          exit_code: o.exitCode,
          error: o.error,
          language_pack: o.languagePack,
          language_pack_image: o.languagePackImage,
          du_id: o.duId,
          du_image: o.duImage,
          language_packs: JSON.stringify(o.languagePacks ?? (o.languagePack ? [{ name: o.languagePack, image: o.languagePackImage }] : [])),
          finished_at: trx.fn.now(),
        });
        await trx('apps').where({ running_build_id: id }).update({ running_build_id: null });
        return n === 1;
      });
    },
    async abandonStale(staleBefore) {
      const rows = await knex('builds')
        .where({ status: 'running' })
        .where((q) => { void q.whereNull('heartbeat_at').orWhere('heartbeat_at', '<', staleBefore); })
        .select<{ id: number }[]>('id');
      return abandon(rows.map((r) => r.id));
    },
    abandon: (ids) => abandon(ids),
    async listRunning() {
      return ((await selectBuilds(knex).where('builds.status', 'running').orderBy('builds.id')) as BuildRow[]).map(toBuild);
    },
    async claimRelease() {
      const result = await knex.raw<{ rows: { id: number }[] }>(
        `UPDATE builds SET release_state = 'releasing'
          WHERE id = (SELECT id FROM builds WHERE release_state = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
          RETURNING id`,
      );
      const claimed = result.rows[0];
      return claimed ? byId(claimed.id) : undefined;
    },
    async endRelease(id) {
      await knex('builds').where({ id }).update({ release_state: 'done' });
    },
    async resetReleasing() {
      return knex('builds').where({ release_state: 'releasing' }).update({ release_state: 'pending' });
    },
    async listUnsettled() {
      const rows = (await selectBuilds(knex)
        .where((q) => { void q.whereIn('builds.status', ['queued', 'running']).orWhereIn('builds.release_state', ['pending', 'releasing']); })
        .orderBy('builds.id')) as BuildRow[];
      return rows.map(toBuild);
    },
    async logChunksAfter(id, seq) {
      return knex('build_logs').where({ build_id: id }).where('seq', '>', seq).orderBy('seq').select<Array<{ seq: number; chunk: string }>>('seq', 'chunk');
    },
    async logEnd(id) {
      // Every stored line ends with a newline: the count of newlines is the count of lines.
      const row = await knex('build_logs')
        .where({ build_id: id })
        .first<{ seq: number | null; lines: number | string | null } | undefined>(
          knex.raw('max(seq) AS seq'),
          knex.raw("sum(length(chunk) - length(replace(chunk, E'\\n', ''))) AS lines"),
        );
      return { seq: row?.seq ?? 0, lines: Number(row?.lines ?? 0) };
    },
    async appendLog(id, seq, chunk) {
      await knex('build_logs').insert({ build_id: id, seq, chunk });
    },
    async readLog(id) {
      const rows = await knex('build_logs').where({ build_id: id }).orderBy('seq').select<{ chunk: string }[]>('chunk');
      return rows.map((r) => r.chunk).join('');
    },
  };
}
