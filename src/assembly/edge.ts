// The edge (decision 0017): the router (HAProxy, run and configured by Solum), the certificates it
// serves and where they come from (ACME, uploads), wired so a host's first deploy or first request
// gets it a certificate and every new certificate reaches the router.
import fs from 'node:fs';
import path from 'node:path';
import { createAcme } from '../edge/acme.js';
import { createCertificates } from '../edge/certificates.js';
import { createEdgeRouter } from '../edge/edge-router.js';
import type { Metrics } from '../metrics.js';
import type { Foundation } from './foundation.js';

export type Edge = Awaited<ReturnType<typeof assembleEdge>>;

/** The binary on PATH or in the sbin directories root's PATH has (a bare name otherwise). */
function findBinary(name: string): string {
  if (name.includes('/')) return name;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const file = path.join(d, name);
    if (d !== '' && fs.existsSync(file)) return file;
  }
  return name;
}

export async function assembleEdge(f: Foundation, metrics: Metrics) {
  const { config, logger } = f;
  const dir = path.join(config.dataDir, 'edge');
  /** ACME HTTP-01 answers: written while an order is validated, served on the router's HTTP port. */
  const challenges = new Map<string, string>();
  const acme = config.acme ? await createAcme({ directory: config.acme.directory, caFile: config.acme.caFile, email: config.acme.email, accountDir: path.join(dir, 'acme') }) : null;
  const tlsDir = path.join(dir, 'tls');
  const router = createEdgeRouter({
    binary: findBinary(config.router.haproxy),
    bind: config.bind,
    port: config.router.port,
    httpsPort: config.router.httpsPort,
    domain: config.router.domain,
    dir: path.join(dir, 'router'),
    threads: config.router.threads,
    graceMs: config.deploy.graceMs,
    defaultCertificate: path.join(tlsDir, 'default.pem'),
    challenges,
    reportUncertified: acme !== null,
    registry: metrics.registry,
    logger,
  });
  const certificates = createCertificates({ dir: tlsDir, acme, challenges, allowed: (host) => router.routes(host), logger });
  certificates.onChange(() => {
    router.setCertificates(certificates.entries()).catch((err: unknown) => { logger.error({ err }, 'the router did not take the new certificates'); });
  });
  router.whenHostsLive((hosts) => { for (const h of hosts) void certificates.ensure(h); });
  router.whenUncertified((host) => { void certificates.ensure(host); });
  return {
    router,
    certificates,
    async start(): Promise<number> {
      await certificates.start();
      void router.setCertificates(certificates.entries());
      return router.start();
    },
    async stop(): Promise<void> {
      certificates.stop();
      await router.stop();
    },
  };
}
