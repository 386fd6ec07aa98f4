// Language packs: detection, dependencies, manifests and search.
import test from 'ava';
import { detectPack, packFromManifest, resolvePacks, type LanguagePack } from '../../../../src/build/packs/language-packs.js';
import { matchesQuery } from '../../../../src/build/packs/pack-registry.js';

const packs: LanguagePack[] = [
  { name: 'node', version: '1', image: 'solum/lp-node:latest', detect: ['package.json'], build: '/solum/bin/build', run: 'npm start', network: 'host', kind: 'builder', cache: ['/root/.npm'], dependsOn: [], scripts: undefined },
  { name: 'shell', version: '1', image: 'solum/lp-shell:latest', detect: [], build: '/solum/bin/build', run: 'false', network: 'none', kind: 'builder', cache: [], dependsOn: [], scripts: undefined },
];

test('detection: package.json selects node, anything else falls back to shell', (t) => {
  t.is(detectPack(packs, new Set(['package.json', 'x']))?.name, 'node');
  t.is(detectPack(packs, new Set(['main.sh']))?.name, 'shell');
});

const pack = (name: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}): LanguagePack =>
  packFromManifest({ name, version: '1', build: `/solum/bin/${name}`, dependsOn, ...extra }, `solum/lp-${name}:latest`);

test('pack dependencies: dependencies first, each pack once, in the order asked', (t) => {
  const all = [pack('base'), pack('lib', ['base']), pack('app', ['lib', 'base']), pack('other', ['base'])];
  t.deepEqual(resolvePacks(all, ['app']).map((p) => p.name), ['base', 'lib', 'app']);
  t.deepEqual(resolvePacks(all, ['other', 'app']).map((p) => p.name), ['base', 'other', 'lib', 'app']);
  t.deepEqual(resolvePacks(all, ['base', 'base']).map((p) => p.name), ['base']);
  t.deepEqual(resolvePacks(all, []), []);
});

test('pack dependencies: missing ones and cycles are refused with the path', (t) => {
  t.throws(() => resolvePacks([pack('a', ['ghost'])], ['a']), { message: "language pack 'a' depends on 'ghost', which does not exist" });
  t.throws(() => resolvePacks([pack('a')], ['nope']), { message: "language pack 'nope' is not available" });
  const cyclic = [pack('a', ['b']), pack('b', ['c']), pack('c', ['a'])];
  t.throws(() => resolvePacks(cyclic, ['a']), { message: 'language packs depend on each other in a cycle: a → b → c → a' });
  t.throws(() => packFromManifest({ name: 'a', version: '1', build: 'x', dependsOn: ['a'] }, 'i'), { message: /cannot depend on itself/ });
  t.throws(() => packFromManifest({ name: 'a', version: '1', build: 'x', dependsOn: ['Not A Name'] }, 'i'), { message: /dependencies are pack names/ });
});

test('manifests: s2i packs need no build command, others do; detection never falls back to buildpack or s2i packs', (t) => {
  t.is(packFromManifest({ name: 's', version: '1', kind: 's2i' }, 'img').build, '');
  t.throws(() => packFromManifest({ name: 'b', version: '1' }, 'img'), { message: /build command is required/ });
  const bp = pack('buildpack', [], { kind: 'buildpack' });
  const sh = pack('shell');
  t.is(detectPack([bp, sh], new Set(['x']))?.name, 'shell');
  t.is(detectPack([bp], new Set(['x'])), undefined);
});

test('pack search: substring of name or version; name@version wants that version or one below it', (t) => {
  const p = { name: 'node', version: '2.1.3' };
  t.true(matchesQuery(p, undefined));
  t.true(matchesQuery(p, 'no'));
  t.true(matchesQuery(p, '2.1'));
  t.true(matchesQuery(p, 'node@2'));
  t.true(matchesQuery(p, 'node@2.1'));
  t.true(matchesQuery(p, 'node@2.1.3'));
  t.false(matchesQuery(p, 'node@2.10'));
  t.false(matchesQuery(p, 'node@1'));
  t.false(matchesQuery(p, 'python@2'));
});
