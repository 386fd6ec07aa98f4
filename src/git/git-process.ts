// Spawning git: always an argument vector, never a shell; output collected or streamed.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function spawnGit(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawn('git', [...args], {
    cwd: options.cwd,
    env: options.env ?? gitEnv({}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The environment git runs with: ours minus anything that would redirect it to another repo. */
export function gitEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GIT_') && !k.startsWith('SOLUM_')) env[k] = v;
  }
  return { ...env, GIT_TERMINAL_PROMPT: '0', ...extra };
}

export async function runGit(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GitResult> {
  const child = spawnGit(args, options);
  child.stdin.end();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => { resolve(c ?? 1); });
  });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export async function runGitOk(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await runGit(args, options);
  if (r.code !== 0) throw new Error(`git ${args[0] ?? ''} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
