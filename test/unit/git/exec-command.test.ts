// SSH exec strings: exactly the git commands Solum serves, nothing else.
import test from 'ava';
import { errorCode as code } from '../../support/samples.js';
import { parseGitExec } from '../../../src/git/exec-command.js';


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

test('run exec strings: the app and the command line as typed, with or without --', async (t) => {
  const { isRunExec, parseRunExec } = await import('../../../src/git/exec-command.js');
  t.true(isRunExec('run hello -- ls'));
  t.true(isRunExec('run'));
  t.false(isRunExec('runner hello'));
  t.false(isRunExec("git-receive-pack 'run'"));
  t.deepEqual(parseRunExec('run hello -- echo "$HOME"; exit 3'), { app: 'hello', command: 'echo "$HOME"; exit 3' });
  t.deepEqual(parseRunExec('run hello rake db:migrate'), { app: 'hello', command: 'rake db:migrate' }, "Dokku's form");
  t.deepEqual(parseRunExec('run hello -- node x.js --dry-run'), { app: 'hello', command: 'node x.js --dry-run' });
  t.deepEqual(parseRunExec('run hello --version'), { app: 'hello', command: '--version' }, 'a -- not alone is part of the command');
  for (const bad of ['run', 'run hello', 'run hello --', 'run hello -- ', `run hello -- ${'x'.repeat(9000)}`, 'run hello -- a\u0000b']) t.is(parseRunExec(bad), undefined, bad);
});
