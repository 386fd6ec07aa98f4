// Cron schedules through cron-parser: five fields or a shorthand, UTC or an IANA zone.
import test from 'ava';
import { checkSchedule, isTimeZone, latestSlot, nextSlot } from '../../../src/deploy/cron-schedule.js';

test('schedules: five fields and the shorthands pass; anything else says why', (t) => {
  for (const ok of ['* * * * *', '*/5 * * * *', '0 3 * * 1-5', '@daily', '@hourly', ' 30 2 1 * * ']) t.is(checkSchedule(ok), undefined, ok);
  t.regex(checkSchedule('* * * *') ?? '', /4 fields: a schedule has five/);
  t.regex(checkSchedule('0 * * * * *') ?? '', /6 fields/, 'no seconds field');
  t.regex(checkSchedule('61 * * * *') ?? '', /^"61 \* \* \* \*": /);
  t.regex(checkSchedule('@reboot') ?? '', /is not a schedule/);
});

test('slots: the latest time at or before now, the next after it, in UTC or a zone', (t) => {
  const at = new Date('2026-03-10T10:07:30.000Z');
  t.is(latestSlot('*/5 * * * *', 'UTC', at).toISOString(), '2026-03-10T10:05:00.000Z');
  t.is(nextSlot('*/5 * * * *', 'UTC', at).toISOString(), '2026-03-10T10:10:00.000Z');
  // A slot exactly now is due now, not the one before.
  t.is(latestSlot('*/5 * * * *', 'UTC', new Date('2026-03-10T10:05:00.000Z')).toISOString(), '2026-03-10T10:05:00.000Z');
  // 03:00 in Berlin (UTC+1 in March before the switch) is 02:00 UTC.
  t.is(nextSlot('0 3 * * *', 'Europe/Berlin', at).toISOString(), '2026-03-11T02:00:00.000Z');
  t.is(latestSlot('@daily', 'UTC', at).toISOString(), '2026-03-10T00:00:00.000Z');
  t.true(isTimeZone('UTC'));
  t.true(isTimeZone('America/New_York'));
  t.false(isTimeZone('Mars/Olympus'));
});
