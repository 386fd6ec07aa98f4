// Decides what a push means: which ref update builds, what is only stored. Pure.
export interface RefUpdate {
  readonly oldSha: string;
  readonly newSha: string;
  readonly ref: string;
}

export interface PushPlan {
  /** The update of the deploy branch to build, when there is one. */
  readonly build: RefUpdate | undefined;
  /** One line per ref stored without a build, saying why. */
  readonly stored: readonly string[];
}

const ZERO = /^0{40}(0{24})?$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function isValidUpdate(u: RefUpdate): boolean {
  return SHA.test(u.oldSha) && SHA.test(u.newSha) && /^refs\/[^\s\\]{1,250}$/.test(u.ref) && !u.ref.includes('..');
}

/**
 * Ref updates the pusher's role does not allow, with the reason: deleting the deploy branch takes
 * the admin role (write lets a collaborator push and force-push, not remove what deploys).
 */
export function refusedUpdates(role: 'read' | 'write' | 'admin', updates: readonly RefUpdate[], deployBranch: string): string[] {
  if (role === 'read') return updates.map((u) => `${u.ref}: your role on this app is read`);
  if (role === 'admin') return [];
  return updates
    .filter((u) => ZERO.test(u.newSha) && u.ref === `refs/heads/${deployBranch}`)
    .map((u) => `${u.ref}: deleting the deploy branch takes the admin role`);
}

export function planPush(updates: readonly RefUpdate[], deployBranch: string): PushPlan {
  const deployRef = `refs/heads/${deployBranch}`;
  let build: RefUpdate | undefined;
  const stored: string[] = [];
  for (const u of updates) {
    if (ZERO.test(u.newSha)) stored.push(`${u.ref}: deleted (deletions never build)`);
    else if (u.ref.startsWith('refs/tags/')) stored.push(`${u.ref}: stored (tags never build)`);
    else if (u.ref === deployRef) build = u;
    else stored.push(`${u.ref}: stored without a build (only ${deployBranch} builds)`);
  }
  return { build, stored };
}

const DIR = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const WATCH = /^[A-Za-z0-9._*-]+(\/[A-Za-z0-9._*-]+)*$/;

/** Why a directory inside the repository (a base directory) is not one, or undefined. Pure. */
export function repoDirProblem(dir: string): string | undefined {
  if (dir.length > 255 || !DIR.test(dir) || dir.split('/').some((p) => p === '.' || p === '..')) {
    return `${JSON.stringify(dir.slice(0, 80))} is not a directory of the repository: give a relative path like apps/web (letters, digits, . _ -, no .. and no leading /)`;
  }
  return undefined;
}

/** Why a watch path is not one, or undefined: a relative path, `*` within a name, `**` across directories. Pure. */
export function watchPathProblem(p: string): string | undefined {
  if (p.length > 255 || !WATCH.test(p.replace(/\/$/, '')) || p.split('/').some((s) => s === '.' || s === '..')) {
    return `${JSON.stringify(p.slice(0, 80))} is not a watch path: give a relative path or pattern like apps/web, libs/**/*.ts or *.md`;
  }
  return undefined;
}

/** Stands for `**` while a pattern is turned into a regular expression (no path holds it). */
const GLOBSTAR = '@@GLOBSTAR@@';

const patternOf = (p: string): RegExp => {
  const body = p
    .replace(/\/$/, '')
    .split('/')
    .map((seg) => (seg === '**' ? GLOBSTAR : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
    .join('/')
    .replaceAll(`${GLOBSTAR}/`, '(?:[^/]+/)*')
    .replace(new RegExp(`/${GLOBSTAR}$`), '(?:/.*)?')
    .replaceAll(GLOBSTAR, '.*');
  // A path names itself and everything under it (a directory watches its whole tree).
  return new RegExp(`^${body}(?:/.*)?$`);
};

/** The watch paths a changed file falls under (a directory covers its tree; * and ** as in .gitignore). Pure. */
export function touchesWatchPaths(files: readonly string[], watchPaths: readonly string[]): string | undefined {
  const res = watchPaths.map((p) => [p, patternOf(p)] as const);
  for (const f of files) {
    const hit = res.find(([, re]) => re.test(f));
    if (hit) return f;
  }
  return undefined;
}

/** What a push means for preview apps (decision 0020). */
export interface PreviewPlan {
  /** Branch updates to build and deploy as previews (at most one a push: the first). */
  readonly build: RefUpdate | undefined;
  /** Preview branches deleted by the push (`git push solum :preview/x`): their previews are torn down. */
  readonly deleted: readonly string[];
  /** Further preview branches of the same push, stored without a build. */
  readonly skipped: readonly string[];
}

/**
 * The preview part of a push: a branch other than the deploy branch that matches the app's
 * preview pattern, or any branch with `-o solum.preview`, builds as a preview; a deleted branch
 * that has a preview takes it down. `isPreviewBranch` is the app's pattern; `hasPreview` whether a
 * branch has one now. Pure.
 */
export function planPreviews(
  updates: readonly RefUpdate[],
  deployBranch: string,
  o: { readonly forced: boolean; readonly isPreviewBranch: (branch: string) => boolean; readonly hasPreview: (branch: string) => boolean },
): PreviewPlan {
  let build: RefUpdate | undefined;
  const deleted: string[] = [];
  const skipped: string[] = [];
  for (const u of updates) {
    if (!u.ref.startsWith('refs/heads/') || u.ref === `refs/heads/${deployBranch}`) continue;
    const branch = u.ref.slice('refs/heads/'.length);
    if (ZERO.test(u.newSha)) {
      if (o.hasPreview(branch)) deleted.push(branch);
    } else if (o.forced || o.isPreviewBranch(branch) || o.hasPreview(branch)) {
      if (build) skipped.push(branch);
      else build = u;
    }
  }
  return { build, deleted, skipped };
}
