// The public Koa app: probes and metrics, the worker and git routes, the dashboard, then the JSON
// API under /v1: every operation's HTTP binding, and the few routes that stream or are signed.
import Router from '@koa/router';
import Koa from 'koa';
import type { Authenticator } from '../access/authenticator.js';
import type { AppService } from '../apps/app-service.js';
import type { BuildControl } from '../build/queue/build-control.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import type { Webhooks } from '../build/sources/webhooks.js';
import { AppError, forbidden } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { BoundOperation } from '../operations/operations.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import { mountOperations, operationDocs, type State } from './bind-operations.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware } from './errors.js';
import { cutStalledBodies, type BodyDeadlines } from './body-deadline.js';
import { eventStreamDocs, mountEventStreams } from './event-streams.js';
import { openApiDocument, type RouteDoc, type RouteInfo } from './openapi.js';
import { mountSignedRoutes, signedRouteDocs } from './signed-routes.js';
import { dashboardMiddleware } from './static.js';

export interface ApiDeps {
  readonly authenticator: Authenticator;
  readonly operations: readonly BoundOperation[];
  /** For the routes that stream (build logs, state changes) and the signed ones. */
  readonly buildControl: BuildControl;
  readonly apps: AppService;
  readonly events: BuildEvents;
  readonly webhooks: Webhooks;
  readonly pipelines: PipelineService;
  readonly logger: Logger;
  /** Middleware that serves git routes (and passes everything else on). */
  readonly git: Koa.Middleware;
  /** The routes `solum worker` processes call (authenticated by the worker token, not a user's). */
  readonly internal: Koa.Middleware;
  readonly metrics: Metrics;
  /** Where the dashboard's files are. */
  readonly rootDir: string;
  /** Throws when a dependency (database, Docker) is unreachable. */
  readonly checks: Readonly<Record<string, () => Promise<void>>>;
  /** How long API request bodies may pause and take (defaults suit webhooks and uploads). */
  readonly bodyDeadlines?: BodyDeadlines;
}

const probeDocs: Record<string, RouteDoc> = {
  'GET /healthz': { summary: 'Liveness probe', public: true },
  'GET /readyz': { summary: 'Readiness: database and Docker reachable (503 otherwise)', public: true },
  'GET /metrics': { summary: 'Prometheus metrics', public: true, produces: 'prometheus' },
  'GET /v1/openapi.json': { summary: 'This document', public: true },
};

const isApi = (p: string): boolean => p === '/v1' || p.startsWith('/v1/');

/**
 * State-changing API requests that a browser sends from another site's page are refused: the
 * Origin a browser sets must be this server's own (the dashboard's). Clients that are not browsers
 * send no Origin and are not affected; webhooks and callbacks come from servers, not pages.
 */
function refuseCrossOrigin(): Koa.Middleware {
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (isApi(ctx.path) && origin !== '' && !['GET', 'HEAD', 'OPTIONS'].includes(ctx.method) && origin !== `${ctx.protocol}://${ctx.host}`) {
      throw forbidden(`requests from pages of ${origin.slice(0, 100)} are refused: state-changing API calls come from this server's own pages or from non-browser clients`);
    }
    await next();
  };
}

export function createApiApp(deps: ApiDeps): Koa<State> {
  const app = new Koa<State>();
  const router = new Router<State>();
  mountOperations(router, deps.operations, { authenticator: deps.authenticator, apps: deps.apps });
  mountEventStreams(router, deps);
  mountSignedRoutes(router, deps);

  // Built once, from the router itself: a route without a description stops the server here.
  const extra: RouteInfo[] = [
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/readyz' },
    { method: 'GET', path: '/metrics' },
    { method: 'GET', path: '/v1/openapi.json' },
  ];
  const routes = router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })));
  const openapi = openApiDocument([...extra, ...routes], { ...probeDocs, ...operationDocs(deps.operations.map((o) => o.contract)), ...eventStreamDocs, ...signedRouteDocs });

  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? (ctx.respond === false ? 'git' : 'unmatched');
      deps.metrics.httpRequest(ctx.method, route, ctx.status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
  app.use(errorMiddleware(deps.logger));
  app.use(cutStalledBodies(deps.bodyDeadlines ?? { idleMs: 15_000, anonymousMs: 30_000, signedInMs: 30 * 60_000 }));
  // Liveness, readiness and metrics: unauthenticated, for probes and scrapers.
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET') {
      await next();
      return;
    }
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const results: Record<string, string> = {};
      for (const [name, check] of Object.entries(deps.checks)) {
        try {
          await check();
          results[name] = 'ok';
        } catch (err) {
          // The probe is public: what failed, not how (addresses, paths, driver messages) goes to the log.
          deps.logger.warn({ err, check: name }, 'readiness check failed');
          results[name] = 'failed';
        }
      }
      const ready = Object.values(results).every((r) => r === 'ok');
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'not ready', checks: results };
      return;
    }
    if (ctx.path === '/v1/openapi.json') {
      ctx.body = openapi;
      return;
    }
    if (ctx.path === '/metrics') {
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
      return;
    }
    await next();
  });
  app.use(deps.internal);
  app.use(deps.git);
  app.use(dashboardMiddleware(deps.rootDir));
  app.use(refuseCrossOrigin());
  app.use(async (ctx, next) => {
    const token = tokenFromHeaders(ctx.req.headers);
    const user = (await deps.authenticator.userForToken(token)) ?? null;
    if (token && !user) throw new AppError('unauthenticated', 'invalid, revoked or expired token');
    ctx.state.user = user;
    ctx.state.token = token;
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
