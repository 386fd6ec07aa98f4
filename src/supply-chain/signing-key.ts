// The installation's provenance signing key: ed25519, made at first start in the data dir (mode
// 0600, PKCS#8 PEM) and never logged; its public half is what anyone verifies envelopes with.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { keyIdOf } from './dsse.js';

export const SIGNING_KEY_FILE = 'provenance-ed25519.pem';

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as SPKI PEM (what GET /v1/provenance-key serves). */
  readonly publicPem: string;
  readonly keyId: string;
}

export function signingKeyOf(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the provenance key must be ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: keyIdOf(publicKey) };
}

export async function loadOrCreateSigningKey(dataDir: string): Promise<{ key: SigningKey; created: boolean; file: string }> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  try {
    return { key: signingKeyOf(createPrivateKey(await fs.readFile(file, 'utf8'))), created: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`unreadable provenance key ${file}: ${(err as Error).message}`);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  // `wx`: two processes starting on one data dir cannot both write a key; the loser reads the winner's.
  try {
    await fs.writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: signingKeyOf(createPrivateKey(await fs.readFile(file, 'utf8'))), created: false, file };
  }
  return { key: signingKeyOf(privateKey), created: true, file };
}
