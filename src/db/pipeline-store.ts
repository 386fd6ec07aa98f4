// Pipelines (one per app), their runs and each run's stages with status, timings and log.
import type { Knex } from 'knex';
import type { PipelineDefinition, RunStatus, StageSpec, StageStatus } from '../pipelines/definition.js';

export interface Pipeline {
  readonly id: number;
  readonly appId: number;
  readonly app: string;
  readonly definition: PipelineDefinition;
  readonly source: 'api' | 'repo';
  readonly secret: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PipelineStage {
  readonly id: number;
  readonly position: number;
  readonly name: string;
  readonly spec: StageSpec;
  readonly status: StageStatus;
  readonly log: string;
  readonly decidedBy: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

export interface PipelineRun {
  readonly id: number;
  readonly appId: number;
  readonly app: string;
  readonly pipelineId: number | null;
  readonly buildId: number | null;
  readonly commit: string;
  readonly status: RunStatus;
  readonly duId: string | null;
  readonly duImage: string | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  readonly stages: readonly PipelineStage[];
}

interface PipelineRow {
  id: number;
  app_id: number;
  app_name: string;
  definition: PipelineDefinition | string;
  source: 'api' | 'repo';
  secret: string;
  created_at: Date;
  updated_at: Date;
}

interface RunRow {
  id: number;
  app_id: number;
  app_name: string;
  pipeline_id: number | null;
  build_id: number | null;
  commit: string;
  status: RunStatus;
  du_id: string | null;
  du_image: string | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

interface StageRow {
  id: number;
  run_id: number;
  position: number;
  name: string;
  spec: StageSpec | string;
  status: StageStatus;
  log: string;
  decided_by: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

const toPipeline = (r: PipelineRow): Pipeline => ({
  id: r.id,
  appId: r.app_id,
  app: r.app_name,
  definition: json(r.definition),
  source: r.source,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toStage = (r: StageRow): PipelineStage => ({
  id: r.id,
  position: r.position,
  name: r.name,
  spec: json(r.spec),
  status: r.status,
  log: r.log,
  decidedBy: r.decided_by,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** Logs of one stage are capped: a chatty test must not fill the database. */
const LOG_LIMIT = 256 * 1024;

export interface PipelineStore {
  pipelineOfApp(appId: number): Promise<Pipeline | undefined>;
  getPipeline(id: number): Promise<Pipeline | undefined>;
  listPipelines(appIds: readonly number[]): Promise<Pipeline[]>;
  /** Creates the app's pipeline; undefined when it already has one. */
  createPipeline(input: { appId: number; definition: PipelineDefinition; source: 'api' | 'repo'; secret: string }): Promise<Pipeline | undefined>;
  /** Replaces a pipeline's definition (and source). */
  updatePipeline(id: number, definition: PipelineDefinition, source: 'api' | 'repo'): Promise<Pipeline | undefined>;
  deletePipeline(id: number): Promise<boolean>;
  createRun(input: { appId: number; pipelineId: number | null; buildId: number | null; commit: string; stages: readonly StageSpec[] }): Promise<PipelineRun>;
  getRun(id: number): Promise<PipelineRun | undefined>;
  /** The newest run of a build. */
  runOfBuild(buildId: number): Promise<PipelineRun | undefined>;
  listRuns(appId: number): Promise<PipelineRun[]>;
  /** Runs in a given status (at start: those a stopped server left running). */
  runsWithStatus(status: RunStatus): Promise<PipelineRun[]>;
  /** Moves a stage from one of `from` to `to`; false when it was in another status (someone else decided it). */
  moveStage(stageId: number, from: readonly StageStatus[], to: StageStatus, decidedBy?: string): Promise<boolean>;
  /** Appends unless the log already holds `limitBytes` (the writer's own cap comes first; this is the backstop). */
  appendLog(stageId: number, text: string, limitBytes?: number): Promise<void>;
  setRun(id: number, changes: { status: RunStatus; error?: string | null; duId?: string; duImage?: string }): Promise<void>;
}

export function createPipelineStore(knex: Knex): PipelineStore {
  const pipelines = () => knex('pipelines as p').join('apps as a', 'a.id', 'p.app_id').select<PipelineRow[]>('p.*', 'a.name as app_name');
  const runs = () => knex('pipeline_runs as r').join('apps as a', 'a.id', 'r.app_id').select<RunRow[]>('r.*', 'a.name as app_name');
  const withStages = async (rows: RunRow[]): Promise<PipelineRun[]> => {
    if (rows.length === 0) return [];
    const stages = await knex<StageRow>('pipeline_stages').whereIn('run_id', rows.map((r) => r.id)).orderBy(['run_id', 'position']);
    return rows.map((r) => ({
      id: r.id,
      appId: r.app_id,
      app: r.app_name,
      pipelineId: r.pipeline_id,
      buildId: r.build_id,
      commit: r.commit,
      status: r.status,
      duId: r.du_id,
      duImage: r.du_image,
      error: r.error,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      stages: stages.filter((s) => s.run_id === r.id).map(toStage),
    }));
  };
  const one = async (rows: RunRow[]): Promise<PipelineRun | undefined> => (await withStages(rows))[0];
  const store: PipelineStore = {
    async pipelineOfApp(appId) {
      const [row] = await pipelines().where('p.app_id', appId);
      return row && toPipeline(row);
    },
    async getPipeline(id) {
      const [row] = await pipelines().where('p.id', id);
      return row && toPipeline(row);
    },
    async listPipelines(appIds) {
      if (appIds.length === 0) return [];
      return (await pipelines().whereIn('p.app_id', [...appIds]).orderBy('p.id')).map(toPipeline);
    },
    async createPipeline(input) {
      const rows = await knex('pipelines')
        .insert({ app_id: input.appId, definition: JSON.stringify(input.definition), source: input.source, secret: input.secret })
        .onConflict('app_id')
        .ignore()
        .returning<{ id: number }[]>('id');
      const id = rows[0]?.id;
      return id === undefined ? undefined : store.getPipeline(id);
    },
    async updatePipeline(id, definition, source) {
      await knex('pipelines').where({ id }).update({ definition: JSON.stringify(definition), source, updated_at: knex.fn.now() });
      return store.getPipeline(id);
    },
    async deletePipeline(id) {
      return (await knex('pipelines').where({ id }).delete()) === 1;
    },
    async createRun(input) {
      const id = await knex.transaction(async (trx) => {
        const [row] = await trx('pipeline_runs')
          .insert({ app_id: input.appId, pipeline_id: input.pipelineId, build_id: input.buildId, commit: input.commit, status: 'running' })
          .returning<{ id: number }[]>('id');
        if (!row) throw new Error('insert returned no row');
        await trx('pipeline_stages').insert(input.stages.map((s, position) => ({ run_id: row.id, position, name: s.name, spec: JSON.stringify(s), status: 'pending' })));
        return row.id;
      });
      const run = await store.getRun(id);
      if (!run) throw new Error(`run ${id} vanished`);
      return run;
    },
    async getRun(id) {
      return one(await runs().where('r.id', id));
    },
    async runOfBuild(buildId) {
      return one(await runs().where('r.build_id', buildId).orderBy('r.id', 'desc').limit(1));
    },
    async listRuns(appId) {
      return withStages(await runs().where('r.app_id', appId).orderBy('r.id', 'desc'));
    },
    async runsWithStatus(status) {
      return withStages(await runs().where('r.status', status).orderBy('r.id'));
    },
    async moveStage(stageId, from, to, decidedBy) {
      const changes: Record<string, unknown> = { status: to };
      if (to === 'running' || to === 'waiting') changes.started_at = knex.fn.now();
      if (['succeeded', 'failed', 'rejected', 'skipped'].includes(to)) changes.finished_at = knex.fn.now();
      if (decidedBy !== undefined) changes.decided_by = decidedBy;
      return (await knex('pipeline_stages').where({ id: stageId }).whereIn('status', [...from]).update(changes)) === 1;
    },
    async appendLog(stageId, text, limitBytes = LOG_LIMIT) {
      // Appended in SQL, so concurrent writers never lose each other's lines; capped at LOG_LIMIT.
      await knex('pipeline_stages')
        .where({ id: stageId })
        .where(knex.raw('length(log) < ?', [limitBytes]))
        .update({ log: knex.raw('log || ?', [text]) });
    },
    async setRun(id, changes) {
      const done = changes.status === 'succeeded' || changes.status === 'failed' || changes.status === 'rejected';
      await knex('pipeline_runs')
        .where({ id })
        .update({
          status: changes.status,
          ...(changes.error !== undefined ? { error: changes.error } : {}),
          ...(changes.duId !== undefined ? { du_id: changes.duId } : {}),
          ...(changes.duImage !== undefined ? { du_image: changes.duImage } : {}),
          finished_at: done ? knex.fn.now() : null,
        });
    },
  };
  return store;
}
