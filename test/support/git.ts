// Drives the real git client against a running Solum over either transport.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeSshIdentity, run, type CommandResult, type RunningSolum, type SshIdentity } from './solum.js';

export type Transport = 'ssh' | 'http';
export const transports: readonly Transport[] = ['ssh', 'http'];

export interface GitClient {
  readonly transport: Transport;
  url(app: string): string;
  git(args: readonly string[], cwd: string, extraEnv?: NodeJS.ProcessEnv): Promise<CommandResult>;
}

/** A git client signed in as admin: by SSH key (registered through the API) or by token. */
export async function gitClient(solum: RunningSolum, transport: Transport, identity?: SshIdentity): Promise<GitClient> {
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };
  if (transport === 'ssh') {
    const id = identity ?? (await makeSshIdentity());
    const res = await solum.api('POST', '/v1/users/admin/keys', { name: `k${Date.now()}${Math.random().toString(16).slice(2, 6)}`, publicKey: id.publicKey });
    if (res.status !== 201) throw new Error(`adding key failed: ${res.text}`);
    env.GIT_SSH_COMMAND = id.sshCommand;
  }
  return {
    transport,
    url: (app) =>
      transport === 'ssh' ? `ssh://git@127.0.0.1:${solum.sshPort}/${app}.git` : `http://solum:${solum.token}@127.0.0.1:${solum.httpPort}/${app}.git`,
    git: (args, cwd, extraEnv = {}) => run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...args], { cwd, env: { ...env, ...extraEnv } }),
  };
}

/** A fresh local repository with `files`, committed on `main`. Returns its path. */
export async function makeRepo(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-src-'));
  await run('git', ['init', '-q', '-b', 'main', dir]);
  await writeAndCommit(dir, files, 'first');
  return dir;
}

export async function writeAndCommit(dir: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  const env = { GIT_CONFIG_NOSYSTEM: '1' };
  await run('git', ['add', '-A'], { cwd: dir, env });
  const c = await run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', message], { cwd: dir, env });
  if (c.code !== 0) throw new Error(`commit failed: ${c.stderr}`);
  return (await run('git', ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

/** The remote's refs as `ref → sha`, read with ls-remote through the same transport. */
export async function remoteRefs(client: GitClient, app: string, cwd: string): Promise<Map<string, string>> {
  const r = await client.git(['ls-remote', client.url(app)], cwd);
  if (r.code !== 0) throw new Error(`ls-remote failed: ${r.stderr}`);
  const refs = new Map<string, string>();
  for (const line of r.stdout.trim().split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}
