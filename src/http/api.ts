// The public Koa app: git Smart-HTTP routes first, then the JSON API under /v1.
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import type { AccountService } from '../access/account-service.js';
import type { Authenticator } from '../access/authenticator.js';
import type { AppService } from '../apps/app-service.js';
import type { Build, BuildStore } from '../db/build-store.js';
import type { ReleaseService } from '../deploy/release-service.js';
import type { BuildControl } from '../build/build-control.js';
import type { SecurityRebuilds } from '../build/security-rebuilds.js';
import type { BuildSources } from '../build/build-sources.js';
import type { PullBuilds } from '../build/pull-builds.js';
import type { Webhooks } from '../build/webhooks.js';
import type { CommitStatuses } from '../build/commit-status.js';
import type { User, UserStore } from '../db/user-store.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { appRoles } from '../roles.js';
import { appView, buildView, collaboratorView, keyView, processView, releaseView, tokenView, userView } from '../views.js';
import type { Metrics } from '../metrics.js';
import type { BuildEvents } from '../build/build-events.js';
import { finishedStatuses } from '../db/build-store.js';
import { dashboardMiddleware } from './static.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware, readJson } from './errors.js';

export interface ApiDeps {
  readonly authenticator: Authenticator;
  readonly accounts: AccountService;
  readonly appService: AppService;
  readonly releases: ReleaseService;
  readonly buildControl: BuildControl;
  readonly securityRebuilds: SecurityRebuilds;
  readonly buildSources: BuildSources;
  readonly pulls: PullBuilds;
  readonly webhooks: Webhooks;
  readonly statuses: CommitStatuses;
  readonly users: UserStore;
  readonly builds: BuildStore;
  readonly logger: Logger;
  /** Middleware that serves git routes (and passes everything else on). */
  readonly git: Koa.Middleware;
  readonly metrics: Metrics;
  readonly events: BuildEvents;
  /** Where the dashboard's files are. */
  readonly rootDir: string;
  /** Throws when a dependency (database, Docker) is unreachable. */
  readonly checks: Readonly<Record<string, () => Promise<void>>>;
}

interface State {
  user: User | null;
}

const bodies = {
  user: z.object({ name: z.string(), admin: z.boolean().default(false) }).strict(),
  key: z.object({ name: z.string(), publicKey: z.string().max(16_384) }).strict(),
  token: z.object({ name: z.string(), expiresAt: z.iso.datetime({ offset: true }).nullable().default(null) }).strict(),
  app: z.object({ name: z.string() }).strict(),
  appPatch: z
    .object({
      public: z.boolean().optional(),
      languagePack: z.string().nullable().optional(),
      buildTimeoutSeconds: z.number().int().nullable().optional(),
      buildMemoryMb: z.number().int().nullable().optional(),
    })
    .strict(),
  collaborator: z.object({ role: z.enum(appRoles) }).strict(),
  rollback: z.object({ rollback: z.number().int().min(1) }).strict(),
  /** KEY: value sets, KEY: null unsets */
  config: z.record(z.string(), z.string().nullable()),
  formation: z.record(z.string(), z.number().int()),
};

const parseVersion = (raw: string): number => {
  const m = /^v?([1-9][0-9]{0,8})$/.exec(raw);
  if (!m) throw badRequest('release versions look like v3 or 3');
  return Number(m[1]);
};

async function body<T>(ctx: Koa.Context, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJson(ctx));
  if (!parsed.success) throw badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

/**
 * A build's log as Server-Sent Events: the stored lines first, then live ones, each with its line
 * number as event ID (so `Last-Event-ID` resumes), then an `end` event carrying the build.
 */
async function followLog(ctx: Koa.Context, build: Build, deps: Pick<ApiDeps, 'builds' | 'events'>): Promise<void> {
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  const after = Number(ctx.get('Last-Event-ID') || ctx.query.lastEventId || 0) || 0;
  let sent = after;
  let live = false;
  let ended = false;
  const buffered: Array<[number, string]> = [];
  const send = (index: number, line: string): void => {
    if (index <= sent || ended) return;
    sent = index;
    res.write(`id: ${index}\nevent: line\ndata: ${line}\n\n`);
  };
  const end = (b: Build): void => {
    if (ended) return;
    ended = true;
    res.end(`event: end\ndata: ${JSON.stringify(buildView(b))}\n\n`);
  };
  // Subscribe before reading the stored log, so no line falls between the two.
  let finished: Build | undefined;
  const unsubscribe = deps.events.subscribe(build.id, {
    onLine: (line, index) => {
      if (live) send(index, line);
      else buffered.push([index, line]);
    },
    onFinished: (b) => {
      finished = b;
      if (live) end(b);
    },
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  res.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
  // Lines are stored in batches (every 250 ms): wait until the store holds every line published
  // before we subscribed, so the catch-up has no hole.
  const published = deps.events.lastLine(build.id);
  let stored: string[] = [];
  for (let tries = 0; tries < 30; tries++) {
    stored = (await deps.builds.readLog(build.id)).split('\n').slice(0, -1);
    if (stored.length >= published) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  stored.forEach((line, i) => { send(i + 1, line); });
  for (const [index, line] of buffered) send(index, line);
  live = true;
  const now = finished ?? (await deps.builds.getBuild(build.id)) ?? build;
  if (finished || finishedStatuses.includes(now.status)) end(now);
}

export function createApiApp(deps: ApiDeps): Koa<State> {
  const app = new Koa<State>();
  const router = new Router<State>({ prefix: '/v1' });
  const { accounts, appService, releases } = deps;
  const p = (v: string | undefined): string => v ?? '';

  const buildFor = async (user: User | null, rawId: string): Promise<Build> => {
    if (!/^[1-9][0-9]{0,9}$/.test(rawId)) throw badRequest('build IDs are positive integers');
    return deps.buildControl.get(user, Number(rawId));
  };

  router.get('/security-rebuilds', async (ctx) => {
    const pack = typeof ctx.query.pack === 'string' ? ctx.query.pack : undefined;
    ctx.body = await deps.securityRebuilds.run(ctx.state.user, { pack, rebuild: false });
  });
  router.post('/security-rebuilds', async (ctx) => {
    const b = await body(ctx, z.object({ pack: z.string().optional() }).strict());
    ctx.body = await deps.securityRebuilds.run(ctx.state.user, { pack: b.pack, rebuild: true });
  });
  router.get('/user', (ctx) => {
    if (!ctx.state.user) throw new AppError('unauthenticated', 'authentication required');
    ctx.body = userView(ctx.state.user);
  });

  router.get('/users', async (ctx) => {
    ctx.body = (await accounts.listUsers(ctx.state.user)).map(userView);
  });
  router.post('/users', async (ctx) => {
    const b = await body(ctx, bodies.user);
    ctx.status = 201;
    ctx.body = userView(await accounts.createUser(ctx.state.user, b.name, { admin: b.admin }));
  });
  router.get('/users/:user', async (ctx) => {
    ctx.body = userView(await accounts.getUser(ctx.state.user, p(ctx.params.user)));
  });
  router.delete('/users/:user', async (ctx) => {
    await accounts.removeUser(ctx.state.user, p(ctx.params.user));
    ctx.status = 204;
  });

  router.get('/users/:user/keys', async (ctx) => {
    ctx.body = (await accounts.listKeys(ctx.state.user, p(ctx.params.user))).map(keyView);
  });
  router.post('/users/:user/keys', async (ctx) => {
    const b = await body(ctx, bodies.key);
    ctx.status = 201;
    ctx.body = keyView(await accounts.addKey(ctx.state.user, p(ctx.params.user), b.name, b.publicKey));
  });
  router.delete('/users/:user/keys/:name', async (ctx) => {
    await accounts.removeKey(ctx.state.user, p(ctx.params.user), p(ctx.params.name));
    ctx.status = 204;
  });

  router.get('/users/:user/tokens', async (ctx) => {
    ctx.body = (await accounts.listTokens(ctx.state.user, p(ctx.params.user))).map(tokenView);
  });
  router.post('/users/:user/tokens', async (ctx) => {
    const b = await body(ctx, bodies.token);
    const created = await accounts.createToken(ctx.state.user, p(ctx.params.user), b.name, b.expiresAt ? new Date(b.expiresAt) : null);
    ctx.status = 201;
    ctx.body = { ...tokenView(created.info), token: created.token };
  });
  router.delete('/users/:user/tokens/:id', async (ctx) => {
    const id = p(ctx.params.id);
    if (!/^[1-9][0-9]{0,9}$/.test(id)) throw badRequest('token IDs are positive integers');
    await accounts.revokeToken(ctx.state.user, p(ctx.params.user), Number(id));
    ctx.status = 204;
  });

  router.get('/apps', async (ctx) => {
    ctx.body = (await appService.list(ctx.state.user)).map(appView);
  });
  router.post('/apps', async (ctx) => {
    const b = await body(ctx, bodies.app);
    ctx.status = 201;
    ctx.body = appView(await appService.create(ctx.state.user, b.name));
  });
  router.get('/apps/:app', async (ctx) => {
    const { app: found, role } = await appService.require(ctx.state.user, p(ctx.params.app), 'read');
    const owner = await deps.users.findUserById(found.ownerId);
    const live = (await releases.list(ctx.state.user, found.name)).find((r) => r.status === 'active');
    ctx.body = { ...appView(found), owner: owner?.name ?? null, role, url: releases.url(found.name), release: live ? `v${live.version}` : null };
  });
  router.patch('/apps/:app', async (ctx) => {
    const b = await body(ctx, bodies.appPatch);
    const changes = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
    ctx.body = appView(await appService.update(ctx.state.user, p(ctx.params.app), changes));
  });
  router.delete('/apps/:app', async (ctx) => {
    await appService.destroy(ctx.state.user, p(ctx.params.app));
    ctx.status = 204;
  });

  router.get('/apps/:app/collaborators', async (ctx) => {
    ctx.body = (await appService.collaborators(ctx.state.user, p(ctx.params.app))).map(collaboratorView);
  });
  router.put('/apps/:app/collaborators/:user', async (ctx) => {
    const b = await body(ctx, bodies.collaborator);
    await appService.addCollaborator(ctx.state.user, p(ctx.params.app), p(ctx.params.user), b.role);
    ctx.status = 204;
  });
  router.delete('/apps/:app/collaborators/:user', async (ctx) => {
    await appService.removeCollaborator(ctx.state.user, p(ctx.params.app), p(ctx.params.user));
    ctx.status = 204;
  });

  router.get('/apps/:app/releases', async (ctx) => {
    ctx.body = (await releases.list(ctx.state.user, p(ctx.params.app))).map(releaseView);
  });
  router.get('/apps/:app/releases/:version', async (ctx) => {
    ctx.body = releaseView(await releases.get(ctx.state.user, p(ctx.params.app), parseVersion(p(ctx.params.version))));
  });
  router.post('/apps/:app/releases', async (ctx) => {
    const b = await body(ctx, bodies.rollback);
    ctx.status = 201;
    ctx.body = releaseView(await releases.rollback(ctx.state.user, p(ctx.params.app), b.rollback));
  });
  router.get('/apps/:app/config', async (ctx) => {
    ctx.body = await releases.config(ctx.state.user, p(ctx.params.app));
  });
  router.patch('/apps/:app/config', async (ctx) => {
    const b = await body(ctx, bodies.config);
    const set = Object.fromEntries(Object.entries(b).filter((e): e is [string, string] => e[1] !== null));
    const unset = Object.entries(b).filter(([, v]) => v === null).map(([k]) => k);
    const r = await releases.changeConfig(ctx.state.user, p(ctx.params.app), set, unset);
    ctx.body = { config: r.config, release: r.release ? releaseView(r.release) : null };
  });
  router.get('/apps/:app/formation', async (ctx) => {
    ctx.body = await releases.formation(ctx.state.user, p(ctx.params.app));
  });
  router.patch('/apps/:app/formation', async (ctx) => {
    ctx.body = await releases.scale(ctx.state.user, p(ctx.params.app), await body(ctx, bodies.formation));
  });
  router.get('/apps/:app/processes', async (ctx) => {
    ctx.body = (await releases.processes(ctx.state.user, p(ctx.params.app))).map(processView);
  });
  router.post('/apps/:app/actions/:action', async (ctx) => {
    const app = p(ctx.params.app);
    switch (ctx.params.action) {
      case 'restart':
        await releases.restart(ctx.state.user, app);
        break;
      case 'stop':
        await releases.stop(ctx.state.user, app);
        break;
      case 'start':
        await releases.start(ctx.state.user, app);
        break;
      default:
        throw notFound('actions are restart, stop and start');
    }
    ctx.status = 204;
  });
  router.get('/apps/:app/logs', async (ctx) => {
    const tail = Number(ctx.query.tail ?? 100);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw badRequest('tail is a whole number from 0 to 10000');
    const stream = await releases.logs(ctx.state.user, p(ctx.params.app), { follow: ctx.query.follow === '1' || ctx.query.follow === 'true', tail });
    ctx.req.on('close', () => { stream.destroy(); });
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = stream;
  });

  router.delete('/apps/:app/build-cache', async (ctx) => {
    ctx.body = { removed: await deps.buildControl.purgeCache(ctx.state.user, p(ctx.params.app)) };
  });
  router.get('/apps/:app/builds/:number', async (ctx) => {
    const { app: found } = await appService.require(ctx.state.user, p(ctx.params.app), 'read');
    const n = p(ctx.params.number);
    if (!/^[1-9][0-9]{0,8}$/.test(n)) throw badRequest('build numbers are positive integers');
    const build = await deps.builds.findBuildByNumber(found.id, Number(n));
    if (!build) throw notFound(`${found.name} has no build #${n}`);
    ctx.body = buildView(build);
  });
  router.post('/apps/:app/builds', async (ctx) => {
    if (ctx.is('application/x-tar', 'application/gzip', 'application/x-gzip', 'application/tar+gzip', 'application/octet-stream')) {
      ctx.status = 201;
      ctx.body = buildView(await deps.buildSources.upload(ctx.state.user, p(ctx.params.app), ctx.req));
      return;
    }
    if (ctx.is('application/json')) {
      const b = await body(ctx, z.object({ ref: z.string().optional(), commit: z.string().optional(), onlyIfChanged: z.boolean().optional() }).strict());
      const r = await deps.pulls.pull(ctx.state.user, p(ctx.params.app), { ref: b.ref, commit: b.commit, onlyIfChanged: b.onlyIfChanged ?? false });
      if ('skipped' in r) {
        ctx.body = { status: 'skipped', reason: r.skipped, commit: r.commit };
        return;
      }
      ctx.status = 201;
      ctx.body = buildView(r.build);
      return;
    }
    throw new AppError('bad_request', 'send JSON {ref?, commit?, onlyIfChanged?} to build from the app source, or a tar / tar.gz body to build it');
  });
  router.get('/apps/:app/source', async (ctx) => {
    ctx.body = await deps.pulls.source(ctx.state.user, p(ctx.params.app));
  });
  router.put('/apps/:app/source', async (ctx) => {
    const b = await body(ctx, z.object({ url: z.string(), ref: z.string().optional() }).strict());
    ctx.body = await deps.pulls.setSource(ctx.state.user, p(ctx.params.app), b);
  });
  router.put('/apps/:app/commit-status', async (ctx) => {
    const b = await body(ctx, z.object({ url: z.string(), token: z.string().max(1000) }).strict().nullable());
    ctx.body = await deps.statuses.configure(ctx.state.user, p(ctx.params.app), b);
  });
  router.post('/apps/:app/webhook/secret', async (ctx) => {
    ctx.status = 201;
    ctx.body = await deps.webhooks.rotate(ctx.state.user, p(ctx.params.app));
  });
  router.post('/apps/:app/webhook', async (ctx) => {
    // The signature authenticates: read the raw bytes (bounded) and let the webhook check them.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += (c as Buffer).length;
      if (size > 5 * 1024 * 1024) throw new AppError('bad_request', 'webhook payloads are at most 5 MiB');
      chunks.push(c as Buffer);
    }
    const reply = await deps.webhooks.receive(p(ctx.params.app), ctx.req.headers, Buffer.concat(chunks));
    ctx.status = reply.status;
    ctx.body = reply.body;
  });
  router.post('/apps/:app/deployment-units', async (ctx) => {
    const b = await body(ctx, z.object({ image: z.string() }).strict());
    const r = await deps.buildSources.registerImage(ctx.state.user, p(ctx.params.app), b.image);
    ctx.status = 201;
    ctx.body = { ...buildView(r.build), releaseError: r.releaseError ?? null };
  });
  router.get('/apps/:app/builds', async (ctx) => {
    const { app: found } = await appService.require(ctx.state.user, p(ctx.params.app), 'read');
    ctx.body = (await deps.builds.listBuilds(found.id)).map(buildView);
  });
  router.get('/builds/:id', async (ctx) => {
    ctx.body = buildView(await buildFor(ctx.state.user, p(ctx.params.id)));
  });
  router.post('/builds/:id/cancel', async (ctx) => {
    const build = await buildFor(ctx.state.user, p(ctx.params.id));
    ctx.body = buildView(await deps.buildControl.cancel(ctx.state.user, build.id));
  });
  router.get('/builds/:id/log', async (ctx) => {
    const build = await buildFor(ctx.state.user, p(ctx.params.id));
    if (ctx.query.follow === '1' || ctx.query.follow === 'true' || ctx.get('Accept').includes('text/event-stream')) {
      await followLog(ctx, build, deps);
      return;
    }
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = await deps.builds.readLog(build.id);
  });

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
          results[name] = err instanceof Error ? err.message.slice(0, 200) : 'failed';
        }
      }
      const ready = Object.values(results).every((r) => r === 'ok');
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'not ready', checks: results };
      return;
    }
    if (ctx.path === '/metrics') {
      ctx.type = deps.metrics.registry.contentType;
      ctx.body = await deps.metrics.registry.metrics();
      return;
    }
    await next();
  });
  app.use(deps.git);
  app.use(dashboardMiddleware(deps.rootDir));
  app.use(async (ctx, next) => {
    const token = tokenFromHeaders(ctx.req.headers);
    const user = (await deps.authenticator.userForToken(token)) ?? null;
    if (token && !user) throw new AppError('unauthenticated', 'invalid, revoked or expired token');
    ctx.state.user = user;
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
