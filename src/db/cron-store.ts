// Scheduled jobs of apps (from their live DU's app.json) and, per job, the last schedule slot a
// scheduler claimed: every claim is a conditional update, so a slot runs once however many
// schedulers look and however often Solum restarts, and a job runs once at a time.
import type { Knex } from 'knex';

export interface CronJob {
  readonly id: number;
  readonly appId: number;
  /** The entry's ID (app.json's, or derived from its schedule and command). */
  readonly job: string;
  readonly schedule: string;
  readonly command: string;
  readonly zone: string;
  /** The newest slot claimed (run or skipped); null before the first claim. */
  readonly lastSlot: Date | null;
  /** Set while a run goes on. */
  readonly runningSince: Date | null;
  readonly runId: string | null;
  readonly runs: number;
  readonly skipped: number;
  readonly lastStartedAt: Date | null;
  readonly lastFinishedAt: Date | null;
  readonly lastExitCode: number | null;
}

interface CronRow {
  id: number;
  app_id: number;
  job: string;
  schedule: string;
  command: string;
  zone: string;
  last_slot: Date | null;
  running_since: Date | null;
  run_id: string | null;
  runs: number;
  skipped: number;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_exit_code: number | null;
}

const toJob = (r: CronRow): CronJob => ({
  id: r.id,
  appId: r.app_id,
  job: r.job,
  schedule: r.schedule,
  command: r.command,
  zone: r.zone,
  lastSlot: r.last_slot,
  runningSince: r.running_since,
  runId: r.run_id,
  runs: r.runs,
  skipped: r.skipped,
  lastStartedAt: r.last_started_at,
  lastFinishedAt: r.last_finished_at,
  lastExitCode: r.last_exit_code,
});

export interface CronEntry {
  readonly job: string;
  readonly schedule: string;
  readonly command: string;
  readonly zone: string;
}

export interface CronStore {
  /**
   * Makes the app's jobs exactly `entries`: new ones start with `slot(entry)` as their last slot (so
   * nothing from before runs), changed ones start over from it, unchanged ones keep their state, the
   * rest are removed. Returns the jobs.
   */
  sync(appId: number, entries: readonly CronEntry[], slot: (e: CronEntry) => Date): Promise<CronJob[]>;
  listOfApp(appId: number): Promise<CronJob[]>;
  all(): Promise<CronJob[]>;
  get(id: number): Promise<CronJob | undefined>;
  /**
   * Claims `slot` for a run: only when the last slot is still `prev` and no run goes on. Resolves
   * 'run' (this caller runs it), 'skipped' (a run went on: the slot is counted as skipped) or
   * 'taken' (another scheduler claimed it first).
   */
  claimSlot(id: number, prev: Date | null, slot: Date, runId: string): Promise<'run' | 'skipped' | 'taken'>;
  /** Starts a run now, outside the schedule, unless one goes on (then the attempt is counted as skipped). */
  claimNow(id: number, runId: string): Promise<boolean>;
  /** Ends the run `runId` with its exit code (null: unknown, the container was gone). */
  finish(id: number, runId: string, exitCode: number | null): Promise<boolean>;
}

export function createCronStore(knex: Knex): CronStore {
  const table = (db: Knex | Knex.Transaction = knex) => db<CronRow>('cron_jobs');
  const sameSlot = (q: Knex.QueryBuilder, prev: Date | null): Knex.QueryBuilder => (prev === null ? q.whereNull('last_slot') : q.where('last_slot', prev));
  return {
    async sync(appId, entries, slot) {
      return knex.transaction(async (trx) => {
        const existing = await table(trx).where({ app_id: appId }).forUpdate();
        const wanted = new Map(entries.map((e) => [e.job, e]));
        const gone = existing.filter((r) => !wanted.has(r.job)).map((r) => r.id);
        if (gone.length > 0) await table(trx).whereIn('id', gone).delete();
        for (const e of entries) {
          const row = existing.find((r) => r.job === e.job);
          if (!row) {
            await table(trx).insert({ app_id: appId, job: e.job, schedule: e.schedule, command: e.command, zone: e.zone, last_slot: slot(e) });
          } else if (row.schedule !== e.schedule || row.command !== e.command || row.zone !== e.zone) {
            await table(trx).where({ id: row.id }).update({ schedule: e.schedule, command: e.command, zone: e.zone, last_slot: slot(e) });
          }
        }
        return (await table(trx).where({ app_id: appId }).orderBy('job')).map(toJob);
      });
    },
    async listOfApp(appId) {
      return (await table().where({ app_id: appId }).orderBy('job')).map(toJob);
    },
    async all() {
      return (await table().orderBy('id')).map(toJob);
    },
    async get(id) {
      const row = await table().where({ id }).first();
      return row && toJob(row);
    },
    async claimSlot(id, prev, slot, runId) {
      const ran = await sameSlot(table().where({ id }).whereNull('running_since'), prev).update({ last_slot: slot, running_since: knex.fn.now(), run_id: runId, last_started_at: knex.fn.now() });
      if (ran === 1) return 'run';
      const skipped = await sameSlot(table().where({ id }).whereNotNull('running_since'), prev).update({ last_slot: slot, skipped: knex.raw('skipped + 1') });
      return skipped === 1 ? 'skipped' : 'taken';
    },
    async claimNow(id, runId) {
      const ran = await table().where({ id }).whereNull('running_since').update({ running_since: knex.fn.now(), run_id: runId, last_started_at: knex.fn.now() });
      if (ran === 1) return true;
      await table().where({ id }).update({ skipped: knex.raw('skipped + 1') });
      return false;
    },
    async finish(id, runId, exitCode) {
      const n = await table().where({ id, run_id: runId }).whereNotNull('running_since').update({ running_since: null, runs: knex.raw('runs + 1'), last_finished_at: knex.fn.now(), last_exit_code: exitCode });
      return n === 1;
    },
  };
}
