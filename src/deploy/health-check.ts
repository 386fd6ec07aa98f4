// Health checks for a new process: for web, an HTTP path answering 2xx/3xx, or else a TCP connect, at
// the process's address on its target's network (loopback in host mode), like the router reaches it;
// and app.json's startup checks (Dokku's format) for any process type: a path answering 2xx with the
// expected content, a listening port, a command run inside the container, or an uptime.
import http from 'node:http';
import net from 'node:net';
import type { HealthCheckSpec } from '../containers/du-labels.js';

export interface HealthCheck {
  readonly host: string;
  readonly port: number;
  /** An HTTP path to GET; without one a TCP connect is enough. */
  readonly path: string | undefined;
  readonly timeoutMs: number;
  /** Stops waiting early when the process has died; returns why. */
  readonly died: () => Promise<string | undefined>;
}

/** One probe of a web process: an HTTP path answering 2xx/3xx, or a TCP connect without one. */
export function probeOnce(host: string, port: number, path: string | undefined): Promise<boolean> {
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

/** What a startup check needs of the process it checks. */
export interface ProcessProbe {
  /** Its address on its network (undefined when it has none). */
  readonly host: () => Promise<string | undefined>;
  /** The PORT it was given, if any (a path check's port when the check names none). */
  readonly port: number | null;
  /** Runs a command inside it; resolves the exit code. */
  readonly exec: (cmd: readonly string[], timeoutMs: number) => Promise<number>;
  readonly state: () => Promise<{ running: boolean; restartCount: number } | undefined>;
  readonly died: () => Promise<string | undefined>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Dokku's default port, when neither the check nor the process names one. */
const DEFAULT_CHECK_PORT = 5000;
const MAX_BODY = 1024 * 1024;

function getOnce(host: string, port: number, c: HealthCheckSpec): Promise<string | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'solum-health-check' };
    for (const h of c.headers) headers[h.name.toLowerCase()] = h.value;
    const req = http.get({ host, port, path: c.path ?? '/', timeout: c.timeout * 1000, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < MAX_BODY) body += chunk; });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) resolve(`GET ${c.path ?? '/'} answered ${status}`);
        else if (c.content !== undefined && !body.includes(c.content)) resolve(`GET ${c.path ?? '/'} answered without ${JSON.stringify(c.content)}`);
        else resolve(undefined);
      });
      res.on('error', () => { resolve(`GET ${c.path ?? '/'} broke off`); });
    });
    req.on('timeout', () => { req.destroy(new Error('timeout')); });
    req.on('error', (err) => { resolve(`GET ${c.path ?? '/'} on port ${port}: ${err.message === 'timeout' ? `no answer within ${c.timeout}s` : 'nothing answered'}`); });
  });
}

/** Runs one startup check (with its attempts, waits and initial delay); resolves undefined when it passed, else why not. */
export async function runStartupCheck(c: HealthCheckSpec, p: ProcessProbe): Promise<string | undefined> {
  if (c.initialDelay > 0) await sleep(c.initialDelay * 1000);
  if (c.uptime !== undefined) {
    const until = Date.now() + c.uptime * 1000;
    while (Date.now() < until) {
      const dead = await p.died();
      if (dead) return dead;
      await sleep(Math.min(500, Math.max(0, until - Date.now())));
    }
    const s = await p.state();
    return s?.running && s.restartCount === 0 ? undefined : `it did not stay up for ${c.uptime}s`;
  }
  let last = 'no attempt';
  for (let attempt = 1; attempt <= c.attempts; attempt++) {
    const port = c.port ?? p.port ?? DEFAULT_CHECK_PORT;
    if (c.command) {
      const code = await p.exec(c.command, c.timeout * 1000).catch(() => -1);
      if (code === 0) return undefined;
      last = code === -1 ? `the command ${JSON.stringify(c.command.join(' ').slice(0, 80))} did not finish within ${c.timeout}s` : `the command ${JSON.stringify(c.command.join(' ').slice(0, 80))} exited with status ${code}`;
    } else {
      const host = await p.host();
      if (!host) last = 'the process has no address';
      else if (c.path !== undefined) {
        const failure = await getOnce(host, port, c);
        if (failure === undefined) return undefined;
        last = failure;
      } else if (await probeOnce(host, port, undefined)) return undefined;
      else last = `nothing listening on port ${port}`;
    }
    const dead = await p.died();
    if (dead) return dead;
    if (attempt < c.attempts) await sleep(c.wait * 1000);
  }
  return `${last} (${c.attempts} attempt${c.attempts === 1 ? '' : 's'})`;
}
