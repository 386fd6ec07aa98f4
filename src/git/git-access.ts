// Decides and prepares a git operation for either transport: policy, app creation on first push,
// the environment receive-pack needs so its hook can reach the server for this push only, and what
// a client who may only read does not get to see.
import type { App, AppStore } from '../db/app-store.js';
import type { User } from '../db/user-store.js';
import { decide, type PolicySettings } from '../access/policy.js';
import { AppError } from '../errors.js';
import type { PushSessions } from '../hooks/push-sessions.js';
import type { AppName } from '../names.js';
import { atLeast, type AppRole } from '../roles.js';
import type { GitService } from './exec-command.js';
import { gitEnv } from './git-process.js';
import type { RepoStore } from './repo-store.js';

export interface GitOperation {
  readonly appName: AppName;
  readonly repoPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** `-c key=value` arguments that go before the git service's name (`git -c … upload-pack`). */
  readonly configArgs: readonly string[];
  /** The protocol version the client asked for (GIT_PROTOCOL), 0 when it asked for none. */
  readonly protocolVersion: 0 | 1 | 2;
  /** Releases what the operation holds (the push token); call when git exits. */
  readonly done: () => void;
}

export interface GitAccess {
  /**
   * Authorizes `service` on `appName` for `user`. `withHook` mints the per-push token (only the
   * request that really runs receive-pack needs one; the ref advertisement does not).
   */
  open(
    user: User | null,
    appName: AppName,
    service: GitService,
    options: { withHook: boolean; gitProtocol?: string | undefined; publicRead?: boolean },
  ): Promise<GitOperation>;
}

const GIT_PROTOCOL = /^version=[0-2](:[a-z0-9=._-]+)*$/i;

/** The value of a client's GIT_PROTOCOL (SSH env request, HTTP Git-Protocol header) git may get, or undefined. Pure. */
export function acceptedGitProtocol(raw: string | undefined): string | undefined {
  return raw !== undefined && raw.length <= 256 && GIT_PROTOCOL.test(raw) ? raw : undefined;
}

/** The protocol version git speaks for an accepted GIT_PROTOCOL: the highest one named, as git does. Pure. */
export function protocolVersionOf(gitProtocol: string | undefined): 0 | 1 | 2 {
  let v: 0 | 1 | 2 = 0;
  for (const part of (gitProtocol ?? '').split(':')) {
    if (part === 'version=2') v = 2;
    else if (part === 'version=1' && v < 1) v = 1;
  }
  return v;
}

/**
 * Refs Solum keeps for itself (pull-build sources under refs/solum/): advertised only to clients
 * who may write the app; readers and anonymous readers of public apps never see them. Pure.
 */
export function fetchConfigFor(role: AppRole | null): readonly string[] {
  return role && atLeast(role, 'write') ? [] : ['-c', 'uploadpack.hideRefs=refs/solum/'];
}

export function createGitAccess(deps: {
  apps: AppStore;
  repos: RepoStore;
  pushSessions: PushSessions;
  policy: PolicySettings;
  hookUrl: () => string;
  /** Creates the app a first push names (namespace and quota checked; a lost race refused). */
  createForPush: (user: User, name: AppName) => Promise<App>;
  /** Whether any branch of the app may build as a preview (a pattern, or previews that exist). */
  hasPreviews?: (app: App) => Promise<boolean>;
}): GitAccess {
  return {
    async open(user, appName, service, options) {
      const push = service === 'receive-pack';
      let app = await deps.apps.findApp(appName);
      // Admins and owners hold every role already: no collaborator lookup on their (frequent) pushes.
      const membership = app && user && !user.isAdmin && app.ownerId !== user.id ? await deps.apps.roleOf(app.id, user.id) : null;
      const decision = decide(
        user,
        { kind: 'app', appName, app: app ?? null, membership, need: push ? 'write' : 'read', createIfMissing: push, publicRead: options.publicRead === true },
        deps.policy,
      );
      if (!decision.allow) throw new AppError(decision.code, decision.message);
      if (!app) {
        if (!decision.create || !user) throw new AppError('not_found', `app '${appName}' does not exist`);
        if (!options.withHook) {
          // Only the ref advertisement of a push to a new name (an HTTP GET): nothing is created
          // until the push itself arrives. An empty repo with the same settings advertises.
          return { appName, repoPath: await deps.repos.ensureEmpty(), env: gitEnv({}), configArgs: [], protocolVersion: 0, done: () => undefined };
        }
        app = await deps.createForPush(user, appName);
      }
      // Existing repos got their hook when created and get it again at every start.
      const repoPath = decision.create ? await deps.repos.ensure(app.name, app.deployBranch) : deps.repos.pathOf(app.name);
      if (!decision.create && !(await deps.repos.exists(app.name))) {
        if (!push) throw new AppError('not_found', `app '${appName}' has no repository yet: push to it first`);
        await deps.repos.ensure(app.name, app.deployBranch);
      }
      const extra: Record<string, string> = {};
      const gitProtocol = acceptedGitProtocol(options.gitProtocol);
      if (gitProtocol) extra.GIT_PROTOCOL = gitProtocol;
      let done = (): void => undefined;
      if (push && options.withHook && user) {
        const session = deps.pushSessions.open({ appId: app.id, app: app.name, userId: user.id, repoPath, role: decision.role ?? 'write' });
        extra.SOLUM_HOOK_URL = deps.hookUrl();
        extra.SOLUM_PUSH_TOKEN = session.token;
        extra.SOLUM_DEPLOY_REF = `refs/heads/${app.deployBranch}`;
        if (await deps.hasPreviews?.(app)) extra.SOLUM_PREVIEWS = '1';
        done = session.end;
      }
      const configArgs = push ? [] : fetchConfigFor(decision.role);
      return { appName: app.name, repoPath, env: gitEnv(extra), configArgs, protocolVersion: protocolVersionOf(gitProtocol), done };
    },
  };
}
