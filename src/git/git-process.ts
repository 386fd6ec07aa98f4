// Spawning git: always an argument vector, never a shell; output collected or streamed; a run with
// a deadline takes its whole process group down when the deadline passes. git starts from the
// small helper process of git-spawner.ts (`startGit`), never by forking Solum itself.
import { startGit } from './git-spawner.js';

export { startGit, startGitWritingTo, type GitChild, type HandedOverGit, type StartOptions } from './git-spawner.js';

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the run hit its `timeoutMs` and was killed. */
  readonly timedOut: boolean;
}

export interface GitRunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Kill the run after this long. git fetch and clone start helpers (git-remote-https, ssh,
   * index-pack) that would outlive a killed `git`, so such a run leads a process group of its own
   * and the whole group gets SIGTERM, then SIGKILL.
   */
  readonly timeoutMs?: number;
}

/** How long a timed-out git gets between SIGTERM (it removes its lock files) and SIGKILL. */
const KILL_GRACE_MS = 2000;

/** The environment git runs with: ours minus anything that would redirect it to another repo. */
export function gitEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('GIT_') && !k.startsWith('SOLUM_')) env[k] = v;
  }
  return { ...env, GIT_TERMINAL_PROMPT: '0', ...extra };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export async function runGit(args: readonly string[], options: GitRunOptions = {}): Promise<GitResult> {
  const deadline = options.timeoutMs;
  const child = await startGit(args, { cwd: options.cwd, env: options.env ?? gitEnv({}), detached: deadline !== undefined });
  child.stdin.end();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const run = { timedOut: false };
  let term: NodeJS.Timeout | undefined;
  let kill: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    term = setTimeout(() => {
      run.timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      kill = setTimeout(() => { killGroup(child.pid, 'SIGKILL'); }, KILL_GRACE_MS);
    }, deadline);
  }
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => { resolve(c ?? 1); });
    });
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut: run.timedOut };
  } finally {
    clearTimeout(term);
    clearTimeout(kill);
    // Whatever of a timed-out group is still there (a helper that ignored SIGTERM) goes now.
    if (run.timedOut) killGroup(child.pid, 'SIGKILL');
  }
}

export async function runGitOk(args: readonly string[], options: GitRunOptions = {}): Promise<string> {
  const r = await runGit(args, options);
  if (r.code !== 0) throw new Error(`git ${args[0] ?? ''} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
