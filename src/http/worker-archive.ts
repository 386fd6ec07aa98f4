// The one route `solum worker` processes use on the server: the source archive of a build they
// claimed, for workers that do not share the server's disk (docs/decisions/0006-build-workers.md).
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Koa from 'koa';
import { sameSecret } from '../access/tokens.js';
import type { BuildStore } from '../db/build-store.js';

const ROUTE = /^\/internal\/builds\/([1-9][0-9]{0,15})\/archive$/;

export function workerArchiveMiddleware(deps: { token: string | undefined; builds: Pick<BuildStore, 'getBuild'>; archivesDir: string }): Koa.Middleware {
  return async (ctx, next) => {
    const m = ROUTE.exec(ctx.path);
    if (!m) {
      await next();
      return;
    }
    // Without a configured secret the route does not exist.
    if (!deps.token || ctx.method !== 'GET') {
      await next();
      return;
    }
    const bearer = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1] ?? '';
    if (!sameSecret(bearer, deps.token)) {
      ctx.status = 401;
      ctx.body = { error: 'unauthenticated', message: 'a worker token is required' };
      return;
    }
    // Only the worker holding a running build gets its archive.
    const build = await deps.builds.getBuild(Number(m[1]));
    if (build?.status !== 'running' || !build.archive || build.workerId !== ctx.get('x-solum-worker')) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', message: 'no running build of this worker with that ID' };
      return;
    }
    const file = path.join(deps.archivesDir, path.basename(build.archive));
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat) {
      ctx.status = 410;
      ctx.body = { error: 'gone', message: "the build's archive is no longer on the server" };
      return;
    }
    ctx.type = 'application/x-tar';
    ctx.length = stat.size;
    ctx.body = createReadStream(file);
  };
}
