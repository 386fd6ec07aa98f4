// The `solum` CLI as users run it: the compiled program as a child process, no TTY, its own HOME.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { makeRepo } from '../support/git.js';
import { makeSshIdentity, randomName, run, startSolum, type CommandResult, type RunningSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

const CLI = path.resolve('dist/src/cli/main.js');
const STACK = /\n\s+at /;

let solum: RunningSolum | undefined;
const server = (): RunningSolum => {
  if (!solum) throw new Error('Solum did not start');
  return solum;
};
const url = (): string => `http://127.0.0.1:${server().httpPort}`;

test.before(async () => {
  solum = await startSolum();
});
test.after.always(async () => {
  await solum?.stop();
});

interface CliOptions {
  readonly home: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
}

/** Runs the CLI with a clean slate: the given HOME, no SOLUM_* from the outer environment. */
function cli(args: readonly string[], o: CliOptions): Promise<CommandResult> {
  return run('node', [CLI, ...args], {
    cwd: o.cwd ?? o.home,
    input: o.input ?? '',
    env: { HOME: o.home, SOLUM_URL: '', SOLUM_TOKEN: '', NO_COLOR: '', GIT_CONFIG_NOSYSTEM: '1', ...o.env },
  });
}

const tempHome = (): Promise<string> => fs.mkdtemp(path.join(os.tmpdir(), 'solum-cli-home-'));

/** A HOME with a saved login as admin (or as `token`'s owner). */
async function loggedIn(token: string = server().token): Promise<string> {
  const home = await tempHome();
  const r = await cli(['login', '--url', url(), '--token', token], { home });
  if (r.code !== 0) throw new Error(`login failed: ${r.stderr}`);
  return home;
}

const parse = (r: CommandResult): unknown => JSON.parse(r.stdout);

test('login saves {url, token} with mode 0600 in a 0700 dir; whoami and logout', async (t) => {
  const home = await tempHome();
  // The token on stdin, as `solum login --url … < data/admin-token` gives it (trailing newline included).
  const login = await cli(['login', '--url', `${url()}/`], { home, input: `${server().token}\n` });
  t.is(login.code, 0, login.stderr);
  t.is(login.stdout, `Logged in to ${url()} as admin (admin)\n`);
  const dir = path.join(home, '.config', 'solum');
  const file = path.join(dir, 'config.json');
  t.is((await fs.stat(file)).mode & 0o777, 0o600);
  t.is((await fs.stat(dir)).mode & 0o777, 0o700);
  t.deepEqual(JSON.parse(await fs.readFile(file, 'utf8')), { url: url(), token: server().token });

  const who = await cli(['whoami'], { home });
  t.is(who.code, 0, who.stderr);
  t.is(who.stdout, 'admin (admin)\n');
  t.like(parse(await cli(['whoami', '--json'], { home })), { name: 'admin', admin: true });

  // A bad token is checked before anything is saved.
  const fresh = await tempHome();
  const bad = await cli(['login', '--url', url(), '--token', 'solum_nope'], { home: fresh });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /invalid, revoked or expired token/);
  await t.throwsAsync(fs.access(path.join(fresh, '.config', 'solum', 'config.json')));

  const out = await cli(['logout'], { home });
  t.is(out.code, 0, out.stderr);
  await t.throwsAsync(fs.access(file));
  const after = await cli(['whoami'], { home });
  t.is(after.code, 1);
  t.regex(after.stderr, /not logged in/);
});

test('SOLUM_URL and SOLUM_TOKEN override the saved login', async (t) => {
  const carol = await createUser(server(), randomName('carol'));
  const home = await loggedIn();
  t.is((await cli(['whoami'], { home, env: { SOLUM_TOKEN: carol.token } })).stdout, `${carol.name}\n`);
  // The environment alone is enough: no config file at all.
  const empty = await tempHome();
  const envOnly = await cli(['whoami'], { home: empty, env: { SOLUM_URL: url(), SOLUM_TOKEN: carol.token } });
  t.is(envOnly.code, 0, envOnly.stderr);
  t.is(envOnly.stdout, `${carol.name}\n`);
  // SOLUM_URL wins over the file's URL: a closed port now, so the request fails cleanly.
  const elsewhere = await cli(['whoami'], { home, env: { SOLUM_URL: 'http://127.0.0.1:1' } });
  t.is(elsewhere.code, 1);
  t.regex(elsewhere.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
  t.notRegex(elsewhere.stderr, STACK);
});

test('apps:create, apps, apps:info --json, collaborators, apps:destroy', async (t) => {
  const home = await loggedIn();
  const app = randomName('cli');
  const created = await cli(['apps:create', app], { home });
  t.is(created.code, 0, created.stderr);
  t.is(created.stdout, `Created app ${app}\n`);

  const table = await cli(['apps'], { home });
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^NAME +PACK +PUBLIC +CREATED\n/);
  t.regex(table.stdout, new RegExp(`^${app} +- +no +just now$`, 'm'));
  t.true((parse(await cli(['apps', '--json'], { home })) as { name: string }[]).some((a) => a.name === app));

  const info = parse(await cli(['apps:info', '-a', app, '--json'], { home }));
  t.like(info, { name: app, owner: 'admin', public: false, release: null, deployBranch: 'main' });
  t.regex((await cli(['apps:info', '--app', app], { home })).stdout, new RegExp(`^name: +${app}\\nowner: +admin\\n`));

  // The API's own message, exit 1, no stack.
  const again = await cli(['apps:create', app], { home });
  t.is(again.code, 1);
  t.regex(again.stderr, /^solum: .*already exists/);
  t.notRegex(again.stderr, STACK);
  t.is(again.stdout, '');

  const dave = await createUser(server(), randomName('dave'));
  t.is((await cli(['collaborators:add', dave.name, '--role', 'write', '-a', app], { home })).code, 0);
  t.deepEqual(parse(await cli(['collaborators', '-a', app, '--json'], { home })), [{ user: dave.name, role: 'write' }]);
  t.is((await cli(['apps:public', 'on', '-a', app], { home })).stdout, `${app} is now public\n`);

  // Destroying asks for the name again; without a terminal that means --confirm.
  const unconfirmed = await cli(['apps:destroy', app], { home });
  t.is(unconfirmed.code, 2);
  t.regex(unconfirmed.stderr, new RegExp(`--confirm ${app}`));
  t.is((await cli(['apps:destroy', app, '--confirm', 'other'], { home })).code, 1);
  t.is((await server().api('GET', `/v1/apps/${app}`)).status, 200, 'still there');
  const destroyed = await cli(['apps:destroy', app, '--confirm', app], { home });
  t.is(destroyed.code, 0, destroyed.stderr);
  t.is((await server().api('GET', `/v1/apps/${app}`)).status, 404);
});

test('keys:add from a file and from ~/.ssh; keys shows the fingerprint; keys:remove', async (t) => {
  const home = await loggedIn();
  const id = await makeSshIdentity();
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${id.privateKeyPath}.pub`]).toString().split(' ')[1] ?? '';
  t.regex(fingerprint, /^SHA256:/);
  const name = randomName('laptop');
  const added = await cli(['keys:add', `${id.privateKeyPath}.pub`, '--name', name], { home });
  t.is(added.code, 0, added.stderr);
  t.is(added.stdout, `Added key ${name} (ssh-ed25519 ${fingerprint})\n`);
  const keys = await cli(['keys'], { home });
  t.regex(keys.stdout, /^NAME +TYPE +FINGERPRINT +ADDED +LAST USED\n/);
  const row = keys.stdout.split('\n').find((l) => l.startsWith(`${name} `));
  t.truthy(row);
  t.true(row?.includes(fingerprint), keys.stdout);
  t.regex(row ?? '', /just now +never$/);

  // With no FILE: ~/.ssh/id_ed25519.pub, named after this host.
  const other = await makeSshIdentity();
  await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
  await fs.copyFile(`${other.privateKeyPath}.pub`, path.join(home, '.ssh', 'id_ed25519.pub'));
  const byDefault = await cli(['keys:add', '--json'], { home });
  t.is(byDefault.code, 0, byDefault.stderr);
  const hostKeyName = os.hostname().replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 64);
  t.like(parse(byDefault), { name: hostKeyName, type: 'ssh-ed25519' });

  t.is((await cli(['keys:remove', name], { home })).code, 0);
  const left = (parse(await cli(['keys', '--json'], { home })) as { name: string }[]).map((k) => k.name);
  t.false(left.includes(name));
  t.true(left.includes(hostKeyName));
  // A private key given by mistake is refused before anything is sent.
  const wrong = await cli(['keys:add', id.privateKeyPath], { home });
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /is a private key/);
});

test('tokens:create prints the token once; it works until tokens:revoke', async (t) => {
  const home = await loggedIn();
  const created = await cli(['tokens:create', 'ci', '--expires-in-days', '7', '--json'], { home });
  t.is(created.code, 0, created.stderr);
  const { id, token, expiresAt } = parse(created) as { id: number; token: string; expiresAt: string };
  t.regex(token, /^solum_/);
  t.true(Math.abs(Date.parse(expiresAt) - (Date.now() + 7 * 86_400_000)) < 60_000);
  t.is((await cli(['whoami'], { home, env: { SOLUM_TOKEN: token } })).stdout, 'admin (admin)\n');

  // Plain output: the token alone on stdout (TOKEN=$(solum tokens:create x)), the note on stderr.
  const plain = await cli(['tokens:create', 'plain'], { home });
  t.regex(plain.stdout, /^solum_[A-Za-z0-9_-]+\n$/);
  t.regex(plain.stderr, /shown once/);

  const list = await cli(['tokens'], { home });
  t.regex(list.stdout, /^ID +NAME +STATE +CREATED +EXPIRES\n/);
  t.regex(list.stdout, new RegExp(`^${id} +ci +active +just now +in 6 days$`, 'm'));

  const revoked = await cli(['tokens:revoke', String(id)], { home });
  t.is(revoked.code, 0, revoked.stderr);
  t.is(revoked.stdout, `Revoked token ${id}\n`);
  t.regex((await cli(['tokens'], { home })).stdout, new RegExp(`^${id} +ci +revoked `, 'm'));
  const refused = await cli(['whoami'], { home, env: { SOLUM_TOKEN: token } });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^solum: invalid, revoked or expired token\n/);
  t.notRegex(refused.stderr, STACK);
  t.is((await cli(['tokens:revoke', 'abc'], { home })).code, 2);
});

test('config:set / config / config:unset on an app with no release: stored, no deploy', async (t) => {
  const home = await loggedIn();
  const app = randomName('cfg');
  t.is((await cli(['apps:create', app], { home })).code, 0);
  const set = await cli(['config:set', 'GREETING=hi there', 'URL=postgres://x/y?a=b', '-a', app], { home });
  t.is(set.code, 0, set.stderr);
  t.regex(set.stdout, /^Set GREETING, URL: stored/);
  const shown = await cli(['config', '-a', app], { home });
  t.is(shown.stdout, 'GREETING:  hi there\nURL:       postgres://x/y?a=b\n');
  t.deepEqual(parse(await cli(['config', '-a', app, '--json'], { home })), { GREETING: 'hi there', URL: 'postgres://x/y?a=b' });
  t.is((await cli(['config:get', 'URL', '-a', app], { home })).stdout, 'postgres://x/y?a=b\n');
  const setJson = parse(await cli(['config:set', 'X=1', '-a', app, '--json'], { home })) as { config: Record<string, string>; release: unknown };
  t.is(setJson.release, null);
  t.is(setJson.config.X, '1');

  t.is((await cli(['config:unset', 'URL', 'X', '-a', app], { home })).code, 0);
  t.deepEqual((await server().api('GET', `/v1/apps/${app}/config`)).json, { GREETING: 'hi there' });
  t.deepEqual(parse(await cli(['releases', '-a', app, '--json'], { home })), [], 'no release was made');
  const bad = await cli(['config:set', 'NOEQUALS', '-a', app], { home });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /expected KEY=VALUE/);
});

test('releases:canary / releases:promote / releases:abort on an app with nothing live: clear errors, nothing starts', async (t) => {
  const home = await loggedIn();
  const app = randomName('can');
  t.is((await cli(['apps:create', app], { home })).code, 0);
  for (const [args, message] of [
    [['releases:canary', 'v1', '20', '-a', app], /has no release v1/],
    [['releases:canary', 'v1', 'abc', '-a', app], /1 to 99/],
    [['releases:canary', 'v1', '100', '-a', app], /1 to 99/],
    [['releases:promote', '-a', app], /has no canary running/],
    [['releases:abort', '-a', app], /has no canary running/],
  ] as const) {
    const r = await cli(args, { home });
    t.not(r.code, 0, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
    t.notRegex(r.stderr, STACK);
  }
  t.deepEqual((await server().api('GET', `/v1/apps/${app}/canary`)).json, { canary: null });
});

test('git:remote adds the solum remote and app commands infer the app from it', async (t) => {
  const home = await loggedIn();
  const app = randomName('remote');
  t.is((await cli(['apps:create', app], { home })).code, 0);
  const repo = await makeRepo({ 'README.md': 'hi\n' });
  const added = await cli(['git:remote', app], { home, cwd: repo });
  t.is(added.code, 0, added.stderr);
  t.is(added.stdout, `Added git remote solum: ${url()}/${app}.git\n`);
  t.is((await run('git', ['remote', 'get-url', 'solum'], { cwd: repo })).stdout.trim(), `${url()}/${app}.git`);

  const info = await cli(['apps:info', '--json'], { home, cwd: repo });
  t.is(info.code, 0, info.stderr);
  t.is((parse(info) as { name: string }).name, app);
  t.is((await cli(['config:set', 'A=1'], { home, cwd: repo })).code, 0);
  t.deepEqual(parse(await cli(['config', '--json'], { home, cwd: repo })), { A: '1' });

  // --ssh rewrites the same remote; the app is still found from it.
  const ssh = await cli(['git:remote', app, '--ssh', '--ssh-port', '2299'], { home, cwd: repo });
  t.is(ssh.stdout, `Updated git remote solum: ssh://git@127.0.0.1:2299/${app}.git\n`);
  t.is((parse(await cli(['apps:info', '--json'], { home, cwd: repo })) as { name: string }).name, app);

  // Outside a repository with that remote, the app must be given.
  const nowhere = await cli(['apps:info'], { home });
  t.is(nowhere.code, 2);
  t.regex(nowhere.stderr, /no app given: use -a APP/);
  const notRepo = await cli(['git:remote', app], { home });
  t.is(notRepo.code, 1);
  t.regex(notRepo.stderr, /not inside a git repository/);
});

test('usage errors exit 2: unknown command, missing argument, bad option value; help exits 0', async (t) => {
  const home = await tempHome();
  const unknown = await cli(['frobnicate'], { home });
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command 'frobnicate'/);
  const missing = await cli(['apps:create'], { home });
  t.is(missing.code, 2);
  t.regex(missing.stderr, /missing required argument 'name'/);
  const role = await cli(['collaborators:add', 'bob', '--role', 'boss', '-a', 'x'], { home });
  t.is(role.code, 2);
  t.regex(role.stderr, /Allowed choices are read, write, admin/);
  t.is((await cli(['apps', 'extra'], { home })).code, 2);
  const help = await cli(['--help'], { home });
  t.is(help.code, 0);
  for (const c of ['login', 'git:remote', 'builds:logs', 'config:set', 'ps:scale', 'collaborators:add', 'apps:public']) t.true(help.stdout.includes(c), c);
  for (const r of [unknown, missing, role]) t.notRegex(r.stderr, STACK);
});

test.serial('lp lists the language packs; builds:cancel on an unknown app fails cleanly', async (t) => {
  const home = await tempHome();
  const env = { SOLUM_URL: url(), SOLUM_TOKEN: server().token };
  const lp = await cli(['lp', '--json'], { home, env });
  t.is(lp.code, 0, lp.stderr);
  t.deepEqual((JSON.parse(lp.stdout) as { name: string }[]).map((p) => p.name).sort(), ['buildpack', 'dockerfile', 'node', 'python', 'shell']);
  t.regex((await cli(['lp:info', 'node'], { home, env })).stdout, /package\.json/);
  const none = await cli(['builds:cancel', '-a', 'no-such-app-here'], { home, env });
  t.is(none.code, 1);
  t.notRegex(none.stderr, STACK);
});
