// A TLS certificate bundle (chain and private key in PEM) read and checked: what an upload must be and
// what the router serves. No I/O.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { badRequest } from '../errors.js';

export interface CertificateFacts {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serial: string;
  readonly issuer: string;
  /** The DNS names it is valid for. */
  readonly names: readonly string[];
}

export interface Bundle extends CertificateFacts {
  /** The leaf first, then the rest of the chain, then the key: the file HAProxy reads. */
  readonly pem: string;
}

const MAX_BYTES = 64 * 1024;
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

/** The facts of a leaf certificate. */
export function factsOf(leaf: X509Certificate): CertificateFacts {
  const names = (leaf.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return {
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serial: leaf.serialNumber.toLowerCase(),
    issuer: /CN=([^\n,]+)/.exec(leaf.issuer)?.[1] ?? leaf.issuer.split('\n')[0] ?? '',
    names,
  };
}

/** Certificates and one private key from PEM text, in the order given. */
function blocks(pem: string): { certificates: X509Certificate[]; key: KeyObject | undefined; keyPem: string | undefined } {
  const certificates: X509Certificate[] = [];
  let key: KeyObject | undefined;
  let keyPem: string | undefined;
  for (const m of pem.matchAll(BLOCK)) {
    const kind = m[1] ?? '';
    const text = m[0];
    if (kind === 'CERTIFICATE') {
      try {
        certificates.push(new X509Certificate(text));
      } catch {
        throw badRequest(`certificate ${certificates.length + 1} of the bundle does not parse`);
      }
    } else if (/PRIVATE KEY$/.test(kind)) {
      if (keyPem !== undefined) throw badRequest('the bundle holds more than one private key: give the one of its certificate');
      if (kind === 'ENCRYPTED PRIVATE KEY') throw badRequest('the private key is encrypted: give it without a passphrase');
      try {
        key = createPrivateKey(text);
      } catch {
        throw badRequest('the private key does not parse');
      }
      keyPem = text;
    }
  }
  return { certificates, key, keyPem };
}

/**
 * Checks an uploaded bundle for `host`: at least one certificate, the first valid for the host now,
 * and its private key. Answers the file to serve, key last.
 */
export function readBundle(pem: string, host: string, now: Date = new Date()): Bundle {
  if (Buffer.byteLength(pem) > MAX_BYTES) throw badRequest(`a certificate bundle is at most ${MAX_BYTES / 1024} KiB`);
  const { certificates, key, keyPem } = blocks(pem);
  const leaf = certificates[0];
  if (!leaf) throw badRequest('no certificate in the bundle: give PEM text with the certificate, its chain and its private key');
  if (!key || keyPem === undefined) throw badRequest('no private key in the bundle: give PEM text with the certificate, its chain and its private key');
  if (!leaf.checkPrivateKey(key)) throw badRequest('the private key is not the key of the first certificate');
  if (leaf.checkHost(host) === undefined) throw badRequest(`the first certificate is not valid for ${host}`);
  const facts = factsOf(leaf);
  if (facts.notAfter.getTime() <= now.getTime()) throw badRequest(`the certificate expired on ${facts.notAfter.toISOString()}`);
  if (facts.notBefore.getTime() > now.getTime() + 5 * 60_000) throw badRequest(`the certificate is valid only from ${facts.notBefore.toISOString()}`);
  return { ...facts, pem: `${certificates.map((c) => c.toString().trim()).join('\n')}\n${keyPem.trim()}\n` };
}

/** The leaf certificate's facts of a bundle file Solum wrote itself. */
export function bundleFacts(pem: string): CertificateFacts | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!first) return undefined;
  try {
    return factsOf(new X509Certificate(first));
  } catch {
    return undefined;
  }
}
