// Apps as users manage them: create, list, inspect, destroy, publish, collaborators.
import { decide, effectiveRole, type PolicySettings } from '../access/policy.js';
import type { App, AppChanges, AppStore, Collaborator } from '../db/app-store.js';
import type { BuildStore } from '../db/build-store.js';
import type { User, UserStore } from '../db/user-store.js';
import { AppError, badRequest, conflict, notFound } from '../errors.js';
import type { RepoStore } from '../git/repo-store.js';
import { parseAppName, type AppName } from '../names.js';
import { checkBuildpackUrls } from '../buildpack-url.js';
import { repoDirProblem, watchPathProblem } from '../hooks/push-plan.js';
import type { AppRole } from '../roles.js';

export interface AppService {
  list(actor: User | null): Promise<App[]>;
  create(actor: User | null, name: string): Promise<App>;
  /**
   * Creates the app a first push names, for `user` (whom the access policy allowed to): refused
   * when the name is an environment's router name or over the user's quota, and when another
   * push created it first, since the loser must never get a session on the winner's app.
   */
  createForPush(user: User, name: AppName): Promise<App>;
  /** The app, once the actor is known to hold at least `need` on it; also their role. */
  require(actor: User | null, name: string, need: AppRole): Promise<{ app: App; role: AppRole | null }>;
  /** The app (read access) with the actor's role and its owner's name (null once their account is gone). */
  info(actor: User | null, name: string): Promise<{ app: App; role: AppRole | null; owner: string | null }>;
  destroy(actor: User | null, name: string): Promise<void>;
  setPublic(actor: User | null, name: string, isPublic: boolean): Promise<App>;
  /** Per-app settings (app admins): public switch, pinned language pack(s), buildpacks, build limits. */
  update(actor: User | null, name: string, changes: AppChanges): Promise<App>;
  collaborators(actor: User | null, name: string): Promise<Collaborator[]>;
  addCollaborator(actor: User | null, name: string, userName: string, role: AppRole): Promise<void>;
  removeCollaborator(actor: User | null, name: string, userName: string): Promise<void>;
}

export function createAppService(deps: {
  apps: AppStore;
  builds: BuildStore;
  users: UserStore;
  repos: RepoStore;
  policy: PolicySettings;
  /** Removes the app's deployment-unit images. */
  removeImages: (app: string) => Promise<void>;
  /** Stops the app's running processes and takes it off the router. */
  stopProcesses: (app: App) => Promise<void>;
  /** Whether a language pack of this name exists (for pinning). */
  packExists: (name: string) => Promise<boolean>;
  /** The environment whose router name (`<app>-<env>`) is `name`: app names may not take one. */
  environmentNamed: (name: string) => Promise<{ app: string; environment: string } | undefined>;
  /** Apps a user who is not an admin may own. */
  maxAppsPerUser: number;
}): AppService {
  /** Refuses a new app's name when an environment answers to it, or the owner has all the apps they may. */
  const checkNew = async (owner: User, name: AppName): Promise<void> => {
    const env = await deps.environmentNamed(name);
    if (env) throw conflict(`'${name}' is the router name of the ${env.environment} environment of ${env.app}: choose another app name`);
    if (!owner.isAdmin && (await deps.apps.listOwnedBy(owner.id)).length >= deps.maxAppsPerUser) {
      throw new AppError('quota_exceeded', `${owner.name} owns ${deps.maxAppsPerUser} apps already, the most a user may: destroy one first or ask an admin`);
    }
  };

  const require = async (actor: User | null, rawName: string, need: AppRole): Promise<{ app: App; role: AppRole | null }> => {
    const appName = parseAppName(rawName);
    const app = (await deps.apps.findApp(appName)) ?? null;
    const membership = app && actor ? await deps.apps.roleOf(app.id, actor.id) : null;
    const d = decide(actor, { kind: 'app', appName, app, membership, need, createIfMissing: false }, deps.policy);
    if (!d.allow) throw new AppError(d.code, d.message);
    if (!app) throw notFound(`app '${appName}' does not exist`);
    return { app, role: effectiveRole(actor, app, membership) };
  };

  const update = async (actor: User | null, name: string, changes: AppChanges): Promise<App> => {
    const { app } = await require(actor, name, 'admin');
    if (changes.languagePack && !(await deps.packExists(changes.languagePack))) throw notFound(`no language pack named '${changes.languagePack}'`);
    if (changes.languagePacks) {
      if (changes.languagePacks.length > 8 || new Set(changes.languagePacks).size !== changes.languagePacks.length) throw badRequest('languagePacks is a list of at most 8 different pack names');
      for (const name of changes.languagePacks) if (!(await deps.packExists(name))) throw notFound(`no language pack named '${name}'`);
    }
    if (changes.buildpacks) checkBuildpackUrls(changes.buildpacks, actor?.isAdmin ?? false);
    if (changes.buildTimeoutSeconds != null && (changes.buildTimeoutSeconds < 1 || changes.buildTimeoutSeconds > 86_400)) throw badRequest('build timeouts are 1 to 86400 seconds');
    if (changes.buildMemoryMb != null && (changes.buildMemoryMb < 64 || changes.buildMemoryMb > 65_536)) throw badRequest('build memory is 64 to 65536 MB');
    const dirProblem = changes.baseDir != null ? repoDirProblem(changes.baseDir) : undefined;
    if (dirProblem) throw badRequest(`baseDir: ${dirProblem}`);
    const pathProblem = changes.watchPaths?.map(watchPathProblem).find((p) => p !== undefined);
    if (pathProblem) throw badRequest(`watchPaths: ${pathProblem}`);
    const updated = await deps.apps.update(app.id, changes);
    if (!updated) throw notFound(`app '${app.name}' does not exist`);
    return updated;
  };

  return {
    async list(actor) {
      const d = decide(actor, { kind: 'signed-in' }, deps.policy);
      if (!d.allow || !actor) throw new AppError(d.allow ? 'unauthenticated' : d.code, d.allow ? 'authentication required' : d.message);
      return deps.apps.listApps(actor.isAdmin ? {} : { visibleTo: actor.id });
    },
    async create(actor, rawName) {
      const appName = parseAppName(rawName);
      const existing = await deps.apps.findApp(appName);
      const d = decide(actor, { kind: 'app', appName, app: null, membership: null, need: 'write', createIfMissing: true }, deps.policy);
      if (!d.allow || !actor) throw new AppError(d.allow ? 'unauthenticated' : d.code, d.allow ? 'authentication required' : d.message);
      if (existing) throw conflict(`app '${appName}' already exists`);
      await checkNew(actor, appName);
      const { app, created } = await deps.apps.createApp(appName, actor.id);
      if (!created) throw conflict(`app '${appName}' already exists`);
      await deps.repos.ensure(app.name, app.deployBranch);
      return app;
    },
    async createForPush(user, appName) {
      await checkNew(user, appName);
      const { app, created } = await deps.apps.createApp(appName, user.id);
      if (!created) throw conflict(`app '${appName}' was created by another push a moment ago: push again (access is checked on that app)`);
      return app;
    },
    require,
    async info(actor, name) {
      const { app, role } = await require(actor, name, 'read');
      const owner = await deps.users.findUserById(app.ownerId);
      return { app, role, owner: owner?.name ?? null };
    },
    async destroy(actor, name) {
      const { app } = await require(actor, name, 'admin');
      const active = (await deps.builds.listBuilds(app.id)).find((b) => b.status === 'queued' || b.status === 'running');
      if (active) throw conflict(`build #${active.number} of '${app.name}' is ${active.status}: wait for it to finish`);
      await deps.stopProcesses(app);
      await deps.apps.deleteApp(app.id);
      await deps.repos.remove(app.name);
      await deps.removeImages(app.name);
    },
    setPublic: (actor, name, isPublic) => update(actor, name, { public: isPublic }),
    update,
    async collaborators(actor, name) {
      const { app } = await require(actor, name, 'read');
      return deps.apps.listCollaborators(app.id);
    },
    async addCollaborator(actor, name, userName, role) {
      const { app } = await require(actor, name, 'admin');
      const user = await deps.users.findUserByName(userName);
      if (!user) throw notFound(`user '${userName}' does not exist`);
      if (user.id === app.ownerId) throw badRequest(`'${userName}' owns '${app.name}' already`);
      await deps.apps.setCollaborator(app.id, user.id, role);
    },
    async removeCollaborator(actor, name, userName) {
      const { app } = await require(actor, name, 'admin');
      const user = await deps.users.findUserByName(userName);
      if (!user || !(await deps.apps.removeCollaborator(app.id, user.id))) throw notFound(`'${userName}' is not a collaborator on '${app.name}'`);
    },
  };
}
