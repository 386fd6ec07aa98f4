// The public Koa app: git Smart-HTTP routes first, then the JSON API under /v1.
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import type { Authenticator } from '../access/authenticator.js';
import { decide, type AccessRequest, type PolicySettings } from '../access/policy.js';
import { parsePublicKey } from '../access/public-key.js';
import type { AppStore, App } from '../db/app-store.js';
import type { Build, BuildStore } from '../db/build-store.js';
import type { User, UserStore } from '../db/user-store.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseAppName } from '../names.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware, readJson } from './errors.js';

export interface ApiDeps {
  readonly authenticator: Authenticator;
  readonly users: UserStore;
  readonly apps: AppStore;
  readonly builds: BuildStore;
  readonly policy: PolicySettings;
  readonly logger: Logger;
  /** Middleware that serves git routes (and passes everything else on). */
  readonly git: Koa.Middleware;
}

interface State {
  user: User | null;
}

export function buildJson(b: Build): Record<string, unknown> {
  return {
    id: b.id,
    app: b.app,
    number: b.number,
    status: b.status,
    ref: b.ref,
    commit: b.commit,
    languagePack: b.languagePack,
    duId: b.duId,
    duImage: b.duImage,
    exitCode: b.exitCode,
    error: b.error,
    createdAt: b.createdAt.toISOString(),
    startedAt: b.startedAt?.toISOString() ?? null,
    finishedAt: b.finishedAt?.toISOString() ?? null,
  };
}

const appJson = (a: App): Record<string, unknown> => ({
  name: a.name,
  deployBranch: a.deployBranch,
  languagePack: a.languagePack,
  createdAt: a.createdAt.toISOString(),
});

const keyBody = z.object({ name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'key names use 1-64 of A-Z a-z 0-9 . _ @ -'), publicKey: z.string().max(16_384) });

export function createApiApp(deps: ApiDeps): Koa<State> {
  const app = new Koa<State>();
  const router = new Router<State>({ prefix: '/v1' });

  const authorize = (user: User | null, request: AccessRequest): void => {
    const d = decide(user, request, deps.policy);
    if (!d.allow) throw new AppError(d.code, d.message);
  };
  const appFor = async (user: User | null, rawName: string, need: 'read' | 'write' | 'admin'): Promise<App> => {
    const name = parseAppName(rawName);
    const found = await deps.apps.findApp(name);
    authorize(user, { kind: 'app', appName: name, app: found ?? null, need, createIfMissing: false });
    if (!found) throw notFound(`app '${name}' does not exist`);
    return found;
  };
  const buildFor = async (user: User | null, rawId: string): Promise<Build> => {
    if (!/^[1-9][0-9]{0,9}$/.test(rawId)) throw badRequest('build IDs are positive integers');
    const build = await deps.builds.getBuild(Number(rawId));
    const owner = build ? await deps.apps.findAppById(build.appId) : undefined;
    if (!build || !owner) {
      authorize(user, { kind: 'list-apps' });
      throw notFound(`build ${rawId} does not exist`);
    }
    authorize(user, { kind: 'app', appName: owner.name, app: owner, need: 'read', createIfMissing: false });
    return build;
  };

  router.post('/users/:user/keys', async (ctx) => {
    const target = await deps.users.findUserByName(ctx.params.user ?? '');
    authorize(ctx.state.user, { kind: 'user', userId: target?.id ?? -1 });
    if (!target) throw notFound(`user '${ctx.params.user ?? ''}' does not exist`);
    const body = keyBody.safeParse(await readJson(ctx));
    if (!body.success) throw badRequest(body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const parsed = parsePublicKey(body.data.publicKey);
    const key = await deps.users.addKey(target.id, { name: body.data.name, ...parsed });
    if (key === 'duplicate') throw new AppError('conflict', 'that key is already registered, or this user already has a key with that name');
    ctx.status = 201;
    ctx.body = { name: key.name, type: key.algo, fingerprint: key.fingerprint, createdAt: key.createdAt.toISOString() };
  });

  router.get('/apps', async (ctx) => {
    const user = ctx.state.user;
    authorize(user, { kind: 'list-apps' });
    const apps = await deps.apps.listApps(user?.isAdmin ? {} : { ownerId: user?.id ?? -1 });
    ctx.body = apps.map(appJson);
  });

  router.get('/apps/:app/builds', async (ctx) => {
    const found = await appFor(ctx.state.user, ctx.params.app ?? '', 'read');
    ctx.body = (await deps.builds.listBuilds(found.id)).map(buildJson);
  });

  router.get('/builds/:id', async (ctx) => {
    ctx.body = buildJson(await buildFor(ctx.state.user, ctx.params.id ?? ''));
  });

  router.get('/builds/:id/log', async (ctx) => {
    const build = await buildFor(ctx.state.user, ctx.params.id ?? '');
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = await deps.builds.readLog(build.id);
  });

  app.use(errorMiddleware(deps.logger));
  app.use(deps.git);
  app.use(async (ctx, next) => {
    const token = tokenFromHeaders(ctx.req.headers);
    const user = (await deps.authenticator.userForToken(token)) ?? null;
    if (token && !user) throw new AppError('unauthenticated', 'invalid or expired token');
    ctx.state.user = user;
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
