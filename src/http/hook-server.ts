// The internal hook endpoint: a loopback-only listener the pre-receive hook calls with its
// per-push token. Never part of the public HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { encodeExit, encodeOutput, type HookRequest } from '../hooks/hook-protocol.js';
import type { PushHandler } from '../hooks/push-handler.js';
import type { PushSessions } from '../hooks/push-sessions.js';
import type { Logger } from '../logger.js';
import { tokenFromHeaders } from './credentials.js';
import { errorMiddleware, readJson } from './errors.js';

const hookRequestSchema = z.object({
  refs: z.array(z.object({ oldSha: z.string(), newSha: z.string(), ref: z.string() })).max(10_000),
  quarantine: z.object({
    objectDirectory: z.string().max(4096).nullable(),
    alternateObjectDirectories: z.string().max(16384).nullable(),
    quarantinePath: z.string().max(4096).nullable(),
  }),
  pushOptions: z.array(z.string().max(4096)).max(100),
});

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export interface HookServer {
  start(): Promise<string>;
  url(): string;
  stop(): Promise<void>;
}

export function createHookApp(deps: { sessions: PushSessions; handler: PushHandler; logger: Logger }): Koa {
  const log = deps.logger.child({ component: 'hook-server' });
  const app = new Koa();
  app.use(errorMiddleware(log));
  app.use(async (ctx) => {
    if (!isLoopback(ctx.req.socket.remoteAddress)) throw new AppError('forbidden', 'the hook endpoint answers loopback callers only');
    if (ctx.method !== 'POST' || ctx.path !== '/internal/hooks/pre-receive') throw new AppError('not_found', 'no such hook');
    const token = tokenFromHeaders(ctx.req.headers);
    const session = token ? deps.sessions.take(token) : undefined;
    if (!session) throw new AppError('unauthenticated', 'invalid, used or expired push token');
    const parsed = hookRequestSchema.safeParse(await readJson(ctx, 4 * 1024 * 1024));
    if (!parsed.success) throw new AppError('bad_request', 'malformed hook request');
    const request: HookRequest = parsed.data;

    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    let code: number;
    try {
      code = await deps.handler.preReceive(session, request, { line: (text) => res.write(encodeOutput(text)) });
    } catch (err) {
      const message = err instanceof AppError && err.expose ? err.message : 'internal error (see the server log)';
      if (!(err instanceof AppError)) log.error({ err, app: session.app }, 'pre-receive failed');
      res.write(encodeOutput(`!     ${message}`));
      code = 1;
    }
    res.end(encodeExit(code));
  });
  return app;
}

export function createHookServer(deps: { sessions: PushSessions; handler: PushHandler; logger: Logger }): HookServer {
  const handle = createHookApp(deps).callback();
  const server = http.createServer((req, res) => { void handle(req, res); });
  // A pre-receive call lasts as long as its build: no request or idle timeout applies.
  server.requestTimeout = 0;
  server.timeout = 0;
  let url = '';
  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return url;
    },
    url: () => url,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}
