// Preview apps of an app (decision 0020): list them, destroy one, their own config vars, the app's settings.
import type { Command } from 'commander';
import { changePreviewSettings, destroyPreview, listPreviews, previewConfig, setPreviewConfig, showPreviewSettings, type PreviewSettingsJson } from '../../operations/previews.js';
import { define, type Ctx, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { relativeTime } from '../output.js';
import { assignments } from './deploys.js';

const settingsText = (s: PreviewSettingsJson): string => `pattern: ${s.pattern ?? 'off'}\npull requests: ${s.pullRequests ? 'on' : 'off'}\nidle TTL: ${s.ttlSeconds}s\nmax previews: ${s.maxPreviews}\n`;

/** Sets (string) or unsets (null) a preview's own config vars; says what changed. */
async function changeConfig(ctx: Ctx, changes: Record<string, string | null>, verb: string): Promise<void> {
  const [name = '', ...rest] = ctx.args;
  if (rest.length === 0) throw new UsageError('give the preview and at least one config var');
  const app = await ctx.app();
  const r = await ctx.spin(`${verb === 'Set' ? 'Setting' : 'Unsetting'} config of preview ${name}`, (await ctx.api()).call(setPreviewConfig, { app, name, changes }));
  ctx.out.emit(r, () => `${verb} ${Object.keys(changes).join(', ')} on preview ${name} of ${app}${r.release ? `: released v${r.release.version}` : ''}\n`);
}

export function registerPreviews(program: Command, io: Io): void {
  define(program, io, {
    usage: 'previews',
    summary: "list an app's previews: name, branch, URL, state, when each expires idle",
    app: true,
    async run(ctx) {
      const list = await (await ctx.api()).call(listPreviews, { app: await ctx.app() });
      ctx.out.emit(list, () => ctx.out.table(['NAME', 'BRANCH', 'URL', 'STATE', 'RELEASE', 'EXPIRES'], list.map((p) => [p.name, p.branch, p.url, p.state, p.release === null ? '-' : `v${p.release}`, relativeTime(p.expiresAt)]), 'No previews'));
    },
  });

  define(program, io, {
    usage: 'previews:destroy <name>',
    summary: 'tear a preview down completely (processes, router entry, service instances, network, releases)',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const name = ctx.arg(0) ?? '';
      await (await ctx.api()).call(destroyPreview, { app, name });
      ctx.out.emit({ app, destroyed: name }, () => `Destroyed preview ${name} of ${app}\n`);
    },
  });

  define(program, io, {
    usage: 'previews:settings',
    summary: "show an app's preview settings, or change them with --pattern, --pull-requests, --ttl and --max",
    app: true,
    options: (cmd) => {
      cmd.option('--pattern <glob>', 'branches that get a preview when pushed, like preview/* (off: none)');
      cmd.option('--pull-requests <on|off>', 'pull requests (by webhook) become previews, without the app\'s config');
      cmd.option('--ttl <duration>', 'an idle preview is torn down after this long: 7d, 12h, 30m, 45s');
      cmd.option('--max <n>', 'at most this many previews of the app (0 to 100)');
    },
    async run(ctx) {
      const app = await ctx.app();
      const pattern = ctx.opt('pattern');
      const ttl = ctx.opt('ttl');
      const max = ctx.opt('max');
      const pr = ctx.opt('pullRequests');
      if (max !== undefined && !/^\d{1,3}$/.test(max)) throw new UsageError('--max takes a whole number from 0 to 100');
      if (pr !== undefined && pr !== 'on' && pr !== 'off') throw new UsageError('--pull-requests takes on or off');
      const api = await ctx.api();
      const s =
        pattern === undefined && ttl === undefined && max === undefined && pr === undefined
          ? await api.call(showPreviewSettings, { app })
          : await api.call(changePreviewSettings, { app, ...(pattern !== undefined ? { pattern } : {}), ...(ttl !== undefined ? { ttl } : {}), ...(max !== undefined ? { maxPreviews: Number(max) } : {}), ...(pr !== undefined ? { pullRequests: pr === 'on' } : {}) });
      ctx.out.emit(s, () => settingsText(s));
    },
  });

  define(program, io, {
    usage: 'previews:config <name>',
    summary: "show a preview's own config vars (set over its copy of the app's)",
    app: true,
    async run(ctx) {
      const c = await (await ctx.api()).call(previewConfig, { app: await ctx.app(), name: ctx.arg(0) ?? '' });
      ctx.out.emit(c, () => ctx.out.table(['KEY', 'VALUE'], Object.entries(c), 'No config vars of its own'));
    },
  });

  define(program, io, {
    usage: 'previews:config:set <name> <pairs...>',
    summary: "set a preview's own config vars (KEY=VALUE ...): a new release of it",
    app: true,
    async run(ctx) {
      await changeConfig(ctx, Object.fromEntries(assignments(ctx.args.slice(1))), 'Set');
    },
  });

  define(program, io, {
    usage: 'previews:config:unset <name> <keys...>',
    summary: "unset a preview's own config vars (KEY ...): the app's values apply again",
    app: true,
    async run(ctx) {
      await changeConfig(ctx, Object.fromEntries(ctx.args.slice(1).map((k) => [k, null])), 'Unset');
    },
  });
}
