// Koa error translation: every thrown error becomes JSON {code, message} with its status, once.
import type Koa from 'koa';
import { AppError, publicError } from '../errors.js';
import type { Logger } from '../logger.js';

export function errorMiddleware(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.respond !== false) {
        ctx.status = 404;
        ctx.body = { code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` };
      }
    } catch (err) {
      const pub = publicError(err);
      if (pub.status >= 500) logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      if (ctx.headerSent || !ctx.writable) {
        ctx.res.destroy();
        return;
      }
      ctx.status = pub.status;
      ctx.body = { code: pub.code, message: pub.message };
      // Refused before its body was read: a small rest is read and dropped so the client sees the
      // answer and may reuse the connection; a large one (an upload over a limit) closes it.
      if (!ctx.req.complete && !(await discardBody(ctx.req, 1024 * 1024, 2000))) ctx.set('Connection', 'close');
      // git asks for credentials on this challenge; the JSON API does not invite a browser's
      // password dialog (and the Basic credentials it would then cache and send everywhere).
      if (pub.status === 401 && !(ctx.path === '/v1' || ctx.path.startsWith('/v1/'))) ctx.set('WWW-Authenticate', 'Basic realm="solum", charset="UTF-8"');
    }
  };
}

/** Reads and drops the rest of a request body; false when it is larger than `limit` or slower than `ms`. */
function discardBody(req: Koa.Context['req'], limit: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      resolve(ok);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) done(false);
    };
    const timer = setTimeout(() => { done(false); }, ms);
    req.on('data', onData);
    req.once('end', () => { done(true); });
    req.once('error', () => { done(false); });
    req.resume();
  });
}

/** Reads a request body of at most `limit` bytes as it came (signatures are checked over these bytes). */
export async function readRaw(ctx: Koa.Context, limit: number, tooLarge: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req) {
    size += (c as Buffer).length;
    if (size > limit) throw new AppError('bad_request', tooLarge);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON request body of at most `limit` bytes. */
export async function readJson(ctx: Koa.Context, limit = 64 * 1024): Promise<unknown> {
  if (!ctx.is('application/json')) throw new AppError('bad_request', 'expected a JSON body (Content-Type: application/json)');
  const body = await readRaw(ctx, limit, `request body larger than ${limit} bytes`);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new AppError('bad_request', 'request body is not valid JSON');
  }
}
