// Preview apps' pure rules: names and hosts, patterns, TTLs, and the reconciler's plan.
import test from 'ava';
import { expiresAt, idleDue, matchesPreviewPattern, MAX_PREVIEW_NAME, parseTtl, planReconcile, previewIdOfKey, previewOfRef, previewPatternProblem, previewSlug, previewTargetKey, routerNameClash } from '../../../src/previews/preview-rules.js';

test('preview slug: lowercase [a-z0-9-], bounded, and two long branches sharing a prefix differ', (t) => {
  t.is(previewSlug('preview/Fix_Login'), 'preview-fix-login');
  t.is(previewSlug('refs/heads/preview/x'), 'preview-x');
  t.is(previewSlug('--a..b--'), 'a-b');
  const long1 = previewSlug(`preview/${'a'.repeat(60)}-one`);
  const long2 = previewSlug(`preview/${'a'.repeat(60)}-two`);
  t.true(long1.length <= MAX_PREVIEW_NAME && long2.length <= MAX_PREVIEW_NAME);
  t.not(long1, long2);
  t.regex(long1, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  t.throws(() => previewSlug('///'), { message: /no letters or digits/ });
});

test('preview patterns: * within a segment, ** across; a null pattern (the default) matches nothing', (t) => {
  t.true(matchesPreviewPattern('preview/x', 'preview/*'));
  t.false(matchesPreviewPattern('preview/x/y', 'preview/*'));
  t.true(matchesPreviewPattern('preview/x/y', 'preview/**'));
  t.false(matchesPreviewPattern('main', 'preview/*'));
  t.false(matchesPreviewPattern('preview/x', null));
  t.false(matchesPreviewPattern('a.b', 'a?b'), 'an invalid pattern matches nothing');
  t.false(matchesPreviewPattern('axb', 'a.b'), 'a dot is a dot');
  t.truthy(previewPatternProblem('../x'));
  t.truthy(previewPatternProblem('a b'));
  t.is(previewPatternProblem('feature/**'), undefined);
});

test('TTL: units, seconds granularity, bounds; due after last push + TTL', (t) => {
  t.is(parseTtl('3d'), 3 * 86400);
  t.is(parseTtl('12h'), 12 * 3600);
  t.is(parseTtl('45s'), 45);
  t.is(parseTtl('60'), 60);
  t.throws(() => parseTtl('5s'), { message: /from 10s to 90d/ });
  t.throws(() => parseTtl('91d'));
  t.throws(() => parseTtl('3 weeks'));
  const last = new Date('2026-01-01T00:00:00Z');
  t.deepEqual(expiresAt(last, 60), new Date('2026-01-01T00:01:00Z'));
  t.false(idleDue(last, 60, new Date('2026-01-01T00:00:59Z')));
  t.true(idleDue(last, 60, new Date('2026-01-01T00:01:00Z')));
});

test('router name clash: a preview never takes the host of another app, an environment or another app\'s preview', (t) => {
  t.regex(routerNameClash('shop-x', { app: true, environment: false, previewOf: null }, 'shop') ?? '', /an app named shop-x exists/);
  t.regex(routerNameClash('shop-x', { app: false, environment: true, previewOf: null }, 'shop') ?? '', /pipeline environment/);
  t.regex(routerNameClash('a-b-c', { app: false, environment: false, previewOf: 'a-b' }, 'a') ?? '', /preview of a-b/);
  t.is(routerNameClash('a-b-c', { app: false, environment: false, previewOf: 'a' }, 'a'), undefined, "the app's own preview (a push to it again)");
  t.is(routerNameClash('a-x', { app: false, environment: false, previewOf: null }, 'a'), undefined);
});

test('target keys: pre-<id> only', (t) => {
  t.is(previewTargetKey(7), 'pre-7');
  t.is(previewIdOfKey('pre-7'), 7);
  t.is(previewIdOfKey('app-7'), undefined);
  t.is(previewIdOfKey('pre-07'), undefined);
  t.is(previewIdOfKey('pre-7x'), undefined);
});

test('reconciler plan: doomed and unknown previews lose everything in teardown order; live ones are left alone', (t) => {
  const plan = planReconcile(
    [
      { id: 1, state: 'up', serviceNames: ['pv1-db'] },
      { id: 2, state: 'doomed', serviceNames: ['pv2-db'] },
      { id: 4, state: 'doomed', serviceNames: [] },
    ],
    [
      { id: 1, processes: 1, routed: true, network: true, services: ['pv1-db'] },
      { id: 2, processes: 2, routed: true, network: true, services: ['pv2-db', 'pv2-cache'] },
      // Left in Docker by a preview whose rows are gone (its app destroyed while Solum was down).
      { id: 3, processes: 0, routed: false, network: true, services: ['pv3-db'] },
    ],
  );
  t.deepEqual(plan, [
    { kind: 'stop-processes', id: 2 },
    { kind: 'unroute', id: 2 },
    { kind: 'remove-service', id: 2, service: 'pv2-cache' },
    { kind: 'remove-service', id: 2, service: 'pv2-db' },
    { kind: 'remove-network', id: 2 },
    { kind: 'remove-rows', id: 2 },
    { kind: 'remove-service', id: 3, service: 'pv3-db' },
    { kind: 'remove-network', id: 3 },
    { kind: 'remove-rows', id: 4 },
  ]);
});

test('reconciler plan: a teardown cut short after its processes went is finished by the next plan, and then there is nothing to do', (t) => {
  const desired = [{ id: 2, state: 'doomed' as const, serviceNames: ['pv2-db'] }];
  const half = planReconcile(desired, [{ id: 2, processes: 0, routed: false, network: true, services: ['pv2-db'] }]);
  t.deepEqual(half, [{ kind: 'remove-service', id: 2, service: 'pv2-db' }, { kind: 'remove-network', id: 2 }, { kind: 'remove-rows', id: 2 }]);
  t.deepEqual(planReconcile([], []), [], 'idempotent: once the rows are gone nothing is left to do');
  t.deepEqual(planReconcile([{ id: 5, state: 'building', serviceNames: [] }], [{ id: 5, processes: 0, routed: false, network: true, services: [] }]), [], 'a preview being built keeps its network');
});

test('the preview a ref builds: a branch by its slug, a pull request as pr-N wherever its head is kept; anything else refused', (t) => {
  t.deepEqual(previewOfRef('refs/heads/preview/Feature_X'), { branch: 'preview/Feature_X', name: 'preview-feature-x', pullRequest: null });
  t.deepEqual(previewOfRef('refs/pull/7/head'), { branch: 'pull/7', name: 'pr-7', pullRequest: 7 });
  t.deepEqual(previewOfRef('refs/solum/source/pull/12/head'), { branch: 'pull/12', name: 'pr-12', pullRequest: 12 });
  for (const bad of ['refs/tags/v1', 'refs/pull/0/head', 'refs/pull/7/merge', 'main', 'refs/solum/source/main']) t.throws(() => previewOfRef(bad), undefined, bad);
});
