// The pack registry: S2I scripts locations.
import test from 'ava';
import { s2iScriptsDir } from '../../../../src/build/packs/pack-registry.js';

test('S2I scripts: image:///path from the label, the default without it, anything else refused', (t) => {
  t.is(s2iScriptsDir({ 'io.openshift.s2i.scripts-url': 'image:///opt/s2i/' }), '/opt/s2i');
  t.is(s2iScriptsDir({}), '/usr/libexec/s2i');
  t.is(s2iScriptsDir(undefined), '/usr/libexec/s2i');
  t.throws(() => s2iScriptsDir({ 'io.openshift.s2i.scripts-url': 'https://example.com/scripts' }), { message: /image:\/\/\/path/ });
});
