// The built-in HTTP router: routes <name>.<domain> by Host header to a deploy target's live web
// processes (at their address on the target's network, loopback in host mode), round-robin, retrying
// another backend when one refuses the connection. Entries are keyed by the target's key; its name is
// only the host it answers to.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';

/** Where a web process listens, as the host reaches it. */
export interface Backend {
  readonly host: string;
  readonly port: number;
}

export interface Router {
  start(): Promise<number>;
  stop(): Promise<void>;
  /** Replaces a target's backends at once: new requests go only to these. */
  setBackends(target: { readonly key: string; readonly name: string }, backends: readonly Backend[]): void;
  /** The URL a target's name is served at. */
  url(name: string): string;
  /** Where the router listens, as a base URL reachable from this host. */
  address(): string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);

/** Headers minus the hop-by-hop ones, which describe one connection and must not be forwarded. */
function endToEnd<T>(headers: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

/** The app a Host header names, or undefined. Pure. */
export function appFromHost(host: string | undefined, domain: string): string | undefined {
  if (!host) return undefined;
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const app = name.slice(0, -suffix.length);
  return /^[a-z][a-z0-9-]{0,62}$/.test(app) ? app : undefined;
}

export function createRouter(o: { bind: string; port: number; domain: string; logger: Logger }): Router {
  const log = o.logger.child({ component: 'router' });
  /** Target key → its backends. */
  const table = new Map<string, { backends: readonly Backend[]; next: number }>();
  /** Host name (the first label) → target key. */
  const hosts = new Map<string, string>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 1000 });
  let listening = 0;

  const keyOf = (b: Backend): string => `${b.host}:${b.port}`;

  const pick = (app: string, avoid: ReadonlySet<string>): Backend | undefined => {
    const key = hosts.get(app);
    const entry = key === undefined ? undefined : table.get(key);
    if (!entry || entry.backends.length === 0) return undefined;
    for (let i = 0; i < entry.backends.length; i++) {
      const b = entry.backends[(entry.next + i) % entry.backends.length];
      if (b !== undefined && !avoid.has(keyOf(b))) {
        entry.next = (entry.next + i + 1) % entry.backends.length;
        return b;
      }
    }
    return undefined;
  };

  const plain = (res: http.ServerResponse, status: number, text: string): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${text}\n`);
  };

  const forwardHeaders = (req: http.IncomingMessage): http.OutgoingHttpHeaders => {
    const headers: http.OutgoingHttpHeaders = endToEnd(req.headers);
    const prior = req.headers['x-forwarded-for'];
    const peer = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${peer}` : peer;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    return headers;
  };

  const proxy = (req: http.IncomingMessage, res: http.ServerResponse, app: string, tried: Set<string>): void => {
    const backend = pick(app, tried);
    if (backend === undefined) {
      plain(res, tried.size === 0 ? 503 : 502, tried.size === 0 ? `${app} has no running web process` : `${app} is not answering`);
      return;
    }
    tried.add(keyOf(backend));
    const { host, port } = backend;
    // A request without a body can be replayed on another backend if this one refuses it.
    const replayable = (req.method === 'GET' || req.method === 'HEAD') && !req.headers['content-length'] && !req.headers['transfer-encoding'];
    const upstream = http.request({ host, port, method: req.method, path: req.url, headers: forwardHeaders(req), agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.headers));
      up.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!res.headersSent && replayable && (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET')) {
        proxy(req, res, app, tried);
        return;
      }
      log.debug({ app, host, port, code: err.code }, 'backend request failed');
      plain(res, 502, `${app} is not answering`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (replayable) upstream.end();
    else req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const app = appFromHost(req.headers.host, o.domain);
    if (!app) {
      plain(res, 404, `no app here: use http://<app>.${o.domain}:${listening}/`);
      return;
    }
    if (!hosts.has(app)) {
      plain(res, 404, `no app named ${app} is deployed`);
      return;
    }
    proxy(req, res, app, new Set());
  });
  server.keepAliveTimeout = 65_000;

  // WebSocket and other upgrades: a raw byte pipe to one backend.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const app = appFromHost(req.headers.host, o.domain);
    const backend = app ? pick(app, new Set()) : undefined;
    if (backend === undefined) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
      return;
    }
    const up = net.connect({ host: backend.host, port: backend.port }, () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i] ?? ''}: ${req.rawHeaders[i + 1] ?? ''}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, o.bind, resolve);
      });
      listening = (server.address() as AddressInfo).port;
      return listening;
    },
    async stop() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
    setBackends(target, backends) {
      if (backends.length === 0) {
        table.delete(target.key);
        if (hosts.get(target.name) === target.key) hosts.delete(target.name);
        return;
      }
      table.set(target.key, { backends: [...backends], next: 0 });
      hosts.set(target.name, target.key);
    },
    url: (name) => `http://${name}.${o.domain}:${listening}/`,
    address: () => `http://${o.bind === '0.0.0.0' || o.bind === '::' ? '127.0.0.1' : o.bind}:${listening}/`,
  };
}
