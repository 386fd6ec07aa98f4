// Per-push tokens: single use, bound, expiring.
import test from 'ava';
import { createPushSessions } from '../../../src/hooks/push-sessions.js';
import type { AppName } from '../../../src/names.js';

test('push tokens: single use, bound to their session, expiring', (t) => {
  let now = 1000;
  const sessions = createPushSessions({ ttlMs: 100, now: () => now });
  const s = { appId: 1, app: 'hello' as AppName, userId: 1, repoPath: '/r', role: 'write' as const };
  const a = sessions.open(s);
  t.like(sessions.take(a.token), s);
  t.is(sessions.take(a.token), undefined, 'second use');
  const b = sessions.open(s);
  t.is(sessions.take(`${b.token}x`), undefined);
  now += 101;
  t.is(sessions.take(b.token), undefined, 'expired');
  const c = sessions.open(s);
  c.end();
  t.is(sessions.take(c.token), undefined, 'ended with its push');
});
