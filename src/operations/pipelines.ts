// Pipelines, their runs and approval gates, and the environments they deploy to. (External checks
// call back signed, over the raw body: src/http/signed-routes.ts.)
import { z } from 'zod';
import type { PipelineRun } from '../db/pipeline-store.js';
import type { User } from '../db/user-store.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import { configChanges, splitConfigChanges } from './config-vars.js';
import { defineOperation, positiveInt } from './operation.js';
import { table, when } from './text.js';
import { configChangeView, environmentView, pipelineRunView, pipelineView, releaseView } from './views.js';

interface Deps {
  readonly pipelines: PipelineService;
}

const pipelineId = positiveInt('pipeline IDs are positive integers');
const runId = z.object({ id: positiveInt('pipeline run IDs are positive integers') });
const app = z.object({ app: z.string() });
const environment = z.object({ app: z.string(), env: z.string() });

const runView = (d: Deps) => (r: PipelineRun) => pipelineRunView(r, d.pipelines.runUrl(r.id));

export const listPipelines = defineOperation(
  {
    name: 'pipelines:list',
    summary: 'Pipelines of the apps the caller can see',
    access: 'signed-in',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/pipelines' },
  },
  (d: Deps) => ({ run: async (actor) => (await d.pipelines.list(actor)).map((x) => pipelineView(x, false)) }),
);

export const createPipeline = defineOperation(
  {
    name: 'pipelines:create',
    summary: "Define an app's pipeline (app admins); the answer carries the callback secret",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), stages: z.array(z.unknown()) }).strict(),
    http: { method: 'POST', path: '/v1/pipelines', status: 201, body: 'fields' },
  },
  (d: Deps) => ({ run: async (actor, i) => pipelineView(await d.pipelines.create(actor, i.app, { stages: i.stages }), true) }),
);

export const pipelineInfo = defineOperation(
  {
    name: 'pipelines:info',
    summary: 'A pipeline (its callback secret for app admins)',
    access: { app: 'read' },
    input: z.object({ id: pipelineId }),
    http: { method: 'GET', path: '/v1/pipelines/:id' },
  },
  (d: Deps) => ({
    async run(actor, i) {
      const { pipeline, admin } = await d.pipelines.get(actor, i.id);
      return pipelineView(pipeline, admin);
    },
  }),
);

export const updatePipeline = defineOperation(
  {
    name: 'pipelines:update',
    summary: "Replace a pipeline's stages (app admins)",
    access: { app: 'admin' },
    input: z.object({ id: pipelineId, stages: z.array(z.unknown()) }).strict(),
    http: { method: 'PUT', path: '/v1/pipelines/:id', body: 'fields' },
  },
  (d: Deps) => ({ run: async (actor, i) => pipelineView(await d.pipelines.update(actor, i.id, { stages: i.stages }), true) }),
);

export const removePipeline = defineOperation(
  {
    name: 'pipelines:remove',
    summary: 'Remove a pipeline: pushes deploy to the app itself again (app admins)',
    access: { app: 'admin' },
    input: z.object({ id: pipelineId }),
    http: { method: 'DELETE', path: '/v1/pipelines/:id', status: 204 },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.pipelines.remove(actor, i.id);
      return { removed: i.id };
    },
  }),
);

const stages = (r: ReturnType<ReturnType<typeof runView>>): string => r.stages.map((s) => `${s.name}:${s.status}`).join(' ');

export const listRuns = defineOperation(
  {
    name: 'pipelines:runs',
    summary: "The app's pipeline runs, newest first, with their stages",
    access: { app: 'read' },
    input: app,
    http: { method: 'GET', path: '/v1/apps/:app/pipeline-runs' },
    ssh: { usage: 'pipelines:runs APP', help: "list an app's pipeline runs and their stages", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.pipelines.runs(actor, i.app)).map(runView(d)),
    text: (runs) =>
      runs.length === 0 ? 'no pipeline runs\n' : table([['RUN', 'STATUS', 'COMMIT', 'CREATED', 'STAGES'], ...runs.map((r) => [String(r.id), r.status, r.commit.slice(0, 12), when(r.createdAt), stages(r)])]),
  }),
);

export const runInfo = defineOperation(
  {
    name: 'pipelines:run',
    summary: 'A pipeline run with its stages (status, timings, log)',
    access: { app: 'read' },
    input: runId,
    http: { method: 'GET', path: '/v1/pipeline-runs/:id' },
  },
  (d: Deps) => ({ run: async (actor, i) => runView(d)(await d.pipelines.run(actor, i.id)) }),
);

const decide = (d: Deps, approve: boolean) => ({
  run: async (actor: User | null, i: z.output<typeof runId>) => runView(d)(await d.pipelines.decide(actor, i.id, approve)),
  text: (r: ReturnType<ReturnType<typeof runView>>) => `run #${r.id} ${approve ? 'approved' : 'rejected'}: now ${r.status}${r.error ? ` (${r.error})` : ''}\n`,
});

export const approveRun = defineOperation(
  {
    name: 'pipelines:approve',
    summary: "Approve the approval gate the run waits at (the gate's role or named users); the run goes on",
    access: { app: 'read' },
    input: runId,
    http: { method: 'POST', path: '/v1/pipeline-runs/:id/approve' },
    ssh: { usage: 'pipelines:approve RUN', help: 'approve the approval gate a pipeline run waits at (the run goes on)', args: ['id'] },
  },
  (d: Deps) => decide(d, true),
);

export const rejectRun = defineOperation(
  {
    name: 'pipelines:reject',
    summary: 'Reject the approval gate the run waits at: the run stops',
    access: { app: 'read' },
    input: runId,
    http: { method: 'POST', path: '/v1/pipeline-runs/:id/reject' },
    ssh: { usage: 'pipelines:reject RUN', help: 'reject the approval gate a pipeline run waits at (the run stops)', args: ['id'] },
  },
  (d: Deps) => decide(d, false),
);

export const listEnvironments = defineOperation(
  {
    name: 'environments',
    summary: "The app's environments with their URL and live release",
    access: { app: 'read' },
    input: app,
    http: { method: 'GET', path: '/v1/apps/:app/environments' },
  },
  (d: Deps) => ({ run: async (actor, i) => (await d.pipelines.environments(actor, i.app)).map(environmentView) }),
);

export const createEnvironment = defineOperation(
  {
    name: 'environments:create',
    summary: 'Create an environment (app admins)',
    access: { app: 'admin' },
    input: z.object({ app: z.string(), name: z.string() }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/environments', status: 201, body: 'fields' },
  },
  (d: Deps) => ({ run: async (actor, i) => environmentView(await d.pipelines.createEnvironment(actor, i.app, i.name)) }),
);

export const environmentReleases = defineOperation(
  {
    name: 'environments:releases',
    summary: "An environment's releases, newest first",
    access: { app: 'read' },
    input: environment,
    http: { method: 'GET', path: '/v1/apps/:app/environments/:env/releases' },
  },
  (d: Deps) => ({ run: async (actor, i) => (await d.pipelines.environmentReleases(actor, i.app, i.env)).map(releaseView) }),
);

export const environmentConfig = defineOperation(
  {
    name: 'environments:config',
    summary: "An environment's config vars (app admins)",
    access: { app: 'admin' },
    input: environment,
    http: { method: 'GET', path: '/v1/apps/:app/environments/:env/config' },
  },
  (d: Deps) => ({ run: (actor, i) => d.pipelines.environmentConfig(actor, i.app, i.env) }),
);

export const updateEnvironmentConfig = defineOperation(
  {
    name: 'environments:config:update',
    summary: "Set (string) or unset (null) an environment's config vars: a new release of it when it runs one",
    access: { app: 'admin' },
    input: z.object({ app: z.string(), env: z.string(), changes: configChanges }),
    http: { method: 'PATCH', path: '/v1/apps/:app/environments/:env/config', body: { into: 'changes' } },
  },
  (d: Deps) => ({
    async run(actor, { app, env, changes }) {
      const { set, unset } = splitConfigChanges(changes);
      return configChangeView(await d.pipelines.changeEnvironmentConfig(actor, app, env, set, unset));
    },
  }),
);

export const pipelineOperations = [
  listPipelines,
  createPipeline,
  pipelineInfo,
  updatePipeline,
  removePipeline,
  listRuns,
  runInfo,
  approveRun,
  rejectRun,
  listEnvironments,
  createEnvironment,
  environmentReleases,
  environmentConfig,
  updateEnvironmentConfig,
];
