// One-off commands and scheduled jobs of an app: `solum run CMD…` (its output, then its exit status
// as the CLI's), `solum cron:list`, `solum cron:run ID`.
import type { Command } from 'commander';
import { listCron, runCron } from '../../operations/cron.js';
import { createRun } from '../../operations/runs.js';
import { define, type Io } from '../context.js';
import { CliError, ExitStatus, UsageError } from '../errors.js';
import { relativeTime } from '../output.js';

/** One line of a run's answer (runs:create), as the server writes them. */
interface RunLine {
  readonly release?: string;
  readonly output?: string;
  readonly exit?: { readonly exitCode: number; readonly timedOut: boolean; readonly oomKilled: boolean };
  readonly error?: string;
}

export function registerOneOffs(program: Command, io: Io): void {
  define(program, io, {
    usage: 'run <command...>',
    summary: 'run a command in a one-off container of the live release, with its config; exits with its status',
    app: true,
    help: 'Put -- before a command that has options of its own: solum run -a hello -- node migrate.js --dry-run\nWith --json, the server\'s JSON lines as they come. For a terminal (an interactive shell) use ssh -t … run APP -- bash.',
    async run(ctx) {
      const app = await ctx.app();
      const command = ctx.args.join(' ').trim();
      if (command === '') throw new UsageError('give a command to run');
      let pending = '';
      let exit: RunLine['exit'];
      const handle = (raw: string): void => {
        if (raw.trim() === '') return;
        if (ctx.out.json) ctx.out.write(`${raw}\n`);
        const line = JSON.parse(raw) as RunLine;
        if (line.exit) exit = line.exit;
        if (line.error) throw new CliError(line.error);
        if (!ctx.out.json && line.output !== undefined) ctx.out.write(line.output);
      };
      for await (const chunk of (await ctx.api()).stream(createRun, { app, command })) {
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const p of parts) handle(p);
      }
      handle(pending);
      if (!exit) throw new CliError('the run ended without an exit status (the connection broke?)');
      if (exit.timedOut) io.stderr.write('solum: the command ran out of time and was stopped\n');
      if (exit.oomKilled) io.stderr.write('solum: the command ran out of memory and was killed\n');
      if (exit.exitCode !== 0) throw new ExitStatus(exit.exitCode);
    },
  });

  define(program, io, {
    usage: 'cron:list',
    summary: "an app's scheduled jobs (app.json cron), their next time and last run",
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const jobs = await (await ctx.api()).call(listCron, { app });
      ctx.out.emit(jobs, () =>
        ctx.out.table(
          ['ID', 'SCHEDULE', 'ZONE', 'COMMAND', 'NEXT', 'LAST', 'RUNS', 'SKIPPED'],
          jobs.map((j) => [j.id, j.schedule, j.zone, j.command, j.nextAt ? relativeTime(j.nextAt) : '-', j.running ? 'running' : j.lastExitCode === null ? '-' : `exit ${j.lastExitCode}`, String(j.runs), String(j.skipped)]),
          'No scheduled jobs (app.json cron)',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'cron:run <id>',
    summary: 'run a scheduled job now and wait for its end (its output: solum logs)',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const id = ctx.arg(0) ?? '';
      const r = await ctx.spin(`Running ${id}`, (await ctx.api()).call(runCron, { app, id }));
      ctx.out.emit(r, () => `${r.error ?? `Cron job ${r.job} exited with status ${r.exitCode}`} (output: solum logs)\n`);
      if (r.exitCode !== 0) throw new ExitStatus(r.exitCode === -1 ? 1 : r.exitCode);
    },
  });
}
