// Smart-HTTP git transport under Koa. Every git route is authenticated and authorized here, before
// anything reaches git; then Solum runs `git upload-pack` / `git receive-pack --stateless-rpc`
// itself, with the client's Git-Protocol (protocol v2) and, for pushes, the per-push environment
// the hook needs (see docs/decisions/0002-http-git-transport.md and 0011-git-transports-v2-and-speed.md).
import zlib from 'node:zlib';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type Koa from 'koa';
import type { Authenticator } from '../access/authenticator.js';
import { AppError } from '../errors.js';
import { tokenFromHeaders } from '../http/credentials.js';
import type { Logger } from '../logger.js';
import type { AppName } from '../names.js';
import { coalesce } from './coalesce.js';
import type { GitService } from './exec-command.js';
import type { GitAccess, GitOperation } from './git-access.js';
import { startGit, startGitWritingTo, type GitChild, type HandedOverGit } from './git-process.js';
import { parseGitHttpRoute } from './http-route.js';

const pktLine = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

/** How much of a failing git's stderr goes into the log. */
const STDERR_KEPT = 2000;

/**
 * An upload-pack request body up to this size (as sent) is read before git starts, so that git
 * can write its answer straight to the client's connection (decision 0021); a larger one (a long
 * negotiation) streams through Solum as before. git http-backend buffers up to 10 MB alike.
 */
const HANDOVER_BODY_MAX = 10 * 1024 * 1024;

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
function requestBody(headers: IncomingHttpHeaders, raw: Readable): Readable {
  const encoding = (headers['content-encoding'] ?? '').trim().toLowerCase();
  let body: Readable;
  if (encoding === '' || encoding === 'identity') body = raw;
  else if (encoding === 'gzip' || encoding === 'x-gzip') body = raw.pipe(zlib.createGunzip({ chunkSize: 64 * 1024 }));
  else throw new AppError('bad_request', `unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}: git sends gzip or nothing`);
  // A body that breaks before git is there to read it (bad gzip) must not end Solum with an
  // unhandled 'error': serveRpc looks at `errored` when it takes the body over.
  body.on('error', () => undefined);
  return body;
}

const NO_CACHE = [
  ['Cache-Control', 'no-cache, max-age=0, must-revalidate'],
  ['Pragma', 'no-cache'],
  ['Expires', 'Fri, 01 Jan 1980 00:00:00 GMT'],
] as const;

function noCache(res: ServerResponse): void {
  for (const [name, value] of NO_CACHE) res.setHeader(name, value);
}

/**
 * A plain-TCP HTTP/1.1 connection can be handed to git; TLS cannot (Solum holds the session),
 * nor can a socket that is already gone.
 */
function canHandOver(req: IncomingMessage): boolean {
  const socket = req.socket as net.Socket & { encrypted?: boolean };
  return socket instanceof net.Socket && socket.encrypted !== true && !socket.destroyed && req.httpVersion === '1.1';
}

/** The request body whole when it is at most `max` bytes; otherwise a stream of all of it. */
function readUpTo(req: IncomingMessage, max: number): Promise<{ whole: Buffer } | { stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      chunks.push(c);
      size += c.length;
      if (size <= max) return;
      req.off('data', onData).off('end', onEnd).off('error', onError);
      req.pause();
      const stream = new PassThrough();
      for (const chunk of chunks) stream.write(chunk);
      req.pipe(stream);
      req.on('error', (err) => stream.destroy(err));
      resolve({ stream });
    };
    const onEnd = (): void => { resolve({ whole: Buffer.concat(chunks, size) }); };
    const onError = (err: Error): void => { reject(err); };
    req.on('data', onData).once('end', onEnd).once('error', onError);
  });
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
        let raw: Readable = ctx.req;
        if (route.service === 'upload-pack' && canHandOver(ctx.req)) {
          const read = await readUpTo(ctx.req, HANDOVER_BODY_MAX);
          if ('whole' in read) {
            const whole = requestBody(ctx.req.headers, Readable.from([read.whole]));
            ctx.respond = false;
            await serveHandedOver(whole, ctx.req, op);
            return;
          }
          raw = read.stream;
        }
        body = requestBody(ctx.req.headers, raw);
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

  /**
   * `POST …/git-upload-pack` with its whole body read: Solum writes the response head itself
   * (`Connection: close`, the body ends with the connection) and hands the connection to git as
   * its standard output, so the pack goes to the client without passing through Solum
   * (decision 0021). Solum's handle on the connection is closed by then.
   */
  async function serveHandedOver(body: Readable, req: IncomingMessage, op: GitOperation): Promise<void> {
    const socket = req.socket;
    const head = [
      'HTTP/1.1 200 OK',
      'Content-Type: application/x-git-upload-pack-result',
      ...NO_CACHE.map(([name, value]) => `${name}: ${value}`),
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    let child: HandedOverGit;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.write(head, 'latin1', (err) => {
          if (err) reject(err);
          else resolve();
        });
      });
      child = await startGitWritingTo([...op.configArgs, 'upload-pack', '--stateless-rpc', op.repoPath], { env: op.env }, socket);
    } catch (err) {
      // The head may be out: the client sees the connection end without a pack.
      op.done();
      socket.destroy();
      log.info({ app: op.appName, service: 'upload-pack', err: (err as Error).message }, 'http git could not start');
      return;
    }
    feed(body, child, op, 'upload-pack');
    watch(child, op, { service: 'upload-pack', kind: 'rpc', handedOver: true });
  }

  /** Pipes the request body into git; a body that does not inflate (or a client gone mid-upload) ends git: what it read is not a request. */
  function feed(body: Readable, child: HandedOverGit, op: GitOperation, service: GitService): void {
    const broken = (err: Error): void => {
      log.info({ app: op.appName, service, err: err.message }, 'git request body unreadable');
      child.kill();
    };
    if (body.errored) broken(body.errored);
    else body.on('error', broken);
    body.pipe(child.stdin);
  }

  /** Keeps the start of git's stderr and, when git ends, ends the operation and logs how git ended. */
  function watch(child: HandedOverGit, op: GitOperation, fields: Record<string, unknown>, ended?: () => number): void {
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < STDERR_KEPT) stderr += c.slice(0, STDERR_KEPT - stderr.length);
    });
    child.on('close', (code, signal) => {
      op.done();
      const bytes = ended?.();
      if (code === 0) log.debug({ app: op.appName, ...fields, bytes }, 'http git ended');
      else log.info({ app: op.appName, ...fields, code, signal, bytes, stderr: stderr.trim() }, 'http git failed');
    });
  }

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
    feed(body, child, op, service);
    run(child, res, op, service, 'rpc', () => {
      if (service === 'receive-pack') deps.onPush?.(op.appName, bytes);
      return bytes;
    });
  }

  /** Streams git's stdout as the response, as it comes (packs are compressed already: no gzip). */
  function run(child: GitChild, res: ServerResponse, op: GitOperation, service: GitService, kind: 'advertisement' | 'rpc', ended?: () => number): void {
    watch(child, op, { service, kind }, ended);
    // git writes its pack in sideband packets of at most 64 KiB: merged, they make fewer chunks and
    // syscalls. Batches of 256 KiB cloned 7-9 % faster than 64 KiB, paired on one machine
    // (decision 0011). The pipe ends the response once everything git wrote has passed.
    const out = child.stdout.pipe(coalesce({ maxBytes: 256 * 1024, maxDelayMs: 1 }));
    out.pipe(res);
    // A client that goes away mid-transfer takes its git with it; what git still writes runs dry.
    res.on('close', () => {
      if (res.writableFinished) return;
      if (child.exitCode === null) child.kill();
      out.unpipe(res);
      out.resume();
    });
  }
}
