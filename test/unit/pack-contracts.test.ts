// Pure parts of the pack contracts: buildpack release YAML, process-type merging, pack dependency
// ordering and cycles, buildpack URLs, S2I scripts URLs, search, the multi-pack script, push
// options, multi-pack security verdicts, tar renaming; and the new columns on both databases.
import test from 'ava';
import tar from 'tar-stream';
import { parseBuildpackUrl, checkBuildpackUrls } from '../../src/buildpack-url.js';
import { mergeProcessTypes, parseBuildpackRelease } from '../../src/build/packs/buildpacks.js';
import { multiPackScript } from '../../src/build/runner/builder-kind.js';
import { detectPack, packFromManifest, resolvePacks, type LanguagePack } from '../../src/build/packs/language-packs.js';
import { matchesQuery, s2iScriptsDir } from '../../src/build/packs/pack-registry.js';
import { judgeAll, rebuildsSame } from '../../src/build/upkeep/security-rebuilds.js';
import { fileFromTar, retar, tarOf } from '../../src/build/runner/tar-tools.js';
import { parsePushOptions } from '../../src/hooks/push-options.js';
import { createAppStore } from '../../src/db/app-store.js';
import { createBuildStore, type Build } from '../../src/db/build-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';

const pack = (name: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}): LanguagePack =>
  packFromManifest({ name, version: '1', build: `/solum/bin/${name}`, dependsOn, ...extra }, `solum/lp-${name}:latest`);

test('bin/release YAML: default_process_types read; empty output is none; bad shapes are clear errors', (t) => {
  const yaml = '---\naddons: []\nconfig_vars:\n  A: b\ndefault_process_types:\n  web: ./bin/serve --port $PORT\n  worker: ./bin/work\n';
  t.deepEqual([...parseBuildpackRelease(yaml)], [['web', './bin/serve --port $PORT'], ['worker', './bin/work']]);
  t.is(parseBuildpackRelease('').size, 0);
  t.is(parseBuildpackRelease('---\naddons: []\n').size, 0);
  t.is(parseBuildpackRelease('default_process_types:\n').size, 0);
  t.throws(() => parseBuildpackRelease('default_process_types: [web]\n'), { message: /must be a mapping/ });
  t.throws(() => parseBuildpackRelease('default_process_types:\n  web: 3\n'), { message: /non-empty string/ });
  t.throws(() => parseBuildpackRelease('default_process_types:\n  "we b": x\n'), { message: /invalid process type/ });
  t.throws(() => parseBuildpackRelease('- a\n'), { message: /YAML mapping/ });
  t.throws(() => parseBuildpackRelease('default_process_types: {web: "x"\n'), { message: /invalid YAML/ });
});

test('process types: the last buildpack naming any wins whole; the Procfile overrides per type', (t) => {
  const first = new Map([['web', 'first-web'], ['clock', 'first-clock']]);
  const second = new Map([['web', 'second-web']]);
  t.deepEqual([...mergeProcessTypes([first, second, new Map()], new Map())], [['web', 'second-web']]);
  t.deepEqual([...mergeProcessTypes([first, second], new Map([['web', 'procfile-web'], ['worker', 'w']]))], [['web', 'procfile-web'], ['worker', 'w']]);
  t.deepEqual([...mergeProcessTypes([], new Map())], []);
});

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

test('buildpack URLs: https and http for all, file:// for admins, #ref picks a branch; junk refused', (t) => {
  t.deepEqual(parseBuildpackUrl('https://example.com/bp.git', false), { repo: 'https://example.com/bp.git', ref: undefined });
  t.deepEqual(parseBuildpackUrl('https://example.com/bp.git#v2.1', false), { repo: 'https://example.com/bp.git', ref: 'v2.1' });
  t.deepEqual(parseBuildpackUrl('file:///srv/bp', true), { repo: 'file:///srv/bp', ref: undefined });
  t.throws(() => parseBuildpackUrl('file:///srv/bp', false), { message: /admins only/ });
  t.deepEqual(parseBuildpackUrl('solum-buildpack:my-bp', false), { repo: '', ref: undefined, registered: 'my-bp' });
  t.throws(() => parseBuildpackUrl('solum-buildpack:../x', false), { message: /invalid registered buildpack name/ });
  t.throws(() => parseBuildpackUrl('ssh://host/bp', true), { message: /https:\/\/, http:\/\/ or file:\/\/ git URLs or solum-buildpack:NAME/ });
  t.throws(() => parseBuildpackUrl('--upload-pack=evil', true));
  t.throws(() => parseBuildpackUrl('https://x/bp#--evil', true), { message: /invalid buildpack ref/ });
  t.throws(() => parseBuildpackUrl('https://x/ b', true), { message: /without spaces/ });
  t.throws(() => checkBuildpackUrls(Array.from({ length: 9 }, () => 'https://x/bp'), true), { message: /at most 8/ });
});

test('S2I scripts: image:///path from the label, the default without it, anything else refused', (t) => {
  t.is(s2iScriptsDir({ 'io.openshift.s2i.scripts-url': 'image:///opt/s2i/' }), '/opt/s2i');
  t.is(s2iScriptsDir({}), '/usr/libexec/s2i');
  t.is(s2iScriptsDir(undefined), '/usr/libexec/s2i');
  t.throws(() => s2iScriptsDir({ 'io.openshift.s2i.scripts-url': 'https://example.com/scripts' }), { message: /image:\/\/\/path/ });
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

test('the multi-pack script runs each build step in order; later packs use their copied /solum', (t) => {
  const script = multiPackScript([pack('base'), pack('app', ['base'], { build: "/solum/bin/build --flag 'it''s'" })], new Set(['app']));
  t.is(
    script,
    [
      'set -e',
      "echo '-----> Build step 1/2: language pack base 1'",
      "/bin/sh -c '/solum/bin/base'",
      "echo '-----> Build step 2/2: language pack app 1'",
      "SOLUM_PACK_DIR=/solum/packs/app /bin/sh -c '/solum/packs/app/bin/build --flag '\\''it'\\'''\\''s'\\'''",
    ].join('\n'),
  );
  t.regex(multiPackScript([pack('a'), pack('b')], new Set()), /\/bin\/sh -c '\/solum\/bin\/b'$/, 'a pack without a /solum dir keeps its command');
});

test('push options: solum.buildpack is repeatable and keeps its order', (t) => {
  const o = parsePushOptions(['solum.buildpack=https://x/one.git', 'solum.async', 'solum.buildpack=https://x/two.git#main', 'solum.buildpack=']);
  t.deepEqual(o.buildpacks, ['https://x/one.git', 'https://x/two.git#main']);
  t.deepEqual(o.unknown, ['solum.buildpack=']);
});

test('security verdicts for several packs: any stale pack image means rebuild; a vanished pack skips', (t) => {
  const build = { id: 1, source: 'push', languagePack: 'app', languagePackImage: 'sha256:a1' } as unknown as Build;
  const base = pack('base');
  const app = pack('app', ['base']);
  t.like(judgeAll(build, [{ name: 'base', image: 'sha256:b1', pack: base, current: 'sha256:b1' }, { name: 'app', image: 'sha256:a1', pack: app, current: 'sha256:a1' }]), { state: 'current' });
  const stale = judgeAll(build, [{ name: 'base', image: 'sha256:b1', pack: base, current: 'sha256:b2' }, { name: 'app', image: 'sha256:a1', pack: app, current: 'sha256:a1' }]);
  t.like(stale, { state: 'rebuild' });
  t.regex(stale.reason, /'base'/);
  t.like(judgeAll(build, [{ name: 'base', image: 'sha256:b1', pack: undefined, current: null }, { name: 'app', image: 'sha256:a1', pack: app, current: 'sha256:a1' }]), { state: 'skipped' });
  // A rebuild asks for the main pack alone only when that gives the same packs again.
  t.true(rebuildsSame([base, app], [{ name: 'base' }, { name: 'app' }], 'app'));
  t.false(rebuildsSame([base, app, pack('solo')], [{ name: 'solo' }, { name: 'app' }], 'app'));
  t.false(rebuildsSame([app], [{ name: 'base' }, { name: 'app' }], 'app'), 'a vanished dependency');
});

test('tar tools: entries renamed under a new directory (parents first); one file read back', async (t) => {
  const src = await tarOf([{ name: 'solum/bin/build', content: '#!/bin/sh\n', mode: 0o755 }, { name: 'other/x', content: 'x' }]);
  const out = await retar(src, 'solum', 'solum/packs/app');
  const names: Array<[string, number | undefined]> = [];
  const extract = tar.extract();
  extract.on('entry', (h, s, next) => {
    names.push([h.name, h.mode]);
    s.on('end', next);
    s.resume();
  });
  const done = new Promise<void>((r) => extract.on('finish', () => { r(); }));
  extract.end(out);
  await done;
  t.deepEqual(names, [['solum/', 0o755], ['solum/packs/', 0o755], ['solum/packs/app/', 0o755], ['solum/packs/app/bin/build', 0o755]]);
  t.is(await fileFromTar(await tarOf([{ name: 'r.yml', content: 'web: x' }])), 'web: x');
});

for (const kind of databaseKinds) {
  test(`app buildpacks and language packs; a build's buildpacks and every pack it ran [${kind}]`, async (t) => {
    const { db, done } = await openTestDatabase(kind);
    t.teardown(done);
    const owner = await createUserStore(db.knex).createUser(parseUserName('ann'), false);
    if (owner === 'duplicate') throw new Error('duplicate');
    const apps = createAppStore(db.knex);
    const { app } = await apps.createApp(parseAppName('bp'), owner.id);
    t.deepEqual([app.buildpacks, app.languagePacks], [[], []]);
    const updated = await apps.update(app.id, { buildpacks: ['https://x/a.git', 'https://x/b.git'], languagePacks: ['base', 'app'] });
    t.deepEqual([updated?.buildpacks, updated?.languagePacks], [['https://x/a.git', 'https://x/b.git'], ['base', 'app']]);
    t.deepEqual((await apps.findApp(parseAppName('bp')))?.buildpacks, ['https://x/a.git', 'https://x/b.git']);
    const builds = createBuildStore(db.knex);
    const b = await builds.createBuild({ appId: app.id, number: 1, ref: 'refs/heads/main', commit: 'c'.repeat(40), archive: 'a.tar', buildpacks: ['https://x/c.git'] });
    t.deepEqual(b.buildpacks, ['https://x/c.git']);
    t.deepEqual(b.languagePacks, []);
    const claimed = await builds.claim('w');
    t.is(claimed?.id, b.id);
    const uses = [{ name: 'base', image: 'sha256:b' }, { name: 'app', image: 'sha256:a' }];
    t.true(await builds.finish(b.id, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: 'app', languagePackImage: 'sha256:a', duId: 'sha256:d', duImage: 'solum/bp:1', languagePacks: uses }));
    t.deepEqual((await builds.getBuild(b.id))?.languagePacks, uses);
    // An outcome without the list records its one pack.
    const b2 = await builds.createBuild({ appId: app.id, number: 2, ref: 'refs/heads/main', commit: 'd'.repeat(40), archive: 'b.tar' });
    await builds.claim('w');
    await builds.finish(b2.id, 'w', { status: 'succeeded', exitCode: 0, error: null, languagePack: 'shell', languagePackImage: 'sha256:s', duId: 'sha256:e', duImage: 'solum/bp:2' });
    t.deepEqual((await builds.getBuild(b2.id))?.languagePacks, [{ name: 'shell', image: 'sha256:s' }]);
  });
}
