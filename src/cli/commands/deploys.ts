// Builds, releases, config vars, processes and logs of one app.
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { buildById, cancelBuildById, listBuilds } from '../../operations/builds.js';
import { packInfo, listPacks } from '../../operations/packs.js';
import { listProcesses, logs, restart, scale, showFormation, start, stop } from '../../operations/processes.js';
import { listReleases, releaseInfo, rollback, showConfig, updateConfig } from '../../operations/releases.js';
import { abortCanary, promoteCanary, startCanary } from '../../operations/canaries.js';
import type { BuildJson } from '../../operations/views.js';
import { parseAssignment, parseCanaryShare, parsePositiveInt, parseVersion, parseWholeNumber } from '../../parse.js';
import type { ApiClient } from '../api-client.js';
import { define, type Ctx, type Io } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { duration, relativeTime, status } from '../output.js';

const FOLLOW_INTERVAL_MS = 1000;
const unfinished = (b: BuildJson): boolean => b.status === 'queued' || b.status === 'running';

const version = (raw: string): number => {
  const v = parseVersion(raw);
  if (v === undefined) throw new UsageError(`release versions look like v3, not ${JSON.stringify(raw)}`);
  return v;
};

const tailOption = (raw: string): number => {
  const n = parseWholeNumber(raw, 10_000);
  if (n === undefined) throw new InvalidArgumentError('give a whole number from 0 to 10000');
  return n;
};

/** KEY=VALUE words; the value may itself contain '=' and may be empty. */
export const assignments = (words: readonly string[]): (readonly [string, string])[] =>
  words.map((w) => {
    const a = parseAssignment(w);
    if (!a) throw new UsageError(`expected KEY=VALUE, got ${JSON.stringify(w)}`);
    return a;
  });

const listing = (keys: readonly string[]): string => keys.join(', ');

/**
 * A build by the number shown in `solum builds` when an app is known (-a or the git remote),
 * else by its server-wide ID. The API has no by-number route, so the app's list is searched.
 */
async function findBuild(ctx: Ctx, api: ApiClient, ref: string | undefined): Promise<BuildJson> {
  const n = ref === undefined ? undefined : parsePositiveInt(ref.replace(/^#/, ''));
  if (ref !== undefined && n === undefined) throw new UsageError(`builds are given by number, like 3, not ${JSON.stringify(ref)}`);
  const byId = (id: number): Promise<BuildJson> => api.call(buildById, { id: String(id) });
  if (n === undefined) {
    if (ctx.flag('id')) throw new UsageError('--id needs a build ID');
    const app = await ctx.app();
    const newest = (await api.call(listBuilds, { app }))[0];
    if (!newest) throw new CliError(`${app} has no builds yet: git push to build it`);
    return newest;
  }
  const app = ctx.flag('id') ? undefined : await ctx.appIfKnown();
  if (app === undefined) return byId(n);
  const found = (await api.call(listBuilds, { app })).find((b) => b.number === n);
  if (!found) throw new CliError(`${app} has no build #${n} (use --id for a server-wide build ID)`);
  return found;
}

/** Splits streamed text into whole lines for --json, keeping a partial last line for later. */
class LineEmitter {
  private pending = '';
  constructor(private readonly ctx: Ctx) {}

  push(text: string): void {
    if (!this.ctx.out.json) {
      this.ctx.out.write(text);
      return;
    }
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop() ?? '';
    for (const line of parts) this.ctx.out.write(`${JSON.stringify({ line })}\n`);
  }

  end(): void {
    if (this.ctx.out.json && this.pending !== '') this.ctx.out.write(`${JSON.stringify({ line: this.pending })}\n`);
    this.pending = '';
  }
}

export function registerDeploys(program: Command, io: Io): void {
  const idOption = (cmd: Command): void => {
    cmd.option('--id', 'the argument is a server-wide build ID, not the build number within the app');
  };

  define(program, io, {
    usage: 'builds',
    summary: "list an app's builds, newest first",
    app: true,
    async run(ctx) {
      const builds = await (await ctx.api()).call(listBuilds, { app: await ctx.app() });
      const c = ctx.out.c;
      ctx.out.emit(builds, () =>
        ctx.out.table(
          ['#', 'ID', 'STATUS', 'REF', 'COMMIT', 'TOOK', 'CREATED'],
          builds.map((b) => [String(b.number), String(b.id), status(b.status, c), b.ref.replace(/^refs\/heads\//, ''), b.commit.slice(0, 12), duration(b.startedAt, b.finishedAt), relativeTime(b.createdAt)]),
          'No builds yet: git push solum to build',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'builds:info [build]',
    summary: 'show one build (by its number in the app; the newest if none given)',
    app: true,
    options: idOption,
    async run(ctx) {
      const b = await findBuild(ctx, await ctx.api(), ctx.arg(0));
      const c = ctx.out.c;
      ctx.out.emit(b, () =>
        ctx.out.details([
          ['build', `${c.bold(`#${b.number}`)} of ${b.app} (ID ${b.id})`],
          ['status', status(b.status, c)],
          ['ref', b.ref],
          ['commit', b.commit],
          ['language pack', b.languagePack ?? '-'],
          ['deployment unit', b.duImage ? `${b.duImage} ${b.duId ?? ''}` : '-'],
          ['exit code', b.exitCode === null ? '-' : String(b.exitCode)],
          ['error', b.error ? c.red(b.error) : '-'],
          ['created', relativeTime(b.createdAt)],
          ['took', duration(b.startedAt, b.finishedAt)],
        ]),
      );
    },
  });

  define(program, io, {
    usage: 'builds:logs [build]',
    summary: "a build's log (the newest build if none given); -f follows it while it runs",
    app: true,
    options: (cmd) => {
      cmd.option('-f, --follow', 'keep printing until the build finishes');
      idOption(cmd);
    },
    help: 'With --json, one {"line": …} object per line of log.',
    async run(ctx) {
      const api = await ctx.api();
      const build = await findBuild(ctx, api, ctx.arg(0));
      const out = new LineEmitter(ctx);
      let printed = 0;
      let last = build;
      for (;;) {
        // The status is read before the log: once it reads finished, the log read after it is whole.
        if (ctx.flag('follow')) last = await api.call(buildById, { id: String(build.id) });
        const log = await api.text(`/v1/builds/${build.id}/log`);
        if (log.length > printed) {
          out.push(log.slice(printed));
          printed = log.length;
        }
        if (!ctx.flag('follow') || !unfinished(last)) break;
        await sleep(FOLLOW_INTERVAL_MS);
      }
      out.end();
      if (ctx.flag('follow') && !ctx.out.json) ctx.out.note(`build #${last.number} ${last.status}`);
    },
  });

  define(program, io, {
    usage: 'builds:cancel [build]',
    summary: 'cancel a queued or running build (the newest if none given)',
    app: true,
    options: idOption,
    async run(ctx) {
      const api = await ctx.api();
      const b = await findBuild(ctx, api, ctx.arg(0));
      const after = await ctx.spin(`Canceling build #${b.number}`, api.call(cancelBuildById, { id: String(b.id) }));
      ctx.out.emit(after, () => (after.status === 'canceled' ? `Canceled build #${after.number}\n` : `Stopping build #${after.number}\n`));
    },
  });

  define(program, io, {
    usage: 'lp [query]',
    summary: 'language packs, stock and registered (optionally those matching a query)',
    async run(ctx) {
      const api = await ctx.api();
      const q = ctx.arg(0);
      const list = await api.call(listPacks, { q: q || undefined });
      ctx.out.emit(list, () => ctx.out.table(['NAME', 'VERSION', 'ORIGIN', 'STATUS', 'DETECTS'], list.map((p) => [p.name, p.version, p.origin, p.status, p.detect.join(', ') || '(fallback)']), 'no language packs'));
    },
  });

  define(program, io, {
    usage: 'lp:info <name>',
    summary: 'one language pack',
    async run(ctx) {
      const api = await ctx.api();
      const p = await api.call(packInfo, { name: ctx.arg(0) ?? '' });
      ctx.out.emit(p, () => ctx.out.details(Object.entries(p).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : typeof v === 'string' || typeof v === 'number' ? String(v) : '-'])));
    },
  });

  define(program, io, {
    usage: 'releases',
    summary: "list an app's releases, newest first",
    app: true,
    async run(ctx) {
      const list = await (await ctx.api()).call(listReleases, { app: await ctx.app() });
      const c = ctx.out.c;
      ctx.out.emit(list, () =>
        ctx.out.table(
          ['VERSION', 'STATUS', 'DESCRIPTION', 'BY', 'CREATED'],
          list.map((r) => [`v${r.version}`, r.canary ? c.bold(`canary ${r.canary.percent}%`) : status(r.status, c), r.description, r.createdBy ?? '-', relativeTime(r.createdAt)]),
          'No releases yet: a successful build of the deploy branch makes v1',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'releases:info <version>',
    summary: 'show one release (v3 or 3)',
    app: true,
    async run(ctx) {
      const r = await (await ctx.api()).call(releaseInfo, { app: await ctx.app(), version: String(version(ctx.arg(0) ?? '')) });
      const c = ctx.out.c;
      ctx.out.emit(r, () =>
        ctx.out.details([
          ['release', c.bold(`v${r.version}`)],
          ['status', status(r.status, c)],
          ['canary', r.canary ? `${r.canary.percent}% of new sessions since ${relativeTime(r.canary.since)}` : '-'],
          ['description', r.description],
          ['by', r.createdBy ?? '-'],
          ['deployment unit', `${r.duImage} ${r.duId}`],
          ['build', r.buildId === null ? '-' : `ID ${r.buildId}`],
          ['processes', Object.entries(r.processTypes).map(([t, cmd]) => `${t}: ${cmd}`).join('; ') || '-'],
          ['config vars', listing(r.configKeys) || '-'],
          ['error', r.error ? c.red(r.error) : '-'],
          ['created', relativeTime(r.createdAt)],
        ]),
      );
    },
  });

  define(program, io, {
    usage: 'releases:rollback <version>',
    summary: "make a new release from vN's deployment unit and config",
    app: true,
    async run(ctx) {
      const v = version(ctx.arg(0) ?? '');
      const app = await ctx.app();
      const api = await ctx.api();
      const r = await ctx.spin(`Rolling ${app} back to v${v}`, api.call(rollback, { app, rollback: v }));
      ctx.out.emit(r, () => `Rolled ${app} back to v${v}: now v${r.version} (${status(r.status, ctx.out.c)})\n`);
    },
  });

  define(program, io, {
    usage: 'releases:canary <version> <percent>',
    summary: 'send PERCENT% of new sessions to release vN, each client kept on its release (again: change the share)',
    app: true,
    async run(ctx) {
      const v = version(ctx.arg(0) ?? '');
      const raw = ctx.arg(1) ?? '';
      const percent = parseCanaryShare(raw);
      if (percent === undefined) throw new UsageError(`PERCENT is a whole number from 1 to 99, not ${JSON.stringify(raw.slice(0, 20))}`);
      const app = await ctx.app();
      const api = await ctx.api();
      const r = await ctx.spin(`Starting v${v} as ${app}'s canary`, api.call(startCanary, { app, version: v, percent }));
      ctx.out.emit(r, () => `Canary v${r.version} of ${app}: ${r.percent}% of new sessions (releases:promote or releases:abort)\n`);
    },
  });

  define(program, io, {
    usage: 'releases:promote',
    summary: 'make the running canary the live release',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const api = await ctx.api();
      const r = await ctx.spin(`Promoting ${app}'s canary`, api.call(promoteCanary, { app }));
      ctx.out.emit(r, () => `Promoted: v${r.version} of ${app} is live\n`);
    },
  });

  define(program, io, {
    usage: 'releases:abort',
    summary: 'stop the running canary; every session goes back to the live release',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const api = await ctx.api();
      const r = await ctx.spin(`Aborting ${app}'s canary`, api.call(abortCanary, { app }));
      ctx.out.emit(r, () => `Canary v${r.version} of ${app} aborted\n`);
    },
  });

  define(program, io, {
    usage: 'config',
    summary: "show an app's config vars (app admins)",
    app: true,
    async run(ctx) {
      const config = await (await ctx.api()).call(showConfig, { app: await ctx.app() });
      const entries = Object.entries(config).sort(([a], [b]) => a.localeCompare(b));
      ctx.out.emit(config, () => (entries.length === 0 ? 'No config vars\n' : ctx.out.details(entries)));
    },
  });

  define(program, io, {
    usage: 'config:get <key>',
    summary: 'print one config var, as is (for scripts)',
    app: true,
    async run(ctx) {
      const key = ctx.arg(0) ?? '';
      const config = await (await ctx.api()).call(showConfig, { app: await ctx.app() });
      const value = config[key];
      if (value === undefined) throw new CliError(`${key} is not set`);
      ctx.out.emit({ [key]: value }, () => `${value}\n`);
    },
  });

  const changeConfig = async (ctx: Ctx, change: Record<string, string | null>, verb: string): Promise<void> => {
    const app = await ctx.app();
    const api = await ctx.api();
    const r = await ctx.spin(`Updating ${app}'s config`, api.call(updateConfig, { app, changes: change }));
    const keys = listing(Object.keys(change));
    ctx.out.emit(r, () =>
      r.release ? `${verb} ${keys} and released v${r.release.version} (${status(r.release.status, ctx.out.c)})\n` : `${verb} ${keys}: stored, used from ${app}'s first release\n`,
    );
  };

  define(program, io, {
    usage: 'config:set <pairs...>',
    summary: 'set config vars (KEY=VALUE ...): a new release, no build',
    app: true,
    async run(ctx) {
      await changeConfig(ctx, Object.fromEntries(assignments(ctx.args)), 'Set');
    },
  });

  define(program, io, {
    usage: 'config:unset <keys...>',
    summary: 'unset config vars (KEY ...): a new release, no build',
    app: true,
    async run(ctx) {
      const bad = ctx.args.find((k) => k.includes('='));
      if (bad !== undefined) throw new UsageError(`config:unset takes names, not ${JSON.stringify(bad)} (did you mean config:set?)`);
      await changeConfig(ctx, Object.fromEntries(ctx.args.map((k) => [k, null])), 'Unset');
    },
  });

  define(program, io, {
    usage: 'ps',
    summary: "an app's processes and formation (--json: {formation, processes})",
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const api = await ctx.api();
      const [formation, processes] = await Promise.all([api.call(showFormation, { app }), api.call(listProcesses, { app })]);
      const c = ctx.out.c;
      const counts = Object.entries(formation).map(([t, n]) => `${t}=${n}`).join(' ') || '-';
      ctx.out.emit({ formation, processes }, () =>
        `${c.bold('formation:')} ${counts}\n` +
        ctx.out.table(
          ['PROCESS', 'RELEASE', 'STATE', 'PORT'],
          processes.map((p) => [p.name, `v${p.release}`, status(p.state, c), p.port === null ? '-' : String(p.port)]),
          'No processes running',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'ps:scale <pairs...>',
    summary: 'run N processes of each type (web=2 worker=1 ...)',
    app: true,
    async run(ctx) {
      const changes: Record<string, number> = {};
      for (const [type, raw] of assignments(ctx.args)) {
        const n = parseWholeNumber(raw, 999);
        if (n === undefined) throw new UsageError(`${type}: give a whole number, not ${JSON.stringify(raw)}`);
        changes[type] = n;
      }
      const app = await ctx.app();
      const api = await ctx.api();
      const f = await ctx.spin(`Scaling ${app}`, api.call(scale, { app, changes }));
      ctx.out.emit(f, () => `Scaled ${app}: ${Object.entries(f).map(([t, n]) => `${t}=${n}`).join(' ')}\n`);
    },
  });

  for (const [action, op, doing, done, summary] of [
    ['restart', restart, 'Restarting', 'Restarted', 'replace every process of the live release (zero downtime for web)'],
    ['stop', stop, 'Stopping', 'Stopped', 'stop every process (stays stopped until ps:start)'],
    ['start', start, 'Starting', 'Started', 'start a stopped app again'],
  ] as const) {
    define(program, io, {
      usage: `ps:${action}`,
      summary,
      app: true,
      async run(ctx) {
        const app = await ctx.app();
        const api = await ctx.api();
        await ctx.spin(`${doing} ${app}`, api.call(op, { app }));
        ctx.out.emit({ app, action }, () => `${done} ${app}\n`);
      },
    });
  }

  define(program, io, {
    usage: 'logs',
    summary: "an app's process output; -f keeps following it",
    app: true,
    options: (cmd) => cmd.option('-f, --follow', 'keep streaming new output').option('-n, --tail <n>', 'lines of history to start with (0-10000)', tailOption, 100),
    help: 'With --json, one {"line": …} object per line.',
    async run(ctx) {
      const app = await ctx.app();
      const tail: unknown = ctx.cmd.opts()['tail'];
      const out = new LineEmitter(ctx);
      for await (const chunk of (await ctx.api()).stream(logs, { app, tail: String(typeof tail === 'number' ? tail : 100), follow: ctx.flag('follow') })) out.push(chunk);
      out.end();
    },
  });
}
