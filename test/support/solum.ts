// Starts a real Solum (real git, Docker, PGlite or PostgreSQL) on free loopback ports for a test.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createSolum, type SolumOverrides } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type DatabaseKind } from './database.js';

export interface RunningSolum {
  readonly dataDir: string;
  readonly httpPort: number;
  readonly sshPort: number;
  readonly routerPort: number;
  /** The router's TLS port (null when SOLUM_HTTPS_PORT=off). */
  readonly httpsPort: number | null;
  readonly token: string;
  readonly databaseUrl: string | undefined;
  /** Everything Solum logged, as text (JSON lines). */
  logs(): string;
  api(method: string, urlPath: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown; text: string }>;
  /** GET through the router with the app's Host header. */
  viaRouter(app: string, urlPath?: string): Promise<{ status: number; text: string }>;
  /** Stops this Solum and starts a new one on the same data and database (ports change). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSolum(options: { database?: DatabaseKind; env?: Record<string, string>; overrides?: SolumOverrides } = {}): Promise<RunningSolum> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-test-'));
  const db = await createTestDatabase(options.database ?? 'pglite');
  const env: NodeJS.ProcessEnv = {
    SOLUM_DATA_DIR: dataDir,
    SOLUM_HTTP_PORT: '0',
    SOLUM_SSH_PORT: '0',
    SOLUM_BIND: '127.0.0.1',
    SOLUM_LOG_LEVEL: 'debug',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...(process.env.SOLUM_BUILD_CA_BUNDLE ? { SOLUM_BUILD_CA_BUNDLE: process.env.SOLUM_BUILD_CA_BUNDLE } : {}),
    ...options.env,
  };
  const config = loadConfig({ SOLUM_ROUTER_PORT: '0', SOLUM_HTTPS_PORT: '0', SOLUM_DEPLOY_GRACE_SECONDS: '2', ...env }, path.resolve('.'));
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString('utf8')));
  let solum = await createSolum(config, createLogger('debug', logStream), options.overrides);
  let ports = await solum.start();
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const base = (): string => `http://127.0.0.1:${ports.httpPort}`;
  return {
    dataDir,
    get httpPort() {
      return ports.httpPort;
    },
    get sshPort() {
      return ports.sshPort;
    },
    get routerPort() {
      return ports.routerPort;
    },
    get httpsPort() {
      return ports.httpsPort;
    },
    token,
    databaseUrl: db.url,
    logs: () => logText,
    async api(method, urlPath, body, asToken = token) {
      const headers: Record<string, string> = {};
      if (asToken) headers.authorization = `Bearer ${asToken}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base()}${urlPath}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    },
    viaRouter(app, urlPath = '/') {
      return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: ports.routerPort, path: urlPath, headers: { host: `${app}.localhost` }, agent: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }); });
        });
        req.setTimeout(10_000, () => req.destroy(new Error('router request timed out')));
        req.on('error', reject);
      });
    },
    async restart() {
      await solum.stop();
      solum = await createSolum(config, createLogger('debug', logStream), options.overrides);
      ports = await solum.start();
    },
    async stop() {
      await solum.stop();
      // App processes outlive Solum by design; a test's must not outlive the test.
      const installation = /"installation":"([0-9a-f]+)"/.exec(logText)?.[1];
      if (installation) {
        const ps = await run('docker', ['ps', '-aq', '--filter', `label=io.solum.installation=${installation}`, '--filter', 'label=io.solum.role=process']);
        const ids = ps.stdout.split('\n').filter((l) => l.trim() !== '');
        if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
        // Networks outlive Solum like processes do; a test's would use up the subnet pool.
        const nets = await run('docker', ['network', 'ls', '-q', '--filter', `label=io.solum.installation=${installation}`]);
        for (const n of nets.stdout.split('\n').filter((l) => l.trim() !== '')) {
          const attached = await run('docker', ['network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$id}} {{end}}', n]);
          for (const c of attached.stdout.split(' ').filter((x) => x.trim() !== '')) await run('docker', ['network', 'disconnect', '-f', n, c.trim()]);
          await run('docker', ['network', 'rm', n]);
        }
      }
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An SSH key pair in a temp dir, usable with the real OpenSSH client. */
export interface SshIdentity {
  readonly privateKeyPath: string;
  readonly publicKey: string;
  /** GIT_SSH_COMMAND for this identity. */
  readonly sshCommand: string;
}

export async function makeSshIdentity(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): Promise<SshIdentity> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-key-'));
  const file = path.join(dir, `id_${type}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-C', 'test', '-f', file]);
  const publicKey = (await fs.readFile(`${file}.pub`, 'utf8')).trim();
  const sshCommand = `ssh -i ${file} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes`;
  return { privateKeyPath: file, publicKey, sshCommand };
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code: code ?? 1, stdout, stderr }); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export const randomName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;
