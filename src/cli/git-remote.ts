// The `solum` git remote of the current directory's repository: adding it, and reading the app from it.
import { execFile } from 'node:child_process';
import { CliError } from './errors.js';

export const REMOTE = 'solum';

interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function git(args: readonly string[], cwd: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', [...args], { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && 'code' in err && err.code === 'ENOENT') {
        reject(new CliError('git is not installed (or not on PATH)'));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The URL of the `solum` remote, or undefined outside a repository or without that remote. */
export async function remoteUrl(cwd: string): Promise<string | undefined> {
  const r = await git(['remote', 'get-url', REMOTE], cwd).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  return r.stdout.trim() || undefined;
}

/**
 * The app a remote URL points at: its last path segment without `.git`. Works for
 * ssh://git@host:2222/app.git, http://host:3000/app.git and scp-style git@host:app.git.
 */
export function appFromRemoteUrl(url: string): string | undefined {
  const last = url.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  const app = last.endsWith('.git') ? last.slice(0, -4) : last;
  return app === '' ? undefined : app;
}

export function remoteUrlFor(baseUrl: string, app: string, ssh: { port: number } | undefined): string {
  const base = new URL(baseUrl);
  // URL.hostname keeps IPv6 brackets, which is what an ssh:// URL needs too.
  if (ssh) return `ssh://git@${base.hostname}:${ssh.port}/${app}.git`;
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}/${app}.git`;
}

/** Adds the remote, or points the existing one at `url`. */
export async function setRemote(cwd: string, url: string): Promise<'added' | 'updated'> {
  const inside = await git(['rev-parse', '--git-dir'], cwd);
  if (inside.code !== 0) throw new CliError('not inside a git repository: run git init first, or cd into your app');
  const existing = await remoteUrl(cwd);
  const r = await git(existing === undefined ? ['remote', 'add', REMOTE, url] : ['remote', 'set-url', REMOTE, url], cwd);
  if (r.code !== 0) throw new CliError(`git could not set the remote: ${r.stderr.trim()}`);
  return existing === undefined ? 'added' : 'updated';
}
