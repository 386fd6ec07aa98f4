// `solum worker` processes for tests and benchmarks: the real CLI command, in its own process.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import os from 'node:os';
import type { Readable } from 'node:stream';

export interface WorkerProcess {
  readonly id: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  output(): string;
  /** SIGTERM and wait for the exit (nothing to do when it already exited). */
  stop(): Promise<void>;
}

export async function startWorker(env: Record<string, string>, dataDir: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      SOLUM_DATA_DIR: dataDir,
      SOLUM_BUILD_CONCURRENCY: '1',
      SOLUM_LOG_LEVEL: 'info',
      ...(process.env.SOLUM_BUILD_CA_BUNDLE ? { SOLUM_BUILD_CA_BUNDLE: process.env.SOLUM_BUILD_CA_BUNDLE } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const id = /^Solum worker (\S+) is running/m.exec(out)?.[1];
    if (id) return { id, child, output: () => out, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the worker did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
