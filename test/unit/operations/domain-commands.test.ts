// The domain and certificate commands over SSH: words, switches and stdin to the domain service.
import test from 'ava';
import type { CertificateStatus } from '../../../src/edge/certificates.js';
import type { DomainService } from '../../../src/edge/domain-service.js';
import { forbidden } from '../../../src/errors.js';
import { createSshCommands } from '../../../src/git/ssh-commands.js';
import { bindOperations } from '../../../src/operations/operations.js';
import { alice, deps, fake } from './fakes.js';

const none: CertificateStatus = { status: 'none', source: null, notAfter: null, issuer: null, serial: null, error: null, retryAt: null };
const issued: CertificateStatus = { ...none, status: 'issued', source: 'acme', notAfter: new Date('2030-01-01T00:00:00.000Z'), issuer: 'Pebble Intermediate CA 1', serial: 'ab' };

test('domains, domains:add/remove/redirect, certs:upload (stdin) and certs:renew --revoke reach the service', async (t) => {
  const seen: unknown[] = [];
  const domains = fake<DomainService>({
    list: (_a, app) => Promise.resolve({ app, redirect: false, hosts: [{ host: `${app}.localhost`, kind: 'app', certificate: issued }] }),
    add: (_a, app, host) => {
      seen.push(['add', app, host]);
      if (host === 'bad.example.org') return Promise.reject(forbidden('bad.example.org is not among the domains you may add'));
      return Promise.resolve({ host, kind: 'custom', certificate: none });
    },
    remove: (_a, app, host) => {
      seen.push(['remove', app, host]);
      return Promise.resolve();
    },
    setRedirect: (_a, app, redirect) => {
      seen.push(['redirect', app, redirect]);
      return Promise.resolve({ app, redirect, hosts: [] });
    },
    uploadCertificate: (_a, app, host, pem) => {
      seen.push(['upload', app, host, pem]);
      return Promise.resolve({ host, kind: 'custom', certificate: { ...issued, status: 'uploaded', source: 'upload' } });
    },
    renewCertificate: (_a, app, host, revoke) => {
      seen.push(['renew', app, host, revoke]);
      return Promise.resolve({ host, kind: 'custom', certificate: issued });
    },
  });
  const ssh = createSshCommands({ operations: bindOperations(deps({ domains })) });
  const run = (line: string, stdin = '') => ssh.run(alice, line.split(' '), () => Promise.resolve(stdin));

  const list = await run('domains web');
  t.is(list.code, 0);
  t.regex(list.stdout, /web\.localhost\s+app\s+issued\s+2030-01-01 00:00:00Z\s+Pebble Intermediate CA 1/);
  t.regex(list.stdout, /HTTP to HTTPS redirect: off/);
  t.like(await run('domains:add web www.example.org'), { code: 0, stdout: 'added www.example.org\n' });
  t.like(await run('domains:add web bad.example.org'), { code: 1, stderr: 'solum: bad.example.org is not among the domains you may add\n' });
  t.like(await run('domains:remove web www.example.org'), { code: 0 });
  t.like(await run('domains:redirect web on'), { code: 0, stdout: 'HTTP to HTTPS redirect for web: on\n' });
  t.like(await run('domains:redirect web maybe'), { code: 2 });
  t.like(await run('certs:upload web www.example.org', 'PEM TEXT'), { code: 0, stdout: 'www.example.org: certificate uploaded, expires 2030-01-01 00:00:00Z\n' });
  t.like(await run('certs:renew web www.example.org --revoke'), { code: 0 });
  t.deepEqual(JSON.parse((await run('domains web --json')).stdout), { app: 'web', redirect: false, hosts: [{ host: 'web.localhost', kind: 'app', certificate: { status: 'issued', notAfter: '2030-01-01T00:00:00.000Z', issuer: 'Pebble Intermediate CA 1', serial: 'ab', error: null } }] });
  t.deepEqual(seen, [
    ['add', 'web', 'www.example.org'],
    ['add', 'web', 'bad.example.org'],
    ['remove', 'web', 'www.example.org'],
    ['redirect', 'web', true],
    ['upload', 'web', 'www.example.org', 'PEM TEXT'],
    ['renew', 'web', 'www.example.org', true],
  ]);
});
