// Builds: the build history and, through claim(), the build queue itself.
import type { Knex } from 'knex';
import type { AppName } from '../names.js';

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
}

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
  worker_id: string | null;
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
});

export interface BuildOutcome {
  readonly status: 'succeeded' | 'failed' | 'canceled';
  readonly exitCode: number | null;
  readonly error: string | null;
  readonly languagePack: string | null;
  readonly languagePackImage: string | null;
  readonly duId: string | null;
  readonly duImage: string | null;
}

export interface BuildStore {
  createBuild(input: { appId: number; number: number; ref: string; commit: string; archive: string }): Promise<Build>;
  getBuild(id: number): Promise<Build | undefined>;
  listBuilds(appId: number): Promise<Build[]>;
  /** Takes the oldest queued build no other worker holds; undefined when none is waiting. */
  claim(workerId: string): Promise<Build | undefined>;
  heartbeat(id: number, workerId: string): Promise<boolean>;
  /** Records the end of a running build held by `workerId`; false when it no longer holds it. */
  finish(id: number, workerId: string, outcome: BuildOutcome): Promise<boolean>;
  /** Marks running builds whose heartbeat is older than `staleBefore` abandoned; returns them. */
  abandonStale(staleBefore: Date): Promise<Build[]>;
  appendLog(id: number, seq: number, chunk: string): Promise<void>;
  readLog(id: number): Promise<string>;
}

function selectBuilds(knex: Knex): Knex.QueryBuilder {
  return knex('builds').join('apps', 'apps.id', 'builds.app_id').select('builds.*', 'apps.name as app_name');
}

export function createBuildStore(knex: Knex): BuildStore {
  const byId = async (id: number): Promise<Build | undefined> => {
    const row = (await selectBuilds(knex).where('builds.id', id).first()) as BuildRow | undefined;
    return row && toBuild(row);
  };
  return {
    async createBuild(input) {
      const [row] = await knex('builds')
        .insert({ app_id: input.appId, number: input.number, ref: input.ref, commit: input.commit, archive: input.archive, status: 'queued' })
        .returning<{ id: number }[]>('id');
      if (!row) throw new Error('insert returned no row');
      const build = await byId(row.id);
      if (!build) throw new Error('build vanished after insert');
      return build;
    },
    getBuild: byId,
    async listBuilds(appId) {
      const rows = (await selectBuilds(knex).where('builds.app_id', appId).orderBy('builds.id', 'desc')) as BuildRow[];
      return rows.map(toBuild);
    },
    async claim(workerId) {
      const result = await knex.raw<{ rows: { id: number }[] }>(
        `UPDATE builds SET status = 'running', worker_id = ?, started_at = now(), heartbeat_at = now()
          WHERE id = (SELECT id FROM builds WHERE status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
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
    async finish(id, workerId, o) {
      const n = await knex('builds').where({ id, worker_id: workerId, status: 'running' }).update({
        status: o.status,
        exit_code: o.exitCode,
        error: o.error,
        language_pack: o.languagePack,
        language_pack_image: o.languagePackImage,
        du_id: o.duId,
        du_image: o.duImage,
        finished_at: knex.fn.now(),
      });
      return n === 1;
    },
    async abandonStale(staleBefore) {
      const rows = await knex('builds')
        .where({ status: 'running' })
        .where((q) => { void q.whereNull('heartbeat_at').orWhere('heartbeat_at', '<', staleBefore); })
        .update({ status: 'abandoned', error: 'the worker running this build stopped', finished_at: knex.fn.now() })
        .returning<{ id: number }[]>('id');
      const builds = await Promise.all(rows.map((r) => byId(r.id)));
      return builds.filter((b): b is Build => b !== undefined);
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
