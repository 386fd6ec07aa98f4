// Shared helpers of the hand-run benchmarks: timing, medians, loopback ports, daemons stopped by pid, tables.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { run, type CommandResult } from '../test/support/solum.js';

export const LOOPBACK = '127.0.0.1';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? Number.NaN) + hi) / 2;
}

/** Runs a command and fails loudly (a failed command makes its timing meaningless). */
export async function mustRun(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stderr.trim()}`);
  return r;
}

/** Wall-clock seconds around one command, which must succeed. */
export async function timeCommand(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const t0 = performance.now();
  const r = await run(cmd, args, opts);
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stderr.trim()}`);
  return seconds;
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => { resolve(port); });
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: LOOPBACK, port });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${LOOPBACK}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** What the daemon wrote to stdout/stderr (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

const daemons = new Set<Daemon>();

/**
 * Starts a long-running process in the foreground of its own; it is stopped by its pid. With
 * `group`, it leads a process group of its own and the whole group is stopped (for servers that
 * fork workers which outlive their parent, like fcgiwrap).
 */
export function startDaemon(name: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv, options: { group?: boolean } = {}): Daemon {
  const child: ChildProcess = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: options.group === true, ...(env ? { env } : {}) });
  if (child.pid === undefined) throw new Error(`${name} did not start (${cmd})`);
  const pid = child.pid;
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const daemon: Daemon = {
    name,
    pid,
    output: () => out,
    async stop() {
      daemons.delete(daemon);
      const target = options.group === true ? -pid : pid;
      if (exited && options.group !== true) return;
      try {
        process.kill(target, 'SIGTERM');
      } catch {
        return;
      }
      if (exited) return;
      const killed = await Promise.race([exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => { r(false); }, 5000))]);
      if (!killed) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* exited meanwhile */
        }
        await exit;
      }
    },
  };
  daemons.add(daemon);
  return daemon;
}

/** Stops every daemon still running (error paths and Ctrl-C). */
export async function stopAllDaemons(): Promise<void> {
  for (const d of [...daemons]) await d.stop().catch(() => undefined);
}

/** Ctrl-C stops the daemons (by pid) before exiting. */
export function stopDaemonsOnInterrupt(extra: () => Promise<void> = () => Promise.resolve()): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.allSettled([stopAllDaemons(), extra()]).then(() => process.exit(130));
    });
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

export const seconds = (s: number): string => (Number.isFinite(s) ? s.toFixed(3) : '—');
export const ratio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '—');

/** A plain text table: first column left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The 1-minute load average and CPU count, to judge how noisy a run's figures are. */
export function loadNote(): string {
  return `load average ${(os.loadavg()[0] ?? 0).toFixed(2)} on ${os.cpus().length} CPUs`;
}

/** Whether an executable exists at `file`. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` found on PATH (or given as an absolute path), if any. */
export async function findBinary(names: readonly string[]): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const n of names) {
    if (n.startsWith('/')) {
      if (await isExecutable(n)) return n;
      continue;
    }
    for (const d of dirs) {
      if (d !== '' && (await isExecutable(path.join(d, n)))) return path.join(d, n);
    }
  }
  return undefined;
}
