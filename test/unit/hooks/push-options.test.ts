// Push options.
import test from 'ava';
import { parsePushOptions } from '../../../src/hooks/push-options.js';

test('push options: solum.buildpack is repeatable and keeps its order', (t) => {
  const o = parsePushOptions(['solum.buildpack=https://x/one.git', 'solum.async', 'solum.buildpack=https://x/two.git#main', 'solum.buildpack=']);
  t.deepEqual(o.buildpacks, ['https://x/one.git', 'https://x/two.git#main']);
  t.deepEqual(o.unknown, ['solum.buildpack=']);
});

test('solum.canary=PERCENT takes a whole percent from 1 to 99; anything else is not a canary', (t) => {
  t.is(parsePushOptions(['solum.canary=25']).canary, 25);
  t.is(parsePushOptions(['solum.canary=1']).canary, 1);
  t.is(parsePushOptions(['solum.canary=99']).canary, 99);
  for (const bad of ['solum.canary=0', 'solum.canary=100', 'solum.canary=abc', 'solum.canary=', 'solum.canary=05', 'solum.canary=-3']) {
    t.is(parsePushOptions([bad]).canary, undefined, bad);
    t.deepEqual(parsePushOptions([bad]).unknown, [bad]);
  }
  t.is(parsePushOptions([]).canary, undefined);
});
