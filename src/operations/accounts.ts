// Accounts: who you are, users (admins), and each user's SSH keys and API tokens.
import { z } from 'zod';
import type { AccountService } from '../access/account-service.js';
import { parsePositiveInt } from '../parse.js';
import { defineOperation, positiveInt, signedIn, usage, wordOf } from './operation.js';
import { table, when, yesNo } from './text.js';
import { createdTokenView, keyView, tokenView, userView } from './views.js';

interface Deps {
  readonly accounts: AccountService;
}

export const whoami = defineOperation(
  {
    name: 'whoami',
    summary: 'Who the token belongs to',
    access: 'signed-in',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/user' },
    ssh: { usage: 'whoami', help: 'show who you are signed in as' },
  },
  () => ({
    run: (actor) => Promise.resolve(userView(signedIn(actor))),
    text: (u) => `${u.name}${u.admin ? ' (admin)' : ''}\n`,
  }),
);

export const listUsers = defineOperation(
  {
    name: 'users:list',
    summary: 'List users (admins)',
    access: 'admin',
    input: z.object({}),
    http: { method: 'GET', path: '/v1/users', list: true },
    ssh: { usage: 'users:list', help: 'list users (admins)' },
  },
  (d: Deps) => ({
    run: async (actor) => (await d.accounts.listUsers(actor)).map(userView),
    text: (list) => table([['NAME', 'ADMIN', 'CREATED'], ...list.map((u) => [u.name, yesNo(u.admin), when(u.createdAt)])]),
  }),
);

export const createUser = defineOperation(
  {
    name: 'users:create',
    summary: 'Create a user (admins)',
    access: 'admin',
    input: z.object({ name: z.string(), admin: z.boolean().default(false) }).strict(),
    http: { method: 'POST', path: '/v1/users', status: 201, body: 'fields' },
    ssh: { usage: 'users:create NAME [--admin]', args: ['name'], switches: { '--admin': 'admin' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => userView(await d.accounts.createUser(actor, i.name, { admin: i.admin })),
    text: (u) => `created user ${u.name}\n`,
  }),
);

export const getUser = defineOperation(
  {
    name: 'users:info',
    summary: 'A user (themself or admins)',
    access: 'self',
    input: z.object({ user: z.string() }),
    http: { method: 'GET', path: '/v1/users/:user' },
  },
  (d: Deps) => ({
    run: async (actor, i) => userView(await d.accounts.getUser(actor, i.user)),
  }),
);

export const removeUser = defineOperation(
  {
    name: 'users:remove',
    summary: 'Remove a user with their keys and tokens (admins)',
    access: 'admin',
    input: z.object({ user: z.string() }),
    http: { method: 'DELETE', path: '/v1/users/:user', status: 204 },
    ssh: { usage: 'users:remove NAME', args: ['user'] },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.accounts.removeUser(actor, i.user);
      return { removed: i.user };
    },
    text: (r) => `removed user ${r.removed}\n`,
  }),
);

export const listKeys = defineOperation(
  {
    name: 'keys:list',
    summary: "A user's SSH keys",
    access: 'self',
    input: z.object({ user: z.string() }),
    http: { method: 'GET', path: '/v1/users/:user/keys', list: true },
    ssh: { usage: 'keys:list', help: 'list your SSH keys', self: 'user' },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.accounts.listKeys(actor, i.user)).map(keyView),
    text: (keys) => (keys.length === 0 ? 'no keys\n' : table([['NAME', 'TYPE', 'FINGERPRINT', 'ADDED', 'LAST USED'], ...keys.map((k) => [k.name, k.type, k.fingerprint, when(k.createdAt), when(k.lastUsedAt)])])),
  }),
);

export const addKey = defineOperation(
  {
    name: 'keys:add',
    summary: 'Add an SSH key',
    access: 'self',
    input: z.object({ user: z.string(), name: z.string(), publicKey: z.string().max(16_384) }).strict(),
    http: { method: 'POST', path: '/v1/users/:user/keys', status: 201, body: 'fields' },
    ssh: { usage: 'keys:add NAME < key.pub', help: 'add the public key given on standard input', args: ['name'], self: 'user', stdin: { text: 'publicKey' } },
  },
  (d: Deps) => ({
    run: async (actor, i) => keyView(await d.accounts.addKey(actor, i.user, i.name, i.publicKey)),
    text: (k) => `added key ${k.name} (${k.type} ${k.fingerprint})\n`,
  }),
);

export const removeKey = defineOperation(
  {
    name: 'keys:remove',
    summary: 'Remove an SSH key (access with it ends at once)',
    access: 'self',
    input: z.object({ user: z.string(), name: z.string() }),
    http: { method: 'DELETE', path: '/v1/users/:user/keys/:name', status: 204 },
    ssh: { usage: 'keys:remove NAME', help: 'remove one of your keys (access with it ends at once)', args: ['name'], self: 'user' },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.accounts.removeKey(actor, i.user, i.name);
      return { removed: i.name };
    },
    text: (r) => `removed key ${r.removed}\n`,
  }),
);

export const listTokens = defineOperation(
  {
    name: 'tokens:list',
    summary: "A user's API tokens (never the tokens themselves)",
    access: 'self',
    input: z.object({ user: z.string() }),
    http: { method: 'GET', path: '/v1/users/:user/tokens', list: true },
    ssh: { usage: 'tokens:list', help: 'list your API tokens', self: 'user' },
  },
  (d: Deps) => ({
    run: async (actor, i) => (await d.accounts.listTokens(actor, i.user)).map(tokenView),
    text: (tokens) => table([['ID', 'NAME', 'CREATED', 'EXPIRES', 'REVOKED'], ...tokens.map((t) => [String(t.id), t.name, when(t.createdAt), when(t.expiresAt), when(t.revokedAt)])]),
  }),
);

export const createToken = defineOperation(
  {
    name: 'tokens:create',
    summary: 'Create an API token (returned once)',
    access: 'self',
    input: z.object({ user: z.string(), name: z.string(), expiresAt: z.iso.datetime({ offset: true }).nullable().default(null) }).strict(),
    http: { method: 'POST', path: '/v1/users/:user/tokens', status: 201, body: 'fields' },
    ssh: {
      usage: 'tokens:create NAME [--expires-in-days N]',
      help: 'create an API token (shown once)',
      args: ['name'],
      self: 'user',
      options: { '--expires-in-days': 'days' },
      map({ days, ...words }) {
        if (days === undefined) return words;
        const n = parsePositiveInt(wordOf(days), 5) ?? usage('--expires-in-days takes a whole number of days');
        return { ...words, expiresAt: new Date(Date.now() + n * 86_400_000).toISOString() };
      },
    },
  },
  (d: Deps) => ({
    run: async (actor, i) => createdTokenView(await d.accounts.createToken(actor, i.user, i.name, i.expiresAt ? new Date(i.expiresAt) : null)),
    text: (t) => `${t.token}\n(shown once: store it now)\n`,
  }),
);

export const revokeToken = defineOperation(
  {
    name: 'tokens:revoke',
    summary: 'Revoke an API token',
    access: 'self',
    input: z.object({ user: z.string(), id: positiveInt('token IDs are positive integers') }),
    http: { method: 'DELETE', path: '/v1/users/:user/tokens/:id', status: 204 },
    ssh: { usage: 'tokens:revoke ID', help: 'revoke one of your API tokens', args: ['id'], self: 'user' },
  },
  (d: Deps) => ({
    async run(actor, i) {
      await d.accounts.revokeToken(actor, i.user, i.id);
      return { revoked: i.id };
    },
    text: (r) => `revoked token ${r.revoked}\n`,
  }),
);

/** In the order help lists them. */
export const accountOperations = [whoami, listKeys, addKey, removeKey, listTokens, createToken, revokeToken, listUsers, createUser, getUser, removeUser];
