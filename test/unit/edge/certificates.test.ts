// When certificates are renewed and orders retried; what an upload must be.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { readBundle } from '../../../src/edge/certificate-bundle.js';
import { renewalTime, retryDelay } from '../../../src/edge/certificates.js';

const DAY = 86_400_000;

test('renewal: a third of the life before the end, at most 30 days before', (t) => {
  const from = new Date('2030-01-01T00:00:00Z');
  t.is(renewalTime({ notBefore: from, notAfter: new Date(from.getTime() + 90 * DAY) }), from.getTime() + 60 * DAY);
  t.is(renewalTime({ notBefore: from, notAfter: new Date(from.getTime() + 365 * DAY) }), from.getTime() + 335 * DAY);
  t.is(renewalTime({ notBefore: from, notAfter: new Date(from.getTime() + 90_000) }), from.getTime() + 60_000);
});

test('failed orders are retried after 30 s, doubling, at most 6 hours', (t) => {
  t.is(retryDelay(1), 30_000);
  t.is(retryDelay(2), 60_000);
  t.is(retryDelay(4), 240_000);
  t.is(retryDelay(40), 6 * 3_600_000);
});

function selfSigned(cn: string, days = 30): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solum-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'k'), '-out', path.join(dir, 'c'), '-days', String(days), '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
    return { cert: fs.readFileSync(path.join(dir, 'c'), 'utf8'), key: fs.readFileSync(path.join(dir, 'k'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('an upload: its first certificate valid for the host, with its own unencrypted key; served key last', (t) => {
  const a = selfSigned('shop.example.org');
  const b = selfSigned('other.example.org');
  const bundle = readBundle(`${a.key}\n${a.cert}`, 'shop.example.org');
  t.deepEqual(bundle.names, ['shop.example.org']);
  t.true(bundle.pem.indexOf('CERTIFICATE') < bundle.pem.indexOf('PRIVATE KEY'), 'the key comes last');
  t.throws(() => readBundle(a.cert, 'shop.example.org'), { message: /no private key/ });
  t.throws(() => readBundle(a.key, 'shop.example.org'), { message: /no certificate/ });
  t.throws(() => readBundle(`${a.cert}${b.key}`, 'shop.example.org'), { message: /not the key of the first certificate/ });
  t.throws(() => readBundle(`${a.cert}${a.key}`, 'www.example.org'), { message: /not valid for www\.example\.org/ });
  t.throws(() => readBundle(`${a.cert}${a.key}`, 'shop.example.org', new Date(Date.now() + 60 * DAY)), { message: /expired/ });
});
