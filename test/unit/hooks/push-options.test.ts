// Push options.
import test from 'ava';
import { parsePushOptions } from '../../../src/hooks/push-options.js';

test('push options: solum.buildpack is repeatable and keeps its order', (t) => {
  const o = parsePushOptions(['solum.buildpack=https://x/one.git', 'solum.async', 'solum.buildpack=https://x/two.git#main', 'solum.buildpack=']);
  t.deepEqual(o.buildpacks, ['https://x/one.git', 'https://x/two.git#main']);
  t.deepEqual(o.unknown, ['solum.buildpack=']);
});
