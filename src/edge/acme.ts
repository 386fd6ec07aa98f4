// ACME (RFC 8555) through acme-client: an account whose key stays in the data directory, orders
// answered by HTTP-01 on the router's HTTP port, revocation. The only file that talks to an ACME
// directory. Its requests go straight to the directory (no proxy) and trust the host's CAs plus the
// operator's SOLUM_ACME_CA.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { axios as acmeHttp, Client, crypto as acmeCrypto } from 'acme-client';

/** Where challenge answers go while an order is validated: the router serves them on its HTTP port. */
export interface ChallengeWriter {
  set(token: string, keyAuthorization: string): void;
  delete(token: string): void;
}

export interface IssuedCertificate {
  /** The leaf first, then the chain. */
  readonly chainPem: string;
  readonly keyPem: string;
}

export interface Acme {
  /** Orders a certificate for `hosts` (the first is its common name), answering HTTP-01. */
  order(hosts: readonly string[], challenges: ChallengeWriter): Promise<IssuedCertificate>;
  /** Revokes a certificate this account holds. */
  revoke(chainPem: string): Promise<void>;
}

// acme-client makes its requests through one shared HTTP instance, so what it trusts is process-wide:
// the host's CAs and every CA file a Solum in this process was given.
const extraCas = new Set<string>();

async function trust(caFile: string | undefined): Promise<void> {
  if (caFile) extraCas.add(await fs.readFile(caFile, 'utf8'));
  acmeHttp.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, ...extraCas], keepAlive: false });
  // HTTPS_PROXY is the builders' egress upstream (decision 0014), not a way for Solum's own requests.
  acmeHttp.defaults.proxy = false;
}

/** The account key for one directory: made once, kept 0600 in the data directory. */
async function accountKey(dir: string, directory: string): Promise<string> {
  const file = path.join(dir, `account-${createHash('sha256').update(directory).digest('hex').slice(0, 16)}.pem`);
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    const key = (await acmeCrypto.createPrivateEcdsaKey('P-256')).toString('utf8');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await fs.writeFile(file, key, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another Solum made it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return fs.readFile(file, 'utf8');
  }
}

export async function createAcme(o: { directory: string; caFile: string | undefined; email: string | undefined; accountDir: string }): Promise<Acme> {
  await trust(o.caFile);
  const client = new Client({ directoryUrl: o.directory, accountKey: await accountKey(o.accountDir, o.directory), backoffAttempts: 5, backoffMin: 1000, backoffMax: 10_000 });
  return {
    async order(hosts, challenges) {
      const [key, csr] = await acmeCrypto.createCsr({ commonName: hosts[0] ?? '', altNames: [...hosts] }, await acmeCrypto.createPrivateEcdsaKey('P-256'));
      const chainPem = await client.auto({
        csr,
        ...(o.email ? { email: o.email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // acme-client would first fetch the challenge itself from wherever DNS points the host: the
        // directory's validation is the check that counts, and Solum sends nothing anywhere else.
        skipChallengeVerification: true,
        challengeCreateFn: (_authz, challenge, keyAuthorization) => {
          challenges.set(challenge.token, keyAuthorization);
          return Promise.resolve();
        },
        challengeRemoveFn: (_authz, challenge) => {
          challenges.delete(challenge.token);
          return Promise.resolve();
        },
      });
      return { chainPem, keyPem: key.toString('utf8') };
    },
    async revoke(chainPem) {
      await client.revokeCertificate(chainPem);
    },
  };
}
