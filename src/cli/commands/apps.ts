// Apps, who may work on them, and the git remote that pushes to them.
import { Option, type Command } from 'commander';
import { appInfo, createApp, destroyApp, listApps, updateApp } from '../../operations/apps.js';
import { addCollaborator, listCollaborators, removeCollaborator } from '../../operations/collaborators.js';
import { parsePositiveInt } from '../../parse.js';
import { parseAppRole } from '../../roles.js';
import { define, type Io } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { remoteUrlFor, REMOTE, setRemote } from '../git-remote.js';
import { relativeTime } from '../output.js';
import { promptLine, stdinIsTTY } from '../prompt.js';

const sshPort = (raw: string): number => {
  const n = parsePositiveInt(raw, 5);
  if (n === undefined || n > 65_535) throw new UsageError(`--ssh-port takes a port number, not ${JSON.stringify(raw)}`);
  return n;
};

export function registerApps(program: Command, io: Io): void {
  define(program, io, {
    usage: 'apps',
    summary: 'list the apps you can see',
    async run(ctx) {
      const apps = await (await ctx.api()).call(listApps, {});
      ctx.out.emit(apps, () =>
        ctx.out.table(
          ['NAME', 'PACK', 'PUBLIC', 'CREATED'],
          apps.map((a) => [a.name, a.languagePack ?? '-', a.public ? 'yes' : 'no', relativeTime(a.createdAt)]),
          'No apps: create one with solum apps:create NAME, or push to a new name',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'apps:create <name>',
    summary: 'create an app (pushing to a new name does too)',
    async run(ctx) {
      const app = await (await ctx.api()).call(createApp, { name: ctx.arg(0) ?? '' });
      ctx.out.emit(app, () => `Created app ${ctx.out.c.bold(app.name)}\n`);
      if (!ctx.out.json) ctx.out.note(`next: solum git:remote ${app.name} && git push ${REMOTE} ${app.deployBranch}`);
    },
  });

  define(program, io, {
    usage: 'apps:destroy <name>',
    summary: 'destroy an app: its repository, builds, releases and processes',
    options: (cmd) => cmd.option('--confirm <name>', 'the app name again, to confirm'),
    async run(ctx) {
      const name = ctx.arg(0) ?? '';
      let confirm = ctx.opt('confirm');
      if (confirm === undefined) {
        if (!stdinIsTTY()) throw new UsageError(`this destroys ${name} and everything in it: repeat with --confirm ${name}`);
        confirm = (await promptLine(`This destroys ${name} and everything in it. Type its name to confirm: `)).trim();
      }
      if (confirm !== name) throw new CliError(`confirmation ${JSON.stringify(confirm)} does not match ${name}: nothing destroyed`);
      await ctx.spin(`Destroying ${name}`, (await ctx.api()).call(destroyApp, { app: name }));
      ctx.out.emit({ destroyed: name }, () => `Destroyed app ${name}\n`);
    },
  });

  define(program, io, {
    usage: 'apps:info',
    summary: 'show an app: owner, your role, live release and URL',
    app: true,
    async run(ctx) {
      const app = await (await ctx.api()).call(appInfo, { app: await ctx.app() });
      const c = ctx.out.c;
      ctx.out.emit(app, () =>
        ctx.out.details([
          ['name', c.bold(app.name)],
          ['owner', app.owner ?? '-'],
          ['your role', app.role ?? 'admin (server admin)'],
          ['release', app.release ? c.green(app.release) : 'none yet'],
          ['url', app.release ? c.cyan(app.url) : `${app.url} (once released)`],
          ['deploy branch', app.deployBranch],
          ['language pack', app.languagePack ?? '-'],
          ['public', app.public ? 'yes (anyone may clone over HTTP)' : 'no'],
          ['created', relativeTime(app.createdAt)],
        ]),
      );
    },
  });

  define(program, io, {
    usage: 'apps:public <on|off>',
    summary: 'allow or stop anonymous clones over HTTP (never pushes)',
    app: true,
    async run(ctx) {
      const v = ctx.arg(0);
      if (v !== 'on' && v !== 'off') throw new UsageError(`say on or off, not ${JSON.stringify(v ?? '')}`);
      const app = await (await ctx.api()).call(updateApp, { app: await ctx.app(), public: v === 'on' });
      ctx.out.emit(app, () => `${app.name} is now ${app.public ? 'public' : 'private'}\n`);
    },
  });

  define(program, io, {
    usage: 'collaborators',
    summary: "list an app's collaborators and their roles",
    app: true,
    async run(ctx) {
      const list = await (await ctx.api()).call(listCollaborators, { app: await ctx.app() });
      ctx.out.emit(list, () => ctx.out.table(['USER', 'ROLE'], list.map((x) => [x.user, x.role]), 'No collaborators'));
    },
  });

  define(program, io, {
    usage: 'collaborators:add <user>',
    summary: 'give a user a role on an app: read (clone), write (push, scale), admin (config, destroy)',
    app: true,
    options: (cmd) => cmd.addOption(new Option('--role <role>', 'read, write or admin').choices(['read', 'write', 'admin']).makeOptionMandatory()),
    async run(ctx) {
      const app = await ctx.app();
      const user = ctx.arg(0) ?? '';
      const role = parseAppRole(ctx.opt('role') ?? '');
      if (!role) throw new UsageError('--role is read, write or admin');
      await (await ctx.api()).call(addCollaborator, { app, user, role });
      ctx.out.emit({ app, user, role }, () => `${user} has ${role} access to ${app}\n`);
    },
  });

  define(program, io, {
    usage: 'collaborators:remove <user>',
    summary: "remove a user's role on an app",
    app: true,
    async run(ctx) {
      const app = await ctx.app();
      const user = ctx.arg(0) ?? '';
      await (await ctx.api()).call(removeCollaborator, { app, user });
      ctx.out.emit({ app, removed: user }, () => `Removed ${user} from ${app}\n`);
    },
  });

  define(program, io, {
    usage: 'git:remote [app]',
    summary: `add (or update) the '${REMOTE}' git remote of the repository here`,
    app: true,
    options: (cmd) => cmd.option('--ssh', 'push over SSH (ssh://git@HOST:PORT/APP.git) instead of HTTP').option('--ssh-port <port>', 'the SSH port', '2222'),
    help: `Examples:\n  solum git:remote hello            # http://HOST:3000/hello.git (git asks for a password: give a token)\n  solum git:remote hello --ssh      # ssh://git@HOST:2222/hello.git (after solum keys:add)`,
    async run(ctx) {
      const app = ctx.arg(0) ?? ctx.opt('app');
      if (!app) throw new UsageError('which app? solum git:remote APP');
      const url = remoteUrlFor(await ctx.url(), app, ctx.flag('ssh') ? { port: sshPort(ctx.opt('sshPort') ?? '2222') } : undefined);
      const how = await setRemote(ctx.io.cwd, url);
      ctx.out.emit({ remote: REMOTE, url, app }, () => `${how === 'added' ? 'Added' : 'Updated'} git remote ${REMOTE}: ${url}\n`);
    },
  });
}
