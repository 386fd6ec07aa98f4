// The router's data path as a process: one HAProxy master (master-worker mode) that Solum starts,
// reloads without dropping connections (SIGUSR2: the new worker takes over the listeners, the old one
// finishes what it holds) and stops, and its admin socket. The only file that runs haproxy.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { ADMIN_SOCKET } from './haproxy-config.js';

export interface Haproxy {
  /** Checks a configuration file without loading it: the problem HAProxy reports, or undefined. */
  check(configFile: string): Promise<string | undefined>;
  /** Starts the master on `configFile` and resolves once its worker answers with `generation`. */
  start(configFile: string, generation: number): Promise<void>;
  /** Reloads the configuration file and resolves once the new worker answers with `generation`. */
  reload(generation: number): Promise<void>;
  /** One admin socket command; resolves what the worker answered. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
  running(): boolean;
}

/** HAProxy's own log lines (`[WARNING]  (123) : …`) at the level they were written at. */
function logLine(log: Logger, line: string): void {
  const text = line.replace(/^\[(\w+)\]\s+\(\d+\)\s+:\s*/, '');
  if (line.startsWith('[ALERT]')) log.error({ haproxy: text }, 'router');
  else if (line.startsWith('[WARNING]')) log.warn({ haproxy: text }, 'router');
  else log.debug({ haproxy: text }, 'router');
}

export function createHaproxy(o: { binary: string; dir: string; logger: Logger; onExit: (code: number | null) => void }): Haproxy {
  const log = o.logger.child({ component: 'router' });
  const socket = path.join(o.dir, ADMIN_SOCKET);
  const pidFile = path.join(o.dir, 'haproxy.pid');
  let child: ChildProcess | undefined;
  let stopping = false;

  const command = (line: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = net.connect(socket, () => s.end(`${line}\n`));
      let out = '';
      s.setTimeout(10_000, () => s.destroy(new Error(`the router's admin socket did not answer ${line.split(' ').slice(0, 3).join(' ')}`)));
      s.on('data', (c: Buffer) => (out += c.toString('utf8')));
      s.on('end', () => { resolve(out); });
      s.on('error', reject);
    });

  /** Resolves once the worker answering the socket runs `generation` (a reload is not instant). */
  const waitFor = async (generation: number): Promise<void> => {
    const deadline = Date.now() + 30_000;
    let last = '';
    for (;;) {
      if (!child) throw new Error(`the router exited while loading its configuration${last ? `: ${last}` : ''}`);
      try {
        const info = await command('show info');
        if (info.includes(`description: gen-${generation}\n`)) return;
        last = /description: (\S+)/.exec(info)?.[1] ?? '';
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`the router did not load configuration ${generation} within 30 s (${last})`);
      await sleep(15);
    }
  };

  /** A master left running by a Solum that was killed: ours by its pid file and its command line. */
  const stopLeftover = async (configFile: string): Promise<void> => {
    const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes(configFile)) return;
    log.warn({ pid }, 'stopping a router left running by an earlier Solum');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100; i++) {
      if (!(await fs.stat(`/proc/${pid}`).then(() => true, () => false))) return;
      await sleep(50);
    }
    process.kill(pid, 'SIGKILL');
  };

  return {
    async check(configFile) {
      return new Promise((resolve, reject) => {
        const p = spawn(o.binary, ['-c', '-q', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        p.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
        p.on('error', reject);
        p.on('close', (code) => { resolve(code === 0 ? undefined : out.trim().split('\n').filter((l) => l.includes('[ALERT]')).join('; ') || out.trim()); });
      });
    },
    async start(configFile, generation) {
      await stopLeftover(configFile);
      stopping = false;
      const p = spawn(o.binary, ['-W', '-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = p;
      let pending = '';
      const onData = (c: Buffer): void => {
        pending += c.toString('utf8');
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) logLine(log, line);
        }
      };
      p.stdout.on('data', onData);
      p.stderr.on('data', onData);
      const spawned = new Promise<void>((resolve, reject) => {
        p.once('spawn', resolve);
        p.once('error', (err: NodeJS.ErrnoException) => {
          child = undefined;
          reject(err.code === 'ENOENT' ? new Error(`the router needs HAProxy, and ${o.binary} is not there: install it (apt-get install haproxy; scripts/provision.sh does)`) : err);
        });
      });
      p.once('exit', (code) => {
        if (child === p) child = undefined;
        if (!stopping) o.onExit(code);
      });
      await spawned;
      if (p.pid !== undefined) await fs.writeFile(pidFile, `${p.pid}\n`, { mode: 0o600 });
      await waitFor(generation);
    },
    async reload(generation) {
      if (!child?.pid) throw new Error('the router is not running');
      process.kill(child.pid, 'SIGUSR2');
      await waitFor(generation);
    },
    command,
    async stop() {
      const p = child;
      stopping = true;
      if (!p?.pid) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => { resolve(); }));
      p.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        p.kill('SIGKILL');
        await exited;
      }
      child = undefined;
      await fs.rm(pidFile, { force: true });
    },
    running: () => child !== undefined,
  };
}
