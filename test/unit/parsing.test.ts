// Pure parsers at the edges: app names, SSH exec strings, HTTP git routes, Procfiles, push plans.
import test from 'ava';
import { AppError } from '../../src/errors.js';
import { parseGitExec } from '../../src/git/exec-command.js';
import { parseGitHttpRoute } from '../../src/git/http-route.js';
import { parseProcfile } from '../../src/build/runner/procfile.js';
import { planPush, isValidUpdate } from '../../src/hooks/push-plan.js';
import { parseAppName, parseRepoPath } from '../../src/names.js';
import { decodeLine, encodeExit, encodeOutput } from '../../src/hooks/hook-protocol.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof AppError ? err.code : 'not-an-app-error';
  }
};

test('app names: lower-case letters, digits and dashes only', (t) => {
  t.is<string, string>(parseAppName('hello'), 'hello');
  t.is<string, string>(parseAppName('a-1'), 'a-1');
  for (const bad of ['', '1abc', 'Hello', 'a_b', 'a.b', 'a/b', '../x', '-x', 'x-', 'a'.repeat(64), 'hеllo' /* Cyrillic е */, 'a b', 'x\0']) {
    t.is(code(() => parseAppName(bad)), 'invalid_app_name', bad);
  }
});

test('repo paths: one optional leading slash and one optional .git', (t) => {
  for (const ok of ['hello', 'hello.git', '/hello', '/hello.git']) t.is<string, string>(parseRepoPath(ok), 'hello');
  for (const bad of ['//hello', 'hello.git.git', '/abs/path', 'a/b', '%2e%2e/x', '../x', '-oProxyCommand=x', '~/hello', 'x'.repeat(300)]) {
    t.is(code(() => parseRepoPath(bad)), 'invalid_app_name', bad);
  }
});

test('exec strings: git-receive-pack / git-upload-pack with one quoted app path, nothing else', (t) => {
  t.deepEqual(parseGitExec("git-receive-pack 'hello.git'"), { service: 'receive-pack', app: 'hello' });
  t.deepEqual(parseGitExec("git-upload-pack '/hello.git'"), { service: 'upload-pack', app: 'hello' });
  t.deepEqual(parseGitExec("git upload-pack 'hello'"), { service: 'upload-pack', app: 'hello' });
  for (const bad of [
    'ls',
    'git-receive-pack hello.git',
    "git-receive-pack 'hello.git'; rm -rf /",
    "git-receive-pack 'hello.git' && id",
    "git-receive-pack '$(id)'",
    "git-upload-archive 'hello.git'",
    "git-receive-pack '../x'",
    "git-receive-pack 'a'\\''b'",
    "sh -c 'git-receive-pack hello'",
    "git-receive-pack  'hello.git'",
  ]) {
    t.truthy(code(() => parseGitExec(bad)), bad);
  }
});

test('HTTP git routes: smart routes parsed, odd names refused, other paths passed on', (t) => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/info/refs', q('service=git-upload-pack')), { kind: 'info-refs', app: 'hello', service: 'upload-pack' });
  t.deepEqual(parseGitHttpRoute('POST', '/hello/git-receive-pack', q('')), { kind: 'rpc', app: 'hello', service: 'receive-pack' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/HEAD', q('')), { kind: 'dumb', app: 'hello' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/objects/info/packs', q('')), { kind: 'dumb', app: 'hello' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/info/refs', q('')), { kind: 'dumb', app: 'hello' });
  t.is(parseGitHttpRoute('GET', '/v1/apps', q('')), undefined);
  t.is(parseGitHttpRoute('POST', '/hello.git/git-upload-archive', q('')), undefined);
  for (const bad of ['/%2e%2e.git/info/refs', '/..git/info/refs', '/Hello.git/info/refs', `/${'x'.repeat(300)}.git/info/refs`]) {
    t.is(code(() => parseGitHttpRoute('GET', bad, q('service=git-upload-pack'))), 'invalid_app_name', bad);
  }
});

test('Procfile: process types and commands', (t) => {
  const p = parseProcfile('# comment\nweb: npm start -- --port $PORT\n\nworker:node worker.js\r\nbad line\n');
  t.deepEqual([...p], [
    ['web', 'npm start -- --port $PORT'],
    ['worker', 'node worker.js'],
  ]);
});

test('push plan: only the deploy branch builds; tags, deletions and other branches are stored', (t) => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const zero = '0'.repeat(40);
  const plan = planPush(
    [
      { oldSha: a, newSha: b, ref: 'refs/heads/main' },
      { oldSha: zero, newSha: b, ref: 'refs/heads/feature' },
      { oldSha: zero, newSha: b, ref: 'refs/tags/v1' },
      { oldSha: a, newSha: zero, ref: 'refs/heads/old' },
    ],
    'main',
  );
  t.deepEqual(plan.build, { oldSha: a, newSha: b, ref: 'refs/heads/main' });
  t.is(plan.stored.length, 3);
  t.is(planPush([{ oldSha: a, newSha: zero, ref: 'refs/heads/main' }], 'main').build, undefined);
  t.true(isValidUpdate({ oldSha: a, newSha: b, ref: 'refs/heads/x' }));
  t.false(isValidUpdate({ oldSha: a, newSha: b, ref: 'refs/heads/../x' }));
  t.false(isValidUpdate({ oldSha: 'nope', newSha: b, ref: 'refs/heads/x' }));
});

test('hook protocol round-trips output lines and the exit code', (t) => {
  const wire = encodeOutput('one\ntwo') + encodeExit(3);
  t.deepEqual(wire.trimEnd().split('\n').map(decodeLine), [
    { kind: 'output', text: 'one' },
    { kind: 'output', text: 'two' },
    { kind: 'exit', code: 3 },
  ]);
  t.is(decodeLine('garbage'), undefined);
});

test('the hook script stores pushes without a deploy-branch update itself, saying what the server would', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { hookScript } = await import('../../src/hooks/hook-installer.js');
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const zero = '0'.repeat(40);
  const updates = [
    { oldSha: zero, newSha: b, ref: 'refs/heads/feature' },
    { oldSha: zero, newSha: b, ref: 'refs/tags/v1' },
    { oldSha: a, newSha: zero, ref: 'refs/heads/old' },
  ];
  const input = updates.map((u) => `${u.oldSha} ${u.newSha} ${u.ref}`).join('\n') + '\n';
  const run = (env: Record<string, string>): string =>
    execFileSync('sh', ['-c', hookScript('/nonexistent/node')], { input, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  const out = run({ SOLUM_PUSH_TOKEN: 'push_x', SOLUM_DEPLOY_REF: 'refs/heads/main' });
  t.deepEqual(out.trimEnd().split('\n'), planPush(updates, 'main').stored.map((s) => `-----> ${s}`));
  // Without a push token (a push made around the Solum server) it refuses.
  t.throws(() => run({}));
  // An update of the deploy branch goes to the hook program (here: a missing binary, so it fails).
  t.throws(() => execFileSync('sh', ['-c', hookScript('/nonexistent/node')], { input: `${a} ${b} refs/heads/main\n`, env: { PATH: process.env.PATH ?? '', SOLUM_PUSH_TOKEN: 'x', SOLUM_DEPLOY_REF: 'refs/heads/main' }, stdio: 'pipe' }));
});
