// The common start of an end-to-end test: a Solum of its own and a fresh app name, both cleaned up
// when the test ends (Solum stopped, the app's containers and images removed).
import net from 'node:net';
import { removeAppImages } from './docker.js';
import { randomName, startSolum, type RunningSolum } from './solum.js';

export async function solumWithApp(
  t: { teardown(fn: () => Promise<void>): void },
  prefix: string,
  options: Parameters<typeof startSolum>[0] = {},
): Promise<{ solum: RunningSolum; app: string }> {
  const solum = await startSolum(options);
  const app = randomName(prefix);
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
  });
  return { solum, app };
}

/** The app's releases once there are at least `count` of them (a release follows its build's end). */
export async function releasesOf(solum: RunningSolum, app: string, count: number): Promise<Array<{ version: number; status: string }>> {
  let list: Array<{ version: number; status: string }> = [];
  for (let i = 0; i < 100; i++) {
    const res = await solum.api('GET', `/v1/apps/${app}/releases`);
    list = res.status === 200 ? (res.json as Array<{ version: number; status: string }>) : [];
    if (list.length >= count && list.every((r) => r.status !== 'pending')) return list;
    await new Promise((r) => setTimeout(r, 100));
  }
  return list;
}

/** Polls `probe` until it returns a value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A web process (Procfile `web: sh ./serve.sh`) that answers every request `200 ok` on $PORT, in the base image's perl. */
export const okWebServer = 'exec perl -MIO::Socket::INET -e \'$s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { while (<$c>) { last if /^\\r?$/ } print $c "HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"; close $c }\'\n';

/**
 * A WebSocket upgrade through the router at `port` for `host` (with an optional cookie): the
 * server's handshake followed by its echo of a message, as one string.
 */
export function webSocketEcho(port: number, host: string, cookie?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET /ws HTTP/1.1\r\nHost: ${host}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`));
    let raw = '';
    s.on('data', (c: Buffer) => {
      raw += c.toString('utf8');
      if (raw.includes('\r\n\r\n') && !raw.includes('ping-pong')) s.write('ping-pong');
      if (raw.includes('ping-pong')) {
        s.end();
        resolve(raw);
      }
    });
    s.on('error', reject);
    setTimeout(() => { reject(new Error(`no echo: ${raw}`)); }, 10_000).unref();
  });
}
