// Runs releases: starts a release's processes per the app's formation, health-checks the web
// processes, switches the router to them, and retires the previous processes after a grace
// period. One deploy per app at a time. At start it re-adopts running processes by label.
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { ContainerEngine } from '../containers/container-engine.js';
import type { App } from '../db/app-store.js';
import type { Formation, Release, ReleaseStore } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import { waitHealthy } from './health-check.js';
import type { PortAllocator } from './ports.js';
import type { Router } from './router.js';

export interface ProcessInfo {
  readonly type: string;
  readonly index: number;
  readonly release: number;
  readonly port: number | null;
  readonly running: boolean;
  /** Replaced by a newer deploy and waiting out the grace period. */
  readonly retiring: boolean;
  readonly containerId: string;
}

export interface Deployer {
  /** Makes `release` live. Resolves undefined on success, else why it failed (old processes untouched). */
  deploy(app: App, release: Release, log: (line: string) => void): Promise<string | undefined>;
  /** Stops every process of the app. */
  stopAll(app: App): Promise<void>;
  processes(app: App): Promise<ProcessInfo[]>;
  /** Output of the app's processes, each line prefixed with its process name. */
  logs(app: App, options: { follow: boolean; tail: number }): Promise<Readable>;
  /** Re-adopts processes of active releases after a restart and restarts those that died. */
  adopt(apps: (id: number) => Promise<App | undefined>): Promise<void>;
}

export interface DeployerOptions {
  readonly engine: ContainerEngine;
  readonly releases: ReleaseStore;
  readonly router: Router;
  readonly ports: PortAllocator;
  readonly installation: string;
  readonly logger: Logger;
  readonly memoryBytes: number;
  /** How long old processes keep running after the switch, for requests in flight. */
  readonly graceMs: number;
  readonly healthTimeoutMs: number;
}

interface DuManifest {
  healthcheck?: { path: string; timeout: number };
  env?: Record<string, string>;
}

const L = {
  installation: 'io.solum.installation',
  app: 'io.solum.app',
  role: 'io.solum.role',
  release: 'io.solum.release',
  deploy: 'io.solum.deploy',
  type: 'io.solum.process-type',
  index: 'io.solum.process-index',
  port: 'io.solum.port',
} as const;

export function createDeployer(o: DeployerOptions): Deployer {
  const log = o.logger.child({ component: 'deployer' });
  const locks = new Map<number, Promise<unknown>>();
  /** The deploy whose processes are live, per app. */
  const live = new Map<number, string>();

  /** Runs `fn` after every earlier operation on the same app has finished. */
  const serialized = <T>(appId: number, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(appId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(appId, tail);
    void tail.then(() => {
      if (locks.get(appId) === tail) locks.delete(appId);
    });
    return run;
  };

  const appContainers = (app: App) => o.engine.listContainers({ [L.installation]: o.installation, [L.app]: app.name, [L.role]: 'process' });

  const remove = async (id: string, port: string | undefined, graceSeconds: number): Promise<void> => {
    await o.engine.stopAndRemove(id, graceSeconds);
    if (port) o.ports.release(Number(port));
  };

  const retire = (ids: ReadonlyArray<{ id: string; labels: Readonly<Record<string, string>> }>): void => {
    if (ids.length === 0) return;
    // Left running if Solum stops first: adopt() removes them at the next start.
    void new Promise<void>((resolve) => setTimeout(resolve, o.graceMs).unref())
      .then(() => Promise.all(ids.map((c) => remove(c.id, c.labels[L.port], 10))))
      .catch((err: unknown) => { log.error({ err }, 'retiring old processes failed'); });
  };

  const startProcesses = async (app: App, release: Release, formation: Formation, manifest: DuManifest, deployId: string) => {
    const started: Array<{ id: string; type: string; index: number; port: number | null }> = [];
    for (const [type, count] of Object.entries(formation)) {
      const command = release.processTypes[type];
      if (count <= 0 || command === undefined) continue;
      for (let index = 1; index <= count; index++) {
        const port = type === 'web' ? await o.ports.allocate() : null;
        const env: Record<string, string> = { ...(manifest.env ?? {}), ...release.config, SOLUM_APP: app.name, SOLUM_RELEASE: `v${release.version}`, SOLUM_PROCESS: `${type}.${index}` };
        if (port !== null) env.PORT = String(port);
        try {
          const id = await o.engine.runApp({
            image: release.duId,
            name: `solum-${app.name}-v${release.version}-${type}-${index}-${deployId}`,
            // An empty command means the DU's own CMD (a Dockerfile-built DU without a Procfile).
            cmd: command === '' ? undefined : ['/bin/sh', '-c', command],
            env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
            labels: {
              [L.installation]: o.installation,
              [L.app]: app.name,
              [L.role]: 'process',
              [L.release]: String(release.version),
              [L.deploy]: deployId,
              [L.type]: type,
              [L.index]: String(index),
              ...(port !== null ? { [L.port]: String(port) } : {}),
            },
            memoryBytes: o.memoryBytes,
            pids: 512,
          });
          started.push({ id, type, index, port });
        } catch (err) {
          if (port !== null) o.ports.release(port);
          throw err;
        }
      }
    }
    return started;
  };

  const died = (id: string, name: string) => async (): Promise<string | undefined> => {
    const s = await o.engine.inspectContainer(id);
    if (!s) return `${name} is gone`;
    if (!s.running || s.restartCount > 0) return `${name} exited with status ${s.exitCode} before it was healthy`;
    return undefined;
  };

  const deployLocked = async (app: App, release: Release, say: (line: string) => void): Promise<string | undefined> => {
    const labels = await o.engine.imageLabels(release.duId);
    if (!labels) return `the deployment unit ${release.duImage} (${release.duId}) is missing`;
    const manifest = JSON.parse(labels['io.solum.manifest'] ?? '{}') as DuManifest;
    const formation = await o.releases.getFormation(app.id);
    const before = await appContainers(app);
    const deployId = randomBytes(4).toString('hex');
    const types = Object.entries(formation).filter(([t, n]) => n > 0 && release.processTypes[t] !== undefined);
    say(`-----> Launching v${release.version}: ${types.length === 0 ? 'no processes' : types.map(([t, n]) => `${t}=${n}`).join(' ')}`);
    let started: Awaited<ReturnType<typeof startProcesses>> = [];
    try {
      started = await startProcesses(app, release, formation, manifest, deployId);
      const web = started.filter((s) => s.port !== null);
      const hc = manifest.healthcheck;
      const failures = await Promise.all(
        web.map((w) =>
          waitHealthy({ port: w.port ?? 0, path: hc?.path, timeoutMs: hc ? hc.timeout * 1000 : o.healthTimeoutMs, died: died(w.id, `web.${w.index}`) }),
        ),
      );
      const failure = failures.find((f) => f !== undefined);
      if (failure) throw new Error(`health check failed: ${failure}`);
      if (web.length > 0) say(`       ${web.length} web process${web.length > 1 ? 'es' : ''} healthy${hc ? ` (GET ${hc.path})` : ' (TCP)'}`);
      o.router.setBackends(app.name, web.map((w) => w.port ?? 0));
      live.set(app.id, deployId);
      retire(before);
      return undefined;
    } catch (err) {
      await Promise.all(started.map((s) => remove(s.id, s.port === null ? undefined : String(s.port), 1).catch(() => undefined)));
      return err instanceof Error ? err.message : String(err);
    }
  };

  return {
    deploy: (app, release, say) => serialized(app.id, () => deployLocked(app, release, say)),
    stopAll: (app) =>
      serialized(app.id, async () => {
        o.router.setBackends(app.name, []);
        live.delete(app.id);
        await Promise.all((await appContainers(app)).map((c) => remove(c.id, c.labels[L.port], 10)));
      }),
    async processes(app) {
      const list = await appContainers(app);
      const out: ProcessInfo[] = [];
      for (const c of list) {
        const s = await o.engine.inspectContainer(c.id);
        out.push({
          type: c.labels[L.type] ?? '?',
          index: Number(c.labels[L.index] ?? 0),
          release: Number(c.labels[L.release] ?? 0),
          port: c.labels[L.port] ? Number(c.labels[L.port]) : null,
          running: s?.running ?? false,
          retiring: c.labels[L.deploy] !== live.get(app.id),
          containerId: c.id,
        });
      }
      // Live processes first, then those being retired (newest release first).
      return out.sort((a, b) => Number(a.retiring) - Number(b.retiring) || b.release - a.release || a.type.localeCompare(b.type) || a.index - b.index);
    },
    async logs(app, options) {
      const out = new PassThrough();
      const list = await appContainers(app);
      let open = list.length;
      if (open === 0) out.end();
      const sources: Array<{ destroy(): void }> = [];
      for (const c of list) {
        const name = `${c.labels[L.type] ?? '?'}.${c.labels[L.index] ?? '?'}`;
        const src = await o.engine.logs(c.id, options);
        sources.push(src);
        let partial = '';
        src.on('data', (chunk: Buffer) => {
          partial += chunk.toString('utf8');
          let nl;
          while ((nl = partial.indexOf('\n')) >= 0) {
            out.write(`v${c.labels[L.release] ?? '?'} ${name} | ${partial.slice(0, nl)}\n`);
            partial = partial.slice(nl + 1);
          }
        });
        src.on('end', () => {
          if (partial) out.write(`v${c.labels[L.release] ?? '?'} ${name} | ${partial}\n`);
          if (--open === 0) out.end();
        });
      }
      out.on('close', () => { for (const s of sources) s.destroy(); });
      return out;
    },
    async adopt(findApp) {
      for (const release of await o.releases.allActive()) {
        const app = await findApp(release.appId);
        if (!app) continue;
        await serialized(app.id, async () => {
          const containers = await appContainers(app);
          // The newest deploy of the active release is live; anything else (older releases, or an
          // earlier deploy of the same release caught in its grace period by a stop) is stale.
          const liveDeploy = containers.find((c) => c.labels[L.release] === String(release.version))?.labels[L.deploy];
          const current = containers.filter((c) => c.labels[L.deploy] === liveDeploy && liveDeploy !== undefined);
          const stale = containers.filter((c) => !current.includes(c));
          await Promise.all(stale.map((c) => remove(c.id, undefined, 10)));
          if (await o.releases.isStopped(app.id)) {
            await Promise.all(current.map((c) => remove(c.id, undefined, 10)));
            return;
          }
          if (current.length === 0) {
            const error = await deployLocked(app, release, () => undefined);
            if (error) log.error({ app: app.name, version: release.version, error }, 're-deploying the active release failed');
            return;
          }
          const labels = await o.engine.imageLabels(release.duId);
          const manifest = JSON.parse(labels?.['io.solum.manifest'] ?? '{}') as DuManifest;
          const web: number[] = [];
          for (const c of current) {
            const port = c.labels[L.port];
            if (port) o.ports.reserve(Number(port));
            const s = await o.engine.inspectContainer(c.id);
            const name = `${c.labels[L.type] ?? ''}.${c.labels[L.index] ?? ''}`;
            if (s && !s.running) {
              log.warn({ app: app.name, process: name }, 'restarting a process that died');
              await o.engine.startContainer(c.id);
              // Back in the router only once it answers again.
              if (port) {
                const hc = manifest.healthcheck;
                const failure = await waitHealthy({ port: Number(port), path: hc?.path, timeoutMs: hc ? hc.timeout * 1000 : o.healthTimeoutMs, died: died(c.id, name) });
                if (failure) {
                  log.error({ app: app.name, process: name, failure }, 'a restarted process is not healthy');
                  continue;
                }
              }
            }
            if (port) web.push(Number(port));
          }
          o.router.setBackends(app.name, web);
          const deployId = current[0]?.labels[L.deploy];
          if (deployId) live.set(app.id, deployId);
          log.info({ app: app.name, version: release.version, processes: current.length }, 'adopted running release');
        });
      }
    },
  };
}
