// An app's processes: formation and scaling, the processes themselves, restart/stop/start, their output.
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { ReleaseService } from '../deploy/release-service.js';
import { parseAssignment, parseWholeNumber } from '../parse.js';
import { defineOperation, flag, usage, wholeNumber, wordsOf } from './operation.js';
import { table } from './text.js';
import { processView } from './views.js';

interface Deps {
  readonly releases: ReleaseService;
}

const app = z.object({ app: z.string() });

export const showFormation = defineOperation(
  {
    name: 'formation',
    summary: 'Process counts',
    access: { app: 'read' },
    input: app,
    http: { method: 'GET', path: '/v1/apps/:app/formation' },
  },
  (d: Deps) => ({ run: (actor, i) => d.releases.formation(actor, i.app) }),
);

export const scale = defineOperation(
  {
    name: 'ps:scale',
    summary: 'Scale process types',
    access: { app: 'write' },
    input: z.object({ app: z.string(), changes: z.record(z.string(), z.number().int()) }),
    http: { method: 'PATCH', path: '/v1/apps/:app/formation', body: { into: 'changes' } },
    ssh: {
      usage: 'ps:scale APP TYPE=N ...',
      help: 'run N processes of each type',
      args: ['app'],
      rest: { into: 'assignments', max: 19 },
      map: ({ assignments, ...w }) => ({
        ...w,
        changes: Object.fromEntries(
          wordsOf(assignments).map((a) => {
            const [k, v] = parseAssignment(a) ?? usage(`expected KEY=VALUE, got ${JSON.stringify(a.slice(0, 40))}`);
            return [k, parseWholeNumber(v, 999) ?? usage(`${k}: give a whole number`)];
          }),
        ),
      }),
    },
  },
  (d: Deps) => ({
    run: (actor, i) => d.releases.scale(actor, i.app, i.changes),
    text: (f) => `${Object.entries(f).map(([k, n]) => `${k}=${n}`).join(' ')}\n`,
  }),
);

export const listProcesses = defineOperation(
  {
    name: 'ps',
    summary: "The app's processes",
    access: { app: 'read' },
    input: app,
    http: { method: 'GET', path: '/v1/apps/:app/processes', list: true },
    ssh: { usage: 'ps APP', help: "list an app's processes", args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.releases.processes(actor, i.app)).map(processView),
    text: (list) => (list.length === 0 ? 'no processes\n' : table([['PROCESS', 'RELEASE', 'STATE', 'PORT'], ...list.map((x) => [x.name, `v${x.release}`, x.state, x.port === null ? '-' : String(x.port)])])),
  }),
);

export const restart = defineOperation(
  {
    name: 'ps:restart',
    summary: 'Replace every process of the live release (zero downtime for web)',
    access: { app: 'write' },
    input: app,
    http: { method: 'POST', path: '/v1/apps/:app/actions/restart', status: 204 },
    ssh: { usage: 'ps:restart APP', args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => ({ restarted: `v${(await d.releases.restart(actor, i.app)).version}` }),
    text: (r) => `restarted ${r.restarted}\n`,
  }),
);

export const stop = defineOperation(
  {
    name: 'ps:stop',
    summary: 'Stop every process (stays stopped across restarts)',
    access: { app: 'write' },
    input: app,
    http: { method: 'POST', path: '/v1/apps/:app/actions/stop', status: 204 },
    ssh: { usage: 'ps:stop APP', args: ['app'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.releases.stop(actor, i.app);
      return { stopped: i.app };
    },
    text: (r) => `stopped ${r.stopped}\n`,
  }),
);

export const start = defineOperation(
  {
    name: 'ps:start',
    summary: 'Start a stopped app again',
    access: { app: 'write' },
    input: app,
    http: { method: 'POST', path: '/v1/apps/:app/actions/start', status: 204 },
    ssh: { usage: 'ps:start APP', args: ['app'] },
  },
  (d: Deps) => ({
    run: async (actor, i) => ({ started: `v${(await d.releases.start(actor, i.app)).version}` }),
    text: (r) => `started ${r.started}\n`,
  }),
);

export const logs = defineOperation(
  {
    name: 'logs',
    summary: 'Process output; ?follow=1&tail=N',
    access: { app: 'read' },
    input: z.object({ app: z.string(), follow: flag(), tail: wholeNumber('tail is a whole number from 0 to 10000', 10_000).default(100) }),
    http: { method: 'GET', path: '/v1/apps/:app/logs', query: ['follow', 'tail'], produces: 'text' },
    ssh: { usage: 'logs APP [-f|--follow] [--tail N]', help: "an app's process output; -f keeps following it", args: ['app'], switches: { '-f': 'follow', '--follow': 'follow' }, options: { '--tail': 'tail' } },
  },
  (d: Deps) => ({
    run: (actor, i): Promise<Readable> => d.releases.logs(actor, i.app, { follow: i.follow, tail: i.tail }),
  }),
);

export const processOperations = [listProcesses, showFormation, scale, restart, stop, start, logs];
