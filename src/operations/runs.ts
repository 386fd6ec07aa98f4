// One-off commands in a container of the app's live release with its config: `run APP -- CMD` over
// SSH (standard input, a terminal when the client asks for one, the command's exit status), and the
// same over HTTP as a stream of JSON lines (its output, then how it ended).
import { PassThrough, type Readable } from 'node:stream';
import { z } from 'zod';
import type { RunService, RunSession } from '../deploy/run-service.js';
import { defineOperation, stream } from './operation.js';

interface Deps {
  readonly runs: RunService;
}

const command = z.string().min(1, 'give a command to run').max(8192);

/** A terminal the SSH client asked for (pty-req). */
const terminal = z.object({ term: z.string().max(64), cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) });

export const runInteractive = defineOperation(
  {
    name: 'run',
    summary: 'Run a command in a one-off container of the live release, with its config (ssh -t for a terminal); exits with its status',
    access: { app: 'write' },
    input: z.object({ app: z.string(), command, stdin: stream().optional(), tty: terminal.optional() }),
    ssh: { usage: 'run APP -- COMMAND...', help: 'run a command in a one-off container of the live release (ssh -t: with a terminal)', interactive: true },
  },
  (d: Deps) => ({
    run: (actor, i): Promise<RunSession> => d.runs.start(actor, i.app, { command: i.command, ...(i.stdin ? { stdin: i.stdin } : {}), ...(i.tty ? { tty: i.tty } : {}) }),
  }),
);

/** A run's output and end as JSON lines: `{"output": "…"}` as it comes, then `{"exit": {...}}` (or `{"error": "…"}`). */
function jsonLines(s: RunSession): Readable {
  const out = new PassThrough();
  out.write(`${JSON.stringify({ release: s.release })}\n`);
  s.output.on('data', (c: Buffer) => out.write(`${JSON.stringify({ output: c.toString('utf8') })}\n`));
  s.output.on('end', () => {
    s.exited.then(
      (exit) => { out.end(`${JSON.stringify({ exit })}\n`); },
      () => { out.end(`${JSON.stringify({ error: 'the command could not run to its end (see the server log)' })}\n`); },
    );
  });
  out.on('close', () => { s.output.destroy(); });
  return out;
}

export const createRun = defineOperation(
  {
    name: 'runs:create',
    summary: 'Run a command in a one-off container of the live release; answers JSON lines: {"output"} as it comes, then {"exit": {exitCode, timedOut, oomKilled}}',
    access: { app: 'write' },
    input: z.object({ app: z.string(), command }).strict(),
    http: { method: 'POST', path: '/v1/apps/:app/runs', body: 'fields', produces: 'ndjson' },
  },
  (d: Deps) => ({
    run: async (actor, i): Promise<Readable> => jsonLines(await d.runs.start(actor, i.app, { command: i.command })),
  }),
);

export const runOperations = [runInteractive, createRun];
