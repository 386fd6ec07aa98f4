// The push plan: which pushed refs build and which are only stored.
import test from 'ava';
import { planPush, isValidUpdate } from '../../../src/hooks/push-plan.js';

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

test('monorepos: base directories and watch paths are relative paths; a file falls under a watch path by directory or pattern', async (t) => {
  const { repoDirProblem, touchesWatchPaths, watchPathProblem } = await import('../../../src/hooks/push-plan.js');
  t.is(repoDirProblem('apps/web'), undefined);
  for (const bad of ['../etc', '/abs', 'a/../b', 'a//b', '', 'a b']) t.truthy(repoDirProblem(bad), bad);
  t.is(watchPathProblem('libs/**/*.ts'), undefined);
  t.is(watchPathProblem('apps/web/'), undefined);
  for (const bad of ['../x', '/x', 'a/./b']) t.truthy(watchPathProblem(bad), bad);
  const watch = ['apps/web', 'libs/**/*.ts', '*.md'];
  t.is(touchesWatchPaths(['docs/a.txt', 'apps/web/src/x.js'], watch), 'apps/web/src/x.js');
  t.is(touchesWatchPaths(['apps/web'], watch), 'apps/web');
  t.is(touchesWatchPaths(['apps/webby/x.js'], watch), undefined, 'a directory is not a prefix of a name');
  t.is(touchesWatchPaths(['libs/a/b/c.ts'], watch), 'libs/a/b/c.ts');
  t.is(touchesWatchPaths(['libs/c.ts'], watch), 'libs/c.ts', '** matches no directory too');
  t.is(touchesWatchPaths(['libs/a/c.js'], watch), undefined);
  t.is(touchesWatchPaths(['README.md'], watch), 'README.md');
  t.is(touchesWatchPaths(['docs/README.md'], watch), undefined, '* stays within a name');
  t.is(touchesWatchPaths(['a.b'], ['a.b']), 'a.b');
  t.is(touchesWatchPaths(['axb'], ['a.b']), undefined, 'dots are literal');
});
