// Which builds go live, and when a push was overtaken by another: pure rules shared by the worker,
// the tracker that releases and the push handler that answers git.
import type { App } from '../../db/app-store.js';
import type { Build } from '../../db/build-store.js';

/**
 * The deploy ref's current value when a push build's base no longer matches it: another push
 * landed while this one waited, so git will refuse this push's ref update. Pure.
 */
export function overtaken(build: Build, deployBranch: string, head: string | null): string | undefined {
  if (!build.baseCommit || build.ref !== `refs/heads/${deployBranch}`) return undefined;
  const base = /^0+$/.test(build.baseCommit) ? null : build.baseCommit;
  return head === base ? undefined : (head ?? '(deleted)');
}

/** The build source of a push that builds a branch as a preview app (decision 0020). */
export const PREVIEW_SOURCE = 'preview';
/** The build source of a pull request built as a preview app (the app's preview settings allow it). */
export const PULL_REQUEST_PREVIEW_SOURCE = 'pull-request-preview' as const;

/** Whether a build is a preview's: released to that preview, never to the app or its pipeline. Pure. */
export const isPreviewBuild = (build: Pick<Build, 'source'>): boolean => build.source === PREVIEW_SOURCE || build.source === PULL_REQUEST_PREVIEW_SOURCE;

/** Whether a build is of a pull request's code (untrusted: a throw-away cache, no config). Pure. */
export const isPullRequestBuild = (build: Pick<Build, 'source'>): boolean => build.source === 'pull-request' || build.source === PULL_REQUEST_PREVIEW_SOURCE;

/** Whether a successful build goes live: pushes of the deploy branch, preview builds (to their
 * preview, pull requests' too), and every build asked for through the API (uploads, pulls,
 * webhooks, security rebuilds) but plain pull-request builds. Pure. */
export function goesLive(build: Build, app: App): boolean {
  if (build.source === 'pull-request') return false;
  return build.source === 'push' ? build.ref === `refs/heads/${app.deployBranch}` : true;
}
