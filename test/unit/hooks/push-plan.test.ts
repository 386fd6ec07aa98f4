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
