// Version ordering and ranges: Debian's against the real `dpkg --compare-versions`, PEP 440 and
// semver ranges, NAME@RANGE questions and OSV's introduced/fixed events.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { compareDebianVersions, parseDebianVersion, upstreamOf } from '../../../src/supply-chain/debian-version.js';
import { comparePep440Strings, normalizePypiName, parsePep440Specifier } from '../../../src/supply-chain/pep440.js';
import { advisoryQuestions, osvAdvisory, osvRangeMatcher, parsePackageQuery, rangeMatcher } from '../../../src/supply-chain/version-match.js';

const DEBIAN = [
  '0', '1', '1.0', '1.0-0', '1.0-1', '1.0-1~bpo1', '1.0~rc1', '1.0~rc1-1', '1.0~~', '1.0~', '1.0a', '1.0+dfsg-1', '1.0.1', '1.00', '1.001',
  '1:0.9', '2:0.1', '0:1.0', '1.0-1.1', '1.0-1+b1', '1.0-10', '1.0-9', '3.0.11-1~deb12u2', '3.0.11-1~deb12u1', '3.0.13-1~deb12u1', '3.0.11-1',
  '18.20.4+dfsg-1~deb12u2', '9.2.0~ds1-1', 'a1', '1.2.3.4.5', '10.0', '9.99', '1.0-a', '1.0-A', '1.0-+', '1.0-.', '2.30-1', '2.3-1',
];

const dpkg = (a: string, op: string, b: string): boolean => spawnSync('dpkg', ['--compare-versions', a, op, b]).status === 0;

test('Debian version ordering agrees with dpkg --compare-versions on every pair', (t) => {
  if (spawnSync('dpkg', ['--version']).status !== 0) {
    t.fail('dpkg is not installed here: this test compares against it');
    return;
  }
  let pairs = 0;
  // Each unordered pair once: our comparison must also be antisymmetric.
  DEBIAN.forEach((a, i) => {
    for (const b of DEBIAN.slice(i)) {
      const ours = Math.sign(compareDebianVersions(a, b));
      t.is(Math.sign(compareDebianVersions(b, a)), -ours || 0, `${b} vs ${a}`);
      const theirs = dpkg(a, 'lt', b) ? -1 : dpkg(a, 'gt', b) ? 1 : 0;
      t.is(ours, theirs, `${a} vs ${b}`);
      pairs++;
    }
  });
  t.is(pairs, (DEBIAN.length * (DEBIAN.length + 1)) / 2);
});

test('Debian versions: parts, what is refused, the upstream version of a runtime', (t) => {
  t.deepEqual(parseDebianVersion('1:2.3-4~deb12u1'), { epoch: 1, upstream: '2.3', revision: '4~deb12u1' });
  t.deepEqual(parseDebianVersion('2.3'), { epoch: 0, upstream: '2.3', revision: '' });
  for (const bad of ['', 'a:1', '1.0-', '1 0', '1.0_1', '1:2:3']) t.is(parseDebianVersion(bad), undefined, bad);
  t.is(upstreamOf('18.20.4+dfsg-1~deb12u2'), '18.20.4');
  t.is(upstreamOf('3.11.2-1+b1'), '3.11.2');
  t.throws(() => compareDebianVersions('1.0', 'not a version!'));
});

test('PEP 440: ordering of dev, pre, post and local releases', (t) => {
  const ordered = ['1.0.dev1', '1.0a1', '1.0a2.dev1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1.dev1', '1.0.post1', '1.1', '1!0.5'];
  for (let i = 0; i < ordered.length - 1; i++) t.true(comparePep440Strings(ordered[i] ?? '', ordered[i + 1] ?? '') < 0, `${ordered[i] ?? ''} < ${ordered[i + 1] ?? ''}`);
  t.is(comparePep440Strings('1.0', '1.0.0'), 0);
  t.is(comparePep440Strings('1.0-rc1', '1.0rc1'), 0, 'permissive spellings normalise');
  t.is(normalizePypiName('Foo_Bar.baz'), 'foo-bar-baz');
});

test('PEP 440 specifiers: comparisons, ~=, ==X.*, !=, ===', (t) => {
  const m = (spec: string): ((v: string) => boolean) => parsePep440Specifier(spec) ?? (() => { throw new Error(spec); });
  t.true(m('>=2,<2.31')('2.30.0'));
  t.false(m('>=2,<2.31')('2.31'));
  t.true(m('~=2.2')('2.9'));
  t.false(m('~=2.2')('3.0'));
  t.true(m('~=1.4.5')('1.4.9'));
  t.false(m('~=1.4.5')('1.5.0'));
  t.true(m('==1.4.*')('1.4.2'));
  t.false(m('==1.4.*')('1.5'));
  t.true(m('!=1.0')('1.1'));
  t.true(m('==1.0')('1.0+local'), 'a local part is ignored without one in the specifier');
  t.true(m('2.31.0')('2.31.0'), 'a bare version means ==');
  t.true(m('===1.0foo')('1.0foo'));
  t.is(parsePep440Specifier('>>1'), undefined);
  t.is(parsePep440Specifier('~=1'), undefined, '~= needs two release segments');
});

test('ranges per ecosystem: semver for npm, comparators for deb, specifiers for pypi', (t) => {
  const npm = rangeMatcher('npm', '<4.17.21');
  t.true(npm?.matches('4.17.20'));
  t.false(npm?.matches('4.17.21'));
  t.true(rangeMatcher('npm', '^1.2.0')?.matches('1.9.0-rc.1'), 'pre-releases count');
  t.is(rangeMatcher('npm', '<<< no'), undefined);
  const deb = rangeMatcher('deb', '<< 3.0.13-1~deb12u1');
  t.true(deb?.matches('3.0.11-1~deb12u2'));
  t.false(deb?.matches('3.0.13-1~deb12u1'));
  t.true(rangeMatcher('deb', '>=3.0, <3.0.13')?.matches('3.0.11-1~deb12u2'));
  t.true(rangeMatcher('deb', '3.0.11-1~deb12u2')?.matches('3.0.11-1~deb12u2'), 'a bare version is that version');
  t.is(rangeMatcher('deb', '<not_a version'), undefined);
  t.true(rangeMatcher('pypi', '<2.31')?.matches('2.28.1'));
  t.true(rangeMatcher('runtime', '<18.20.5')?.matches('18.20.4'));
  t.true(rangeMatcher('deb', '')?.matches('anything'), 'no range: any version');
});

test('NAME@RANGE questions: scoped npm names, no range, bad names', (t) => {
  t.deepEqual(parsePackageQuery('lodash@<4.17.21'), { name: 'lodash', range: '<4.17.21' });
  t.deepEqual(parsePackageQuery('@babel/core@^7.0.0'), { name: '@babel/core', range: '^7.0.0' });
  t.deepEqual(parsePackageQuery('@babel/core'), { name: '@babel/core', range: '' });
  t.deepEqual(parsePackageQuery('openssl'), { name: 'openssl', range: '' });
  for (const bad of ['', '../x', 'a b@1', '@scope', 'x;rm']) t.is(parsePackageQuery(bad), undefined, bad);
});

test('OSV events: introduced, fixed and last_affected in version order; listed versions; what cannot be evaluated', (t) => {
  const r = osvRangeMatcher('npm', { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] });
  t.true(r?.matches('4.17.20'));
  t.false(r?.matches('4.17.21'));
  const two = osvRangeMatcher('npm', { type: 'SEMVER', events: [{ fixed: '2.0.1' }, { introduced: '1.5.0' }, { introduced: '3.0.0' }, { last_affected: '3.1.0' }] });
  t.deepEqual(['1.4.0', '1.5.0', '2.0.0', '2.0.1', '3.1.0', '3.1.1'].map((v) => two?.matches(v)), [false, true, true, false, true, false]);
  const deb = osvRangeMatcher('deb', { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.13-1~deb12u1' }] });
  t.true(deb?.matches('3.0.11-1~deb12u2'));
  t.is(osvRangeMatcher('npm', { type: 'GIT', events: [{ introduced: 'abc' }] }), undefined);
  const advisory = osvAdvisory.parse({
    id: 'GHSA-test',
    affected: [
      { package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] },
      { package: { ecosystem: 'Debian:12', name: 'openssl' }, versions: ['3.0.11-1~deb12u2'] },
      { package: { ecosystem: 'crates.io', name: 'x' } },
    ],
  });
  const qs = advisoryQuestions(advisory);
  t.deepEqual(qs.map((q) => [q.ecosystem, q.name]), [['npm', 'lodash'], ['deb', 'openssl'], [undefined, 'x']]);
  t.is(qs[0]?.matcher?.describe, 'introduced 0, fixed 4.17.21');
  t.true(qs[1]?.matcher?.matches('3.0.11-1~deb12u2'));
  t.regex(qs[2]?.notes[0] ?? '', /crates\.io/);
  t.false(osvAdvisory.safeParse({ id: 'x', affected: [] }).success, 'an advisory names a package');
});
