// Backing services (postgres, redis): create, list, inspect, link to apps, unlink, destroy.
// Backups and restores stream binary data: use the API or `ssh … services:backup` for those.
import type { Command } from 'commander';
import { createService, destroyService, linkService, listServices, serviceInfo, unlinkService } from '../../operations/services.js';
import { define, type Io } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { relativeTime } from '../output.js';
import { promptLine, stdinIsTTY } from '../prompt.js';

export function registerServices(program: Command, io: Io): void {
  define(program, io, {
    usage: 'services',
    summary: 'list your backing service instances (admins: all)',
    async run(ctx) {
      const list = await (await ctx.api()).call(listServices, {});
      ctx.out.emit(list, () =>
        ctx.out.table(['NAME', 'KIND', 'OWNER', 'PORT', 'CREATED'], list.map((s) => [s.name, s.kind, s.owner ?? '-', String(s.port), relativeTime(s.createdAt)]), 'No services: create one with solum services:create postgres NAME'),
      );
    },
  });

  define(program, io, {
    usage: 'services:create <kind> <name>',
    summary: 'create a backing service instance: postgres or redis',
    async run(ctx) {
      const kind = ctx.arg(0) ?? '';
      const name = ctx.arg(1) ?? '';
      const s = await ctx.spin(`Creating ${kind} service ${name}`, (await ctx.api()).call(createService, { kind, name }));
      ctx.out.emit(s, () => `Created ${s.kind} service ${ctx.out.c.bold(s.name)}\n`);
      if (!ctx.out.json) ctx.out.note(`next: solum services:link ${s.name} -a APP`);
    },
  });

  define(program, io, {
    usage: 'services:info <name>',
    summary: 'show an instance: state, links and URL',
    async run(ctx) {
      const s = await (await ctx.api()).call(serviceInfo, { name: ctx.arg(0) ?? '' });
      ctx.out.emit(s, () =>
        ctx.out.details([
          ['name', ctx.out.c.bold(s.name)],
          ['kind', s.kind],
          ['owner', s.owner ?? '-'],
          ['state', s.state],
          ['url', s.url],
          ['links', (s.links ?? []).map((l) => `${l.app} (${l.envVar})`).join(', ') || '-'],
          ['created', relativeTime(s.createdAt)],
        ]),
      );
    },
  });

  define(program, io, {
    usage: 'services:link <name>',
    summary: 'link an instance to an app: sets DATABASE_URL / REDIS_URL (or an alias) and makes a release',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const l = await ctx.spin(`Linking ${ctx.arg(0) ?? ''}`, (await ctx.api()).call(linkService, { name: ctx.arg(0) ?? '', app }));
      ctx.out.emit(l, () => `Linked ${l.service} to ${l.app} as ${l.envVar}${l.release ? ` (v${l.release.version})` : ''}\n`);
    },
  });

  define(program, io, {
    usage: 'services:unlink <name>',
    summary: 'unlink an instance from an app: unsets its config var and makes a release',
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const l = await ctx.spin(`Unlinking ${ctx.arg(0) ?? ''}`, (await ctx.api()).call(unlinkService, { name: ctx.arg(0) ?? '', app }));
      ctx.out.emit(l, () => `Unlinked ${l.service} from ${l.app} (${l.envVar} unset)\n`);
    },
  });

  define(program, io, {
    usage: 'services:destroy <name>',
    summary: 'destroy an instance and its data',
    options: (cmd) => cmd.option('--confirm <name>', 'the instance name again, to confirm').option('--force', 'unlink it from its apps first'),
    async run(ctx) {
      const name = ctx.arg(0) ?? '';
      let confirm = ctx.opt('confirm');
      if (confirm === undefined) {
        if (!stdinIsTTY()) throw new UsageError(`this destroys ${name} and its data: repeat with --confirm ${name}`);
        confirm = (await promptLine(`This destroys ${name} and its data. Type its name to confirm: `)).trim();
      }
      if (confirm !== name) throw new CliError(`confirmation ${JSON.stringify(confirm)} does not match ${name}: nothing destroyed`);
      await ctx.spin(`Destroying ${name}`, (await ctx.api()).call(destroyService, { name, confirm: name, force: ctx.flag('force') }));
      ctx.out.emit({ destroyed: name }, () => `Destroyed service ${name}\n`);
    },
  });
}
