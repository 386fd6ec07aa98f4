// The SSH binding: words to an operation's input (counts, options, switches, stdin, the caller),
// usage errors exit 2, service errors exit 1, text by default and JSON with --json, help from the contracts.
import test from 'ava';
import type { AccountService } from '../../../src/access/account-service.js';
import type { AppService } from '../../../src/apps/app-service.js';
import type { SshKey } from '../../../src/db/user-store.js';
import { forbidden } from '../../../src/errors.js';
import { createSshCommands } from '../../../src/git/ssh-commands.js';
import { bindOperations, operations } from '../../../src/operations/operations.js';
import { alice, deps, fake } from './fakes.js';

const key: SshKey = { id: 1, userId: 1, name: 'laptop', algo: 'ssh-ed25519', fingerprint: 'SHA256:abc', createdAt: new Date('2024-05-01T12:00:00.000Z'), lastUsedAt: null };

function commands(given: Parameters<typeof deps>[0]) {
  const ssh = createSshCommands({ operations: bindOperations(deps(given)) });
  return (line: string, stdin = '') => ssh.run(alice, line.split(' ').filter((w) => w !== ''), () => Promise.resolve(stdin));
}

test('help lists every operation with an SSH binding, and nothing else', async (t) => {
  const help = (await commands({})('help')).stdout;
  const bound = operations.filter((o) => o.ssh);
  t.true(bound.length > 40);
  for (const op of bound) t.true(help.includes(`  ${op.ssh?.usage ?? ''}  `), op.name);
  for (const op of operations.filter((o) => !o.ssh)) t.false(new RegExp(`^  ${op.name} `, 'm').test(help), op.name);
});

test('a wrong number of words is a usage error (exit 2) that shows the usage', async (t) => {
  const run = commands({});
  t.like(await run('apps:info'), { code: 2, stderr: 'solum: usage: apps:info NAME\n' });
  t.like(await run('apps:info a b'), { code: 2, stderr: 'solum: usage: apps:info NAME\n' });
  t.like(await run('config:set hello'), { code: 2, stderr: 'solum: usage: config:set APP KEY=VALUE ...\n' });
  t.like(await run('frobnicate'), { code: 2, stderr: 'solum: unknown command "frobnicate"; try: help\n' });
  t.like(await run('apps:collaborators:add a b --role'), { code: 2, stderr: 'solum: --role needs a value\n' });
});

test('words are parsed with the input schema: a bad ID or option is a usage error, the service never called', async (t) => {
  let called = false;
  const accounts = fake<AccountService>({ revokeToken: () => { called = true; return Promise.resolve(); } });
  const apps = fake<AppService>({ addCollaborator: () => { called = true; return Promise.resolve(); }, destroy: () => { called = true; return Promise.resolve(); } });
  const run = commands({ accounts, apps });
  t.like(await run('tokens:revoke abc'), { code: 2, stderr: 'solum: token IDs are positive integers\n' });
  t.like(await run('apps:collaborators:add hello bob --role boss'), { code: 2 });
  t.like(await run('apps:destroy hello'), { code: 2, stderr: 'solum: this destroys hello and everything in it: repeat with --force\n' });
  t.like(await run('tokens:create ci --expires-in-days soon'), { code: 2, stderr: 'solum: --expires-in-days takes a whole number of days\n' });
  t.false(called);
});

test('the caller, stdin and words reach the service; text by default, the JSON view with --json', async (t) => {
  const seen: unknown[] = [];
  const accounts = fake<AccountService>({
    addKey: (_actor, user, name, publicKey) => {
      seen.push([user, name, publicKey]);
      return Promise.resolve(key);
    },
    revokeToken: (_actor, user, id) => {
      seen.push([user, id]);
      return Promise.resolve();
    },
  });
  const run = commands({ accounts });
  t.like(await run('keys:add laptop', 'ssh-ed25519 AAAA me'), { code: 0, stdout: 'added key laptop (ssh-ed25519 SHA256:abc)\n' });
  t.like(await run('tokens:revoke 7'), { code: 0, stdout: 'revoked token 7\n' });
  t.deepEqual(seen, [['alice', 'laptop', 'ssh-ed25519 AAAA me'], ['alice', 7]]);
  const json = await run('keys:add laptop --json', 'ssh-ed25519 AAAA me');
  t.deepEqual(JSON.parse(json.stdout), { name: 'laptop', type: 'ssh-ed25519', fingerprint: 'SHA256:abc', createdAt: '2024-05-01T12:00:00.000Z', lastUsedAt: null });
  t.deepEqual(JSON.parse((await run('tokens:revoke 7 --json')).stdout), { revoked: 7 });
});

test('a refusal from a service exits 1 with its message; hidden errors stay hidden', async (t) => {
  const apps = fake<AppService>({
    list: () => Promise.reject(forbidden('not for you')),
    create: () => Promise.reject(new Error('database password is hunter2')),
  });
  const run = commands({ apps });
  t.like(await run('apps:list'), { code: 1, stderr: 'solum: not for you\n' });
  t.like(await run('apps:create x'), { code: 1, stderr: 'solum: internal error\n' });
});

test('KEY=VALUE words: config:set gathers them, ps:scale wants whole numbers', async (t) => {
  const run = commands({});
  t.like(await run('config:set hello NOEQUALS'), { code: 2, stderr: 'solum: expected KEY=VALUE, got "NOEQUALS"\n' });
  t.like(await run('ps:scale hello web=lots'), { code: 2, stderr: 'solum: web: give a whole number\n' });
  t.like(await run('releases:rollback hello three'), { code: 2, stderr: 'solum: release versions look like v3\n' });
});
