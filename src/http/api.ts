// The public Koa app: git Smart-HTTP routes first, then the JSON API under /v1.
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import type { AccountService } from '../access/account-service.js';
import type { Authenticator } from '../access/authenticator.js';
import type { AppService } from '../apps/app-service.js';
import type { Build, BuildStore } from '../db/build-store.js';
import type { ReleaseService } from '../deploy/release-service.js';
import type { BuildControl } from '../build/queue/build-control.js';
import type { SecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import type { BuildSources } from '../build/sources/build-sources.js';
import type { PullBuilds } from '../build/sources/pull-builds.js';
import type { Webhooks } from '../build/sources/webhooks.js';
import type { CommitStatuses } from '../build/sources/commit-status.js';
import type { Retention } from '../build/upkeep/retention.js';
import type { PackRegistry } from '../build/packs/pack-registry.js';
import type { ServiceManager } from '../backing-services/service-manager.js';
import type { BuildpackArchives } from '../build/packs/buildpack-archives.js';
import type { User, UserStore } from '../db/user-store.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { appRoles } from '../roles.js';
import { appView, buildView, collaboratorView, keyView, processView, releaseView, serviceLinkView, serviceView, tokenView, userView } from '../views.js';
import type { Metrics } from '../metrics.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import { finishedStatuses } from '../db/build-store.js';
import { dashboardMiddleware } from './static.js';
import { openApiDocument, type RouteDoc, type RouteInfo } from './openapi.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware, parseBody } from './errors.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import { mountPipelineRoutes, pipelineDocs } from './pipeline-routes.js';

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
  readonly retention: Retention;
  readonly registry: PackRegistry;
  readonly services: ServiceManager;
  readonly buildpackArchives: BuildpackArchives;
  readonly users: UserStore;
  readonly builds: BuildStore;
  readonly pipelines: PipelineService;
  readonly logger: Logger;
  /** Middleware that serves git routes (and passes everything else on). */
  readonly git: Koa.Middleware;
  /** The routes `solum worker` processes call (authenticated by the worker token, not a user's). */
  readonly internal: Koa.Middleware;
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
      /** Heroku buildpack git URLs, in order ([] clears). */
      buildpacks: z.array(z.string()).optional(),
      /** Language packs to build with, in order ([] clears: pinned or detected). */
      languagePacks: z.array(z.string()).optional(),
      /** Whether pull-request webhooks build the app (off unless an app admin turns it on). */
      pullRequestBuilds: z.boolean().optional(),
    })
    .strict(),
  collaborator: z.object({ role: z.enum(appRoles) }).strict(),
  rollback: z.object({ rollback: z.number().int().min(1) }).strict(),
  /** KEY: value sets, KEY: null unsets */
  config: z.record(z.string(), z.string().nullable()),
  formation: z.record(z.string(), z.number().int()),
  securityRebuild: z.object({ pack: z.string().optional() }).strict(),
  pull: z.object({ ref: z.string().optional(), commit: z.string().optional(), onlyIfChanged: z.boolean().optional() }).strict(),
  source: z.object({ url: z.string(), ref: z.string().optional() }).strict(),
  commitStatus: z.object({ url: z.string(), token: z.string().max(1000) }).strict().nullable(),
  image: z.object({ image: z.string() }).strict(),
  pack: z.object({ image: z.string(), manifest: z.record(z.string(), z.unknown()) }).strict(),
  service: z.object({ kind: z.string(), name: z.string() }).strict(),
};

const TAR_TYPES = ['application/x-tar', 'application/gzip', 'application/x-gzip', 'application/tar+gzip', 'application/octet-stream'];

/** The description of every route; the OpenAPI document is made from it and the router. */
const docs: Record<string, RouteDoc> = {
  'GET /healthz': { summary: 'Liveness probe', public: true },
  'GET /readyz': { summary: 'Readiness: database and Docker reachable (503 otherwise)', public: true },
  'GET /metrics': { summary: 'Prometheus metrics', public: true, produces: 'prometheus' },
  'GET /v1/openapi.json': { summary: 'This document', public: true },
  'GET /v1/security-rebuilds': { summary: 'Apps whose live DU was built from an older pack image (admins); ?pack=NAME' },
  'POST /v1/security-rebuilds': { summary: 'Queue rebuilds of those apps (admins)', body: bodies.securityRebuild },
  'GET /v1/user': { summary: 'Who the token belongs to' },
  'GET /v1/language-packs': { summary: 'Language packs, stock and registered; ?q= searches name and version, ?q=NAME@VERSION wants that version or one below it (2 → 2.x)' },
  'GET /v1/language-packs/:name': { summary: 'One language pack' },
  'POST /v1/language-packs': {
    summary: 'Register a local image as a language pack with its manifest, or build one from a tar with a Dockerfile, solum-pack.json and its build script (admins)',
    body: bodies.pack,
    rawBody: TAR_TYPES.join(', '),
  },
  'POST /v1/language-packs/:name/refresh': { summary: "Re-read a pack's image ID after its image was rebuilt (admins)" },
  'DELETE /v1/language-packs/:name': { summary: 'Remove a registered pack no app pins or was last built with (admins)' },
  'GET /v1/buildpacks': { summary: 'Buildpacks uploaded as archives (apps name them solum-buildpack:NAME)' },
  'PUT /v1/buildpacks/:name': { summary: 'Upload a buildpack archive: a tar / tar.gz with bin/detect and bin/compile (admins)', rawBody: TAR_TYPES.join(', ') },
  'DELETE /v1/buildpacks/:name': { summary: 'Remove an uploaded buildpack no app uses (admins)' },
  'POST /v1/prune': { summary: 'Remove old DUs (keeping the newest per app and every released one), leftover builders and orphaned build caches (admins)' },
  'GET /v1/events': { summary: 'Build and release state changes of the apps the caller can see, as Server-Sent Events', produces: 'event-stream' },
  'GET /v1/users': { summary: 'List users (admins)' },
  'POST /v1/users': { summary: 'Create a user (admins)', body: bodies.user },
  'GET /v1/users/:user': { summary: 'A user (themself or admins)' },
  'DELETE /v1/users/:user': { summary: 'Remove a user with their keys and tokens (admins)' },
  'GET /v1/users/:user/keys': { summary: "A user's SSH keys" },
  'POST /v1/users/:user/keys': { summary: 'Add an SSH key', body: bodies.key },
  'DELETE /v1/users/:user/keys/:name': { summary: 'Remove an SSH key (access with it ends at once)' },
  'GET /v1/users/:user/tokens': { summary: "A user's API tokens (never the tokens themselves)" },
  'POST /v1/users/:user/tokens': { summary: 'Create an API token (returned once)', body: bodies.token },
  'DELETE /v1/users/:user/tokens/:id': { summary: 'Revoke an API token' },
  'GET /v1/apps': { summary: 'Apps the caller can see' },
  'POST /v1/apps': { summary: 'Create an app', body: bodies.app },
  'GET /v1/apps/:app': { summary: 'An app, its URL and live release' },
  'PATCH /v1/apps/:app': { summary: 'App settings: public, pinned language pack or ordered languagePacks, buildpacks (git URLs), build limits', body: bodies.appPatch },
  'DELETE /v1/apps/:app': { summary: 'Destroy an app: repository, builds, DUs, processes' },
  'GET /v1/apps/:app/collaborators': { summary: "An app's collaborators" },
  'PUT /v1/apps/:app/collaborators/:user': { summary: 'Give a user a role on an app', body: bodies.collaborator },
  'DELETE /v1/apps/:app/collaborators/:user': { summary: "Remove a user's role" },
  'GET /v1/apps/:app/releases': { summary: 'Releases, newest first' },
  'GET /v1/apps/:app/releases/:version': { summary: 'One release' },
  'POST /v1/apps/:app/releases': { summary: 'Roll back: a new release from an earlier one', body: bodies.rollback },
  'GET /v1/apps/:app/config': { summary: 'Config vars (app admins)' },
  'PATCH /v1/apps/:app/config': { summary: 'Set (string) or unset (null) config vars: a new release', body: bodies.config },
  'GET /v1/apps/:app/formation': { summary: 'Process counts' },
  'PATCH /v1/apps/:app/formation': { summary: 'Scale process types', body: bodies.formation },
  'GET /v1/apps/:app/processes': { summary: "The app's processes" },
  'POST /v1/apps/:app/actions/:action': { summary: 'restart, stop or start the app' },
  'GET /v1/apps/:app/logs': { summary: 'Process output; ?follow=1&tail=N', produces: 'text' },
  'DELETE /v1/apps/:app/build-cache': { summary: "Empty the app's build cache" },
  'GET /v1/apps/:app/builds/:number': { summary: 'A build by its number' },
  'POST /v1/apps/:app/builds': { summary: 'Build from the app source (JSON) or an uploaded tar / tar.gz', body: bodies.pull, rawBody: TAR_TYPES.join(', ') },
  'GET /v1/apps/:app/source': { summary: "The app's source and deploy key" },
  'PUT /v1/apps/:app/source': { summary: "Set the app's source (git URL and ref)", body: bodies.source },
  'PUT /v1/apps/:app/commit-status': { summary: 'Report commit statuses to a GitHub-compatible endpoint (null turns it off)', body: bodies.commitStatus },
  'POST /v1/apps/:app/webhook/secret': { summary: 'A new webhook secret (returned once)' },
  'POST /v1/apps/:app/webhook': { summary: 'Webhook from GitHub, Gitea, GitLab or a signed generic sender', public: true, rawBody: 'application/json' },
  'POST /v1/apps/:app/deployment-units': { summary: 'Register a local image as a DU', body: bodies.image },
  'GET /v1/apps/:app/builds': { summary: 'Builds, newest first' },
  'GET /v1/builds/:id': { summary: 'A build' },
  'POST /v1/builds/:id/cancel': { summary: 'Cancel a queued or running build' },
  'GET /v1/builds/:id/log': { summary: 'The build log; ?follow=1 (or Accept: text/event-stream) streams it as Server-Sent Events', produces: 'text' },
  'GET /v1/services': { summary: 'Backing service instances the caller owns (admins: all)' },
  'POST /v1/services': { summary: 'Create a backing service instance (kind postgres or redis)', body: bodies.service },
  'GET /v1/services/:name': { summary: 'A service instance: links, state and its URL (owner or admins)' },
  'DELETE /v1/services/:name': { summary: 'Destroy an instance and its data: ?confirm=NAME, and &force=1 when it is still linked (owner or admins)' },
  'PUT /v1/services/:name/links/:app': { summary: "Link an instance to an app: sets DATABASE_URL / REDIS_URL (or an alias) and makes a release (instance owner and app admin)" },
  'DELETE /v1/services/:name/links/:app': { summary: 'Unlink: unsets the config var and makes a release' },
  'GET /v1/services/:name/backup': { summary: 'A pg_dump -Fc of a postgres instance (streamed)', produces: 'binary' },
  'POST /v1/services/:name/restore': { summary: 'Restore a postgres instance from a pg_dump -Fc archive (all or nothing)', rawBody: 'application/octet-stream' },
};

const parseVersion = (raw: string): number => {
  const m = /^v?([1-9][0-9]{0,8})$/.exec(raw);
  if (!m) throw badRequest('release versions look like v3 or 3');
  return Number(m[1]);
};

/**
 * One page of a list: `?limit=` (1-1000, default 100) and `?cursor=` (from the previous page's
 * `X-Next-Cursor` header or `Link: …; rel="next"`). The body stays a plain array.
 */
function page<T>(ctx: Koa.Context, items: readonly T[]): T[] {
  const limitRaw = ctx.query.limit;
  const limit = typeof limitRaw === 'string' ? Number(limitRaw) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest('limit is a whole number from 1 to 1000');
  let offset = 0;
  const cursor = ctx.query.cursor;
  if (typeof cursor === 'string') {
    const m = /^o(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!m) throw badRequest('invalid cursor');
    offset = Number(m[1]);
  }
  const end = offset + limit;
  ctx.set('X-Total-Count', String(items.length));
  if (end < items.length) {
    const next = Buffer.from(`o${end}`).toString('base64url');
    ctx.set('X-Next-Cursor', next);
    ctx.set('Link', `<${ctx.path}?limit=${limit}&cursor=${next}>; rel="next"`);
  }
  return items.slice(offset, end);
}

const body = parseBody;

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
    // A bare CR would end the SSE field early: lines are stored without them, but make sure.
    res.write(`id: ${index}\nevent: line\ndata: ${line.replaceAll('\r', '')}\n\n`);
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
    ctx.body = page(ctx, await deps.securityRebuilds.run(ctx.state.user, { pack, rebuild: false }));
  });
  router.post('/security-rebuilds', async (ctx) => {
    const b = await body(ctx, bodies.securityRebuild);
    ctx.body = await deps.securityRebuilds.run(ctx.state.user, { pack: b.pack, rebuild: true });
  });
  router.get('/events', async (ctx) => {
    const user = ctx.state.user;
    if (!user) throw new AppError('unauthenticated', 'authentication required');
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(': solum events\n\n');
    // Only changes of apps the caller may read; decisions are remembered for the connection.
    const visible = new Map<string, Promise<boolean>>();
    const canSee = (app: string): Promise<boolean> => {
      let v = visible.get(app);
      if (!v) {
        v = appService.require(user, app, 'read').then(() => true, () => false);
        visible.set(app, v);
      }
      return v;
    };
    let seq = 0;
    const unsubscribe = deps.events.subscribeState((change) => {
      void canSee(change.app).then((ok) => {
        if (ok && !res.writableEnded) res.write(`id: ${++seq}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
      });
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
    await Promise.resolve();
  });
  const signedIn = (ctx: Koa.ParameterizedContext<State>): void => {
    if (!ctx.state.user) throw new AppError('unauthenticated', 'authentication required');
  };
  router.get('/language-packs', async (ctx) => {
    signedIn(ctx);
    ctx.body = page(ctx, await deps.registry.list(typeof ctx.query.q === 'string' ? ctx.query.q : undefined));
  });
  router.get('/language-packs/:name', async (ctx) => {
    signedIn(ctx);
    ctx.body = await deps.registry.get(p(ctx.params.name));
  });
  router.post('/language-packs', async (ctx) => {
    if (ctx.is(TAR_TYPES)) {
      ctx.status = 202;
      ctx.body = await deps.registry.create(ctx.state.user, ctx.req);
      return;
    }
    const b = await body(ctx, bodies.pack);
    ctx.status = 201;
    ctx.body = await deps.registry.register(ctx.state.user, b);
  });
  router.post('/language-packs/:name/refresh', async (ctx) => {
    ctx.body = await deps.registry.refresh(ctx.state.user, p(ctx.params.name));
  });
  router.delete('/language-packs/:name', async (ctx) => {
    await deps.registry.remove(ctx.state.user, p(ctx.params.name));
    ctx.status = 204;
  });
  router.get('/services', async (ctx) => {
    ctx.body = page(ctx, (await deps.services.list(ctx.state.user)).map((i) => serviceView(i)));
  });
  router.post('/services', async (ctx) => {
    const b = await body(ctx, bodies.service);
    ctx.status = 201;
    ctx.body = serviceView(await deps.services.create(ctx.state.user, b.kind, b.name), []);
  });
  router.get('/services/:name', async (ctx) => {
    const info = await deps.services.info(ctx.state.user, p(ctx.params.name));
    ctx.body = { ...serviceView(info.instance, info.links), state: info.state, url: info.url };
  });
  router.delete('/services/:name', async (ctx) => {
    const confirm = typeof ctx.query.confirm === 'string' ? ctx.query.confirm : undefined;
    await deps.services.destroy(ctx.state.user, p(ctx.params.name), { confirm, force: ctx.query.force === '1' || ctx.query.force === 'true' });
    ctx.status = 204;
  });
  router.put('/services/:name/links/:app', async (ctx) => {
    const r = await deps.services.link(ctx.state.user, p(ctx.params.name), p(ctx.params.app));
    ctx.body = { ...serviceLinkView(r.link), release: r.release ? releaseView(r.release) : null };
  });
  router.delete('/services/:name/links/:app', async (ctx) => {
    const r = await deps.services.unlink(ctx.state.user, p(ctx.params.name), p(ctx.params.app));
    ctx.body = { ...serviceLinkView(r.link), release: r.release ? releaseView(r.release) : null };
  });
  router.get('/services/:name/backup', async (ctx) => {
    const name = p(ctx.params.name);
    const stream = await deps.services.backup(ctx.state.user, name);
    ctx.req.on('close', () => { stream.destroy(); });
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename="${name}.dump"`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = stream;
  });
  router.post('/services/:name/restore', async (ctx) => {
    await deps.services.restore(ctx.state.user, p(ctx.params.name), ctx.req);
    ctx.status = 204;
  });
  router.get('/buildpacks', async (ctx) => {
    ctx.body = (await deps.buildpackArchives.list(ctx.state.user)).map((a) => ({ name: a.name, url: `solum-buildpack:${a.name}`, sha256: a.sha256, bytes: a.bytes, createdBy: a.createdBy, createdAt: a.createdAt.toISOString() }));
  });
  router.put('/buildpacks/:name', async (ctx) => {
    if (!ctx.is(TAR_TYPES)) throw badRequest(`send the buildpack as a tar or tar.gz (${TAR_TYPES.join(', ')})`);
    const a = await deps.buildpackArchives.upload(ctx.state.user, p(ctx.params.name), ctx.req);
    ctx.status = 201;
    ctx.body = { name: a.name, url: `solum-buildpack:${a.name}`, sha256: a.sha256, bytes: a.bytes, createdBy: a.createdBy, createdAt: a.createdAt.toISOString() };
  });
  router.delete('/buildpacks/:name', async (ctx) => {
    await deps.buildpackArchives.remove(ctx.state.user, p(ctx.params.name));
    ctx.status = 204;
  });
  router.post('/prune', async (ctx) => {
    ctx.body = await deps.retention.prune(ctx.state.user);
  });
  router.get('/user', (ctx) => {
    if (!ctx.state.user) throw new AppError('unauthenticated', 'authentication required');
    ctx.body = userView(ctx.state.user);
  });

  router.get('/users', async (ctx) => {
    ctx.body = page(ctx, (await accounts.listUsers(ctx.state.user)).map(userView));
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
    ctx.body = page(ctx, (await accounts.listKeys(ctx.state.user, p(ctx.params.user))).map(keyView));
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
    ctx.body = page(ctx, (await accounts.listTokens(ctx.state.user, p(ctx.params.user))).map(tokenView));
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
    ctx.body = page(ctx, (await appService.list(ctx.state.user)).map(appView));
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
    ctx.body = page(ctx, (await appService.collaborators(ctx.state.user, p(ctx.params.app))).map(collaboratorView));
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
    ctx.body = page(ctx, (await releases.list(ctx.state.user, p(ctx.params.app))).map(releaseView));
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
    ctx.body = page(ctx, (await releases.processes(ctx.state.user, p(ctx.params.app))).map(processView));
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
    if (ctx.is(TAR_TYPES)) {
      ctx.status = 201;
      ctx.body = buildView(await deps.buildSources.upload(ctx.state.user, p(ctx.params.app), ctx.req));
      return;
    }
    if (ctx.is('application/json')) {
      const b = await body(ctx, bodies.pull);
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
    const b = await body(ctx, bodies.source);
    ctx.body = await deps.pulls.setSource(ctx.state.user, p(ctx.params.app), b);
  });
  router.put('/apps/:app/commit-status', async (ctx) => {
    const b = await body(ctx, bodies.commitStatus);
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
    const b = await body(ctx, bodies.image);
    const r = await deps.buildSources.registerImage(ctx.state.user, p(ctx.params.app), b.image);
    ctx.status = 201;
    ctx.body = { ...buildView(r.build), releaseError: r.releaseError ?? null };
  });
  router.get('/apps/:app/builds', async (ctx) => {
    const { app: found } = await appService.require(ctx.state.user, p(ctx.params.app), 'read');
    ctx.body = page(ctx, (await deps.builds.listBuilds(found.id)).map(buildView));
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

  mountPipelineRoutes(router, deps.pipelines);

  // Built once, from the router itself: a route without a description stops the server here.
  const extra: RouteInfo[] = [
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/readyz' },
    { method: 'GET', path: '/metrics' },
    { method: 'GET', path: '/v1/openapi.json' },
  ];
  const routes = router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })));
  const openapi = openApiDocument([...extra, ...routes], { ...docs, ...pipelineDocs });

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
