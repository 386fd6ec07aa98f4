// Where a source URL points, read before any fetch: the host an owner's source may not aim at.
import test from 'ava';
import { sourceHost, sourceScheme } from '../../../../src/build/sources/pull-builds.js';
import { checkOutboundUrl } from '../../../../src/outbound-url.js';
import { errorCode } from '../../../support/samples.js';

test('the host of every source form: https, ssh://, user@host:path, IPv6', (t) => {
  t.is(sourceHost('https://tok@git.example.com:8443/o/r.git'), 'git.example.com');
  t.is(sourceHost('ssh://git@127.0.0.1:22/x.git'), '127.0.0.1');
  t.is(sourceHost('git@localhost:x.git'), 'localhost');
  t.is(sourceHost('http://[::1]:3000/r.git'), '[::1]');
  t.is(sourceScheme('git@localhost:x.git'), 'ssh');
});

test('an owner who is not an admin may not aim a source at this machine or link-local', (t) => {
  for (const url of ['http://127.0.0.1:3000/r.git', 'git@localhost:x.git', 'ssh://git@[::1]/x.git', 'https://169.254.169.254/r.git']) {
    t.is(errorCode(() => checkOutboundUrl(`http://${sourceHost(url)}/`, 'the source URL', false)), 'bad_request', url);
    t.notThrows(() => checkOutboundUrl(`http://${sourceHost(url)}/`, 'the source URL', true), `${url} (admin)`);
  }
  t.notThrows(() => checkOutboundUrl(`http://${sourceHost('https://git.example.com/r.git')}/`, 'the source URL', false));
});
