// The egress proxy: the only way out of a container network. An HTTP proxy in the Solum process
// (CONNECT for TLS, absolute-URI requests for plain HTTP) that lets containers of known networks
// reach the hosts an operator allows and nothing else, chaining to the operator's own proxy if any.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';

/** Who a connection comes from: the network its source address belongs to. */
export interface EgressSource {
  readonly app: string;
  /** What the network is for ('build', 'target'), and its build or target. */
  readonly network: string;
}

export interface EgressProxyOptions {
  /** Host names allowed (exact, or `*.example.org` for subdomains), compared without case. */
  readonly allow: readonly string[];
  /** The operator's proxies, used for what this one lets through. */
  readonly upstream: { readonly http: string | undefined; readonly https: string | undefined };
  /** The source's network, or undefined when it is none of this process's networks that may egress. */
  readonly sourceOf: (address: string) => EgressSource | undefined;
  readonly logger: Logger;
  /** 0: any free port. */
  readonly port: number;
}

export interface EgressProxy {
  start(): Promise<number>;
  stop(): Promise<void>;
  port(): number;
}

/** Whether `host` is on the allow-list. Pure. */
export function allowedHost(allow: readonly string[], host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allow.some((raw) => {
    const a = raw.toLowerCase();
    return a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : h === a;
  });
}

/** `host:port` of a CONNECT target, or undefined when it is not one. Pure. */
export function parseAuthority(raw: string | undefined): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(raw ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** Ports a container may ask for: HTTPS and HTTP, where package registries are. */
const PORTS = new Set([443, 80]);

const unmapped = (address: string | undefined): string => (address ?? '').replace(/^::ffff:/, '');

export function createEgressProxy(o: EgressProxyOptions): EgressProxy {
  const log = o.logger.child({ component: 'egress-proxy' });
  const sockets = new Set<net.Socket>();
  let listening = 0;

  /** Whether a request from `socket` for host:port may go out; logs every refusal with who asked. */
  const decide = (socket: net.Socket, host: string, port: number, how: string): { ok: true; source: EgressSource } | { ok: false; status: number; why: string } => {
    const address = unmapped(socket.remoteAddress);
    const source = o.sourceOf(address);
    if (!source) {
      log.warn({ source: address, host, port, how }, 'egress refused: not from a network that may reach the proxy');
      return { ok: false, status: 403, why: 'not from a Solum network with egress' };
    }
    if (!PORTS.has(port) || !allowedHost(o.allow, host)) {
      log.warn({ app: source.app, network: source.network, host, port, how }, 'egress refused: host not on the allow-list');
      return { ok: false, status: 403, why: `${host}:${port} is not on this server's egress allow-list (SOLUM_EGRESS_ALLOW)` };
    }
    log.debug({ app: source.app, network: source.network, host, port, how }, 'egress allowed');
    return { ok: true, source };
  };

  /** A TCP stream to host:port: direct, or through the operator's HTTPS proxy with CONNECT. */
  const dial = (host: string, port: number): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const up = o.upstream.https ? new URL(o.upstream.https) : undefined;
      const s = net.connect({ host: up ? up.hostname : host, port: up ? Number(up.port || 80) : port });
      s.setTimeout(30_000, () => s.destroy(new Error('connect timed out')));
      s.once('error', reject);
      s.once('connect', () => {
        if (!up) {
          s.setTimeout(0);
          resolve(s);
          return;
        }
        const auth = up.username ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(up.username)}:${decodeURIComponent(up.password)}`).toString('base64')}\r\n` : '';
        s.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n${auth}\r\n`);
        let head = Buffer.alloc(0);
        const onData = (c: Buffer): void => {
          head = Buffer.concat([head, c]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) {
            if (head.length > 16_384) s.destroy(new Error('upstream proxy answer too long'));
            return;
          }
          s.off('data', onData);
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1];
          if (status !== '200') {
            s.destroy();
            reject(new Error(`upstream proxy answered ${status ?? 'garbage'}`));
            return;
          }
          s.setTimeout(0);
          const rest = head.subarray(end + 4);
          if (rest.length > 0) s.unshift(rest);
          resolve(s);
        };
        s.on('data', onData);
      });
    });

  const server = http.createServer((req, res) => {
    // Plain HTTP: only absolute-URI requests (a proxy's), to allowed hosts.
    let url: URL | undefined;
    try {
      url = req.url && /^http:\/\//i.test(req.url) ? new URL(req.url) : undefined;
    } catch {
      url = undefined;
    }
    if (!url) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('this is an egress proxy: send CONNECT or an absolute http:// URL\n');
      return;
    }
    const verdict = decide(req.socket, url.hostname, Number(url.port || 80), 'http');
    if (!verdict.ok) {
      res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end(`${verdict.why}\n`);
      return;
    }
    const up = o.upstream.http ? new URL(o.upstream.http) : undefined;
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const forward = http.request(
      up
        ? { host: up.hostname, port: Number(up.port || 80), method: req.method, path: url.href, headers }
        : { host: url.hostname, port: Number(url.port || 80), method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => {
      log.info({ app: verdict.source.app, host: url.hostname, err: err.message }, 'egress request failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end();
    });
    req.pipe(forward);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const target = parseAuthority(req.url);
    if (!target) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      return;
    }
    const verdict = decide(socket, target.host, target.port, 'connect');
    if (!verdict.ok) {
      socket.end(`HTTP/1.1 ${verdict.status} Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${verdict.why}\n`);
      return;
    }
    dial(target.host, target.port).then(
      (up) => {
        sockets.add(up);
        up.on('close', () => { sockets.delete(up); socket.destroy(); });
        up.on('error', () => socket.destroy());
        socket.on('close', () => up.destroy());
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) up.write(head);
        up.pipe(socket).pipe(up);
      },
      (err: unknown) => {
        log.info({ app: verdict.source.app, host: target.host, err: err instanceof Error ? err.message : String(err) }, 'egress connection failed');
        socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      },
    );
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // Every address: containers reach the host at their own network's gateway. Whoever else
        // connects is refused by sourceOf, and the firewall lets only egress networks through.
        server.listen(o.port, '0.0.0.0', () => { server.off('error', reject); resolve(); });
      });
      listening = (server.address() as AddressInfo).port;
      return listening;
    },
    async stop() {
      if (!server.listening) return;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
    port: () => listening,
  };
}
