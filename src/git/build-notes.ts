// What Solum did with each commit, written back into the app's repository as a git note under
// refs/notes/solum: the build's number, status and DU, and the release once the build is live. A
// user sees them with `git fetch solum refs/notes/solum:refs/notes/solum && git log --notes=solum`.
// Notes name commits by ID, so a push's commit can be noted while its objects are still in the
// push's quarantine (a rejected push's commit keeps its note; the user has the commit). Writes to
// one repository wait for each other; only refs/notes/solum is ever written.
import type { Build } from '../db/build-store.js';
import type { Logger } from '../logger.js';
import { gitEnv, runGit } from './git-process.js';

export const NOTES_REF = 'refs/notes/solum';

export interface BuildNote {
  readonly build: Pick<Build, 'number' | 'status' | 'commit' | 'duId' | 'error'>;
  readonly buildUrl: string;
  /** Set once the build is the app's live release. */
  readonly release?: { readonly version: number; readonly url: string } | undefined;
}

/** The note's text: one `Key: value` line each, git-trailer style. Pure. */
export function noteText(n: BuildNote): string {
  const lines = [`Solum-Build: #${n.build.number} ${n.build.status}`, `Solum-Build-URL: ${n.buildUrl}`];
  if (n.build.duId) lines.push(`Solum-DU: ${n.build.duId}`);
  if (n.build.status === 'failed' && n.build.error) lines.push(`Solum-Error: ${n.build.error.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (n.release) lines.push(`Solum-Release: v${n.release.version} ${n.release.url}`);
  return `${lines.join('\n')}\n`;
}

export interface BuildNotes {
  /** Writes (or replaces) the note on the build's commit; failures are logged, never thrown. */
  record(app: string, note: BuildNote): Promise<void>;
  /** Resolves once every write asked for so far has finished (tests, shutdown). */
  settled(): Promise<void>;
}

export function createBuildNotes(deps: { repoPath: (app: string) => string; logger: Logger; timeoutMs?: number }): BuildNotes {
  const log = deps.logger.child({ component: 'build-notes' });
  const tails = new Map<string, Promise<void>>();
  const env = (repo: string): NodeJS.ProcessEnv =>
    gitEnv({ GIT_DIR: repo, GIT_AUTHOR_NAME: 'Solum', GIT_AUTHOR_EMAIL: 'solum@localhost', GIT_COMMITTER_NAME: 'Solum', GIT_COMMITTER_EMAIL: 'solum@localhost' });

  const write = async (app: string, note: BuildNote): Promise<void> => {
    if (!/^[0-9a-f]{40}$/.test(note.build.commit)) return;
    const repo = deps.repoPath(app);
    // A ref lock held by a concurrent write to the same ref (a user pushing refs/notes/solum) is retried once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await runGit(['notes', `--ref=${NOTES_REF}`, 'add', '-f', '-m', noteText(note).trimEnd(), note.build.commit], { env: env(repo), timeoutMs: deps.timeoutMs ?? 30_000 });
      if (r.code === 0) return;
      if (attempt === 1) log.warn({ app, commit: note.build.commit, stderr: r.stderr.trim().slice(0, 300) }, 'writing the build note failed');
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  return {
    record(app, note) {
      const repo = deps.repoPath(app);
      const next = (tails.get(repo) ?? Promise.resolve()).then(() => write(app, note)).catch((err: unknown) => {
        log.warn({ err, app }, 'writing the build note failed');
      });
      tails.set(repo, next);
      void next.then(() => {
        if (tails.get(repo) === next) tails.delete(repo);
      });
      return next;
    },
    async settled() {
      await Promise.all([...tails.values()]);
    },
  };
}
