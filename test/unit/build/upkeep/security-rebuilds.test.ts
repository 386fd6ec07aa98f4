// Security rebuild verdicts.
import test from 'ava';
import { packFromManifest, type LanguagePack } from '../../../../src/build/packs/language-packs.js';
import { judgeAll, rebuildsSame } from '../../../../src/build/upkeep/security-rebuilds.js';
import { type Build } from '../../../../src/db/build-store.js';

const pack = (name: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}): LanguagePack =>
  packFromManifest({ name, version: '1', build: `/solum/bin/${name}`, dependsOn, ...extra }, `solum/lp-${name}:latest`);

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
