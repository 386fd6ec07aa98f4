// Solum as the benchmarks' server: its own process (like sshd and nginx are), on loopback, with its RSS sampled from /proc.
import fs from 'node:fs/promises';
import path from 'node:path';
import { LOOPBACK, startDaemon, tempDir, type Daemon } from './lib.js';

export interface SolumServer {
  readonly daemon: Daemon;
  readonly dataDir: string;
  readonly httpPort: number;
  readonly sshPort: number;
  readonly token: string;
  api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/src/main.js` on free loopback ports with a fresh data dir (PGlite). `nodeArgs`
 * go to node itself (e.g. `--cpu-prof` to see where Solum spends its time during a transfer).
 */
export async function startSolumServer(env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<SolumServer> {
  const dataDir = await tempDir('solum-bench-data');
  const main = path.resolve('dist', 'src', 'main.js');
  const daemon = startDaemon('solum', process.execPath, [...nodeArgs, main], {
    ...process.env,
    SOLUM_DATA_DIR: dataDir,
    SOLUM_BIND: LOOPBACK,
    SOLUM_HTTP_PORT: '0',
    SOLUM_SSH_PORT: '0',
    SOLUM_ROUTER_PORT: '0',
    SOLUM_LOG_LEVEL: 'info',
    ...env,
  });
  const deadline = Date.now() + 60_000;
  let ports: { http: number; ssh: number } | undefined;
  while (!ports) {
    const out = daemon.output();
    const ssh = /git over SSH: +ssh:\/\/git@[^:]+:(\d+)\//.exec(out)?.[1];
    const http = /git over HTTP: +http:\/\/[^:]+:(\d+)\//.exec(out)?.[1];
    if (ssh && http) ports = { http: Number(http), ssh: Number(ssh) };
    else if (Date.now() > deadline || /^solum: /m.test(out)) {
      await daemon.stop();
      throw new Error(`Solum did not start:\n${out.trim()}`);
    } else await new Promise((r) => setTimeout(r, 100));
  }
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const { http: httpPort, ssh: sshPort } = ports;
  return {
    daemon,
    dataDir,
    httpPort,
    sshPort,
    token,
    async api(method, urlPath, body) {
      const res = await fetch(`http://${LOOPBACK}:${httpPort}${urlPath}`, {
        method,
        signal: AbortSignal.timeout(60_000),
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, text: await res.text() };
    },
    async stop() {
      await daemon.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process's resident set in bytes (VmRSS), or NaN once it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

/** Solum's processes: the server and the small helper it starts git from (git-spawner-program). */
export async function solumPids(pid: number): Promise<number[]> {
  const pids = [pid];
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const cmd = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('git-spawner-program')) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Samples the summed RSS of `pids` every `everyMs` until stopped; returns the growth above the
 * first sample. Find the pids untimed beforehand (walking /proc costs CPU), and sample every
 * side of a comparison alike, so that the sampler weighs on each the same.
 */
export function sampleRss(pids: readonly number[], everyMs = 25): { stop(): Promise<number> } {
  let baseline = Number.NaN;
  let peak = 0;
  const state = { running: true };
  const total = async (): Promise<number> => (await Promise.all(pids.map(rssOf))).reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
  const loop = (async () => {
    while (state.running) {
      const rss = await total();
      if (Number.isNaN(baseline)) baseline = rss;
      if (rss > peak) peak = rss;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      state.running = false;
      await loop;
      return Math.max(peak, await total()) - baseline;
    },
  };
}
