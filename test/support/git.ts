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

/** The protocol version a traced (GIT_TRACE_PACKET=1) git command spoke with the server. */
export function tracedProtocol(stderr: string): 0 | 1 | 2 {
  if (/packet: +[\w-]+< version 2$/m.test(stderr)) return 2;
  if (/packet: +[\w-]+< version 1$/m.test(stderr)) return 1;
  return 0;
}

/** How many objects a (partial) clone lacks: those a lazy fetch would have to bring. */
export async function missingObjects(dir: string): Promise<number> {
  // With --missing, rev-list never fetches lazily: it reports what is absent.
  const r = await run('git', ['rev-list', '--objects', '--all', '--missing=print'], { cwd: dir });
  if (r.code !== 0) throw new Error(`rev-list failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('?')).length;
}

// dulwich (Debian's python3-dulwich, a git implemented in pure Python): clone, commit, push.
const DULWICH = `
import sys
from dulwich import porcelain
op = sys.argv[1]
if op == 'clone':
    porcelain.clone(sys.argv[2], sys.argv[3], errstream=sys.stderr.buffer)
elif op == 'commit':
    repo, path, text = sys.argv[2], sys.argv[3], sys.argv[4]
    with open(repo + '/' + path, 'w') as f:
        f.write(text)
    porcelain.add(repo, [repo + '/' + path])
    who = b'Dulwich <dulwich@example.invalid>'
    sys.stdout.write(porcelain.commit(repo, message=b'commit by dulwich', author=who, committer=who).decode() + '\\n')
elif op == 'push':
    porcelain.push(sys.argv[2], sys.argv[3], sys.argv[4], errstream=sys.stderr.buffer)
else:
    sys.exit('unknown operation ' + op)
`;

/** Runs one dulwich operation with Debian's python (the package installs for /usr/bin/python3). */
export function dulwich(op: 'clone' | 'commit' | 'push', args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run('/usr/bin/python3', ['-c', DULWICH, op, ...args], { env: { PYTHONDONTWRITEBYTECODE: '1', ...env } });
}
