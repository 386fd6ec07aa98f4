// Pipeline runs of one app, their gates, and the app's environments.
import type { Command } from 'commander';
import { approveRun, listEnvironments, listRuns, rejectRun } from '../../operations/pipelines.js';
import { parsePositiveInt } from '../../parse.js';
import { define, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { relativeTime, status } from '../output.js';

const runId = (raw: string | undefined): number => {
  const id = parsePositiveInt((raw ?? '').replace(/^#/, ''));
  if (id === undefined) throw new UsageError(`pipeline runs are given by ID, like 12, not ${JSON.stringify(raw ?? '')}`);
  return id;
};

export function registerPipelines(program: Command, io: Io): void {
  define(program, io, {
    usage: 'pipelines:runs',
    summary: "list an app's pipeline runs with their stages, newest first",
    app: true,
    async run(ctx) {
      const runs = await (await ctx.api()).call(listRuns, { app: await ctx.app() });
      const c = ctx.out.c;
      ctx.out.emit(runs, () =>
        ctx.out.table(
          ['RUN', 'STATUS', 'COMMIT', 'CREATED', 'STAGES'],
          runs.map((r) => [String(r.id), status(r.status, c), r.commit.slice(0, 12), relativeTime(r.createdAt), r.stages.map((s) => `${s.name}:${s.status}`).join(' ')]),
          'No pipeline runs: define a pipeline in solum.yaml or with the API',
        ),
      );
    },
  });

  for (const [verb, op, past] of [
    ['approve', approveRun, 'approved'],
    ['reject', rejectRun, 'rejected'],
  ] as const) {
    define(program, io, {
      usage: `pipelines:${verb} <run>`,
      summary: `${verb} the approval gate a pipeline run waits at`,
      async run(ctx) {
        const r = await (await ctx.api()).call(op, { id: String(runId(ctx.arg(0))) });
        ctx.out.emit(r, () => `run #${r.id} ${past}: now ${r.status}${r.error ? ` (${r.error})` : ''}\n`);
      },
    });
  }

  define(program, io, {
    usage: 'environments',
    summary: "list an app's environments with their URL and live release",
    app: true,
    async run(ctx) {
      const envs = await (await ctx.api()).call(listEnvironments, { app: await ctx.app() });
      ctx.out.emit(envs, () =>
        ctx.out.table(
          ['ENVIRONMENT', 'RELEASE', 'DU', 'URL'],
          envs.map((e) => [e.name, e.release ? `v${e.release.version}` : '-', e.release?.duId.slice(0, 19) ?? '-', e.url]),
          'No environments: a pipeline creates them',
        ),
      );
    },
  });
}
