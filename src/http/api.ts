// The public Koa app: git Smart-HTTP routes first, then the JSON API under /v1.
import Router from '@koa/router';
import Koa from 'koa';
import { z } from 'zod';
import type { AccountService } from '../access/account-service.js';
import type { Authenticator } from '../access/authenticator.js';
import type { AppService } from '../apps/app-service.js';
import type { Build, BuildStore } from '../db/build-store.js';
import type { User, UserStore } from '../db/user-store.js';
import { AppError, badRequest, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { appRoles } from '../roles.js';
import { appView, buildView, collaboratorView, keyView, tokenView, userView } from '../views.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware, readJson } from './errors.js';

export interface ApiDeps {
  readonly authenticator: Authenticator;
  readonly accounts: AccountService;
  readonly appService: AppService;
  readonly users: UserStore;
  readonly builds: BuildStore;
  readonly logger: Logger;
  /** Middleware that serves git routes (and passes everything else on). */
  readonly git: Koa.Middleware;
}

interface State {
  user: User | null;
}

const bodies = {
  user: z.object({ name: z.string(), admin: z.boolean().default(false) }).strict(),
  key: z.object({ name: z.string(), publicKey: z.string().max(16_384) }).strict(),
  token: z.object({ name: z.string(), expiresAt: z.iso.datetime({ offset: true }).nullable().default(null) }).strict(),
  app: z.object({ name: z.string() }).strict(),
  appPatch: z.object({ public: z.boolean() }).strict(),
  collaborator: z.object({ role: z.enum(appRoles) }).strict(),
};

async function body<T>(ctx: Koa.Context, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJson(ctx));
  if (!parsed.success) throw badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return parsed.data;
}

export function createApiApp(deps: ApiDeps): Koa<State> {
  const app = new Koa<State>();
  const router = new Router<State>({ prefix: '/v1' });
  const { accounts, appService } = deps;
  const p = (v: string | undefined): string => v ?? '';

  const buildFor = async (user: User | null, rawId: string): Promise<Build> => {
    if (!/^[1-9][0-9]{0,9}$/.test(rawId)) throw badRequest('build IDs are positive integers');
    const build = await deps.builds.getBuild(Number(rawId));
    if (!build) {
      if (!user) throw new AppError('unauthenticated', 'authentication required');
      throw notFound(`build ${rawId} does not exist`);
    }
    await appService.require(user, build.app, 'read');
    return build;
  };

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
    ctx.body = { ...appView(found), owner: owner?.name ?? null, role };
  });
  router.patch('/apps/:app', async (ctx) => {
    const b = await body(ctx, bodies.appPatch);
    ctx.body = appView(await appService.setPublic(ctx.state.user, p(ctx.params.app), b.public));
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

  router.get('/apps/:app/builds', async (ctx) => {
    const { app: found } = await appService.require(ctx.state.user, p(ctx.params.app), 'read');
    ctx.body = (await deps.builds.listBuilds(found.id)).map(buildView);
  });
  router.get('/builds/:id', async (ctx) => {
    ctx.body = buildView(await buildFor(ctx.state.user, p(ctx.params.id)));
  });
  router.get('/builds/:id/log', async (ctx) => {
    const build = await buildFor(ctx.state.user, p(ctx.params.id));
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = await deps.builds.readLog(build.id);
  });

  app.use(errorMiddleware(deps.logger));
  app.use(deps.git);
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
