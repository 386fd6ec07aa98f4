// Pipeline runs of one app, their gates, and the app's environments.
import type { Command } from 'commander';
import { seg } from '../api-client.js';
import { define, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { relativeTime, status } from '../output.js';

interface StageJson {
  name: string;
  status: string;
  decidedBy: string | null;
}
interface RunJson {
  id: number;
  status: string;
  commit: string;
  url: string;
  error: string | null;
  createdAt: string;
  stages: StageJson[];
}
interface EnvironmentJson {
  name: string;
  url: string;
  release: { version: number; duId: string } | null;
}

const runId = (raw: string | undefined): number => {
  if (!/^#?[1-9][0-9]{0,9}$/.test(raw ?? '')) throw new UsageError(`pipeline runs are given by ID, like 12, not ${JSON.stringify(raw ?? '')}`);
  return Number((raw ?? '').replace('#', ''));
};

export function registerPipelines(program: Command, io: Io): void {
  define(program, io, {
    usage: 'pipelines:runs',
    summary: "list an app's pipeline runs with their stages, newest first",
    app: true,
    async run(ctx) {
      const runs = (await (await ctx.api()).get(`/v1/apps/${seg(await ctx.app())}/pipeline-runs`)) as RunJson[];
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

  for (const [verb, path, past] of [
    ['approve', 'approve', 'approved'],
    ['reject', 'reject', 'rejected'],
  ] as const) {
    define(program, io, {
      usage: `pipelines:${verb} <run>`,
      summary: `${verb} the approval gate a pipeline run waits at`,
      async run(ctx) {
        const r = (await (await ctx.api()).post(`/v1/pipeline-runs/${runId(ctx.arg(0))}/${path}`)) as RunJson;
        ctx.out.emit(r, () => `run #${r.id} ${past}: now ${r.status}${r.error ? ` (${r.error})` : ''}\n`);
      },
    });
  }

  define(program, io, {
    usage: 'environments',
    summary: "list an app's environments with their URL and live release",
    app: true,
    async run(ctx) {
      const envs = (await (await ctx.api()).get(`/v1/apps/${seg(await ctx.app())}/environments`)) as EnvironmentJson[];
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
