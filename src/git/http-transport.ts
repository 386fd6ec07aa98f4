// Smart-HTTP git transport under Koa. Every git route is authenticated and authorized here, before
// anything reaches git. Fetches are served by node-git-server; pushes by Solum's own stateless-rpc
// spawner, because node-git-server cannot give receive-pack the per-push environment its hook needs
// (see docs/decisions/0002-http-git-transport.md).
import zlib from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import { Git } from 'node-git-server';
import type { Authenticator } from '../access/authenticator.js';
import { AppError } from '../errors.js';
import { tokenFromHeaders } from '../http/credentials.js';
import type { Logger } from '../logger.js';
import { parseRepoPath, type AppName } from '../names.js';
import type { GitAccess, GitOperation } from './git-access.js';
import { spawnGit } from './git-process.js';
import { parseGitHttpRoute } from './http-route.js';
import type { RepoStore } from './repo-store.js';

const pktLine = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

/** How long an upload-pack request may sit unparsed inside node-git-server before we end it. */
const UPLOAD_PACK_STALL_MS = 30_000;

export interface GitHttpTransportDeps {
  readonly authenticator: Authenticator;
  readonly access: GitAccess;
  readonly repos: RepoStore;
  readonly logger: Logger;
  /** Counts bytes received by pushes (for metrics and logs). */
  readonly onPush?: (app: AppName, bytes: number) => void;
}

export function gitHttpMiddleware(deps: GitHttpTransportDeps): Koa.Middleware {
  const log = deps.logger.child({ component: 'git-http' });
  // autoCreate off: a fetch must never create a repository.
  const fetchServer = new Git((repo?: string) => deps.repos.pathOf(parseRepoPath(repo ?? '')), { autoCreate: false });
  // node-git-server reports spawn failures as 'error' on itself and on per-request emitters; an
  // unhandled one would kill the process.
  fetchServer.on('error', (err: unknown) => { log.error({ err }, 'node-git-server error'); });
  fetchServer.on('info', (dup: { accept(): void; on(e: string, f: (err: unknown) => void): void }) => {
    dup.on('error', (err) => { log.error({ err }, 'git info/refs failed'); });
    dup.accept();
  });
  fetchServer.on('fetch', (action: { accept(): void; on(e: string, f: (err: unknown) => void): void }) => {
    action.on('error', (err) => { log.error({ err }, 'git upload-pack failed'); });
    action.accept();
  });
  // Anything but a fetch reaching node-git-server is a bug in our routing: refuse it.
  for (const ev of ['push', 'tag', 'head']) {
    fetchServer.on(ev, (action: { reject(code: number, msg: string): void }) => { action.reject(403, 'not served'); });
  }

  return async (ctx, next) => {
    const route = parseGitHttpRoute(ctx.method, ctx.path, ctx.URL.searchParams);
    if (!route) {
      await next();
      return;
    }
    const token = tokenFromHeaders(ctx.req.headers);
    const user = (await deps.authenticator.userForToken(token)) ?? null;
    if (token && !user) throw new AppError('unauthenticated', 'invalid or expired token');
    const gitProtocol = ctx.get('Git-Protocol') || undefined;

    if (route.kind === 'dumb') {
      await deps.access.open(user, route.app, 'upload-pack', { withHook: false, publicRead: true });
      throw new AppError('not_found', 'the dumb HTTP protocol is not served: use a git client with smart HTTP');
    }

    // Anonymous clones of public apps are an HTTP-only, read-only affair.
    const op = await deps.access.open(user, route.app, route.service, { withHook: route.kind === 'rpc', gitProtocol, publicRead: route.service === 'upload-pack' });
    ctx.respond = false;
    ctx.req.setTimeout(0);
    if (route.service === 'upload-pack') {
      op.done();
      serveFetch(ctx, route.app, route.kind);
      return;
    }
    if (route.kind === 'info-refs') advertiseReceivePack(ctx.res, op);
    else receivePack(ctx.req, ctx.res, op, (bytes) => deps.onPush?.(route.app, bytes));
  };

  function serveFetch(ctx: Koa.Context, app: AppName, kind: 'info-refs' | 'rpc'): void {
    // node-git-server maps the URL's repo part through our dirMap again; hand it the canonical one.
    const rest = kind === 'info-refs' ? `/info/refs${ctx.search}` : '/git-upload-pack';
    ctx.req.url = `/${app}.git${rest}`;
    // Koa starts every response as 404; node-git-server never sets a success status itself.
    ctx.res.statusCode = 200;
    if (kind === 'rpc') {
      // node-git-server starts git only once it has parsed a "want" line from the first chunk;
      // a request it cannot parse would otherwise hang until the client gives up.
      let started = false;
      const res = ctx.res;
      const origWrite = res.write.bind(res);
      res.write = ((...args: Parameters<typeof res.write>) => {
        started = true;
        return origWrite(...args);
      }) as typeof res.write;
      ctx.req.once('end', () => {
        setTimeout(() => {
          if (!started && !res.writableEnded) {
            res.statusCode = 400;
            res.end('unparseable upload-pack request\n');
          }
        }, UPLOAD_PACK_STALL_MS).unref();
      });
    }
    fetchServer.handle(ctx.req, ctx.res);
  }

  function advertiseReceivePack(res: ServerResponse, op: GitOperation): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-git-receive-pack-advertisement');
    res.setHeader('Cache-Control', 'no-cache, max-age=0, must-revalidate');
    res.write(`${pktLine('# service=git-receive-pack\n')}0000`);
    const child = spawnGit(['receive-pack', '--stateless-rpc', '--advertise-refs', op.repoPath], { env: op.env });
    child.stdin.end();
    child.stderr.resume();
    child.stdout.pipe(res);
    child.on('error', (err) => {
      log.error({ err }, 'git receive-pack --advertise-refs failed to start');
      res.destroy();
    });
  }

  function receivePack(req: IncomingMessage, res: ServerResponse, op: GitOperation, onBytes: (n: number) => void): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/x-git-receive-pack-result');
    res.setHeader('Cache-Control', 'no-cache, max-age=0, must-revalidate');
    const child = spawnGit(['receive-pack', '--stateless-rpc', op.repoPath], { env: op.env });
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    const body = req.headers['content-encoding'] === 'gzip' ? req.pipe(zlib.createGunzip()) : req;
    body.on('error', () => child.kill());
    body.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.stderr.resume();
    child.stdout.pipe(res);
    child.on('error', (err) => {
      log.error({ err }, 'git receive-pack failed to start');
      res.destroy();
    });
    child.on('close', (code) => {
      op.done();
      onBytes(bytes);
      log.info({ app: op.appName, code, bytes }, 'http push ended');
    });
    // A client that goes away mid-push takes its receive-pack with it.
    res.on('close', () => {
      if (!res.writableFinished) child.kill();
    });
  }
}
