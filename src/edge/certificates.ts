// The certificates the router serves: obtained over ACME for hosts Solum routes (on a target's first
// deploy, and on the first request for a host that has none), renewed before they expire, replaced
// (and the old one revoked) on request, or uploaded by an app's admins. Kept in the data directory,
// one file per host (chain and key), mode 0600; keys are never logged.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Acme, ChallengeWriter } from './acme.js';
import { bundleFacts, readBundle, type CertificateFacts } from './certificate-bundle.js';
import type { CertificateEntry } from './haproxy-config.js';

const run = promisify(execFile);

export type CertificateSource = 'acme' | 'upload';

/** What is known of a host's certificate, as `domains` shows it. */
export interface CertificateStatus {
  /** issued (ACME), uploaded, pending (an order runs), failed (the last order failed), none. */
  readonly status: 'issued' | 'uploaded' | 'pending' | 'failed' | 'none';
  readonly source: CertificateSource | null;
  readonly notAfter: Date | null;
  readonly issuer: string | null;
  readonly serial: string | null;
  readonly error: string | null;
  /** When a failed order is tried again (on the next request for the host from then on). */
  readonly retryAt: Date | null;
}

export interface Certificates {
  start(): Promise<void>;
  stop(): void;
  /** Whether certificates come over ACME here. */
  readonly acme: boolean;
  /** The file the TLS listener holds when nothing else matches. */
  readonly defaultFile: string;
  /** Every certificate to serve, an upload before an ACME one of the same host. */
  entries(): CertificateEntry[];
  /** Told whenever entries() changes. */
  onChange(listener: () => void): void;
  /**
   * Gets a certificate for `host` over ACME unless it has a valid one (or an order failed a short
   * while ago): for hosts the caller's `allowed` accepts only. Resolves once done; never throws.
   */
  ensure(host: string): Promise<void>;
  /** A new ACME certificate now; with `revoke` the one it replaces is revoked at the CA. */
  replace(host: string, revoke: boolean): Promise<CertificateStatus>;
  status(host: string): CertificateStatus;
  /** The chain and key served for a host (for Solum's own TLS listener), if any. */
  read(host: string): Promise<{ cert: string; key: string } | undefined>;
  upload(host: string, pem: string): Promise<CertificateStatus>;
  removeUpload(host: string): Promise<void>;
  /** The host is no longer Solum's to serve (a custom domain removed): its files go. */
  forget(host: string): Promise<void>;
}

interface Held extends CertificateFacts {
  readonly file: string;
}

interface Failure {
  readonly error: string;
  readonly attempts: number;
  readonly retryAt: number;
}

const DAY_MS = 86_400_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a certificate is renewed: a third of its life before it ends, at most 30 days before. Pure. */
export function renewalTime(c: Pick<CertificateFacts, 'notBefore' | 'notAfter'>): number {
  const life = c.notAfter.getTime() - c.notBefore.getTime();
  return c.notAfter.getTime() - Math.min(30 * DAY_MS, life / 3);
}

/** How long after a failed order the next may be placed: 30 s, doubling, at most 6 hours. Pure. */
export const retryDelay = (attempts: number): number => Math.min(6 * 3_600_000, 30_000 * 2 ** Math.max(0, attempts - 1));

async function writePrivate(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, data, { mode: 0o600 });
  await fs.rename(tmp, file);
}

export function createCertificates(o: {
  dir: string;
  acme: Acme | null;
  challenges: ChallengeWriter;
  /** Hosts Solum may get certificates for: those it routes (and its own public host). */
  allowed: (host: string) => boolean;
  logger: Logger;
}): Certificates {
  const log = o.logger.child({ component: 'certificates' });
  const dirs = { acme: path.join(o.dir, 'acme'), upload: path.join(o.dir, 'uploaded') };
  const defaultFile = path.join(o.dir, 'default.pem');
  const held: Record<CertificateSource, Map<string, Held>> = { acme: new Map(), upload: new Map() };
  const failures = new Map<string, Failure>();
  const inflight = new Map<string, Promise<void>>();
  const timers = new Map<string, NodeJS.Timeout>();
  const listeners: Array<() => void> = [];
  const changed = (): void => { for (const l of listeners) l(); };

  const fileOf = (source: CertificateSource, host: string): string => path.join(dirs[source], `${host}.pem`);

  const schedule = (host: string): void => {
    clearTimeout(timers.get(host));
    const c = held.acme.get(host);
    if (!c) return;
    const wait = Math.max(0, renewalTime(c) - Date.now());
    // Timers longer than ~24.8 days overflow: wake up then and look again.
    const t = setTimeout(() => {
      if (wait > MAX_TIMER_MS) schedule(host);
      else void order(host, 'renewal');
    }, Math.min(wait, MAX_TIMER_MS));
    t.unref();
    timers.set(host, t);
  };

  const record = async (source: CertificateSource, host: string, pem: string): Promise<Held> => {
    const facts = bundleFacts(pem);
    if (!facts) throw new Error(`the certificate for ${host} does not parse`);
    const file = fileOf(source, host);
    await writePrivate(file, pem);
    const h = { ...facts, file };
    held[source].set(host, h);
    return h;
  };

  /** One order for `host`, replacing what it holds from ACME. */
  const order = (host: string, why: string): Promise<void> => {
    const running = inflight.get(host);
    if (running) return running;
    const acme = o.acme;
    if (!acme) return Promise.resolve();
    const p = (async () => {
      log.info({ host, why }, 'ordering a certificate');
      try {
        const issued = await acme.order([host], o.challenges);
        const h = await record('acme', host, `${issued.chainPem.trim()}\n${issued.keyPem.trim()}\n`);
        failures.delete(host);
        schedule(host);
        log.info({ host, serial: h.serial, notAfter: h.notAfter.toISOString(), issuer: h.issuer }, 'certificate issued');
        changed();
      } catch (err) {
        const attempts = (failures.get(host)?.attempts ?? 0) + 1;
        const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
        failures.set(host, { error, attempts, retryAt: Date.now() + retryDelay(attempts) });
        log.warn({ host, why, error, attempts }, 'ordering a certificate failed');
      } finally {
        inflight.delete(host);
      }
    })();
    inflight.set(host, p);
    return p;
  };

  const status = (host: string): CertificateStatus => {
    const up = held.upload.get(host);
    const ac = held.acme.get(host);
    const c = up ?? ac;
    const f = failures.get(host);
    const state = up ? 'uploaded' : ac ? 'issued' : inflight.has(host) ? 'pending' : f ? 'failed' : 'none';
    return {
      status: state,
      source: up ? 'upload' : ac ? 'acme' : null,
      notAfter: c?.notAfter ?? null,
      issuer: c?.issuer ?? null,
      serial: c?.serial ?? null,
      error: f?.error ?? null,
      retryAt: f && !c ? new Date(f.retryAt) : null,
    };
  };

  const load = async (source: CertificateSource): Promise<void> => {
    for (const name of await fs.readdir(dirs[source]).catch(() => [] as string[])) {
      if (!name.endsWith('.pem')) continue;
      const file = path.join(dirs[source], name);
      const facts = bundleFacts(await fs.readFile(file, 'utf8'));
      if (!facts) {
        log.warn({ file }, 'ignoring a certificate file that does not parse');
        continue;
      }
      held[source].set(name.slice(0, -'.pem'.length), { ...facts, file });
    }
  };

  /** A self-signed certificate for the TLS listener to hold (strict SNI never shows it). */
  const ensureDefault = async (): Promise<void> => {
    if (await fs.stat(defaultFile).then(() => true, () => false)) return;
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-tls-'));
    try {
      const [key, cert] = [path.join(tmp, 'key.pem'), path.join(tmp, 'cert.pem')];
      await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', '/CN=solum-default'], { timeout: 30_000 });
      await writePrivate(defaultFile, `${(await fs.readFile(cert, 'utf8')).trim()}\n${(await fs.readFile(key, 'utf8')).trim()}\n`);
    } catch (err) {
      throw new Error(`making the router's default TLS certificate failed (is openssl installed?): ${(err as Error).message}`, { cause: err });
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  };

  return {
    acme: o.acme !== null,
    defaultFile,
    async start() {
      for (const d of [o.dir, dirs.acme, dirs.upload]) {
        await fs.mkdir(d, { recursive: true, mode: 0o700 });
        await fs.chmod(d, 0o700);
      }
      await ensureDefault();
      await load('acme');
      await load('upload');
      for (const host of held.acme.keys()) schedule(host);
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
    entries() {
      const out: CertificateEntry[] = [];
      for (const [host, h] of held.upload) out.push({ file: h.file, hosts: [host], serial: h.serial });
      for (const [host, h] of held.acme) if (!held.upload.has(host)) out.push({ file: h.file, hosts: [host], serial: h.serial });
      return out;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async ensure(host) {
      if (!o.acme || held.upload.has(host)) return;
      const c = held.acme.get(host);
      if (c && renewalTime(c) > Date.now()) return;
      const f = failures.get(host);
      if (f && f.retryAt > Date.now()) return;
      if (!o.allowed(host)) {
        log.warn({ host }, 'refusing to order a certificate for a host Solum does not route');
        return;
      }
      await order(host, c ? 'renewal' : 'first');
    },
    async replace(host, revoke) {
      if (!o.acme) throw new AppError('conflict', 'certificates do not come over ACME here: set SOLUM_ACME_DIRECTORY, or upload one');
      if (!o.allowed(host)) throw new AppError('conflict', `${host} is not routed now (is the app deployed?): no certificate can be validated for it`);
      const previous = held.acme.get(host);
      const oldPem = previous ? await fs.readFile(previous.file, 'utf8').catch(() => undefined) : undefined;
      failures.delete(host);
      await order(host, revoke ? 'replacement of a revoked certificate' : 'replacement');
      const now = held.acme.get(host);
      if (!now || now.serial === previous?.serial) throw new AppError('conflict', `no new certificate for ${host}: ${failures.get(host)?.error ?? 'the order failed'}`);
      if (revoke && oldPem) {
        // Revoked once the new one is served, so the host is never without a valid certificate.
        await o.acme.revoke(oldPem);
        log.info({ host, serial: previous?.serial }, 'certificate revoked');
      }
      return status(host);
    },
    status,
    async read(host) {
      const h = held.upload.get(host) ?? held.acme.get(host);
      if (!h) return undefined;
      const pem = await fs.readFile(h.file, 'utf8');
      const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[0];
      if (!key) return undefined;
      return { cert: pem.replace(key, '').trim(), key };
    },
    async upload(host, pem) {
      const bundle = readBundle(pem, host);
      await record('upload', host, bundle.pem);
      log.info({ host, serial: bundle.serial, notAfter: bundle.notAfter.toISOString() }, 'certificate uploaded');
      changed();
      return status(host);
    },
    async removeUpload(host) {
      if (!held.upload.delete(host)) throw new AppError('not_found', `${host} has no uploaded certificate`);
      await fs.rm(fileOf('upload', host), { force: true });
      changed();
    },
    async forget(host) {
      const had = held.upload.delete(host) || held.acme.delete(host);
      held.acme.delete(host);
      clearTimeout(timers.get(host));
      failures.delete(host);
      await fs.rm(fileOf('upload', host), { force: true });
      await fs.rm(fileOf('acme', host), { force: true });
      if (had) changed();
    },
  };
}
