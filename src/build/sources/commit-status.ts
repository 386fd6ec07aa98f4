// Commit statuses: when an app has a GitHub-compatible statuses endpoint, Solum reports each
// build's commit as pending, then success or failure, with a link to the build. Reporting never
// affects the build: failures are logged and retried a few times, then given up.
import type { AppService } from '../../apps/app-service.js';
import type { Build } from '../../db/build-store.js';
import type { SourceStore } from '../../db/source-store.js';
import type { User } from '../../db/user-store.js';
import { badRequest } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { checkOutboundUrl, postJson } from '../../outbound-url.js';

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** The GitHub state for a build's status. Pure. */
export function stateOf(status: Build['status']): CommitState {
  if (status === 'queued' || status === 'running') return 'pending';
  if (status === 'succeeded') return 'success';
  if (status === 'failed') return 'failure';
  return 'error';
}

export interface CommitStatuses {
  configure(actor: User | null, app: string, config: { url: string; token: string } | null): Promise<{ url: string | null }>;
  /** Reports in the background; resolves when delivered or given up (tests and shutdown may wait). */
  report(build: Build): Promise<void>;
}

export function createCommitStatuses(deps: {
  apps: AppService;
  sources: SourceStore;
  buildUrl: (id: number) => string;
  logger: Logger;
  retryDelaysMs?: readonly number[];
}): CommitStatuses {
  const log = deps.logger.child({ component: 'commit-status' });
  const delays = deps.retryDelaysMs ?? [1000, 3000, 9000];

  const deliver = async (build: Build): Promise<void> => {
    // Only git commits have statuses (uploads and images have none).
    if (!/^[0-9a-f]{40}$/.test(build.commit)) return;
    const source = await deps.sources.get(build.appId);
    if (!source.statusUrl) return;
    const state = stateOf(build.status);
    const body = JSON.stringify({
      state,
      target_url: deps.buildUrl(build.id),
      description: `Solum build #${build.number} ${build.status}`,
      context: 'solum/build',
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const url = checkOutboundUrl(`${source.statusUrl}/${build.commit}`, 'the statuses endpoint', source.statusUrlLocal);
        const status = await postJson(url, body, { 'content-type': 'application/json', accept: 'application/vnd.github+json', ...(source.statusToken ? { authorization: `token ${source.statusToken}` } : {}) }, source.statusUrlLocal);
        if (status >= 200 && status < 300) return;
        throw new Error(`HTTP ${status}`);
      } catch (err) {
        const delay = delays[attempt];
        log.warn({ app: build.app, build: build.number, state, attempt: attempt + 1, err: (err as Error).message }, 'reporting a commit status failed');
        if (delay === undefined) return;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };

  // Reports of one build go out in order (the host keeps the latest): a retried "pending" must not
  // land after "success".
  const chains = new Map<number, Promise<void>>();

  return {
    async configure(actor, name, config) {
      const { app } = await deps.apps.require(actor, name, 'admin');
      if (config && !/^https?:\/\/[^\s]{1,2000}$/.test(config.url)) throw badRequest('the statuses endpoint is an http(s) URL');
      // Only admins may point Solum at this machine's own services (or link-local addresses).
      const mayBeLocal = actor?.isAdmin ?? false;
      if (config) checkOutboundUrl(config.url, 'the statuses endpoint', mayBeLocal);
      await deps.sources.set(app.id, { statusUrl: config?.url.replace(/\/+$/, '') ?? null, statusToken: config?.token ?? null, statusUrlLocal: config !== null && mayBeLocal });
      return { url: config?.url ?? null };
    },
    report(build) {
      const next = (chains.get(build.id) ?? Promise.resolve()).then(() => deliver(build));
      chains.set(build.id, next);
      void next.then(() => {
        if (chains.get(build.id) === next) chains.delete(build.id);
      });
      return next;
    },
  };
}
