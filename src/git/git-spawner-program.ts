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
  /** git's stdout is the connection sent with this message (a client's TCP connection, as a raw handle). */
  readonly stdoutHandle?: boolean;
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

/** A raw connection handle (a TCP wrap) sent with a spawn request: its descriptor, and how to close it here. */
interface RawHandle {
  readonly fd?: number;
  close(): void;
}

async function start(req: SpawnRequest, handle: RawHandle | undefined): Promise<void> {
  const fd = handle?.fd;
  if (req.stdoutHandle === true && (typeof fd !== 'number' || fd < 0)) {
    handle?.close();
    send({ t: 'error', id: req.id, message: 'the connection for git\'s output did not arrive' });
    return;
  }
  const fds = handle ? [0, 2] : [0, 1, 2];
  const connecting = fds.map((fd) => connect(`${req.id} ${fd}\n`));
  const settled = await Promise.allSettled(connecting);
  const sockets = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const s of sockets) s.destroy();
    handle?.close();
    send({ t: 'error', id: req.id, message: (failed.reason as Error).message });
    return;
  }
  const [stdin, second, third] = sockets;
  const stdio = handle ? [stdin, fd, second] : [stdin, second, third];
  // Solum writes nothing to git's stdin before it hears 'spawned', so nothing was read here.
  const child = spawn('git', req.args, { cwd: req.cwd, env: req.env, stdio, detached: req.detached });
  for (const s of sockets) s.destroy();
  handle?.close();
  child.on('error', (err: NodeJS.ErrnoException) => { send({ t: 'error', id: req.id, message: err.message, code: err.code }); });
  if (child.pid !== undefined) send({ t: 'spawned', id: req.id, pid: child.pid });
  child.on('exit', (code, signal) => { send({ t: 'exit', id: req.id, code, signal }); });
}

process.on('message', (message: unknown, handle: unknown) => {
  const raw = typeof (handle as RawHandle | undefined)?.close === 'function' ? (handle as RawHandle) : undefined;
  if ((message as { t?: unknown } | null)?.t === 'spawn') void start(message as SpawnRequest, raw);
  else raw?.close();
});
// Solum is gone: nothing will ask for git again (running gits finish on their own sockets).
process.on('disconnect', () => process.exit(0));
