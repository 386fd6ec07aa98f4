// One-off commands as users run them (`run APP -- CMD`, POST /v1/apps/:app/runs): a new container of
// the app's live release with its config, the caller's input and, when asked, a terminal; how many
// a user runs at once is bounded. Scheduled jobs run now (cron:run) count against the same bound.
import { PassThrough, type Readable } from 'node:stream';
import type { AppService } from '../apps/app-service.js';
import type { User } from '../db/user-store.js';
import { AppError, badRequest, conflict } from '../errors.js';
import { lineSink } from '../terminal-text.js';
import type { OneOffs } from './one-off.js';
import type { Targets } from './target.js';

export interface RunOptions {
  readonly command: string;
  /** The caller's input, piped to the command (SSH); without it the command's input is empty. */
  readonly stdin?: Readable;
  /** A terminal the caller's client opened (ssh -t): the command gets one of this size. */
  readonly tty?: { readonly term: string; readonly cols: number; readonly rows: number };
  /** Aborted when the caller went away: the command is stopped. */
  readonly signal?: AbortSignal;
}

export interface RunSession {
  /** The command's output: raw for a terminal, else cleaned lines; bounded either way. */
  readonly output: Readable;
  resize(cols: number, rows: number): void;
  /** How it ended: the exit code (124 when it timed out, 137 when it ran out of memory). */
  readonly exited: Promise<{ exitCode: number; timedOut: boolean; oomKilled: boolean }>;
  /** The release it runs in (`v3`). */
  readonly release: string;
}

export interface RunService {
  start(actor: User | null, app: string, o: RunOptions): Promise<RunSession>;
}

/** One-offs a user runs at once: acquire() refuses beyond `max` (admins are not counted). */
export interface RunQuota {
  acquire(actor: User): () => void;
}

export function createRunQuota(max: number): RunQuota {
  const running = new Map<number, number>();
  return {
    acquire(actor) {
      const n = running.get(actor.id) ?? 0;
      if (!actor.isAdmin && n >= max) throw new AppError('quota_exceeded', `${actor.name} runs ${n} one-off commands already, the most a user may at once: wait for one to end`);
      running.set(actor.id, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (running.get(actor.id) ?? 1) - 1;
        if (left <= 0) running.delete(actor.id);
        else running.set(actor.id, left);
      };
    },
  };
}

const MAX_COMMAND = 8192;

export function createRunService(d: {
  readonly apps: AppService;
  readonly targets: Pick<Targets, 'ofApp'>;
  readonly oneOffs: OneOffs;
  readonly quota: RunQuota;
  readonly timeoutMs: number;
  /** Bytes of output a run passes on. */
  readonly maxOutputBytes: number;
}): RunService {
  let counter = 0;
  return {
    async start(actor, name, o) {
      const command = o.command.trim();
      if (command === '') throw badRequest('give a command to run');
      if (command.length > MAX_COMMAND) throw badRequest(`commands are at most ${MAX_COMMAND} characters`);
      // A one-off gets the app's config: whoever may push code that runs with it may run one.
      const { app } = await d.apps.require(actor, name, 'write');
      if (!actor) throw new AppError('unauthenticated', 'authentication required');
      const target = d.targets.ofApp(app);
      const release = await target.releases.activeRelease();
      if (!release) throw conflict(`'${app.name}' has no live release yet: push to deploy it`);
      const done = d.quota.acquire(actor);
      const output = new PassThrough();
      // A caller that stops reading (gone, or destroyed the stream) stops the command too.
      const gone = new AbortController();
      let ended = false;
      output.on('close', () => { if (!ended) gone.abort(); });
      o.signal?.addEventListener('abort', () => { gone.abort(); }, { once: true });
      let bytes = 0;
      let cut = false;
      const raw = (chunk: Buffer): void => {
        if (cut) return;
        bytes += chunk.length;
        if (bytes > d.maxOutputBytes) {
          cut = true;
          output.write(`\r\n[solum: output cut after ${d.maxOutputBytes} bytes; the command goes on]\r\n`);
          return;
        }
        output.write(chunk);
      };
      // Without a terminal the output is text, cleaned like every log; a terminal gets its bytes.
      const lines = lineSink({ maxBytes: d.maxOutputBytes, line: (l) => output.write(`${l}\n`), truncated: `[solum: output cut after ${d.maxOutputBytes} bytes; the command goes on]` });
      try {
        const session = await d.oneOffs.start(target, release, {
          kind: 'run',
          command,
          process: `run.${++counter}`,
          onOutput: o.tty ? raw : (c) => { lines.output(c); },
          timeoutMs: d.timeoutMs,
          ...(o.stdin ? { stdin: o.stdin } : {}),
          ...(o.tty && o.stdin ? { tty: o.tty } : {}),
          signal: gone.signal,
        });
        const exited = session.done.then(
          (r) => {
            if (!o.tty) lines.end();
            ended = true;
            output.end();
            return { exitCode: r.timedOut ? 124 : r.oomKilled ? 137 : r.exitCode, timedOut: r.timedOut, oomKilled: r.oomKilled };
          },
          (err: unknown) => {
            ended = true;
            output.end();
            throw err;
          },
        ).finally(done);
        return { output, resize: (cols, rows) => { session.resize(cols, rows); }, exited, release: `v${release.version}` };
      } catch (err) {
        done();
        throw err;
      }
    },
  };
}
