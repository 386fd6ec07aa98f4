// Starts a real Solum (real git, Docker, PGlite or PostgreSQL) on free loopback ports for a test.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
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
  readonly token: string;
  readonly databaseUrl: string | undefined;
  /** Everything Solum logged, as text (JSON lines). */
  logs(): string;
  api(method: string, urlPath: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown; text: string }>;
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
  const config = loadConfig(env, path.resolve('.'));
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString('utf8')));
  const solum = await createSolum(config, createLogger('debug', logStream), options.overrides);
  const { httpPort, sshPort } = await solum.start();
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const base = `http://127.0.0.1:${httpPort}`;
  return {
    dataDir,
    httpPort,
    sshPort,
    token,
    databaseUrl: db.url,
    logs: () => logText,
    async api(method, urlPath, body, asToken = token) {
      const headers: Record<string, string> = {};
      if (asToken) headers.authorization = `Bearer ${asToken}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${urlPath}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text };
    },
    async stop() {
      await solum.stop();
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
