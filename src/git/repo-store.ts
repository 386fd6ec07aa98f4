// Bare repositories on disk: one per app, created with Solum's hook and server-side settings.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AppName } from '../names.js';
import { runGit, runGitOk } from './git-process.js';

export interface RepoStore {
  pathOf(app: AppName): string;
  exists(app: AppName): Promise<boolean>;
  /** Creates the bare repo when missing (idempotent) and (re)writes its hook. */
  ensure(app: AppName, deployBranch: string): Promise<string>;
  /** An empty bare repo with app repo settings (and no hook), for advertising refs of apps to be. */
  ensureEmpty(): Promise<string>;
  /** The commit a ref points to, or null when there is no such ref. */
  refHead(app: AppName, ref: string): Promise<string | null>;
  /** Whether commit `older` is an ancestor of commit `newer` in the app's repository (false when either is unknown). */
  isAncestor(app: AppName, older: string, newer: string): Promise<boolean>;
  /** Deletes an app's repository (moved aside first, so a half-deleted repo is never served). */
  remove(app: AppName): Promise<void>;
  /** Rewrites the hook of every repo, so a moved install or upgraded hook takes effect. */
  reinstallHooks(): Promise<number>;
  /**
   * Removes push quarantines (`objects/tmp_objdir-incoming-*`) untouched for longer than
   * `olderThanMs` from every repo: what a receive-pack killed mid-push (SIGKILL, power loss)
   * leaves behind forever. Returns how many were removed.
   */
  removeStaleQuarantines(olderThanMs: number): Promise<number>;
}

// Settings every app repo gets: integrity checks on what is pushed, keep-alives while hooks run.
const repoConfig: ReadonlyArray<readonly [string, string]> = [
  ['receive.fsckObjects', 'true'],
  ['receive.keepAlive', '5'],
  ['receive.advertisePushOptions', 'true'],
  ['core.logAllRefUpdates', 'true'],
  ['uploadpack.allowFilter', 'true'],
  ['gc.auto', '0'],
];

/** The prefix git gives the directory a push's objects wait in until pre-receive accepts them. */
const QUARANTINE_PREFIX = 'tmp_objdir-incoming-';

/**
 * The newest mtime anywhere under `dir`: when a quarantine last received anything (index-pack
 * grows pack/tmp_pack_*, unpack-objects adds loose objects; a quarantine holds a few files only).
 */
async function lastTouched(dir: string): Promise<number> {
  let newest = (await fs.lstat(dir)).mtimeMs;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    const t = entry.isDirectory() ? await lastTouched(p).catch(() => 0) : ((await fs.lstat(p).catch(() => undefined))?.mtimeMs ?? 0);
    if (t > newest) newest = t;
  }
  return newest;
}

export function createRepoStore(deps: { reposDir: string; hookScript: string; now?: () => number }): RepoStore {
  const now = deps.now ?? Date.now;
  const pathOf = (app: AppName): string => path.join(deps.reposDir, `${app}.git`);
  const appRepos = async (): Promise<string[]> => {
    const entries = await fs.readdir(deps.reposDir).catch(() => [] as string[]);
    return entries.filter((e) => e.endsWith('.git') && !e.startsWith('.')).map((e) => path.join(deps.reposDir, e));
  };
  const writeHook = async (repo: string): Promise<void> => {
    const hooks = path.join(repo, 'hooks');
    await fs.mkdir(hooks, { recursive: true });
    const tmp = path.join(hooks, `.pre-receive.${process.pid}`);
    await fs.writeFile(tmp, deps.hookScript, { mode: 0o755 });
    await fs.rename(tmp, path.join(hooks, 'pre-receive'));
  };
  /** Creates a bare repo at `repo` unless it exists; built aside and renamed, never half-made. */
  const create = async (repo: string, tmpPrefix: string, branch: string, withHook: boolean): Promise<void> => {
    await fs.mkdir(deps.reposDir, { recursive: true });
    try {
      await fs.access(path.join(repo, 'HEAD'));
      return;
    } catch {
      // not there yet
    }
    const tmp = await fs.mkdtemp(path.join(deps.reposDir, tmpPrefix));
    await runGitOk(['init', '--quiet', '--bare', `--initial-branch=${branch}`, tmp]);
    await fs.rm(path.join(tmp, 'hooks'), { recursive: true, force: true });
    for (const [k, v] of repoConfig) await runGitOk(['config', k, v], { cwd: tmp });
    if (withHook) await writeHook(tmp);
    try {
      await fs.rename(tmp, repo);
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  };

  return {
    pathOf,
    async exists(app) {
      try {
        await fs.access(path.join(pathOf(app), 'HEAD'));
        return true;
      } catch {
        return false;
      }
    },
    async ensure(app, deployBranch) {
      const repo = pathOf(app);
      await create(repo, `.new-${app}-`, deployBranch, true);
      await writeHook(repo);
      return repo;
    },
    async ensureEmpty() {
      const repo = path.join(deps.reposDir, '.empty.git');
      await create(repo, '.new-empty-', 'main', false);
      return repo;
    },
    async refHead(app, ref) {
      const r = await runGit(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: pathOf(app) });
      return r.code === 0 ? r.stdout.trim() : null;
    },
    async isAncestor(app, older, newer) {
      if (!/^[0-9a-f]{40}$/.test(older) || !/^[0-9a-f]{40}$/.test(newer)) return false;
      return (await runGit(['merge-base', '--is-ancestor', older, newer], { cwd: pathOf(app) })).code === 0;
    },
    async remove(app) {
      const doomed = path.join(deps.reposDir, `.deleted-${app}-${Date.now()}`);
      try {
        await fs.rename(pathOf(app), doomed);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      await fs.rm(doomed, { recursive: true, force: true });
    },
    async reinstallHooks() {
      const repos = await appRepos();
      for (const r of repos) await writeHook(r);
      return repos.length;
    },
    async removeStaleQuarantines(olderThanMs) {
      let removed = 0;
      for (const repo of await appRepos()) {
        const objects = path.join(repo, 'objects');
        const entries = await fs.readdir(objects, { withFileTypes: true }).catch(() => []);
        for (const e of entries) {
          if (!e.isDirectory() || !e.name.startsWith(QUARANTINE_PREFIX)) continue;
          const dir = path.join(objects, e.name);
          if (now() - (await lastTouched(dir)) < olderThanMs) continue;
          await fs.rm(dir, { recursive: true, force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}
