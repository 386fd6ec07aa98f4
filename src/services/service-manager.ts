// Backing services (postgres, redis): instances run as containers from locally built images on the
// host network, bound to 127.0.0.1 on a port Solum allocates, with their data in a named volume.
// Linking one to an app sets a config var with its URL (a new release); unlinking unsets it.
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { AppService } from '../apps/app-service.js';
import type { ContainerEngine, ExecProcess } from '../containers/container-engine.js';
import type { App } from '../db/app-store.js';
import type { Release } from '../db/release-store.js';
import type { ServiceInstance, ServiceKind, ServiceLink, ServiceStore } from '../db/service-store.js';
import type { User } from '../db/user-store.js';
import type { PortAllocator } from '../deploy/ports.js';
import { AppError, badRequest, conflict, notFound, unauthenticated } from '../errors.js';
import type { Logger } from '../logger.js';

export const serviceKinds: readonly ServiceKind[] = ['postgres', 'redis'];

interface KindSpec {
  readonly image: string;
  /** The config var a link sets unless the app has one of that name already. */
  readonly envVar: string;
  url(i: ServiceInstance): string;
  /** A command run inside the container that succeeds (and, for redis, prints PONG) once it serves; the password goes in its env, never in argv. */
  readyCommand(i: ServiceInstance): { cmd: string[]; env: string[] };
}

/** The database user and database name of a postgres instance (the entrypoint creates them). */
const PG_USER = 'solum';
const DATA_DIR = '/var/lib/solum-service';

const kinds: Record<ServiceKind, KindSpec> = {
  postgres: {
    image: 'solum/svc-postgres:latest',
    envVar: 'DATABASE_URL',
    url: (i) => `postgres://${PG_USER}:${i.password}@127.0.0.1:${i.port}/${i.name}`,
    readyCommand: (i) => ({ cmd: ['pg_isready', '-q', '-h', '127.0.0.1', '-p', String(i.port), '-U', PG_USER, '-d', i.name], env: [] }),
  },
  redis: {
    image: 'solum/svc-redis:latest',
    envVar: 'REDIS_URL',
    url: (i) => `redis://:${i.password}@127.0.0.1:${i.port}`,
    readyCommand: (i) => ({ cmd: ['redis-cli', '-h', '127.0.0.1', '-p', String(i.port), 'ping'], env: [`REDISCLI_AUTH=${i.password}`] }),
  },
};

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function parseServiceName(raw: string): string {
  if (!SERVICE_NAME.test(raw) || raw.endsWith('-')) throw badRequest(`invalid service name ${JSON.stringify(raw.slice(0, 80))}: use 1-63 of a-z, 0-9 and '-', starting with a letter`);
  return raw;
}

export function parseServiceKind(raw: string): ServiceKind {
  const kind = serviceKinds.find((k) => k === raw);
  if (!kind) throw badRequest(`unknown service kind ${JSON.stringify(raw.slice(0, 40))}: one of ${serviceKinds.join(', ')}`);
  return kind;
}

/**
 * The config var a new link uses: the kind's usual name (DATABASE_URL, REDIS_URL) unless the app
 * already has a config var of that name (set by hand or by another link); then
 * `<KIND>_<NAME>_URL`, the instance name upper-cased with '-' as '_' (Heroku's alias style).
 */
export function linkEnvVar(kind: ServiceKind, name: string, taken: ReadonlySet<string>): string {
  const usual = kinds[kind].envVar;
  if (!taken.has(usual)) return usual;
  return `${kind.toUpperCase()}_${name.toUpperCase().replaceAll('-', '_')}_URL`;
}

/** The name an app's manifest gives the instance it creates: `<app>-<kind>`, cut to fit. */
export function manifestServiceName(app: string, kind: ServiceKind): string {
  return `${app.slice(0, 63 - kind.length - 1).replace(/-+$/, '')}-${kind}`;
}

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
  /** At start: reserves the instances' ports and starts (or re-creates) their containers. */
  adopt(): Promise<void>;
}

export function createServiceManager(deps: {
  store: ServiceStore;
  engine: ContainerEngine;
  apps: AppService;
  /** An app by ID, whoever asks (unlinking from every app when an instance is destroyed). */
  appById: (id: number) => Promise<App | undefined>;
  ports: PortAllocator;
  installation: string;
  logger: Logger;
  /** The app's current config vars. */
  configOf: (appId: number) => Promise<Record<string, string>>;
  /** Changes config vars and makes a release when one is live (no permission check). */
  reconfigure: (app: App, set: Record<string, string>, unset: string[], description: string, actor: string | null) => Promise<Release | null>;
  /** Changes config vars without a release (a build's release follows at once). */
  setConfig: (appId: number, set: Record<string, string>) => Promise<void>;
  memoryBytes?: number;
  /** How long a new instance may take to answer its readiness check. */
  readyTimeoutMs?: number;
  /** The image of each kind (tests and operators may point elsewhere). */
  images?: Partial<Record<ServiceKind, string>>;
}): ServiceManager {
  const log = deps.logger.child({ component: 'services' });
  const imageOf = (kind: ServiceKind): string => deps.images?.[kind] ?? kinds[kind].image;
  const containerName = (i: ServiceInstance): string => `solum-svc-${i.name}-${deps.installation}`;
  const volumeName = (i: ServiceInstance): string => `solum-svc-${deps.installation}-${i.name}`;
  const labels = (i: ServiceInstance, role: 'service' | 'service-data'): Record<string, string> => ({
    'io.solum.installation': deps.installation,
    'io.solum.role': role,
    'io.solum.service': i.name,
    'io.solum.service-kind': i.kind,
  });
  /** One lifecycle operation per instance name at a time. */
  const locks = new Map<string, Promise<unknown>>();
  const serialized = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(name) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(name, tail);
    void tail.then(() => { if (locks.get(name) === tail) locks.delete(name); });
    return run;
  };

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

  const collect = async (p: ExecProcess): Promise<{ exitCode: number; stdout: string; stderr: string }> => {
    let stdout = '';
    p.stdout.on('data', (c: Buffer) => { if (stdout.length < 65_536) stdout += c.toString('utf8'); });
    const r = await p.done;
    return { exitCode: r.exitCode, stdout, stderr: r.stderr };
  };

  const isReady = async (i: ServiceInstance, containerId: string): Promise<boolean> => {
    try {
      const r = await collect(await deps.engine.exec(containerId, kinds[i.kind].readyCommand(i)));
      return r.exitCode === 0 && (i.kind !== 'redis' || r.stdout.trim() === 'PONG');
    } catch {
      return false;
    }
  };

  /** Waits for the instance to serve; throws with the container's last output when it does not. */
  const waitReady = async (i: ServiceInstance, containerId: string): Promise<void> => {
    const deadline = Date.now() + (deps.readyTimeoutMs ?? 120_000);
    for (;;) {
      const state = await deps.engine.inspectContainer(containerId);
      if (state?.running && (await isReady(i, containerId))) return;
      if (Date.now() > deadline) {
        let output = '';
        try {
          const logs = await deps.engine.logs(containerId, { follow: false, tail: 20 });
          for await (const c of logs) output += String(c);
        } catch {
          // The output is only a hint.
        }
        throw new AppError('conflict', `service '${i.name}' did not become ready${output ? `: ${output.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const startContainer = async (i: ServiceInstance): Promise<string> => {
    await deps.engine.ensureVolume(volumeName(i), labels(i, 'service-data'));
    const env = [`SOLUM_SERVICE_PORT=${i.port}`, `SOLUM_SERVICE_PASSWORD=${i.password}`];
    if (i.kind === 'postgres') env.push(`SOLUM_SERVICE_DATABASE=${i.name}`, `SOLUM_SERVICE_USER=${PG_USER}`);
    const id = await deps.engine.runApp({
      image: imageOf(i.kind),
      name: containerName(i),
      cmd: undefined,
      env,
      labels: labels(i, 'service'),
      memoryBytes: deps.memoryBytes ?? 512 * 1024 * 1024,
      pids: 512,
      volumes: [[volumeName(i), DATA_DIR]],
    });
    await deps.store.setContainer(i.id, id);
    return id;
  };

  const removeEverything = async (i: ServiceInstance): Promise<void> => {
    for (const c of await deps.engine.listContainers({ 'io.solum.installation': deps.installation, 'io.solum.role': 'service', 'io.solum.service': i.name })) {
      await deps.engine.stopAndRemove(c.id, 10);
    }
    await deps.engine.removeVolumes({ 'io.solum.installation': deps.installation, 'io.solum.role': 'service-data', 'io.solum.service': i.name });
  };

  const createInstance = async (kind: ServiceKind, name: string, ownerId: number): Promise<ServiceInstance> => {
    if (!(await deps.engine.imageId(imageOf(kind)))) throw new AppError('conflict', `the ${kind} service image ${imageOf(kind)} is missing: run scripts/provision.sh`);
    if (await deps.store.find(name)) throw conflict(`service '${name}' already exists`);
    const port = await deps.ports.allocate();
    const created = await deps.store.create({ name, kind, ownerId, port, password: randomBytes(24).toString('hex') });
    if (created === 'duplicate') {
      deps.ports.release(port);
      throw conflict(`service '${name}' already exists`);
    }
    try {
      const id = await startContainer(created);
      await waitReady(created, id);
    } catch (err) {
      // A failed create leaves nothing behind.
      log.warn({ err, service: name }, 'service instance failed to start');
      await removeEverything(created).catch((e: unknown) => { log.error({ err: e, service: name }, 'cleaning up a failed service failed'); });
      await deps.store.remove(created.id);
      deps.ports.release(port);
      throw err;
    }
    log.info({ service: name, kind, port }, 'service instance created');
    return (await deps.store.find(name)) ?? created;
  };

  const running = async (i: ServiceInstance): Promise<string> => {
    const state = i.containerId ? await deps.engine.inspectContainer(i.containerId) : undefined;
    if (!i.containerId || !state?.running) throw conflict(`service '${i.name}' is not running`);
    return i.containerId;
  };

  const pgArgs = (i: ServiceInstance): string[] => ['-h', '127.0.0.1', '-p', String(i.port), '-U', PG_USER];
  const pgEnv = (i: ServiceInstance): string[] => [`PGPASSWORD=${i.password}`];
  const lastLines = (text: string): string => text.trim().split('\n').slice(-4).join(' / ').slice(0, 600);

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
      return serialized(name, () => createInstance(kind, name, user.id));
    },
    async list(actor) {
      const user = signedIn(actor);
      return deps.store.list(user.isAdmin ? {} : { ownerId: user.id });
    },
    async info(actor, name) {
      const i = await requireInstance(actor, name);
      const state = i.containerId ? await deps.engine.inspectContainer(i.containerId) : undefined;
      return { instance: i, links: await deps.store.linksOfService(i.id), state: state ? (state.running ? 'running' : 'stopped') : 'missing', url: kinds[i.kind].url(i) };
    },
    async link(actor, name, appName) {
      const i = await requireInstance(actor, name);
      const { app } = await deps.apps.require(actor, appName, 'admin');
      return serialized(i.name, async () => {
        const link = await doLink(i, app);
        try {
          const release = await deps.reconfigure(app, { [link.envVar]: kinds[i.kind].url(i) }, [], `Attach ${i.name} as ${link.envVar}`, actor?.name ?? null);
          return { link, release };
        } catch (err) {
          await deps.store.unlink(i.id, app.id);
          throw err;
        }
      });
    },
    async unlink(actor, name, appName) {
      const i = await requireInstance(actor, name);
      const { app } = await deps.apps.require(actor, appName, 'admin');
      return serialized(i.name, async () => {
        const link = await deps.store.unlink(i.id, app.id);
        if (!link) throw notFound(`service '${i.name}' is not linked to '${app.name}'`);
        const release = await deps.reconfigure(app, {}, [link.envVar], `Detach ${i.name} (${link.envVar})`, actor?.name ?? null);
        return { link, release };
      });
    },
    async destroy(actor, name, options) {
      const i = await requireInstance(actor, name);
      if (options.confirm !== i.name) throw badRequest(`destroying '${i.name}' deletes its data: confirm with the instance name (--confirm ${i.name})`);
      await serialized(i.name, async () => {
        const links = await deps.store.linksOfService(i.id);
        if (links.length > 0 && !options.force) throw conflict(`service '${i.name}' is linked to ${links.map((l) => l.app).join(', ')}: unlink it first or force`);
        for (const l of links) {
          await deps.store.unlink(i.id, l.appId);
          const app = await deps.appById(l.appId);
          if (app) await deps.reconfigure(app, {}, [l.envVar], `Detach ${i.name} (${l.envVar}): destroyed`, actor?.name ?? null);
        }
        await removeEverything(i);
        await deps.store.remove(i.id);
        deps.ports.release(i.port);
        log.info({ service: i.name }, 'service instance destroyed');
      });
    },
    async backup(actor, name) {
      const i = await requireInstance(actor, name);
      if (i.kind !== 'postgres') throw badRequest(`backups are for postgres instances; '${i.name}' is ${i.kind}`);
      const id = await running(i);
      const p = await deps.engine.exec(id, { cmd: ['pg_dump', '-Fc', ...pgArgs(i), '-d', i.name], env: pgEnv(i) });
      const out = new PassThrough();
      // Wait for the first bytes (or the end): a dump that fails at once is an error, not an empty 200.
      const first = await new Promise<Buffer | null>((resolve) => {
        const onData = (c: Buffer): void => { p.stdout.pause(); cleanup(); resolve(c); };
        const onEnd = (): void => { cleanup(); resolve(null); };
        const cleanup = (): void => { p.stdout.off('data', onData); p.stdout.off('end', onEnd); };
        p.stdout.on('data', onData);
        p.stdout.on('end', onEnd);
      });
      if (first === null) {
        const r = await p.done;
        if (r.exitCode !== 0) throw new AppError('conflict', `pg_dump failed: ${lastLines(r.stderr)}`);
        out.end();
        return out;
      }
      out.write(first);
      p.stdout.pipe(out, { end: false });
      out.on('close', () => { p.stdout.destroy(); });
      const ended = new Promise<void>((resolve) => { p.stdout.once('end', resolve); });
      void Promise.all([p.done, ended]).then(
        ([r]) => {
          if (r.exitCode === 0) out.end();
          else out.destroy(new AppError('conflict', `pg_dump failed: ${lastLines(r.stderr)}`));
        },
        (err: unknown) => { out.destroy(new AppError('internal', 'pg_dump failed', { cause: err })); },
      );
      return out;
    },
    async restore(actor, name, dump) {
      const i = await requireInstance(actor, name);
      if (i.kind !== 'postgres') throw badRequest(`restores are for postgres instances; '${i.name}' is ${i.kind}`);
      const id = await running(i);
      await serialized(i.name, async () => {
        const p = await deps.engine.exec(id, {
          cmd: ['pg_restore', '--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', ...pgArgs(i), '-d', i.name],
          env: pgEnv(i),
          stdin: dump,
        });
        const r = await collect(p);
        if (r.exitCode !== 0) throw badRequest(`restore failed, the database is unchanged: ${lastLines(r.stderr) || `pg_restore exited with ${r.exitCode}`}`);
        log.info({ service: i.name }, 'service instance restored');
      });
    },
    async ensureForApp(app, wanted, say) {
      const links = await deps.store.linksOfApp(app.id);
      for (const kind of wanted) {
        const linkedKinds = new Set(await Promise.all(links.map(async (l) => (await deps.store.find(l.service))?.kind)));
        if (linkedKinds.has(kind)) continue;
        const name = manifestServiceName(app.name, kind);
        await serialized(name, async () => {
          let i = await deps.store.find(name);
          if (!i) {
            say(`-----> Creating ${kind} service ${name} (solum.yaml services)`);
            i = await createInstance(kind, name, app.ownerId);
          } else if (i.kind !== kind || i.ownerId !== app.ownerId) {
            throw conflict(`solum.yaml asks for ${kind}, and the service name ${name} is taken: link a ${kind} service to '${app.name}' yourself`);
          }
          const link = await doLink(i, app);
          await deps.setConfig(app.id, { [link.envVar]: kinds[i.kind].url(i) });
          say(`       Linked ${name} as ${link.envVar}`);
        });
      }
    },
    async adopt() {
      const mine = { 'io.solum.installation': deps.installation, 'io.solum.role': 'service' };
      const containers = await deps.engine.listContainers(mine);
      const known = new Set<string>();
      for (const i of await deps.store.list({})) {
        known.add(i.name);
        deps.ports.reserve(i.port);
        try {
          // By label: the newest container of the instance, whatever ID the store remembers.
          const found = containers.find((c) => c.labels['io.solum.service'] === i.name);
          if (!found) {
            log.warn({ service: i.name }, 'service container missing: re-creating it on its volume');
            await startContainer(i);
            continue;
          }
          if (found.id !== i.containerId) await deps.store.setContainer(i.id, found.id);
          const state = await deps.engine.inspectContainer(found.id);
          if (!state?.running) await deps.engine.startContainer(found.id);
        } catch (err) {
          log.error({ err, service: i.name }, 'service instance could not be started');
        }
      }
      // Containers of instances Solum no longer knows (a destroy cut short) would hold a port;
      // their volumes stay, data is never removed without a destroy.
      for (const c of containers) {
        const name = c.labels['io.solum.service'] ?? '';
        if (known.has(name)) continue;
        log.warn({ service: name, container: c.id }, 'removing the container of an unknown service instance (its volume stays)');
        await deps.engine.removeContainer(c.id).catch((err: unknown) => { log.error({ err, service: name }, 'removing it failed'); });
      }
    },
  };
}
