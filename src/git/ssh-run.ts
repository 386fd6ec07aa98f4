// The SSH binding of interactive operations (`run APP -- CMD`): the command line as typed, the
// channel as the command's input, the terminal the client asked for (ssh -t) and its size changes,
// the output streamed back, and the command's exit status as the session's.
import type { Readable, Writable } from 'node:stream';
import type { User } from '../db/user-store.js';
import type { RunSession } from '../deploy/run-service.js';
import { publicError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseInput } from '../operations/operation.js';
import type { BoundOperation } from '../operations/operations.js';
import { isRunExec, parseRunExec } from './exec-command.js';

/** What a client's pty-req asked for. */
export interface PtyRequest {
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
}

/** A session's side of the channel. */
export interface SessionIo {
  readonly input: Readable;
  readonly output: Writable;
  readonly errors: Writable;
  readonly pty: PtyRequest | undefined;
  /** Told of every window-change the client sends. */
  onResize(listener: (cols: number, rows: number) => void): void;
  /** Told when the client goes away. */
  onClose(listener: () => void): void;
}

/** Interactive command sessions over SSH: the transport asks whether a command line is one, then hands it the channel. */
export interface InteractiveSessions {
  /** Whether `command` is an interactive session (only its session may get a pty). */
  wants(command: string): boolean;
  /** Runs it; resolves the exit status to send. */
  run(actor: User, command: string, io: SessionIo): Promise<number>;
}

const isSession = (v: unknown): v is RunSession => typeof v === 'object' && v !== null && 'exited' in v && 'output' in v;

export function createSshSessions(operations: readonly BoundOperation[], logger: Logger): InteractiveSessions {
  const log = logger.child({ component: 'ssh-run' });
  const op = operations.find((o) => o.contract.ssh?.interactive === true);
  return {
    wants: (command) => op !== undefined && isRunExec(command),
    async run(actor, line, io) {
      const parsed = parseRunExec(line);
      if (!op || !parsed) {
        io.errors.write(`solum: usage: ${op?.contract.ssh?.usage ?? 'run APP -- COMMAND...'}\n`);
        return 2;
      }
      let session: RunSession;
      try {
        const tty = io.pty ? { term: io.pty.term.slice(0, 64) || 'xterm', cols: Math.min(1000, Math.max(1, io.pty.cols)), rows: Math.min(1000, Math.max(1, io.pty.rows)) } : undefined;
        const input = parseInput(op.contract.input, { app: parsed.app, command: parsed.command, stdin: io.input, ...(tty ? { tty } : {}) }, 'invalid_command', 'input');
        const out = await op.handler.run(actor, input);
        if (!isSession(out)) throw new Error(`${op.contract.name} answered no session`);
        session = out;
      } catch (err) {
        const pub = publicError(err);
        if (pub.status >= 500) log.error({ err }, 'starting a run failed');
        io.errors.write(`solum: ${pub.message}\n`);
        return pub.code === 'invalid_command' ? 2 : 1;
      }
      log.info({ user: actor.name, app: parsed.app, release: session.release, tty: io.pty !== undefined }, 'run started');
      io.onResize((cols, rows) => { session.resize(cols, rows); });
      io.onClose(() => { session.output.destroy(); });
      const flushed = new Promise<void>((resolve) => {
        session.output.on('end', resolve);
        session.output.on('close', resolve);
      });
      session.output.pipe(io.output, { end: false });
      try {
        const exit = await session.exited;
        await flushed;
        if (exit.timedOut) io.errors.write('solum: the command ran out of time and was stopped\n');
        if (exit.oomKilled) io.errors.write('solum: the command ran out of memory and was killed\n');
        return exit.exitCode;
      } catch (err) {
        log.error({ err }, 'a run failed');
        io.errors.write('solum: the command could not run to its end (see the server log)\n');
        return 1;
      }
    },
  };
}
