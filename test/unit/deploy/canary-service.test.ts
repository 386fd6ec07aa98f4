// The share a canary may get.
import test from 'ava';
import { checkPercent } from '../../../src/deploy/canary-service.js';

test('a canary gets a whole percent from 1 to 99: 0, 100, fractions and non-numbers are refused', (t) => {
  t.is(checkPercent(1), 1);
  t.is(checkPercent(99), 99);
  for (const bad of [0, 100, -1, 2.5, Number.NaN]) t.throws(() => checkPercent(bad), { message: /from 1 to 99/ }, String(bad));
});
