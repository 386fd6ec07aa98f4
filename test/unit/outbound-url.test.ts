// URLs Solum requests for users: loopback and link-local targets refused unless allowed.
import test from 'ava';
import { checkOutboundUrl, isLocalAddress, refuseLocalLookup } from '../../src/outbound-url.js';
import { errorCode } from '../support/samples.js';

test('local addresses: loopback, unspecified and link-local, v4, v6 and mapped', (t) => {
  for (const ip of ['127.0.0.1', '127.9.9.9', '0.0.0.0', '169.254.169.254', '::1', '::', 'fe80::1', '::ffff:127.0.0.1', '::ffff:169.254.1.1']) t.true(isLocalAddress(ip), ip);
  for (const ip of ['192.0.2.10', '10.1.2.3', '8.8.8.8', '2001:db8::1', '::ffff:192.0.2.1']) t.false(isLocalAddress(ip), ip);
});

test('outbound URLs: http(s) only; this machine and link-local refused unless allowed', (t) => {
  t.is(checkOutboundUrl('https://ci.example.com/statuses', 'x', false).hostname, 'ci.example.com');
  for (const url of ['http://127.0.0.1/', 'http://localhost:80/', 'http://a.localhost/', 'http://[::1]/', 'http://2130706433/', 'http://0x7f.1/', 'http://169.254.169.254/', 'ftp://example.com/', 'not a url']) {
    t.is(errorCode(() => checkOutboundUrl(url, 'x', false)), 'bad_request', url);
  }
  t.is(checkOutboundUrl('http://127.0.0.1:9/', 'x', true).port, '9');
});

test('the lookup refuses names that resolve to this machine', async (t) => {
  const lookup = (host: string) =>
    new Promise<void>((resolve, reject) => {
      refuseLocalLookup(host, {}, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  await t.throwsAsync(lookup('localhost'), { code: 'ELOCALADDRESS' });
  await t.throwsAsync(lookup('127.0.0.1'), { code: 'ELOCALADDRESS' });
});
