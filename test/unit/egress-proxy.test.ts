// The egress proxy on loopback only: allowed hosts go through the operator's upstream proxy (a fake
// one here, so nothing leaves the machine), refused hosts and unknown sources never reach it, and
// every refusal is logged with the app and the host asked for.
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { createEgressProxy } from '../../src/containers/egress-proxy.js';
import { createLogger } from '../../src/logger.js';

/** An upstream proxy that records what it is asked and answers CONNECT with an echo tunnel. */
async function fakeUpstream(): Promise<{ url: string; asked: string[]; close: () => Promise<void> }> {
  const asked: string[] = [];
  const tunnels = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    asked.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.end('plain via upstream');
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    asked.push(`CONNECT ${req.url ?? ''}`);
    tunnels.add(socket);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, asked, close: () => new Promise((resolve) => {
    // Tunnels are no longer the server's connections: closeAllConnections leaves them.
    for (const s of tunnels) s.destroy();
    server.closeAllConnections();
    server.close(() => { resolve(); });
  }) };
}

/** Sends CONNECT through the proxy; the status, and what came back after writing `ping` when tunnelled. */
function connectVia(port: number, target: string): Promise<{ status: number; echoed: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: target });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, echoed: '' });
        return;
      }
      socket.once('data', (d: Buffer) => { socket.destroy(); resolve({ status: 200, echoed: d.toString() }); });
      socket.write('ping');
    });
    // Node emits 'response' rather than 'connect' for a refused CONNECT.
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, echoed: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

async function withProxy(known: boolean, fn: (port: number, upstream: Awaited<ReturnType<typeof fakeUpstream>>, logs: () => string) => Promise<void>): Promise<void> {
  const upstream = await fakeUpstream();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const proxy = createEgressProxy({
    allow: ['registry.npmjs.org'],
    upstream: { http: upstream.url, https: upstream.url },
    // Loopback stands in for a build network's address.
    sourceOf: (address) => (known && address === '127.0.0.1' ? { app: 'tenant-a', network: 'build 7' } : undefined),
    logger: createLogger('debug', out),
    port: 0,
  });
  const port = await proxy.start();
  try {
    await fn(port, upstream, () => text);
  } finally {
    await proxy.stop();
    await upstream.close();
  }
}

test('an allowed host is tunnelled through the upstream proxy; a host not on the allow-list is refused before anything is dialled, and logged with app and host', async (t) => {
  await withProxy(true, async (port, upstream, logs) => {
    t.deepEqual(await connectVia(port, 'registry.npmjs.org:443'), { status: 200, echoed: 'echo:ping' });
    t.deepEqual(upstream.asked, ['CONNECT registry.npmjs.org:443']);
    t.is((await connectVia(port, 'example.com:443')).status, 403);
    t.is((await connectVia(port, 'registry.npmjs.org:22')).status, 403, 'only HTTPS and HTTP ports');
    t.deepEqual(upstream.asked, ['CONNECT registry.npmjs.org:443'], 'refused requests never reach the upstream');
    const refusal = logs().split('\n').find((l) => l.includes('"host":"example.com"'));
    t.truthy(refusal);
    t.regex(refusal ?? '', /"app":"tenant-a".*"msg":"egress refused: host not on the allow-list"/);
  });
});

test('plain HTTP to an allowed host is forwarded through the upstream proxy; to any other host it is refused', async (t) => {
  await withProxy(true, async (port, upstream) => {
    const get = (url: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
        }).on('error', reject);
      });
    t.deepEqual(await get('http://registry.npmjs.org/ms'), { status: 200, body: 'plain via upstream' });
    t.is((await get('http://example.com/')).status, 403);
    t.deepEqual(upstream.asked, ['GET http://registry.npmjs.org/ms']);
  });
});

test('a connection from outside every network that may egress is refused, even for an allowed host', async (t) => {
  await withProxy(false, async (port, upstream, logs) => {
    t.is((await connectVia(port, 'registry.npmjs.org:443')).status, 403);
    t.deepEqual(upstream.asked, []);
    t.regex(logs(), /egress refused: not from a network that may reach the proxy/);
  });
});
