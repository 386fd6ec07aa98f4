// Backing services (postgres, redis) as users see them: create, list, link to an app (a config var
// with the instance's URL and a new release), unlink, destroy with confirmation, backup and restore.
// Instances' lifecycle is in service-instances.ts; kinds and naming rules in service-kinds.ts.
import type { Readable } from 'node:stream';
import type { AppService } from '../apps/app-service.js';
import type { Containers } from '../containers/containers.js';
import type { App } from '../db/app-store.js';
import type { Release } from '../db/release-store.js';
import type { ServiceInstance, ServiceKind, ServiceLink, ServiceStore } from '../db/service-store.js';
import type { User } from '../db/user-store.js';
import { AppError, badRequest, conflict, notFound, unauthenticated } from '../errors.js';
import type { Logger } from '../logger.js';
import { backupPostgres, restorePostgres } from './service-backups.js';
import type { ServiceInstances } from './service-instances.js';
import { linkEnvVar, manifestServiceName, parseServiceKind, parseServiceName } from './service-kinds.js';

export { linkEnvVar, manifestServiceName, parseServiceKind, parseServiceName, serviceKinds } from './service-kinds.js';

export interface ServiceInfo {
  readonly instance: ServiceInstance;
  readonly links: ServiceLink[];
  readonly state: 'running' | 'stopped' | 'missing';
  readonly url: string;
}

export interface ServiceManager {
  create(actor: User | null, kind: string, name: string): Promise<ServiceInstance>;
  list(actor: User | null): Promise<ServiceInstance[]>;
  info(actor: User | null, name: string): Promise<ServiceInfo>;
  link(actor: User | null, name: string, app: string): Promise<{ link: ServiceLink; release: Release | null }>;
  unlink(actor: User | null, name: string, app: string): Promise<{ link: ServiceLink; release: Release | null }>;
  /** Removes the instance and its data; `confirm` must repeat the name; linked instances need `force`. */
  destroy(actor: User | null, name: string, options: { confirm: string | undefined; force: boolean }): Promise<void>;
  /** A `pg_dump -Fc` of a postgres instance, streamed; an error mid-way destroys the stream. */
  backup(actor: User | null, name: string): Promise<Readable>;
  /** Replaces a postgres instance's database with a `pg_dump -Fc` archive (all or nothing). */
  restore(actor: User | null, name: string, dump: Readable): Promise<void>;
  /** What an app's manifest asks for: makes sure one instance of each kind is linked (no release). */
  ensureForApp(app: App, wanted: readonly ServiceKind[], say: (line: string) => void): Promise<void>;
  /**
   * Fresh instances, for a preview (decision 0020), of each service the app links: made once
   * (`made`: env var → instance already made for it), named `<tag>-<linked name>`, owned by the
   * app's owner, linked to no app, their data volumes labelled with `target`; `record` is told of
   * each new one once it exists. Answers the config vars pointing at them, under the env vars of
   * the app's links.
   */
  freshFor(app: App, target: { readonly key: string; readonly tag: string }, made: ReadonlyMap<string, string>, record: (service: string, envVar: string) => Promise<void>, say: (line: string) => void): Promise<Record<string, string>>;
  /** Removes an instance Solum made for itself (a torn-down preview's) and its data; gone already is fine. */
  removeMade(name: string): Promise<void>;
}

export function createServiceManager(deps: {
  store: ServiceStore;
  instances: ServiceInstances;
  containers: Containers;
  apps: AppService;
  /** An app by ID, whoever asks (unlinking from every app when an instance is destroyed). */
  appById: (id: number) => Promise<App | undefined>;
  logger: Logger;
  /** The app's current config vars. */
  configOf: (appId: number) => Promise<Record<string, string>>;
  /** Changes config vars and makes a release when one is live (no permission check). */
  reconfigure: (app: App, set: Record<string, string>, unset: string[], description: string, actor: string | null) => Promise<Release | null>;
  /** Changes config vars without a release (a build's release follows at once). */
  setConfig: (appId: number, set: Record<string, string>) => Promise<void>;
  /** Instances a user who is not an admin may own. */
  maxPerUser: number;
  /** Whether an app's owner is an admin (the fresh instances of a preview count for its app's owner). */
  ownerIsAdmin?: (ownerId: number) => Promise<boolean>;
}): ServiceManager {
  const log = deps.logger.child({ component: 'services' });
  const { instances } = deps;

  const signedIn = (actor: User | null): User => {
    if (!actor) throw unauthenticated('authentication required');
    return actor;
  };

  /** The instance, when the actor owns it or is an admin; others learn nothing about it. */
  const requireInstance = async (actor: User | null, rawName: string): Promise<ServiceInstance> => {
    const user = signedIn(actor);
    const name = parseServiceName(rawName);
    const i = await deps.store.find(name);
    if (!i || (!user.isAdmin && i.ownerId !== user.id)) throw notFound(`service '${name}' does not exist or you have no access to it`);
    return i;
  };

  const doLink = async (i: ServiceInstance, app: App): Promise<ServiceLink> => {
    const config = await deps.configOf(app.id);
    const envVar = linkEnvVar(i.kind, i.name, new Set(Object.keys(config)));
    if (config[envVar] !== undefined) throw conflict(`'${app.name}' already has a config var ${envVar}: unset it or unlink the service using it`);
    const link = await deps.store.link(i.id, app.id, envVar);
    if (link === 'duplicate') throw conflict(`service '${i.name}' is linked to '${app.name}' already`);
    return link;
  };

  return {
    async create(actor, rawKind, rawName) {
      const user = signedIn(actor);
      const kind = parseServiceKind(rawKind);
      const name = parseServiceName(rawName);
      if (!user.isAdmin && (await deps.store.list({ ownerId: user.id })).length >= deps.maxPerUser) {
        throw new AppError('quota_exceeded', `${user.name} owns ${deps.maxPerUser} service instances already, the most a user may: destroy one first or ask an admin`);
      }
      return instances.serialized(name, () => instances.create(kind, name, user.id));
    },
    async list(actor) {
      const user = signedIn(actor);
      return deps.store.list(user.isAdmin ? {} : { ownerId: user.id });
    },
    async info(actor, name) {
      const i = await requireInstance(actor, name);
      return { instance: i, links: await deps.store.linksOfService(i.id), state: await instances.state(i), url: instances.urlOf(i) };
    },
    async link(actor, name, appName) {
      const i = await requireInstance(actor, name);
      const { app } = await deps.apps.require(actor, appName, 'admin');
      return instances.serialized(i.name, async () => {
        const link = await doLink(i, app);
        try {
          // On the app's network first, so the release that follows reaches it by name.
          await instances.attach(i, app);
          const release = await deps.reconfigure(app, { [link.envVar]: instances.urlOf(i) }, [], `Attach ${i.name} as ${link.envVar}`, actor?.name ?? null);
          return { link, release };
        } catch (err) {
          await deps.store.unlink(i.id, app.id);
          await instances.detach(i, app).catch(() => undefined);
          throw err;
        }
      });
    },
    async unlink(actor, name, appName) {
      const i = await requireInstance(actor, name);
      const { app } = await deps.apps.require(actor, appName, 'admin');
      return instances.serialized(i.name, async () => {
        const link = await deps.store.unlink(i.id, app.id);
        if (!link) throw notFound(`service '${i.name}' is not linked to '${app.name}'`);
        const release = await deps.reconfigure(app, {}, [link.envVar], `Detach ${i.name} (${link.envVar})`, actor?.name ?? null);
        // Off the app's network once the release without it is live.
        await instances.detach(i, app);
        return { link, release };
      });
    },
    async destroy(actor, name, options) {
      const i = await requireInstance(actor, name);
      if (options.confirm !== i.name) throw badRequest(`destroying '${i.name}' deletes its data: confirm with the instance name (--confirm ${i.name})`);
      await instances.serialized(i.name, async () => {
        const links = await deps.store.linksOfService(i.id);
        if (links.length > 0 && !options.force) throw conflict(`service '${i.name}' is linked to ${links.map((l) => l.app).join(', ')}: unlink it first or force`);
        for (const l of links) {
          await deps.store.unlink(i.id, l.appId);
          const app = await deps.appById(l.appId);
          if (app) await deps.reconfigure(app, {}, [l.envVar], `Detach ${i.name} (${l.envVar}): destroyed`, actor?.name ?? null);
        }
        await instances.destroy(i);
      });
    },
    async backup(actor, name) {
      const i = await requireInstance(actor, name);
      if (i.kind !== 'postgres') throw badRequest(`backups are for postgres instances; '${i.name}' is ${i.kind}`);
      return backupPostgres(deps.containers, i, await instances.running(i));
    },
    async restore(actor, name, dump) {
      const i = await requireInstance(actor, name);
      if (i.kind !== 'postgres') throw badRequest(`restores are for postgres instances; '${i.name}' is ${i.kind}`);
      const id = await instances.running(i);
      await instances.serialized(i.name, async () => {
        await restorePostgres(deps.containers, i, id, dump);
        log.info({ service: i.name }, 'service instance restored');
      });
    },
    async ensureForApp(app, wanted, say) {
      const links = await deps.store.linksOfApp(app.id);
      for (const kind of wanted) {
        const linkedKinds = new Set(await Promise.all(links.map(async (l) => (await deps.store.find(l.service))?.kind)));
        if (linkedKinds.has(kind)) continue;
        const name = manifestServiceName(app.name, kind);
        await instances.serialized(name, async () => {
          let i = await deps.store.find(name);
          if (!i) {
            say(`-----> Creating ${kind} service ${name} (solum.yaml services)`);
            i = await instances.create(kind, name, app.ownerId);
          } else if (i.kind !== kind || i.ownerId !== app.ownerId) {
            throw conflict(`solum.yaml asks for ${kind}, and the service name ${name} is taken: link a ${kind} service to '${app.name}' yourself`);
          }
          const link = await doLink(i, app);
          await instances.attach(i, app);
          await deps.setConfig(app.id, { [link.envVar]: instances.urlOf(i) });
          say(`       Linked ${name} as ${link.envVar}`);
        });
      }
    },
    async freshFor(app, target, made, record, say) {
      const config: Record<string, string> = {};
      for (const l of await deps.store.linksOfApp(app.id)) {
        const linked = await deps.store.find(l.service);
        if (!linked) continue;
        const name = made.get(l.envVar) ?? parseServiceName(`${target.tag}-${l.service}`.slice(0, 63).replace(/-+$/, ''));
        const i = await instances.serialized(name, async () => {
          const found = made.has(l.envVar) ? await deps.store.find(name) : undefined;
          if (found) return found;
          if (!(await deps.ownerIsAdmin?.(app.ownerId)) && (await deps.store.list({ ownerId: app.ownerId })).length >= deps.maxPerUser) {
            throw new AppError('quota_exceeded', `the owner of ${app.name} owns ${deps.maxPerUser} service instances already, the most a user may: this preview gets no fresh ${linked.kind}`);
          }
          say(`-----> Creating ${linked.kind} service ${name} for this preview (the app links ${l.service} as ${l.envVar})`);
          // A name taken by anyone else fails the create: Solum never records, nor later removes, an instance it did not make.
          const created = await instances.create(linked.kind, name, app.ownerId, target.key);
          await record(name, l.envVar);
          return created;
        });
        config[l.envVar] = instances.urlOf(i);
      }
      return config;
    },
    async removeMade(name) {
      await instances.serialized(name, async () => {
        const i = await deps.store.find(name);
        // Without its record, whatever Docker still holds under its name goes.
        await (i ? instances.destroy(i) : instances.removeEverything({ name }));
      });
    },
  };
}
