// The routes that take no token because a signature over the raw body authenticates them: webhooks
// from git hosts and the callbacks of external pipeline checks. The signature is checked over the
// exact bytes received, so they read the body themselves (bounded) rather than as parsed JSON.
import type Router from '@koa/router';
import type { Webhooks } from '../build/sources/webhooks.js';
import { badRequest } from '../errors.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import { parsePositiveInt } from '../parse.js';
import type { State } from './bind-operations.js';
import { readRaw } from './errors.js';
import type { RouteDoc } from './openapi.js';

export interface SignedRouteDeps {
  readonly webhooks: Webhooks;
  readonly pipelines: PipelineService;
}

export const signedRouteDocs: Record<string, RouteDoc> = {
  'POST /v1/apps/:app/webhook': { summary: 'Webhook from GitHub, Gitea, GitLab or a signed generic sender', public: true, rawBody: 'application/json', access: 'signed' },
  'POST /v1/pipeline-runs/:id/callback': {
    summary: 'External check result {"stage","status":"success"|"failure"}, signed: X-Solum-Signature: sha256=HMAC-SHA256(pipeline secret, body)',
    public: true,
    rawBody: 'application/json',
    access: 'signed',
  },
};

export function mountSignedRoutes(router: Router<State>, deps: SignedRouteDeps): void {
  router.post('/v1/apps/:app/webhook', async (ctx) => {
    const body = await readRaw(ctx, 5 * 1024 * 1024, 'webhook payloads are at most 5 MiB');
    const reply = await deps.webhooks.receive(ctx.params.app ?? '', ctx.req.headers, body);
    ctx.status = reply.status;
    ctx.body = reply.body;
  });

  router.post('/v1/pipeline-runs/:id/callback', async (ctx) => {
    const id = parsePositiveInt(ctx.params.id);
    if (id === undefined) throw badRequest('pipeline run IDs are positive integers');
    const body = await readRaw(ctx, 64 * 1024, 'callbacks are at most 64 KiB');
    const r = await deps.pipelines.callback(id, ctx.get('X-Solum-Signature') || undefined, body);
    ctx.body = { id: r.id, status: r.status, stages: r.stages.map((s) => ({ name: s.name, status: s.status })) };
  });
}
