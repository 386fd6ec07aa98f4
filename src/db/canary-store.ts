// Canary releases of deploy targets (decision 0019): the one running per target, and the history of
// what became of each. A second start on the same target is refused by the database itself.
import type { Knex } from 'knex';

export type CanaryStatus = 'running' | 'promoted' | 'aborted';

export interface Canary {
  readonly id: number;
  readonly targetKey: string;
  readonly releaseId: number;
  readonly version: number;
  readonly percent: number;
  readonly status: CanaryStatus;
  readonly reason: string | null;
  readonly startedBy: string | null;
  readonly startedAt: Date;
  readonly endedAt: Date | null;
}

interface Row {
  id: number;
  target_key: string;
  release_id: number;
  version: number;
  percent: number;
  status: CanaryStatus;
  reason: string | null;
  started_by: string | null;
  started_at: Date;
  ended_at: Date | null;
}

const toCanary = (r: Row): Canary => ({
  id: r.id,
  targetKey: r.target_key,
  releaseId: r.release_id,
  version: r.version,
  percent: r.percent,
  status: r.status,
  reason: r.reason,
  startedBy: r.started_by,
  startedAt: new Date(r.started_at),
  endedAt: r.ended_at === null ? null : new Date(r.ended_at),
});

export interface CanaryStore {
  /** Records a running canary; undefined when the target already has one. */
  start(input: { targetKey: string; releaseId: number; version: number; percent: number; startedBy: string | null }): Promise<Canary | undefined>;
  running(targetKey: string): Promise<Canary | undefined>;
  allRunning(): Promise<Canary[]>;
  setPercent(id: number, percent: number): Promise<boolean>;
  /** running → promoted or aborted (with why); false when it had already ended. */
  end(id: number, status: 'promoted' | 'aborted', reason: string | null): Promise<boolean>;
  /** A target's canaries, newest first. */
  history(targetKey: string): Promise<Canary[]>;
}

export function createCanaryStore(knex: Knex): CanaryStore {
  return {
    async start(input) {
      const [row] = await knex<Row>('canaries')
        .insert({ target_key: input.targetKey, release_id: input.releaseId, version: input.version, percent: input.percent, started_by: input.startedBy, status: 'running' })
        .onConflict(knex.raw("(target_key) WHERE status = 'running'"))
        .ignore()
        .returning('*');
      return row && toCanary(row);
    },
    async running(targetKey) {
      const row = await knex<Row>('canaries').where({ target_key: targetKey, status: 'running' }).first();
      return row && toCanary(row);
    },
    async allRunning() {
      return (await knex<Row>('canaries').where({ status: 'running' }).orderBy('id')).map(toCanary);
    },
    async setPercent(id, percent) {
      return (await knex('canaries').where({ id, status: 'running' }).update({ percent })) === 1;
    },
    async end(id, status, reason) {
      return (await knex('canaries').where({ id, status: 'running' }).update({ status, reason, ended_at: knex.fn.now() })) === 1;
    },
    async history(targetKey) {
      return (await knex<Row>('canaries').where({ target_key: targetKey }).orderBy('id', 'desc')).map(toCanary);
    },
  };
}
