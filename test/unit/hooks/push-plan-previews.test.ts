// The preview part of a push plan: which branch builds as a preview, which deletions take one down.
import test from 'ava';
import { parsePushOptions } from '../../../src/hooks/push-options.js';
import { planPreviews } from '../../../src/hooks/push-plan.js';
import { matchesPreviewPattern } from '../../../src/previews/preview-rules.js';

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);
const zero = '0'.repeat(40);

test('preview plan: a matching branch builds; the deploy branch, tags and other branches do not', (t) => {
  const o = { forced: false, isPreviewBranch: (br: string) => matchesPreviewPattern(br, 'preview/*'), hasPreview: () => false };
  const plan = planPreviews(
    [
      { oldSha: a, newSha: b, ref: 'refs/heads/main' },
      { oldSha: zero, newSha: b, ref: 'refs/tags/preview/x' },
      { oldSha: zero, newSha: b, ref: 'refs/heads/feature' },
      { oldSha: zero, newSha: b, ref: 'refs/heads/preview/x' },
      { oldSha: zero, newSha: b, ref: 'refs/heads/preview/y' },
    ],
    'main',
    o,
  );
  t.deepEqual(plan.build, { oldSha: zero, newSha: b, ref: 'refs/heads/preview/x' });
  t.deepEqual(plan.skipped, ['preview/y'], 'one preview build a push');
  t.deepEqual(plan.deleted, []);
  t.is(planPreviews([{ oldSha: a, newSha: b, ref: 'refs/heads/preview/x' }], 'main', { ...o, isPreviewBranch: () => false }).build, undefined, 'off by default');
});

test('preview plan: -o solum.preview makes any branch but the deploy branch a preview; a push to an existing preview rebuilds it', (t) => {
  t.true(parsePushOptions(['solum.preview']).preview);
  t.false(parsePushOptions([]).preview);
  const none = { isPreviewBranch: () => false, hasPreview: () => false };
  t.is(planPreviews([{ oldSha: a, newSha: b, ref: 'refs/heads/topic' }], 'main', { ...none, forced: true }).build?.ref, 'refs/heads/topic');
  t.is(planPreviews([{ oldSha: a, newSha: b, ref: 'refs/heads/main' }], 'main', { ...none, forced: true }).build, undefined);
  t.is(planPreviews([{ oldSha: a, newSha: b, ref: 'refs/heads/topic' }], 'main', { forced: false, isPreviewBranch: () => false, hasPreview: (br) => br === 'topic' }).build?.ref, 'refs/heads/topic');
});

test('preview plan: deleting a branch with a preview takes the preview down; deleting one without is nothing', (t) => {
  const plan = planPreviews(
    [
      { oldSha: a, newSha: zero, ref: 'refs/heads/preview/x' },
      { oldSha: a, newSha: zero, ref: 'refs/heads/preview/none' },
    ],
    'main',
    { forced: false, isPreviewBranch: () => true, hasPreview: (br) => br === 'preview/x' },
  );
  t.deepEqual(plan.deleted, ['preview/x']);
  t.is(plan.build, undefined, 'deletions never build');
});
