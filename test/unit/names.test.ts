// Names parsed once at the edge: app names and repository paths.
import test from 'ava';
import { errorCode as code } from '../support/samples.js';
import { parseAppName, parseRepoPath } from '../../src/names.js';


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
