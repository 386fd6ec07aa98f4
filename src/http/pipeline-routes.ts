// The pipeline routes of the JSON API: pipelines, their runs and gates, and environments.
import type Router from '@koa/router';
import { z } from 'zod';
import type { User } from '../db/user-store.js';
import { AppError, badRequest } from '../errors.js';
import { parseRunId, type PipelineService } from '../pipelines/pipeline-service.js';
import { environmentView, pipelineRunView, pipelineView, releaseView } from '../views.js';
import type { RouteDoc } from './openapi.js';
import { parseBody } from './errors.js';

const bodies = {
  pipeline: z.object({ app: z.string(), stages: z.array(z.unknown()) }).strict(),
  pipelineUpdate: z.object({ stages: z.array(z.unknown()) }).strict(),
  environment: z.object({ name: z.string() }).strict(),
  /** KEY: value sets, KEY: null unsets */
  config: z.record(z.string(), z.string().nullable()),
};

export const pipelineDocs: Record<string, RouteDoc> = {
  'GET /v1/pipelines': { summary: 'Pipelines of the apps the caller can see' },
  'POST /v1/pipelines': { summary: "Define an app's pipeline (app admins); the answer carries the callback secret", body: bodies.pipeline },
  'GET /v1/pipelines/:id': { summary: 'A pipeline (its callback secret for app admins)' },
  'PUT /v1/pipelines/:id': { summary: "Replace a pipeline's stages (app admins)", body: bodies.pipelineUpdate },
  'DELETE /v1/pipelines/:id': { summary: 'Remove a pipeline: pushes deploy to the app itself again (app admins)' },
  'GET /v1/apps/:app/pipeline-runs': { summary: "The app's pipeline runs, newest first, with their stages" },
  'GET /v1/pipeline-runs/:id': { summary: 'A pipeline run with its stages (status, timings, log)' },
  'POST /v1/pipeline-runs/:id/approve': { summary: "Approve the approval gate the run waits at (the gate's role or named users); the run goes on" },
  'POST /v1/pipeline-runs/:id/reject': { summary: 'Reject the approval gate the run waits at: the run stops' },
  'POST /v1/pipeline-runs/:id/callback': {
    summary: 'External check result {"stage","status":"success"|"failure"}, signed: X-Solum-Signature: sha256=HMAC-SHA256(pipeline secret, body)',
    public: true,
    rawBody: 'application/json',
  },
  'GET /v1/apps/:app/environments': { summary: "The app's environments with their URL and live release" },
  'POST /v1/apps/:app/environments': { summary: 'Create an environment (app admins)', body: bodies.environment },
  'GET /v1/apps/:app/environments/:env/releases': { summary: "An environment's releases, newest first" },
  'GET /v1/apps/:app/environments/:env/config': { summary: "An environment's config vars (app admins)" },
  'PATCH /v1/apps/:app/environments/:env/config': { summary: "Set (string) or unset (null) an environment's config vars: a new release of it when it runs one", body: bodies.config },
};

const body = parseBody;

const pipelineId = (raw: string | undefined): number => {
  if (!/^[1-9][0-9]{0,9}$/.test(raw ?? '')) throw badRequest('pipeline IDs are positive integers');
  return Number(raw);
};

export function mountPipelineRoutes(router: Router<{ user: User | null }>, pipelines: PipelineService): void {
  const p = (v: string | undefined): string => v ?? '';
  const run = (r: Parameters<typeof pipelineRunView>[0]) => pipelineRunView(r, pipelines.runUrl(r.id));

  router.get('/pipelines', async (ctx) => {
    ctx.body = (await pipelines.list(ctx.state.user)).map((x) => pipelineView(x, false));
  });
  router.post('/pipelines', async (ctx) => {
    const b = await body(ctx, bodies.pipeline);
    ctx.status = 201;
    ctx.body = pipelineView(await pipelines.create(ctx.state.user, b.app, { stages: b.stages }), true);
  });
  router.get('/pipelines/:id', async (ctx) => {
    const { pipeline, admin } = await pipelines.get(ctx.state.user, pipelineId(ctx.params.id));
    ctx.body = pipelineView(pipeline, admin);
  });
  router.put('/pipelines/:id', async (ctx) => {
    const b = await body(ctx, bodies.pipelineUpdate);
    ctx.body = pipelineView(await pipelines.update(ctx.state.user, pipelineId(ctx.params.id), { stages: b.stages }), true);
  });
  router.delete('/pipelines/:id', async (ctx) => {
    await pipelines.remove(ctx.state.user, pipelineId(ctx.params.id));
    ctx.status = 204;
  });
  router.get('/apps/:app/pipeline-runs', async (ctx) => {
    ctx.body = (await pipelines.runs(ctx.state.user, p(ctx.params.app))).map(run);
  });
  router.get('/pipeline-runs/:id', async (ctx) => {
    ctx.body = run(await pipelines.run(ctx.state.user, parseRunId(p(ctx.params.id))));
  });
  router.post('/pipeline-runs/:id/approve', async (ctx) => {
    ctx.body = run(await pipelines.decide(ctx.state.user, parseRunId(p(ctx.params.id)), true));
  });
  router.post('/pipeline-runs/:id/reject', async (ctx) => {
    ctx.body = run(await pipelines.decide(ctx.state.user, parseRunId(p(ctx.params.id)), false));
  });
  router.post('/pipeline-runs/:id/callback', async (ctx) => {
    const id = parseRunId(p(ctx.params.id));
    // The signature authenticates: it is checked over the exact bytes received (bounded).
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += (c as Buffer).length;
      if (size > 64 * 1024) throw new AppError('bad_request', 'callbacks are at most 64 KiB');
      chunks.push(c as Buffer);
    }
    const signature = ctx.get('X-Solum-Signature') || undefined;
    const r = await pipelines.callback(id, signature, Buffer.concat(chunks));
    ctx.body = { id: r.id, status: r.status, stages: r.stages.map((s) => ({ name: s.name, status: s.status })) };
  });
  router.get('/apps/:app/environments', async (ctx) => {
    ctx.body = (await pipelines.environments(ctx.state.user, p(ctx.params.app))).map(environmentView);
  });
  router.post('/apps/:app/environments', async (ctx) => {
    const b = await body(ctx, bodies.environment);
    ctx.status = 201;
    ctx.body = environmentView(await pipelines.createEnvironment(ctx.state.user, p(ctx.params.app), b.name));
  });
  router.get('/apps/:app/environments/:env/releases', async (ctx) => {
    ctx.body = (await pipelines.environmentReleases(ctx.state.user, p(ctx.params.app), p(ctx.params.env))).map(releaseView);
  });
  router.get('/apps/:app/environments/:env/config', async (ctx) => {
    ctx.body = await pipelines.environmentConfig(ctx.state.user, p(ctx.params.app), p(ctx.params.env));
  });
  router.patch('/apps/:app/environments/:env/config', async (ctx) => {
    const b = await body(ctx, bodies.config);
    const set = Object.fromEntries(Object.entries(b).filter((e): e is [string, string] => e[1] !== null));
    const unset = Object.entries(b).filter(([, v]) => v === null).map(([k]) => k);
    const r = await pipelines.changeEnvironmentConfig(ctx.state.user, p(ctx.params.app), p(ctx.params.env), set, unset);
    ctx.body = { config: r.config, release: r.release ? releaseView(r.release) : null };
  });
}
