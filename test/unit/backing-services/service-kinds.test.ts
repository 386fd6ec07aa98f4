// Backing service kinds: names and the config var a link uses.
import test from 'ava';
import { linkEnvVar, manifestServiceName, parseServiceKind, parseServiceName } from '../../../src/backing-services/service-kinds.js';

test('service names, kinds and the config var a link uses', (t) => {
  t.is(parseServiceName('mydb'), 'mydb');
  for (const bad of ['', 'My', '1db', 'db-', 'a/b', 'x'.repeat(64), 'db;rm']) t.throws(() => parseServiceName(bad), { message: /invalid service name/ });
  t.is(parseServiceKind('redis'), 'redis');
  t.throws(() => parseServiceKind('mysql'), { message: /unknown service kind "mysql": one of postgres, redis/ });
  t.is(linkEnvVar('postgres', 'db1', new Set()), 'DATABASE_URL');
  t.is(linkEnvVar('postgres', 'reports-db', new Set(['DATABASE_URL'])), 'POSTGRES_REPORTS_DB_URL');
  t.is(linkEnvVar('redis', 'cache', new Set(['DATABASE_URL'])), 'REDIS_URL');
  t.is(linkEnvVar('redis', 'cache2', new Set(['REDIS_URL'])), 'REDIS_CACHE2_URL');
  t.is(manifestServiceName('shop', 'postgres'), 'shop-postgres');
  const long = manifestServiceName(`a${'-b'.repeat(31)}`, 'postgres');
  t.true(long.length <= 63 && long.endsWith('-postgres') && !long.includes('--'), long);
  t.notThrows(() => parseServiceName(long));
});
