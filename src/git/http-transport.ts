// Smart-HTTP git transport under Koa. Every git route is authenticated and authorized here, before
// anything reaches git; then Solum runs `git upload-pack` / `git receive-pack --stateless-rpc`
// itself, with the client's Git-Protocol (protocol v2) and, for pushes, the per-push environment
// the hook needs (see docs/decisions/0002-http-git-transport.md and 0011-git-transports-v2-and-speed.md).
import zlib from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type Koa from 'koa';
import type { Authenticator } from '../access/authenticator.js';
import { AppError } from '../errors.js';
import { tokenFromHeaders } from '../http/credentials.js';
import type { Logger } from '../logger.js';
import type { AppName } from '../names.js';
import { coalesce } from './coalesce.js';
import type { GitService } from './exec-command.js';
import type { GitAccess, GitOperation } from './git-access.js';
import { startGit, type GitChild } from './git-process.js';
import { parseGitHttpRoute } from './http-route.js';

const pktLine = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

/** How much of a failing git's stderr goes into the log. */
const STDERR_KEPT = 2000;

export interface GitHttpTransportDeps {
  readonly authenticator: Authenticator;
  readonly access: GitAccess;
  readonly logger: Logger;
  /** Counts bytes received by pushes (for metrics and logs). */
  readonly onPush?: (app: AppName, bytes: number) => void;
}

/**
 * The request body as git must read it: git compresses large upload-pack requests with gzip
 * (`Content-Encoding: gzip`); anything but gzip or no encoding is refused before git starts.
 */
function requestBody(req: IncomingMessage): Readable {
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  let body: Readable;
  if (encoding === '' || encoding === 'identity') body = req;
  else if (encoding === 'gzip' || encoding === 'x-gzip') body = req.pipe(zlib.createGunzip({ chunkSize: 64 * 1024 }));
  else throw new AppError('bad_request', `unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}: git sends gzip or nothing`);
  // A body that breaks before git is there to read it (bad gzip) must not end Solum with an
  // unhandled 'error': serveRpc looks at `errored` when it takes the body over.
  body.on('error', () => undefined);
  return body;
}

function noCache(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-cache, max-age=0, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Expires', 'Fri, 01 Jan 1980 00:00:00 GMT');
}

export function gitHttpMiddleware(deps: GitHttpTransportDeps): Koa.Middleware {
  const log = deps.logger.child({ component: 'git-http' });

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
    let body: Readable | undefined;
    let child: GitChild;
    try {
      if (route.kind === 'rpc') {
        const type = ctx.get('Content-Type');
        if (type !== `application/x-git-${route.service}-request`) throw new AppError('bad_request', `a git-${route.service} request has Content-Type application/x-git-${route.service}-request`);
        body = requestBody(ctx.req);
      }
      const args = route.kind === 'rpc' ? ['--stateless-rpc'] : ['--stateless-rpc', '--advertise-refs'];
      child = await startGit([...op.configArgs, route.service, ...args, op.repoPath], { env: op.env });
    } catch (err) {
      op.done();
      throw err;
    }
    ctx.respond = false;
    ctx.req.setTimeout(0);
    if (body) serveRpc(child, body, ctx.req, ctx.res, route.service, op);
    else advertise(child, ctx.res, route.service, op);
  };

  /** `GET …/info/refs?service=…`: the ref advertisement (v0/v1) or the capability advertisement (v2). */
  function advertise(child: GitChild, res: ServerResponse, service: GitService, op: GitOperation): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', `application/x-git-${service}-advertisement`);
    noCache(res);
    // In protocol v2 the capability advertisement is all there is (as git http-backend does it);
    // receive-pack has no v2 and always gets the smart-HTTP service line.
    if (service === 'receive-pack' || op.protocolVersion < 2) res.write(`${pktLine(`# service=git-${service}\n`)}0000`);
    child.stdin.end();
    run(child, res, op, service, 'advertisement');
  }

  /** `POST …/git-upload-pack` and `…/git-receive-pack`: one stateless request of the service. */
  function serveRpc(child: GitChild, body: Readable, req: IncomingMessage, res: ServerResponse, service: GitService, op: GitOperation): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', `application/x-git-${service}-result`);
    noCache(res);
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    // A body that does not inflate (or a client gone mid-upload) ends git: what it read is not a request.
    const broken = (err: Error): void => {
      log.info({ app: op.appName, service, err: err.message }, 'git request body unreadable');
      child.kill();
    };
    if (body.errored) broken(body.errored);
    else body.on('error', broken);
    body.pipe(child.stdin);
    run(child, res, op, service, 'rpc', () => {
      if (service === 'receive-pack') deps.onPush?.(op.appName, bytes);
      return bytes;
    });
  }

  /** Streams git's stdout as the response, as it comes (packs are compressed already: no gzip). */
  function run(child: GitChild, res: ServerResponse, op: GitOperation, service: GitService, kind: 'advertisement' | 'rpc', ended?: () => number): void {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < STDERR_KEPT) stderr += c.slice(0, STDERR_KEPT - stderr.length);
    });
    // git writes its pack in sideband packets of at most 64 KiB: merged, they make fewer chunks and
    // syscalls. Batches of 256 KiB cloned 7-9 % faster than 64 KiB, paired on one machine
    // (decision 0011). The pipe ends the response once everything git wrote has passed.
    const out = child.stdout.pipe(coalesce({ maxBytes: 256 * 1024, maxDelayMs: 1 }));
    out.pipe(res);
    child.on('close', (code, signal) => {
      op.done();
      const bytes = ended?.();
      if (code === 0) log.debug({ app: op.appName, service, kind, bytes }, 'http git ended');
      else log.info({ app: op.appName, service, kind, code, signal, bytes, stderr: stderr.trim() }, 'http git failed');
    });
    // A client that goes away mid-transfer takes its git with it; what git still writes runs dry.
    res.on('close', () => {
      if (res.writableFinished) return;
      if (child.exitCode === null) child.kill();
      out.unpipe(res);
      out.resume();
    });
  }
}
