// The builder pack kind: the script several packs run in one builder.
import test from 'ava';
import { multiPackScript } from '../../../../src/build/runner/builder-kind.js';
import { packFromManifest, type LanguagePack } from '../../../../src/build/packs/language-packs.js';

const pack = (name: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}): LanguagePack =>
  packFromManifest({ name, version: '1', build: `/solum/bin/${name}`, dependsOn, ...extra }, `solum/lp-${name}:latest`);

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
