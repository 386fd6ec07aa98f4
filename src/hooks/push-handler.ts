// Handles a pre-receive hook call: plans the push, snapshots the pushed commit out of git's
// quarantine, queues its build and streams the build back until it ends.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { App, AppStore } from '../db/app-store.js';
import { overtaken } from '../build/queue/release-rules.js';
import type { Build, BuildStore } from '../db/build-store.js';
import { AppError } from '../errors.js';
import { snapshotCommit } from '../build/runner/archive.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import type { BuildQueue } from '../build/queue/build-queue.js';
import { gitEnv, runGitOk } from '../git/git-process.js';
import type { Logger } from '../logger.js';
import type { HookRequest } from './hook-protocol.js';
import { parsePushOptions, type PushOptions } from './push-options.js';
import { checkBuildpackUrls } from '../buildpack-url.js';
import { isValidUpdate, planPreviews, planPush, refusedUpdates, touchesWatchPaths, type RefUpdate } from './push-plan.js';
import type { PushSession } from './push-sessions.js';
import { PREVIEW_SOURCE } from '../build/queue/release-rules.js';
import type { Preview } from '../db/preview-store.js';
import { matchesPreviewPattern } from '../previews/preview-rules.js';
import type { PushPreviews } from '../previews/preview-service.js';

export interface PushOutput {
  line(text: string): void;
}

export interface PushHandler {
  /** Returns the hook's exit code: 0 lets git update the refs, anything else rejects the push. */
  preReceive(session: PushSession, request: HookRequest, out: PushOutput): Promise<number>;
}

/**
 * The quarantine variables the hook hands over, accepted only when they point inside the app's
 * own objects directory: a token holder cannot make the server read another repository.
 */
export async function quarantineEnv(repoPath: string, q: HookRequest['quarantine']): Promise<Record<string, string>> {
  const objects = await fs.realpath(path.join(repoPath, 'objects'));
  const inside = async (p: string): Promise<string> => {
    const real = await fs.realpath(path.resolve(repoPath, p)).catch(() => '');
    if (real !== objects && !real.startsWith(`${objects}${path.sep}`)) throw new AppError('bad_request', 'quarantine path outside the repository');
    return real;
  };
  const env: Record<string, string> = {};
  if (q.objectDirectory) env.GIT_OBJECT_DIRECTORY = await inside(q.objectDirectory);
  if (q.alternateObjectDirectories) {
    const dirs = await Promise.all(q.alternateObjectDirectories.split(':').filter((d) => d !== '').map(inside));
    env.GIT_ALTERNATE_OBJECT_DIRECTORIES = dirs.join(':');
  }
  if (q.quarantinePath) env.GIT_QUARANTINE_PATH = await inside(q.quarantinePath);
  return env;
}

export function createPushHandler(deps: {
  apps: AppStore;
  builds: BuildStore;
  queue: BuildQueue;
  events: BuildEvents;
  logger: Logger;
  /** Builds of one app that may wait; a push beyond that is refused. */
  maxQueuedPerApp: number;
  /** Builds that run at once across all apps. */
  concurrency: number;
  /** The app's deploy ref as it is now. */
  deployRefHead: (app: App) => Promise<string | null>;
  packExists: (name: string) => Promise<boolean>;
  /** Whether a user is an admin (file:// buildpacks are theirs only). */
  isAdmin?: (userId: number) => Promise<boolean>;
  /** Where users see a build (for async pushes). */
  buildUrl: (buildId: number) => string;
  /** Preview apps (decision 0020); without them a push asking for a preview is refused. */
  previews?: PushPreviews;
}): PushHandler {
  const log = deps.logger.child({ component: 'push-handler' });
  /** Builds the one update a push builds (the deploy branch, or a preview's branch); the hook's exit code. */
  const build = async (session: PushSession, request: HookRequest, options: PushOptions, out: PushOutput, app: App, update: RefUpdate | undefined, asPreview: boolean): Promise<number> => {
    if (!update) return 0;
    // A mistyped share must not make the build live at once instead of a canary.
    if (options.canary === undefined && request.pushOptions.some((o) => o.startsWith('solum.canary'))) {
      out.line('!     solum.canary takes a whole percent from 1 to 99 (git push -o solum.canary=25)');
      return 1;
    }
    if (asPreview && options.canary !== undefined) {
      out.line(`!     solum.canary is for ${app.deployBranch}: a preview has no live release to share traffic with`);
      return 1;
    }
    if (options.skipBuild) {
      out.line(`-----> ${update.ref}: stored without a build (solum.skip-build)`);
      return 0;
    }
    // What the app's admins pinned (its packs, its buildpacks) a write collaborator's push cannot override.
    const pinned = app.languagePack !== null || app.languagePacks.length > 0 || app.buildpacks.length > 0;
    if (pinned && session.role !== 'admin' && (options.languagePack || options.buildpacks.length > 0)) {
      out.line(`!     ${app.name}'s language packs and buildpacks are set by its admins: solum.language-pack and solum.buildpack are theirs to use`);
      return 1;
    }
    if (options.languagePack && !(await deps.packExists(options.languagePack))) {
      out.line(`!     no language pack named '${options.languagePack}' (solum.language-pack)`);
      return 1;
    }
    if (options.buildpacks.length > 0) {
      try {
        checkBuildpackUrls(options.buildpacks, deps.isAdmin ? await deps.isAdmin(session.userId) : false);
      } catch (err) {
        out.line(`!     ${(err as Error).message} (solum.buildpack)`);
        return 1;
      }
    }

    const env = gitEnv({ GIT_DIR: session.repoPath, ...(await quarantineEnv(session.repoPath, request.quarantine)) });
    // Monorepos: a push that changes nothing the app watches is stored without a build. A new
    // branch (nothing to compare with) always builds.
    if (app.watchPaths.length > 0 && !/^0+$/.test(update.oldSha)) {
      const changed = (await runGitOk(['diff', '--name-only', '-z', '--no-renames', update.oldSha, update.newSha], { env })).split('\0').filter((f) => f !== '');
      if (touchesWatchPaths(changed, app.watchPaths) === undefined) {
        out.line(`-----> ${update.ref}: stored without a build (${changed.length} file${changed.length === 1 ? '' : 's'} changed, none under the watch paths ${app.watchPaths.join(', ')})`);
        return 0;
      }
    }

    // Queue discipline: one build per app runs at a time; a few may wait; more are refused
    // rather than piling up behind each other (docs/decisions/0005-build-queue.md).
    const waiting = (await deps.builds.activeBuilds(app.id)).filter((b) => b.status === 'queued');
    if (waiting.length >= deps.maxQueuedPerApp) {
      out.line(`!     ${waiting.length} builds of ${app.name} are already waiting (#${waiting.map((b) => b.number).join(', #')}): push again when they are done`);
      return 1;
    }
    // A preview is made (or its idle clock restarted) before its build is queued; a refusal changes nothing.
    let preview: { preview: Preview; created: boolean } | undefined;
    if (asPreview && deps.previews) {
      const prepared = await deps.previews.prepare(app, update.ref);
      if ('refused' in prepared) {
        out.line(`!     ${prepared.refused}`);
        return 1;
      }
      preview = prepared;
      out.line(`-----> ${prepared.created ? 'New preview' : 'Preview'} ${prepared.preview.name} of ${app.name}: ${deps.previews.url(prepared.preview)}`);
    }
    const code = await queueAndWait(options, out, app, update, env, preview !== undefined);
    // The branch stays as it was: a preview made for it goes again, one that existed keeps its live release.
    if (code !== 0 && preview) await deps.previews?.buildFailed(preview.preview, preview.created);
    return code;
  };

  const queueAndWait = async (options: PushOptions, out: PushOutput, app: App, update: RefUpdate, env: NodeJS.ProcessEnv, asPreview: boolean): Promise<number> => {
    const archivePath = deps.queue.newArchivePath();
    await snapshotCommit({ commit: update.newSha, env, dest: archivePath });

    let unsubscribe = (): void => undefined;
    let finish: (b: Build) => void = () => undefined;
    const finished = new Promise<Build>((resolve) => (finish = resolve));
    // Subscribed before the worker is woken, so not a line of the build can be missed.
    // An async push lands before its build runs: the ref the build may release is its own commit.
    const baseCommit = options.async ? update.newSha : update.oldSha;
    const build = await deps.queue.enqueue({ app, ref: update.ref, commit: update.newSha, archivePath, baseCommit, languagePack: options.languagePack, buildpacks: options.buildpacks, canaryPercent: options.canary, ...(asPreview ? { source: PREVIEW_SOURCE } : {}) }, (queued) => {
      if (options.async) return;
      unsubscribe = deps.events.subscribe(queued.id, { onLine: (l) => { out.line(l); }, onFinished: finish });
    });
    log.info({ app: app.name, buildId: build.id, number: build.number, commit: build.commit }, 'push queued a build');
    if (options.async) {
      out.line(`-----> Build #${build.number} queued (solum.async): ${deps.buildUrl(build.id)}`);
      return 0;
    }
    const ahead = (await deps.builds.activeBuilds(app.id)).filter((b) => b.id < build.id);
    const runningOne = ahead.find((b) => b.status === 'running');
    const queuedAhead = ahead.filter((b) => b.status === 'queued').length;
    if (runningOne || queuedAhead > 0) {
      out.line(
        `-----> Build #${build.number} queued: ${runningOne ? `build #${runningOne.number} is running` : 'waiting'}${queuedAhead > 0 ? `, ${queuedAhead} more ahead of it` : ''} (position ${queuedAhead + 1})`,
      );
    } else if (deps.concurrency === 0) {
      out.line(`-----> Build #${build.number} queued for a build worker`);
    } else if ((await deps.builds.runningCount()) >= deps.concurrency) {
      out.line(`-----> Build #${build.number} queued: all ${deps.concurrency} builders are busy`);
    }
    const result = await finished;
    unsubscribe();
    if (result.status === 'succeeded') return overtaken(result, app.deployBranch, await deps.deployRefHead(app)) === undefined ? 0 : 1;
    out.line(`!     Push rejected: build #${result.number} ${result.status === 'canceled' ? 'was canceled' : result.status}; ${asPreview ? update.ref.slice('refs/heads/'.length) : app.deployBranch} is unchanged`);
    return 1;
  };

  return {
    async preReceive(session, request, out) {
      const app = await deps.apps.findAppById(session.appId);
      if (!app) throw new AppError('not_found', `app '${session.app}' no longer exists`);
      if (!request.refs.every(isValidUpdate)) throw new AppError('bad_request', 'malformed ref update');
      const refused = refusedUpdates(session.role, request.refs, app.deployBranch);
      if (refused.length > 0) {
        for (const r of refused) out.line(`!     ${r}`);
        return 1;
      }
      const options = parsePushOptions(request.pushOptions);
      if (options.unknown.length > 0) out.line(`-----> Ignoring unknown push options: ${options.unknown.join(', ')}`);
      // Asked for a preview, a push must never deploy the app itself instead.
      if (options.preview && !deps.previews) {
        out.line('!     solum.preview: preview apps are not available on this server; push without it to deploy the app itself');
        return 1;
      }
      const known = deps.previews ? await deps.previews.state(app) : { pattern: null, branches: new Set<string>() };
      const previews = planPreviews(request.refs, app.deployBranch, { forced: options.preview, isPreviewBranch: (b) => matchesPreviewPattern(b, known.pattern), hasPreview: (b) => known.branches.has(b) });
      const previewRefs = new Set([previews.build, ...previews.deleted, ...previews.skipped].map((b) => (typeof b === 'string' ? `refs/heads/${b}` : b?.ref)));
      const plan = planPush(request.refs.filter((u) => !previewRefs.has(u.ref)), app.deployBranch);
      if (options.preview && (plan.build || !previews.build)) {
        out.line(
          plan.build
            ? `!     solum.preview builds a branch other than ${app.deployBranch} as a preview: push ${app.deployBranch} without it`
            : '!     solum.preview: push a branch to build as a preview (git push -o solum.preview solum HEAD:my-feature)',
        );
        return 1;
      }
      for (const s of plan.stored) out.line(`-----> ${s}`);
      // One build a push: the deploy branch's when it is pushed, else a preview's.
      const skipped = [...previews.skipped, ...(plan.build && previews.build ? [previews.build.ref.slice('refs/heads/'.length)] : [])];
      for (const b of skipped) out.line(`-----> refs/heads/${b}: stored without a build (a push builds one branch: push it on its own to update its preview)`);
      const preview = plan.build ? undefined : previews.build;
      const code = await build(session, request, options, out, app, plan.build ?? preview, preview !== undefined);
      // A deleted branch's preview goes only when git deletes the branch.
      if (code === 0 && previews.deleted.length > 0 && deps.previews) {
        const names = await deps.previews.doomBranches(app, previews.deleted);
        for (const n of names) out.line(`-----> Preview ${n} is being torn down (its branch was deleted)`);
      }
      return code;
    },
  };
}
