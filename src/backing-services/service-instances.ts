// The lifecycle of backing service instances: containers from locally built images on a network of
// their own, joined to the networks of the apps they are linked to (reached there by the instance's
// name, on a port Solum allocates), with their data in a named volume; created ready or not at all,
// re-adopted by label at start. In host mode they listen on 127.0.0.1 of the host network instead.
// One operation per instance at a time.
import { randomBytes } from 'node:crypto';
import type { Containers, NetworkRef } from '../containers/containers.js';
import type { ExecProcess } from '../containers/container-engine.js';
import { LABEL } from '../containers/labels.js';
import type { ServiceInstance, ServiceKind, ServiceStore } from '../db/service-store.js';
import type { App } from '../db/app-store.js';
import type { PortAllocator } from '../deploy/ports.js';
import { appTargetKey } from '../deploy/target.js';
import { AppError, conflict } from '../errors.js';
import type { Logger } from '../logger.js';
import { DATA_DIR, PG_USER, kinds } from './service-kinds.js';

export interface ServiceInstances {
  /** Runs `fn` after every earlier operation on the instance `name` has finished. */
  serialized<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Creates an instance and waits until it serves; a failed create leaves nothing behind. `target`:
   * the deploy target it is made for (a preview's), labelled on its data volume for good, so what
   * is left of it is found even without its records.
   */
  create(kind: ServiceKind, name: string, ownerId: number, target?: string): Promise<ServiceInstance>;
  /** The container of a running instance; a conflict otherwise. */
  running(i: ServiceInstance): Promise<string>;
  state(i: ServiceInstance): Promise<'running' | 'stopped' | 'missing'>;
  /** Removes the instance's containers, network and data volume (found by its name's labels). */
  removeEverything(i: Pick<ServiceInstance, 'name'>): Promise<void>;
  /** Removes everything of the instance, its record and its port: it is gone. */
  destroy(i: ServiceInstance): Promise<void>;
  /** At start: reserves the instances' ports and starts (or re-creates) their containers. */
  adopt(): Promise<void>;
  /** The URL an app linked to the instance reaches it at. */
  urlOf(i: ServiceInstance): string;
  /** Joins the instance to the app's network (a link), under its own name. */
  attach(i: ServiceInstance, app: App): Promise<void>;
  /** Leaves the app's network (an unlink). */
  detach(i: ServiceInstance, app: App): Promise<void>;
  /** Joins every instance linked to the app to `network` (before the app's processes start on it). */
  joinApp(appId: number, network: NetworkRef): Promise<void>;
  /** Joins the named instances to `network`, each under its own name (a preview's fresh ones, decision 0020). */
  joinNamed(names: readonly string[], network: NetworkRef): Promise<void>;
}

export async function collect(p: ExecProcess): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  p.stdout.on('data', (c: Buffer) => { if (stdout.length < 65_536) stdout += c.toString('utf8'); });
  const r = await p.done;
  return { exitCode: r.exitCode, stdout, stderr: r.stderr };
}

export function createServiceInstances(deps: {
  store: ServiceStore;
  containers: Containers;
  ports: PortAllocator;
  logger: Logger;
  memoryBytes?: number;
  /** CPU limit of each instance, in 1e-9 CPUs (0: none). */
  nanoCpus?: number;
  /** How long a new instance may take to answer its readiness check. */
  readyTimeoutMs?: number;
  /** The image of each kind (tests and operators may point elsewhere). */
  images?: Partial<Record<ServiceKind, string>>;
}): ServiceInstances {
  const log = deps.logger.child({ component: 'services' });
  const c = deps.containers;
  const imageOf = (kind: ServiceKind): string => deps.images?.[kind] ?? kinds[kind].image;
  const containerName = (i: ServiceInstance): string => `solum-svc-${i.name}-${c.installation}`;
  const volumeName = (i: ServiceInstance): string => `solum-svc-${c.installation}-${i.name}`;
  const labels = (i: ServiceInstance): Record<string, string> => ({ [LABEL.service]: i.name, [LABEL.serviceKind]: i.kind });
  const locks = new Map<string, Promise<unknown>>();
  const serialized = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(name) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(name, tail);
    void tail.then(() => { if (locks.get(name) === tail) locks.delete(name); });
    return run;
  };

  const isReady = async (i: ServiceInstance, containerId: string): Promise<boolean> => {
    try {
      const r = await collect(await c.exec(containerId, kinds[i.kind].readyCommand(i)));
      return r.exitCode === 0 && (i.kind !== 'redis' || r.stdout.trim() === 'PONG');
    } catch {
      return false;
    }
  };

  /** Waits for the instance to serve; throws with the container's last output when it does not. */
  const waitReady = async (i: ServiceInstance, containerId: string): Promise<void> => {
    const deadline = Date.now() + (deps.readyTimeoutMs ?? 120_000);
    for (;;) {
      const state = await c.inspect(containerId);
      if (state?.running && (await isReady(i, containerId))) return;
      if (Date.now() > deadline) {
        let output = '';
        try {
          const logs = await c.logs(containerId, { follow: false, tail: 20 });
          for await (const chunk of logs) output += String(chunk);
        } catch {
          // The output is only a hint.
        }
        throw new AppError('conflict', `service '${i.name}' did not become ready${output ? `: ${output.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const isolated = c.networks.mode === 'isolated';
  const appNetwork = (appId: number, app: string): Promise<NetworkRef> => c.networks.ofTarget({ key: appTargetKey(appId), app });

  /** Joins the instance's container to the networks of every app it is linked to. */
  const joinLinked = async (i: ServiceInstance, containerId: string): Promise<void> => {
    if (!isolated) return;
    for (const l of await deps.store.linksOfService(i.id)) await c.networks.connect(await appNetwork(l.appId, l.app), containerId, [i.name]);
  };

  const startContainer = async (i: ServiceInstance, target?: string): Promise<string> => {
    await c.ensureVolume(volumeName(i), { ...labels(i), [LABEL.role]: 'service-data', ...(target ? { [LABEL.target]: target } : {}) });
    // Apps reach it from their own networks: it listens on every address of its own network namespace.
    const env: Record<string, string> = { SOLUM_SERVICE_PORT: String(i.port), SOLUM_SERVICE_PASSWORD: i.password, SOLUM_SERVICE_LISTEN: isolated ? '0.0.0.0' : '127.0.0.1' };
    if (i.kind === 'postgres') Object.assign(env, { SOLUM_SERVICE_DATABASE: i.name, SOLUM_SERVICE_USER: PG_USER });
    const id = await c.startProcess({
      image: imageOf(i.kind),
      name: containerName(i),
      role: 'service',
      network: await c.networks.ofService(i.name),
      aliases: [i.name],
      cmd: undefined,
      env,
      labels: labels(i),
      memoryBytes: deps.memoryBytes ?? 512 * 1024 * 1024,
      ...(deps.nanoCpus !== undefined ? { nanoCpus: deps.nanoCpus } : {}),
      volumes: [[volumeName(i), DATA_DIR]],
    });
    await deps.store.setContainer(i.id, id);
    await joinLinked(i, id);
    return id;
  };

  const removeEverything = async (i: Pick<ServiceInstance, 'name'>): Promise<void> => {
    for (const found of await c.list({ [LABEL.role]: 'service', [LABEL.service]: i.name })) await c.stopAndRemove(found.id, 10);
    await c.networks.removeService(i.name);
    await c.removeVolumes({ [LABEL.role]: 'service-data', [LABEL.service]: i.name });
  };

  /** The instance's container, found by label (whatever ID the store remembers). */
  const containerOf = async (i: ServiceInstance): Promise<string | undefined> => (await c.list({ [LABEL.role]: 'service', [LABEL.service]: i.name }))[0]?.id ?? i.containerId ?? undefined;

  const joinNamed = async (names: readonly string[], network: NetworkRef): Promise<void> => {
    if (!isolated) return;
    for (const name of names) {
      const i = await deps.store.find(name);
      const id = i ? await containerOf(i) : undefined;
      if (i && id) await c.networks.connect(network, id, [i.name]);
    }
  };

  return {
    serialized,
    async create(kind, name, ownerId, target) {
      const labelsOfImage = await c.imageLabels(imageOf(kind));
      if (!labelsOfImage) throw new AppError('conflict', `the ${kind} service image ${imageOf(kind)} is missing: run scripts/provision.sh`);
      // An image from before container networks listens on loopback only: apps could not reach it.
      if (isolated && labelsOfImage[LABEL.serviceListen] !== 'env') throw new AppError('conflict', `the ${kind} service image ${imageOf(kind)} predates container networks: run scripts/provision.sh to rebuild it`);
      if (await deps.store.find(name)) throw conflict(`service '${name}' already exists`);
      const port = await deps.ports.allocate();
      const created = await deps.store.create({ name, kind, ownerId, port, password: randomBytes(24).toString('hex') });
      if (created === 'duplicate') {
        deps.ports.release(port);
        throw conflict(`service '${name}' already exists`);
      }
      try {
        await waitReady(created, await startContainer(created, target));
      } catch (err) {
        log.warn({ err, service: name }, 'service instance failed to start');
        await removeEverything(created).catch((e: unknown) => { log.error({ err: e, service: name }, 'cleaning up a failed service failed'); });
        await deps.store.remove(created.id);
        deps.ports.release(port);
        throw err;
      }
      log.info({ service: name, kind, port }, 'service instance created');
      return (await deps.store.find(name)) ?? created;
    },
    async running(i) {
      const state = i.containerId ? await c.inspect(i.containerId) : undefined;
      if (!i.containerId || !state?.running) throw conflict(`service '${i.name}' is not running`);
      return i.containerId;
    },
    async state(i) {
      const state = i.containerId ? await c.inspect(i.containerId) : undefined;
      return state ? (state.running ? 'running' : 'stopped') : 'missing';
    },
    removeEverything,
    async destroy(i) {
      await removeEverything(i);
      await deps.store.remove(i.id);
      deps.ports.release(i.port);
      log.info({ service: i.name }, 'service instance destroyed');
    },
    async adopt() {
      const containers = await c.list({ [LABEL.role]: 'service' });
      const known = new Set<string>();
      for (const i of await deps.store.list({})) {
        known.add(i.name);
        deps.ports.reserve(i.port);
        try {
          // By label: the newest container of the instance, whatever ID the store remembers.
          const found = containers.find((x) => x.labels[LABEL.service] === i.name);
          if (!found) {
            log.warn({ service: i.name }, 'service container missing: re-creating it on its volume');
            await startContainer(i);
            continue;
          }
          if (found.id !== i.containerId) await deps.store.setContainer(i.id, found.id);
          const state = await c.inspect(found.id);
          if (!state?.running) await c.start(found.id);
          await joinLinked(i, found.id);
        } catch (err) {
          log.error({ err, service: i.name }, 'service instance could not be started');
        }
      }
      // Containers of instances Solum no longer knows (a destroy cut short) would hold a port;
      // their volumes stay, data is never removed without a destroy.
      for (const x of containers) {
        const name = x.labels[LABEL.service] ?? '';
        if (known.has(name)) continue;
        log.warn({ service: name, container: x.id }, 'removing the container of an unknown service instance (its volume stays)');
        await c.remove(x.id).catch((err: unknown) => { log.error({ err, service: name }, 'removing it failed'); });
      }
      for (const name of await c.networks.serviceNetworks()) {
        if (known.has(name)) continue;
        await c.networks.removeService(name).catch((err: unknown) => { log.error({ err, service: name }, 'removing its network failed'); });
      }
    },
    urlOf: (i) => kinds[i.kind].url(i, isolated ? i.name : '127.0.0.1'),
    async attach(i, app) {
      if (!isolated) return;
      const id = await containerOf(i);
      if (id) await c.networks.connect(await appNetwork(app.id, app.name), id, [i.name]);
    },
    async detach(i, app) {
      if (!isolated) return;
      const id = await containerOf(i);
      if (id) await c.networks.disconnect(await appNetwork(app.id, app.name), id);
    },
    async joinApp(appId, network) {
      await joinNamed((await deps.store.linksOfApp(appId)).map((l) => l.service), network);
    },
    joinNamed: (names, network) => joinNamed(names, network),
  };
}
