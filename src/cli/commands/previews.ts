// Preview apps of an app (decision 0020): list them, destroy one, read or change the app's settings.
import type { Command } from 'commander';
import { changePreviewSettings, destroyPreview, listPreviews, showPreviewSettings, type PreviewSettingsJson } from '../../operations/previews.js';
import { define, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { relativeTime } from '../output.js';

const settingsText = (s: PreviewSettingsJson): string => `pattern: ${s.pattern ?? 'off'}\nidle TTL: ${s.ttlSeconds}s\nmax previews: ${s.maxPreviews}\n`;

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
    summary: "show an app's preview settings, or change them with --pattern, --ttl and --max",
    app: true,
    options: (cmd) => {
      cmd.option('--pattern <glob>', 'branches that get a preview when pushed, like preview/* (off: none)');
      cmd.option('--ttl <duration>', 'an idle preview is torn down after this long: 7d, 12h, 30m, 45s');
      cmd.option('--max <n>', 'at most this many previews of the app (0 to 100)');
    },
    async run(ctx) {
      const app = await ctx.app();
      const pattern = ctx.opt('pattern');
      const ttl = ctx.opt('ttl');
      const max = ctx.opt('max');
      if (max !== undefined && !/^\d{1,3}$/.test(max)) throw new UsageError('--max takes a whole number from 0 to 100');
      const api = await ctx.api();
      const s =
        pattern === undefined && ttl === undefined && max === undefined
          ? await api.call(showPreviewSettings, { app })
          : await api.call(changePreviewSettings, { app, ...(pattern !== undefined ? { pattern } : {}), ...(ttl !== undefined ? { ttl } : {}), ...(max !== undefined ? { maxPreviews: Number(max) } : {}) });
      ctx.out.emit(s, () => settingsText(s));
    },
  });
}
