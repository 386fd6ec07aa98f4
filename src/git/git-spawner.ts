// Starts git from a small helper process instead of from Solum itself: forking a process copies its
// page tables, and with PGlite in it Solum's resident set is ~800 MiB, which made every git spawn
// cost 30-60 ms on these machines (4 ms from a small process). git's standard streams are Unix
// sockets straight to Solum: no byte passes through the helper (docs/decisions/0011).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running git, shaped like the part of Node's ChildProcess that Solum uses. */
export interface GitChild {
  readonly pid: number;
  readonly stdin: net.Socket;
  readonly stdout: net.Socket;
  readonly stderr: net.Socket;
  readonly exitCode: number | null;
  /** Signals git (its whole process group when it was started `detached`). */
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'exit' | 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

export interface StartOptions {
  readonly cwd?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** git leads a process group of its own (so a timeout can end its helpers too). */
  readonly detached?: boolean;
}

/** A git whose standard output is a socket Solum handed over (`startGitWritingTo`): Solum never reads it. */
export type HandedOverGit = Omit<GitChild, 'stdout'>;

/** `ChildProcess.send` as it is used with a raw handle (Node types it with net classes only). */
type SendRaw = (message: object, handle: unknown, callback: (err: Error | null) => void) => boolean;

type HelperMessage =
  | { t: 'spawned'; id: string; pid: number }
  | { t: 'exit'; id: string; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: string; message: string };

class SpawnedGit extends EventEmitter implements GitChild {
  exitCode: number | null = null;
  private exited = false;
  private open = 2;
  private exitSignal: NodeJS.Signals | null = null;

  constructor(
    readonly pid: number,
    readonly stdin: net.Socket,
    private readonly out: net.Socket | null,
    readonly stderr: net.Socket,
    private readonly group: boolean,
  ) {
    super();
    // Errors of a stream nobody listens to (EPIPE after git exited) must not end Solum; the exit
    // code tells what happened.
    for (const s of [stdin, out, stderr]) s?.on('error', () => undefined);
    // git closing its stdin shows as the end of this socket's readable side.
    stdin.resume();
    // A stream git wrote nothing to may have ended and closed while its first line was read.
    if (out === null) this.open--;
    for (const s of [out, stderr]) {
      if (s === null) continue;
      if (s.closed) this.open--;
      else s.once('close', () => { this.streamClosed(); });
    }
  }

  get stdout(): net.Socket {
    if (this.out === null) throw new Error('this git writes to a socket Solum handed over');
    return this.out;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    try {
      process.kill(this.group ? -this.pid : this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  onExit(code: number | null, signal: NodeJS.Signals | null): void {
    // Never in the same tick as the start: the caller gets this child from a promise and puts its
    // listeners on in a later microtask; the exit may come in the same IPC read as 'spawned'.
    setImmediate(() => {
      if (this.exited) return;
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      this.emit('exit', code, signal);
      // As Node does for a child's stdin pipe: nothing can be written to a git that is gone.
      this.stdin.destroy();
      if (this.open === 0) this.emit('close', code, signal);
    });
  }

  private streamClosed(): void {
    this.open--;
    if (this.open === 0 && this.exited) this.emit('close', this.exitCode, this.exitSignal);
  }
}

interface Pending {
  readonly sockets: Array<net.Socket | undefined>;
  /** git's stdout is a socket handed to the helper: no stdout socket comes back. */
  readonly handedOver: boolean;
  pid?: number;
  /** git's exit, when it arrived before all of its sockets did. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  readonly options: StartOptions;
  readonly resolve: (child: SpawnedGit) => void;
  readonly reject: (err: Error) => void;
}

/** Reads the `<id> <fd>\n` line a helper socket starts with; what follows is git's. */
function readHeader(s: net.Socket): Promise<{ id: string; fd: number }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = s.read() as Buffer | null) !== null) {
        buf = Buffer.concat([buf, chunk]);
        const nl = buf.indexOf(10);
        if (nl >= 0) {
          s.off('readable', onReadable);
          const rest = buf.subarray(nl + 1);
          if (rest.length > 0) s.unshift(rest);
          const m = /^([0-9a-f]{32}) ([012])$/.exec(buf.subarray(0, nl).toString('latin1'));
          if (m) resolve({ id: m[1] ?? '', fd: Number(m[2]) });
          else reject(new Error('malformed helper socket header'));
          return;
        }
        if (buf.length > 64) {
          s.off('readable', onReadable);
          reject(new Error('malformed helper socket header'));
          return;
        }
      }
    };
    s.on('readable', onReadable);
    s.once('error', reject);
  });
}

class Spawner {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, SpawnedGit>();
  private constructor(
    private readonly helper: ChildProcess,
    private readonly server: net.Server,
    private readonly dir: string,
    private readonly onGone: () => void,
  ) {
    helper.on('message', (m: HelperMessage) => { this.onMessage(m); });
    helper.on('exit', () => { this.gone(new Error('the git helper process exited')); });
    server.on('connection', (s) => { void this.onConnection(s); });
    this.idle();
  }

  static async create(onGone: () => void): Promise<Spawner> {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'solum-git-'));
    const socketPath = path.join(dir, 'spawn.sock');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    const program = fileURLToPath(new URL('./git-spawner-program.js', import.meta.url));
    // No inherited execArgv: the helper must not load what Solum was started with (--inspect, loaders).
    const helper = fork(program, [socketPath], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'json' });
    return new Spawner(helper, server, dir, onGone);
  }

  /**
   * Starts git; with `stdout`, that socket is handed to the helper process and becomes git's
   * standard output (Solum's own handle on it is closed once it has been sent).
   */
  start(args: readonly string[], options: StartOptions, stdout?: net.Socket): Promise<SpawnedGit> {
    return new Promise((resolve, reject) => {
      const id = randomBytes(16).toString('hex');
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
      this.pending.set(id, { sockets: [undefined, undefined, undefined], handedOver: stdout !== undefined, options, resolve, reject });
      this.busy();
      const message = { t: 'spawn', id, args: [...args], cwd: options.cwd, env, detached: options.detached === true, stdoutHandle: stdout !== undefined };
      const sent = (err: Error | null): void => {
        if (err) this.fail(id, err);
      };
      // The connection's raw handle, not the net.Socket: sent as a socket, Node would count it as
      // served by the helper and make the HTTP server's close wait on the helper's answer.
      const handle = (stdout as (net.Socket & { _handle?: unknown }) | undefined)?._handle;
      if (stdout && !handle) this.fail(id, new Error('the connection for git\'s output is closed'));
      else if (handle) (this.helper.send.bind(this.helper) as SendRaw)(message, handle, sent);
      else this.helper.send(message, sent);
    });
  }

  private async onConnection(s: net.Socket): Promise<void> {
    let header: { id: string; fd: number };
    try {
      header = await readHeader(s);
    } catch {
      s.destroy();
      return;
    }
    const p = this.pending.get(header.id);
    // An id nobody asked for (ids are 128 random bits): not ours to serve.
    if (!p || p.sockets[header.fd] || (p.handedOver && header.fd === 1)) {
      s.destroy();
      return;
    }
    p.sockets[header.fd] = s;
    this.settle(header.id, p);
  }

  private onMessage(m: HelperMessage): void {
    if (m.t === 'spawned') {
      const p = this.pending.get(m.id);
      if (!p) return;
      p.pid = m.pid;
      this.settle(m.id, p);
    } else if (m.t === 'error') {
      this.fail(m.id, new Error(m.message));
    } else {
      // The exit travels over IPC and the sockets' first lines over their own connections: the
      // exit may come first.
      const p = this.pending.get(m.id);
      if (p) {
        p.exit = { code: m.code, signal: m.signal };
        return;
      }
      const child = this.running.get(m.id);
      if (!child) return;
      this.running.delete(m.id);
      child.onExit(m.code, m.signal);
      this.idle();
    }
  }

  private settle(id: string, p: Pending): void {
    const [stdin, stdout, stderr] = p.sockets;
    if (p.pid === undefined || !stdin || (!stdout && !p.handedOver) || !stderr) return;
    this.pending.delete(id);
    const child = new SpawnedGit(p.pid, stdin, stdout ?? null, stderr, p.options.detached === true);
    p.resolve(child);
    if (p.exit) {
      child.onExit(p.exit.code, p.exit.signal);
      this.idle();
    } else this.running.set(id, child);
  }

  private fail(id: string, err: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    for (const s of p.sockets) s?.destroy();
    p.reject(err);
    this.idle();
  }

  /** Keeps the event loop alive while git runs: its exit arrives over IPC, after its streams close. */
  private busy(): void {
    this.helper.channel?.ref();
  }

  private idle(): void {
    if (this.pending.size === 0 && this.running.size === 0) {
      this.helper.channel?.unref();
      this.helper.unref();
      this.server.unref();
    }
  }

  private gone(err: Error): void {
    this.onGone();
    for (const id of [...this.pending.keys()]) this.fail(id, err);
    // The gits it started may still run; their exit codes are lost with it.
    for (const child of this.running.values()) child.onExit(null, null);
    this.running.clear();
    this.server.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let spawner: Promise<Spawner> | undefined;

async function theSpawner(): Promise<Spawner> {
  spawner ??= Spawner.create(() => { spawner = undefined; });
  return spawner.catch((err: unknown) => {
    spawner = undefined;
    throw err;
  });
}

/** Starts `git args` through the shared helper process (started on first use, restarted if it dies). */
export async function startGit(args: readonly string[], options: StartOptions): Promise<GitChild> {
  return (await theSpawner()).start(args, options);
}

/**
 * Starts git with `socket` (a TCP connection) as its standard output: what git writes goes to the
 * peer without passing through Solum. The socket is Solum's no more: once its descriptor has been
 * sent to the helper process, Solum's end is destroyed (decision 0021).
 */
export async function startGitWritingTo(args: readonly string[], options: StartOptions, socket: net.Socket): Promise<HandedOverGit> {
  const child = await (await theSpawner()).start(args, options, socket);
  socket.destroy();
  return child;
}
