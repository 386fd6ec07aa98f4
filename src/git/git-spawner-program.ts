// The small helper process Solum starts git from (see git-spawner.ts). It connects one Unix socket
// per standard stream back to Solum, hands them to git as its stdin, stdout and stderr, closes its
// own copies and reports the pid and the exit. Node builtins only: it must start small and stay small.
import { spawn } from 'node:child_process';
import net from 'node:net';

interface SpawnRequest {
  readonly t: 'spawn';
  readonly id: string;
  readonly args: string[];
  readonly cwd?: string;
  readonly env: Record<string, string>;
  readonly detached: boolean;
}

const socketPath = process.argv[2] ?? '';

const send = (message: object): void => {
  if (process.connected) process.send?.(message);
};

/** A socket to Solum that says first which request and which stream it is for. */
function connect(header: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: socketPath });
    s.once('error', reject);
    s.once('connect', () => {
      s.write(header, (err) => {
        if (err) reject(err);
        else resolve(s);
      });
    });
  });
}

async function start(req: SpawnRequest): Promise<void> {
  const connecting = [0, 1, 2].map((fd) => connect(`${req.id} ${fd}\n`));
  const settled = await Promise.allSettled(connecting);
  const sockets = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const s of sockets) s.destroy();
    send({ t: 'error', id: req.id, message: (failed.reason as Error).message });
    return;
  }
  // Solum writes nothing to git's stdin before it hears 'spawned', so nothing was read here.
  const child = spawn('git', req.args, { cwd: req.cwd, env: req.env, stdio: sockets, detached: req.detached });
  for (const s of sockets) s.destroy();
  child.on('error', (err: NodeJS.ErrnoException) => { send({ t: 'error', id: req.id, message: err.message, code: err.code }); });
  if (child.pid !== undefined) send({ t: 'spawned', id: req.id, pid: child.pid });
  child.on('exit', (code, signal) => { send({ t: 'exit', id: req.id, code, signal }); });
}

process.on('message', (message: unknown) => {
  if ((message as { t?: unknown } | null)?.t === 'spawn') void start(message as SpawnRequest);
});
// Solum is gone: nothing will ask for git again (running gits finish on their own sockets).
process.on('disconnect', () => process.exit(0));
