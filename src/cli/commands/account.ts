// Signing in and out, and the account's SSH keys, API tokens and (for admins) users.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { addKey, createToken, createUser, listKeys, listTokens, listUsers, removeKey, removeUser, revokeToken, whoami } from '../../operations/accounts.js';
import type { TokenJson } from '../../operations/views.js';
import { parsePositiveInt } from '../../parse.js';
import { ApiClient } from '../api-client.js';
import { configPath, normalizeUrl, readConfig, removeConfig, writeConfig } from '../config.js';
import { define, type Io } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { relativeTime, status } from '../output.js';
import { promptLine, readAllStdin, stdinIsTTY } from '../prompt.js';

const userOption = (cmd: Command): void => {
  cmd.option('-u, --user <user>', "another user's (admins only)");
};

const positiveInt = (raw: string): number => {
  const n = parsePositiveInt(raw, 5);
  if (n === undefined) throw new InvalidArgumentError('give a whole number of days (1-99999)');
  return n;
};

/** Key names allow what the server allows (A-Z a-z 0-9 . _ @ -); a host name mostly fits already. */
export const defaultKeyName = (host: string = os.hostname()): string => host.replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 64) || 'key';

async function readToken(given: string | undefined): Promise<string> {
  if (given !== undefined) return given.trim();
  const raw = stdinIsTTY() ? await promptLine('API token: ', { hidden: true }) : await readAllStdin();
  // Only the first line: `cat token-file | solum login` with a trailing newline, or more, still works.
  return (raw.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
}

async function findDefaultKey(home: string): Promise<string> {
  const candidates = [path.join(home, '.ssh', 'id_ed25519.pub'), path.join(home, '.ssh', 'id_rsa.pub')];
  for (const file of candidates) {
    try {
      await fs.access(file);
      return file;
    } catch {
      // Try the next one.
    }
  }
  throw new CliError(`no public key at ${candidates.join(' or ')}: give the .pub file, or make one with ssh-keygen -t ed25519`);
}

function tokenState(t: TokenJson, now: number = Date.now()): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

export function registerAccount(program: Command, io: Io): void {
  define(program, io, {
    usage: 'login',
    summary: 'sign in to a Solum server and remember it (~/.config/solum/config.json)',
    options: (cmd) =>
      cmd
        .option('--url <url>', 'the server, e.g. http://127.0.0.1:3000 (default: SOLUM_URL or the saved one)')
        .option('--token <token>', 'an API token (default: read from stdin, or asked for)'),
    help: 'Examples:\n  solum login --url http://127.0.0.1:3000 < data/admin-token\n  solum login --url https://solum.example.com   # asks for the token',
    async run(ctx) {
      const rawUrl = ctx.opt('url') ?? (io.env.SOLUM_URL || undefined) ?? (await readConfig()).url;
      if (!rawUrl) throw new UsageError('which server? solum login --url http://HOST:3000');
      const url = normalizeUrl(rawUrl);
      const token = await readToken(ctx.opt('token'));
      if (!token) throw new UsageError('no token given: pass --token, pipe it on stdin, or type it when asked');
      const client = new ApiClient(url, token);
      const me = await ctx.spin(`Checking the token with ${url}`, client.call(whoami, {}));
      const file = await writeConfig({ url, token });
      ctx.out.emit(me, () => `Logged in to ${url} as ${ctx.out.c.bold(me.name)}${me.admin ? ' (admin)' : ''}\n`);
      if (!ctx.out.json) ctx.out.note(`saved to ${file}`);
    },
  });

  define(program, io, {
    usage: 'logout',
    summary: 'forget the saved server and token (the token itself stays valid: revoke it with tokens:revoke)',
    async run(ctx) {
      const removed = await removeConfig();
      ctx.out.emit({ loggedOut: removed }, () => (removed ? `Logged out (removed ${configPath()})\n` : 'Not logged in\n'));
      if (io.env.SOLUM_TOKEN) ctx.out.note('SOLUM_TOKEN is still set in this environment and will be used');
    },
  });

  define(program, io, {
    usage: 'whoami',
    summary: 'show who the token belongs to',
    async run(ctx) {
      const me = await (await ctx.api()).call(whoami, {});
      ctx.out.emit(me, () => `${me.name}${me.admin ? ' (admin)' : ''}\n`);
    },
  });

  define(program, io, {
    usage: 'keys',
    summary: 'list your SSH keys',
    options: userOption,
    async run(ctx) {
      const api = await ctx.api();
      const keys = await api.call(listKeys, { user: await ctx.user() });
      ctx.out.emit(keys, () =>
        ctx.out.table(
          ['NAME', 'TYPE', 'FINGERPRINT', 'ADDED', 'LAST USED'],
          keys.map((k) => [k.name, k.type, k.fingerprint, relativeTime(k.createdAt), k.lastUsedAt ? relativeTime(k.lastUsedAt) : 'never']),
          'No SSH keys: add one with solum keys:add',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'keys:add [file]',
    summary: 'add an SSH public key (default ~/.ssh/id_ed25519.pub, then ~/.ssh/id_rsa.pub)',
    options: (cmd) => {
      cmd.option('--name <name>', 'what to call the key (default: this host name)');
      userOption(cmd);
    },
    async run(ctx) {
      const file = ctx.arg(0) ?? (await findDefaultKey(os.homedir()));
      let publicKey: string;
      try {
        publicKey = (await fs.readFile(file, 'utf8')).trim();
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : String(err)}`);
      }
      if (publicKey.includes('PRIVATE KEY')) throw new CliError(`${file} is a private key: give the public one (${file}.pub)`);
      const name = ctx.opt('name') ?? defaultKeyName();
      const api = await ctx.api();
      const key = await api.call(addKey, { user: await ctx.user(), name, publicKey });
      ctx.out.emit(key, () => `Added key ${ctx.out.c.bold(key.name)} (${key.type} ${key.fingerprint})\n`);
    },
  });

  define(program, io, {
    usage: 'keys:remove <name>',
    summary: 'remove an SSH key (access with it ends at once)',
    options: userOption,
    async run(ctx) {
      const name = ctx.arg(0) ?? '';
      const api = await ctx.api();
      await api.call(removeKey, { user: await ctx.user(), name });
      ctx.out.emit({ removed: name }, () => `Removed key ${name}\n`);
    },
  });

  define(program, io, {
    usage: 'tokens',
    summary: 'list your API tokens',
    options: userOption,
    async run(ctx) {
      const api = await ctx.api();
      const tokens = await api.call(listTokens, { user: await ctx.user() });
      ctx.out.emit(tokens, () =>
        ctx.out.table(
          ['ID', 'NAME', 'STATE', 'CREATED', 'EXPIRES'],
          tokens.map((t) => [String(t.id), t.name, status(tokenState(t), ctx.out.c), relativeTime(t.createdAt), t.expiresAt ? relativeTime(t.expiresAt) : 'never']),
          'No API tokens',
        ),
      );
    },
  });

  define(program, io, {
    usage: 'tokens:create <name>',
    summary: 'create an API token (printed once: store it now)',
    options: (cmd) => {
      cmd.option('--expires-in-days <n>', 'expire after N days (default: never)', positiveInt);
      userOption(cmd);
    },
    help: 'The token alone goes to stdout, so TOKEN=$(solum tokens:create ci) works.',
    async run(ctx) {
      const days: unknown = ctx.cmd.opts()['expiresInDays'];
      const expiresAt = typeof days === 'number' ? new Date(Date.now() + days * 86_400_000).toISOString() : null;
      const api = await ctx.api();
      const created = await api.call(createToken, { user: await ctx.user(), name: ctx.arg(0) ?? '', expiresAt });
      ctx.out.emit(created, () => `${created.token}\n`);
      if (!ctx.out.json) ctx.out.note(`token ${created.id} (${created.name})${created.expiresAt ? `, expires ${relativeTime(created.expiresAt)}` : ''}: shown once, store it now`);
    },
  });

  define(program, io, {
    usage: 'tokens:revoke <id>',
    summary: 'revoke an API token by its ID (see solum tokens)',
    options: userOption,
    async run(ctx) {
      const raw = ctx.arg(0) ?? '';
      const id = parsePositiveInt(raw);
      if (id === undefined) throw new UsageError(`token IDs are positive integers (see solum tokens), not ${JSON.stringify(raw)}`);
      const api = await ctx.api();
      await api.call(revokeToken, { user: await ctx.user(), id: String(id) });
      ctx.out.emit({ revoked: id }, () => `Revoked token ${id}\n`);
    },
  });

  define(program, io, {
    usage: 'users',
    summary: 'list users (admins)',
    async run(ctx) {
      const users = await (await ctx.api()).call(listUsers, {});
      ctx.out.emit(users, () =>
        ctx.out.table(['NAME', 'ADMIN', 'CREATED'], users.map((u) => [u.name, u.admin ? 'yes' : 'no', relativeTime(u.createdAt)]), 'No users'),
      );
    },
  });

  define(program, io, {
    usage: 'users:create <name>',
    summary: 'create a user (admins); give them a token with tokens:create --user',
    options: (cmd) => cmd.option('--admin', 'make the user an admin'),
    async run(ctx) {
      const u = await (await ctx.api()).call(createUser, { name: ctx.arg(0) ?? '', admin: ctx.flag('admin') });
      ctx.out.emit(u, () => `Created user ${ctx.out.c.bold(u.name)}${u.admin ? ' (admin)' : ''}\n`);
      if (!ctx.out.json) ctx.out.note(`next: solum tokens:create NAME --user ${u.name}`);
    },
  });

  define(program, io, {
    usage: 'users:remove <name>',
    summary: 'remove a user with their keys and tokens (admins)',
    async run(ctx) {
      const name = ctx.arg(0) ?? '';
      await (await ctx.api()).call(removeUser, { user: name });
      ctx.out.emit({ removed: name }, () => `Removed user ${name}\n`);
    },
  });
}

