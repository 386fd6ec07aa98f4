// Let's Encrypt's test CA (Debian's pebble) on loopback for the ACME tests, with
// pebble-challtestsrv as its DNS server, which answers every name with 127.0.0.1 (and no IPv6).
// Validation is real: pebble fetches HTTP-01 answers from the router's port on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from './solum.js';

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** The CA file that signs pebble's own HTTPS certificate (SOLUM_ACME_CA). */
  readonly caFile: string;
  /** The root that signs the certificates pebble issues (PEM). */
  root(): Promise<string>;
  /** What pebble says of a certificate it issued: Valid or Revoked. */
  status(serialHex: string): Promise<string>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => { resolve(a.port); });
    });
  });
}

/** A GET over HTTPS to loopback trusting `ca`. */
export function httpsGet(url: string, ca: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }); });
    });
    req.on('error', reject);
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => { resolve(false); });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Starts pebble whose HTTP-01 validations go to `httpPort` on 127.0.0.1; certificates live `validitySeconds`. */
export async function startPebble(o: { httpPort: number; validitySeconds: number }): Promise<Pebble> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-pebble-'));
  const f = (n: string): string => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=solum test ACME CA']);
  await run('openssl', ['req', ...ec, '-keyout', f('key.pem'), '-out', f('req.csr'), '-subj', '/CN=localhost']);
  await fs.writeFile(f('ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', f('req.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '2', '-extfile', f('ext')]);
  const [acmePort, mgmtPort, tlsPort, dnsPort, challMgmt] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  await fs.writeFile(
    f('pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: f('cert.pem'),
        privateKey: f('key.pem'),
        httpPort: o.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: o.validitySeconds,
      },
    }),
  );
  const children: ChildProcess[] = [];
  const log = await fs.open(f('log'), 'a');
  const start = (cmd: string, args: string[]): void => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PEBBLE_')));
    children.push(spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd], env }));
  };
  start('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challMgmt}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
  await waitForPort(dnsPort);
  start('pebble', ['-config', f('pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`]);
  await waitForPort(acmePort);
  await waitForPort(mgmtPort);
  const ca = await fs.readFile(f('ca.pem'), 'utf8');
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    caFile: f('ca.pem'),
    root: async () => (await httpsGet(`https://127.0.0.1:${mgmtPort}/roots/0`, ca)).text,
    async status(serial) {
      const r = await httpsGet(`https://127.0.0.1:${mgmtPort}/cert-status-by-serial/${serial}`, ca);
      return (JSON.parse(r.text) as { Status: string }).Status;
    },
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await log.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
