// Parses an OpenSSH public key line into what we store, refusing weak or malformed keys.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { AppError } from '../errors.js';

export interface ParsedPublicKey {
  readonly algo: string;
  /** base64 of the SSH wire-format key blob */
  readonly blob: string;
  /** As `ssh-keygen -lf` prints it: SHA256:<unpadded base64> */
  readonly fingerprint: string;
}

const allowedAlgos = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
]);

const invalid = (message: string): AppError => new AppError('invalid_public_key', message);

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** RSA modulus size in bits, read from the wire-format blob (string "ssh-rsa", mpint e, mpint n). */
function rsaBits(blob: Buffer): number {
  let off = 0;
  const next = (): Buffer => {
    if (off + 4 > blob.length) throw invalid('malformed RSA key');
    const len = blob.readUInt32BE(off);
    off += 4;
    if (off + len > blob.length) throw invalid('malformed RSA key');
    const part = blob.subarray(off, off + len);
    off += len;
    return part;
  };
  next();
  next();
  const n = next();
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  const first = n[i];
  if (first === undefined) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(first));
}

export function parsePublicKey(text: string): ParsedPublicKey {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw invalid('no public key given');
  if (lines.length > 1) throw invalid('give exactly one public key, not several');
  const line = lines[0] ?? '';
  const fields = line.split(/\s+/);
  const type = fields[0] ?? '';
  if (!allowedAlgos.has(type)) {
    if (type === 'ssh-dss') throw invalid('DSA keys are not accepted: use ed25519, ecdsa or rsa (2048 bits or more)');
    throw invalid('not an OpenSSH public key line (key options are not accepted): expected "ssh-ed25519 AAAA… [comment]"');
  }
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error || Array.isArray(parsed)) throw invalid(`malformed public key: ${parsed instanceof Error ? parsed.message : 'several keys'}`);
  if (parsed.isPrivateKey()) throw invalid('that is a private key: give the .pub file');
  if (parsed.type !== type) throw invalid('key type does not match its data');
  const blob = parsed.getPublicSSH();
  if (type === 'ssh-rsa' && rsaBits(blob) < 2048) throw invalid('RSA keys must have at least 2048 bits');
  return { algo: type, blob: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}
