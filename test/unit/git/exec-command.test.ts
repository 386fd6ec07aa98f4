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
