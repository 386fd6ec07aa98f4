// Request bodies of the API arrive promptly or not at all: a body that stops arriving for a while,
// or trickles in for longer than its caller may take, is cut and its connection closed. Git routes
// are not API routes and keep their long transfers.
import type Koa from 'koa';
import { tokenFromHeaders } from './credentials.js';

export interface BodyDeadlines {
  /** Longest pause between two chunks of a body. */
  readonly idleMs: number;
  /** Longest a whole body may take from a caller without credentials (webhooks, callbacks). */
  readonly anonymousMs: number;
  /** Longest a whole body may take from a signed-in caller (uploads). */
  readonly signedInMs: number;
}

const hasBody = (req: Koa.Context['req']): boolean => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

export function cutStalledBodies(d: BodyDeadlines): Koa.Middleware {
  return async (ctx, next) => {
    const req = ctx.req;
    if (!(ctx.path === '/v1' || ctx.path.startsWith('/v1/')) || req.complete || !hasBody(req)) {
      await next();
      return;
    }
    // Progress is read off the socket's byte count, so the body is left for the route to read.
    const socket = req.socket;
    const started = Date.now();
    const totalMs = tokenFromHeaders(req.headers) === undefined ? d.anonymousMs : d.signedInMs;
    let seen = socket.bytesRead;
    let lastProgress = started;
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) {
        clearInterval(timer);
        return;
      }
      const now = Date.now();
      if (socket.bytesRead !== seen) {
        seen = socket.bytesRead;
        lastProgress = now;
      }
      if (now - lastProgress > d.idleMs || now - started > totalMs) {
        clearInterval(timer);
        socket.destroy();
      }
    }, Math.min(250, d.idleMs / 4));
    timer.unref();
    req.once('close', () => { clearInterval(timer); });
    await next();
  };
}
