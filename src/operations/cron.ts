// An app's scheduled jobs (app.json cron): list them with their next time and how their runs went;
// run one now. Their output is the app's logs.
import { z } from 'zod';
import type { CronScheduler } from '../deploy/cron-scheduler.js';
import { defineOperation } from './operation.js';
import { table, when } from './text.js';
import { cronJobView } from './views.js';

interface Deps {
  readonly cron: CronScheduler;
}

export const listCron = defineOperation(
  {
    name: 'cron:list',
    summary: "The app's scheduled jobs (app.json cron), their next time and last run",
    access: { app: 'read' },
    input: z.object({ app: z.string() }),
    http: { method: 'GET', path: '/v1/apps/:app/cron', list: true },
    ssh: { usage: 'cron:list APP', help: "list an app's scheduled jobs", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.cron.list(actor, i.app)).map(cronJobView),
    text: (list) =>
      list.length === 0
        ? 'no scheduled jobs (app.json cron)\n'
        : table([
            ['ID', 'SCHEDULE', 'ZONE', 'COMMAND', 'NEXT', 'LAST', 'RUNS', 'SKIPPED'],
            ...list.map((j) => [j.id, j.schedule, j.zone, j.command.length > 40 ? `${j.command.slice(0, 37)}...` : j.command, when(j.nextAt), j.running ? 'running' : j.lastExitCode === null ? '-' : `exit ${j.lastExitCode}`, String(j.runs), String(j.skipped)]),
          ]),
  }),
);

export const runCron = defineOperation(
  {
    name: 'cron:run',
    summary: 'Run a scheduled job now and wait for its end (its output: logs); refused while it runs',
    access: { app: 'write' },
    input: z.object({ app: z.string(), id: z.string().max(64) }),
    http: { method: 'POST', path: '/v1/apps/:app/cron/:id/runs' },
    ssh: { usage: 'cron:run APP ID', help: 'run a scheduled job now; its output is in logs APP', args: ['app', 'id'] },
  },
  (d: Deps) => ({
    run: (actor, i) => d.cron.runNow(actor, i.app, i.id),
    text: (r, i) => `${r.error ?? `cron job ${r.job} exited with status ${r.exitCode}`} (output: logs ${i.app})\n`,
  }),
);

export const cronOperations = [listCron, runCron];
