// Health checks for a new web process: an HTTP path answering 2xx/3xx, or else a TCP connect, at the
// process's address on its target's network (loopback in host mode), like the router reaches it.
import http from 'node:http';
import net from 'node:net';

export interface HealthCheck {
  readonly host: string;
  readonly port: number;
  /** An HTTP path to GET; without one a TCP connect is enough. */
  readonly path: string | undefined;
  readonly timeoutMs: number;
  /** Stops waiting early when the process has died; returns why. */
  readonly died: () => Promise<string | undefined>;
}

function probeOnce(host: string, port: number, path: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (!path) {
      const s = net.connect({ host, port });
      s.setTimeout(1000, () => { s.destroy(); resolve(false); });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { resolve(false); });
      return;
    }
    const req = http.get({ host, port, path, timeout: 2000, headers: { 'user-agent': 'solum-health-check' } }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { resolve(false); });
  });
}

/** Resolves undefined when healthy, or with the reason it is not. */
export async function waitHealthy(check: HealthCheck): Promise<string | undefined> {
  const deadline = Date.now() + check.timeoutMs;
  for (;;) {
    if (await probeOnce(check.host, check.port, check.path)) return undefined;
    const dead = await check.died();
    if (dead) return dead;
    if (Date.now() > deadline) {
      return check.path
        ? `no 2xx/3xx answer from ${check.path} on port ${check.port} within ${Math.round(check.timeoutMs / 1000)}s`
        : `nothing listening on port ${check.port} within ${Math.round(check.timeoutMs / 1000)}s`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
