// Runs releases of deploy targets: starts a release's processes per the target's formation on the
// target's own network, health-checks the web processes, switches the router to them, and retires the
// previous processes after a grace period. One deploy per target at a time. At start it re-adopts
// running processes by label and removes networks of targets that are gone.
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { Containers, ContainerSummary, NetworkRef } from '../containers/containers.js';
import type { DuManifest, HealthCheckSpec } from '../containers/du-labels.js';
import { LABEL } from '../containers/labels.js';
import type { App } from '../db/app-store.js';
import type { Formation, Release } from '../db/release-store.js';
import type { Logger } from '../logger.js';
import { printableLine } from '../terminal-text.js';
import { probeOnce, runStartupCheck, waitHealthy, type ProcessProbe } from './health-check.js';
import { processCommand, releaseEnv } from './process-command.js';
import type { PortAllocator } from './ports.js';
import type { Backend, Router } from './router.js';
import type { DeployTarget } from './target.js';

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
  deploy(target: DeployTarget, release: Release, log: (line: string) => void): Promise<string | undefined>;
  /** Stops every process of the target. */
  stopAll(target: Pick<DeployTarget, 'key' | 'name'>): Promise<void>;
  /** Stops every process of the app and of all its environments (the app is being destroyed). */
  stopApp(app: App): Promise<void>;
  processes(target: DeployTarget): Promise<ProcessInfo[]>;
  /** Output of the target's processes, each line prefixed with its process name. */
  logs(target: DeployTarget, options: { follow: boolean; tail: number }): Promise<Readable>;
  /**
   * Starts `release`'s web processes as the target's canary with `share` percent of new sessions
   * (decision 0019), or changes the share of the one running. Resolves why it failed, else undefined.
   * Deploying the canary's release later (a promotion) makes it live and takes the canary out.
   */
  canary(target: DeployTarget, release: Release, share: number, say: (line: string) => void): Promise<string | undefined>;
  /** Takes the target's canary out of the router (its sessions go to the live release) and retires its processes. */
  endCanary(target: DeployTarget): Promise<void>;
  /** Probes the canary's web processes once; resolves why one is not healthy, else undefined. */
  checkCanary(target: DeployTarget): Promise<string | undefined>;
  /** Re-adopts processes of active releases (and their running canaries) after a restart and restarts those that died. */
  adopt(active: ReadonlyArray<{ target: DeployTarget; release: Release; canary?: { release: Release; share: number } | undefined }>): Promise<void>;
}

export interface DeployerOptions {
  readonly containers: Containers;
  readonly router: Router;
  readonly ports: PortAllocator;
  readonly logger: Logger;
  /** How long old processes keep running after the switch, for requests in flight. */
  readonly graceMs: number;
  readonly healthTimeoutMs: number;
  /** Runs before a target's processes start on its network (backing services linked to it join it). */
  readonly beforeStart?: (target: DeployTarget, network: NetworkRef) => Promise<void>;
}

/** A process a deploy started, with where the router reaches it once known (web processes). */
interface Started {
  readonly id: string;
  readonly type: string;
  readonly index: number;
  readonly port: number | null;
  backend: Backend | null;
}

/** The alias every web process has on its target's network (a pipeline's tests reach the environment by it). */
export const WEB_ALIAS = 'solum-web';

export function createDeployer(o: DeployerOptions): Deployer {
  const log = o.logger.child({ component: 'deployer' });
  const locks = new Map<string, Promise<unknown>>();
  /** The deploy whose processes are live, per target. */
  const live = new Map<string, string>();
  /** The deploy that is a target's canary, with what the router and its health checks need. */
  const canaries = new Map<string, { deployId: string; version: number; share: number; backends: Array<Backend & { id: string; name: string }>; path: string | undefined }>();

  /** Runs `fn` after every earlier operation on the same target has finished. */
  const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  };

  const containersOf = (target: Pick<DeployTarget, 'key'>) => o.containers.list({ [LABEL.target]: target.key, [LABEL.role]: 'process' });

  const remove = async (id: string, port: string | undefined, graceSeconds: number): Promise<void> => {
    await o.containers.stopAndRemove(id, graceSeconds);
    if (port) o.ports.release(Number(port));
  };

  const retire = (list: readonly ContainerSummary[]): void => {
    if (list.length === 0) return;
    // Left running if Solum stops first: adopt() removes them at the next start.
    void new Promise<void>((resolve) => setTimeout(resolve, o.graceMs).unref())
      .then(() => Promise.all(list.map((c) => remove(c.id, c.labels[LABEL.port], 10))))
      .catch((err: unknown) => { log.error({ err }, 'retiring old processes failed'); });
  };

  const manifestOf = async (release: Release): Promise<DuManifest | undefined> => (await o.containers.readDu(release.duId))?.manifest ?? (await o.containers.imageId(release.duId) ? { env: {} } : undefined);

  const networkOf = (target: DeployTarget): Promise<NetworkRef> => o.containers.networks.ofTarget({ key: target.key, app: target.app.name });

  /** Where the router reaches a web process: its address on the target's network (or loopback). */
  const backendOf = async (id: string, network: NetworkRef, port: number): Promise<Backend> => {
    const host = await o.containers.addressOf(id, network);
    if (!host) throw new Error(`the process ${id.slice(0, 12)} has no address on ${network.name}`);
    return { host, port };
  };

  /** Starts the release's processes into `started` (the caller's, so a failure half-way still removes them). */
  const startProcesses = async (target: DeployTarget, release: Release, formation: Formation, manifest: DuManifest, deployId: string, started: Started[], network: NetworkRef): Promise<void> => {
    await o.beforeStart?.(target, network);
    for (const [type, count] of Object.entries(formation)) {
      const command = release.processTypes[type];
      if (count <= 0 || command === undefined) continue;
      for (let index = 1; index <= count; index++) {
        const port = type === 'web' ? await o.ports.allocate() : null;
        const env = releaseEnv(manifest.env, release.config, { target: target.name, version: release.version, process: `${type}.${index}` });
        if (port !== null) env.PORT = String(port);
        try {
          const id = await o.containers.startProcess({
            image: release.duId,
            name: `solum-${target.name}-v${release.version}-${type}-${index}-${deployId}`,
            role: 'process',
            network,
            ...(type === 'web' ? { aliases: [WEB_ALIAS] } : {}),
            // An empty command means the DU's own CMD (a Dockerfile-built DU without a Procfile);
            // any other runs after the DU's .profile.d scripts, as on Heroku.
            cmd: command === '' ? undefined : processCommand(command),
            env,
            labels: {
              [LABEL.app]: target.app.name,
              [LABEL.target]: target.key,
              ...(target.environment ? { [LABEL.environment]: target.environment.name } : {}),
              [LABEL.release]: String(release.version),
              [LABEL.deploy]: deployId,
              [LABEL.processType]: type,
              [LABEL.processIndex]: String(index),
              ...(port !== null ? { [LABEL.port]: String(port) } : {}),
            },
          });
          // Recorded before its address is looked up, so a failure still removes it.
          const entry: Started = { id, type, index, port, backend: null };
          started.push(entry);
          if (port !== null) {
            // A process that exited at once has no address: say why, as its health check would.
            const dead = (await o.containers.addressOf(id, network)) ? undefined : await died(id, `${type}.${index}`)();
            if (dead) throw new Error(`health check failed: ${dead}`);
            entry.backend = await backendOf(id, network, port);
          }
        } catch (err) {
          if (port !== null && !started.some((s) => s.port === port)) o.ports.release(port);
          throw err;
        }
      }
    }
  };

  const died = (id: string, name: string) => async (): Promise<string | undefined> => {
    const s = await o.containers.inspect(id);
    if (!s) return `${name} is gone`;
    if (!s.running || s.restartCount > 0) return `${name} exited with status ${s.exitCode} before it was healthy`;
    return undefined;
  };

  const healthy = (backend: Backend, id: string, name: string, manifest: DuManifest | undefined): Promise<string | undefined> => {
    const hc = manifest?.healthcheck;
    return waitHealthy({ host: backend.host, port: backend.port, path: hc?.path, timeoutMs: hc ? hc.timeout * 1000 : o.healthTimeoutMs, died: died(id, name) });
  };

  /** What app.json's startup checks need of one process. */
  const probeOf = (id: string, network: NetworkRef, port: number | null): ProcessProbe => ({
    host: () => o.containers.addressOf(id, network),
    port,
    async exec(cmd, timeoutMs) {
      const p = await o.containers.exec(id, { cmd });
      p.stdout.resume();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => { p.stdout.destroy(); reject(new Error('timeout')); }, timeoutMs); });
      try {
        return (await Promise.race([p.done, timeout])).exitCode;
      } finally {
        clearTimeout(timer);
      }
    },
    state: async () => {
      const st = await o.containers.inspect(id);
      return st && { running: st.running, restartCount: st.restartCount };
    },
    died: died(id, ''),
  });

  /** Runs app.json's startup checks of one started process; resolves why it failed (warn-only checks just say so). */
  const startupChecks = async (s: Started, checks: readonly HealthCheckSpec[], network: NetworkRef, say: (line: string) => void): Promise<string | undefined> => {
    const name = `${s.type}.${s.index}`;
    const probe = { ...probeOf(s.id, network, s.port), died: died(s.id, name) };
    const results = await Promise.all(checks.map(async (c) => ({ c, failure: await runStartupCheck(c, probe) })));
    for (const { c, failure } of results) {
      if (failure && c.warn) say(`!     ${name}: check "${c.name}" failed (warn only): ${failure}`);
    }
    const failed = results.find((r) => r.failure !== undefined && !r.c.warn);
    return failed ? `${name}: check "${failed.c.name}" failed: ${failed.failure ?? ''}` : undefined;
  };

  /**
   * Checks freshly started processes: app.json's checks for a type replace the default web check
   * (solum.yaml's healthcheck was kept over them at build time). Resolves the first failure.
   */
  const checkStarted = async (started: readonly Started[], manifest: DuManifest, network: NetworkRef, say: (line: string) => void): Promise<string | undefined> => {
    const checks = manifest.healthchecks ?? {};
    const failures = await Promise.all(
      started.map((s) => {
        const own = checks[s.type];
        if (own && own.length > 0) return startupChecks(s, own, network, say);
        return s.backend ? healthy(s.backend, s.id, `web.${s.index}`, manifest) : Promise.resolve(undefined);
      }),
    );
    return failures.find((f) => f !== undefined);
  };

  /** Removes processes a failed deploy started (their ports freed), now. */
  const discard = (started: readonly Started[]): Promise<unknown> =>
    Promise.all(started.map((s) => remove(s.id, s.port === null ? undefined : String(s.port), 1).catch(() => undefined)));

  /** The path a web process answers its health checks on (none: a TCP connect is the check). */
  const probePathOf = (manifest: DuManifest | undefined): string | undefined =>
    manifest?.healthcheck?.path ?? manifest?.healthchecks?.web?.find((c) => c.path !== undefined)?.path;

  /** The DU's manifest of a release, or why it cannot be deployed. */
  const readManifest = async (release: Release): Promise<DuManifest | string> => {
    try {
      return (await manifestOf(release)) ?? `the deployment unit ${release.duImage} (${release.duId}) is missing`;
    } catch (err) {
      return `the deployment unit ${release.duImage} carries invalid labels: ${(err as Error).message}`;
    }
  };

  const deployLocked = async (target: DeployTarget, release: Release, say: (line: string) => void): Promise<string | undefined> => {
    const manifest = await readManifest(release);
    if (typeof manifest === 'string') return manifest;
    const formation = await target.releases.getFormation();
    const canary = canaries.get(target.key);
    const promoting = canary?.version === release.version;
    // A running canary's processes stay through other deploys (restart, scale, config); promoting
    // it retires them with the old live ones once its release is live.
    const before = (await containersOf(target)).filter((c) => promoting || c.labels[LABEL.deploy] !== canary?.deployId);
    const deployId = randomBytes(4).toString('hex');
    const types = Object.entries(formation).filter(([t, n]) => n > 0 && release.processTypes[t] !== undefined);
    say(`-----> Launching v${release.version}: ${types.length === 0 ? 'no processes' : types.map(([t, n]) => `${t}=${n}`).join(' ')}`);
    const started: Started[] = [];
    try {
      const network = await networkOf(target);
      await startProcesses(target, release, formation, manifest, deployId, started, network);
      const web = started.flatMap((s) => (s.backend ? [{ ...s, backend: s.backend }] : []));
      const failure = await checkStarted(started, manifest, network, say);
      if (failure) throw new Error(`health check failed: ${failure}`);
      const checks = manifest.healthchecks ?? {};
      const hc = manifest.healthcheck;
      if (web.length > 0 && !checks.web?.length) say(`       ${web.length} web process${web.length > 1 ? 'es' : ''} healthy${hc ? ` (GET ${hc.path})` : ' (TCP)'}`);
      for (const [type, list] of Object.entries(checks)) {
        const n = started.filter((s) => s.type === type).length;
        if (n > 0 && list.length > 0) say(`       ${n} ${type} process${n > 1 ? 'es' : ''} passed ${list.map((c) => `"${c.name}"`).join(', ')} (app.json healthchecks)`);
      }
      await o.router.setBackends(target, web.map((w) => ({ ...w.backend, release: release.version })));
      live.set(target.key, deployId);
      if (promoting) {
        await o.router.setCanary(target, null);
        canaries.delete(target.key);
      }
      retire(before);
      return undefined;
    } catch (err) {
      await discard(started);
      return err instanceof Error ? err.message : String(err);
    }
  };

  const stopAllLocked = async (target: Pick<DeployTarget, 'key' | 'name'>, list: readonly ContainerSummary[]): Promise<void> => {
    await o.router.setBackends(target, []);
    live.delete(target.key);
    canaries.delete(target.key);
    await Promise.all(list.map((c) => remove(c.id, c.labels[LABEL.port], 10)));
  };

  /** Starts the canary's web processes, health-checks them and gives them their share. */
  const canaryLocked = async (target: DeployTarget, release: Release, share: number, say: (line: string) => void): Promise<string | undefined> => {
    const running = canaries.get(target.key);
    if (running && running.version === release.version) {
      await o.router.setCanary(target, { version: release.version, share, backends: running.backends });
      running.share = share;
      say(`-----> Canary v${release.version} now gets ${share}% of new sessions`);
      return undefined;
    }
    if (running) return `v${running.version} is already the canary`;
    if (!live.has(target.key)) return 'nothing is live to share traffic with';
    const manifest = await readManifest(release);
    if (typeof manifest === 'string') return manifest;
    if (release.processTypes.web === undefined) return `v${release.version} has no web process`;
    const formation = await target.releases.getFormation();
    const count = Math.max(1, formation.web ?? 1);
    const deployId = randomBytes(4).toString('hex');
    say(`-----> Launching canary v${release.version}: web=${count}`);
    const started: Started[] = [];
    try {
      const network = await networkOf(target);
      await startProcesses(target, release, { web: count }, manifest, deployId, started, network);
      const failure = await checkStarted(started, manifest, network, say);
      if (failure) throw new Error(`health check failed: ${failure}`);
      const backends = started.flatMap((s) => (s.backend ? [{ ...s.backend, release: release.version, id: s.id, name: `web.${s.index}` }] : []));
      await o.router.setCanary(target, { version: release.version, share, backends });
      canaries.set(target.key, { deployId, version: release.version, share, backends, path: probePathOf(manifest) });
      say(`       canary v${release.version} healthy: ${share}% of new sessions`);
      return undefined;
    } catch (err) {
      await discard(started);
      return err instanceof Error ? err.message : String(err);
    }
  };

  const endCanaryLocked = async (target: DeployTarget): Promise<void> => {
    const c = canaries.get(target.key);
    await o.router.setCanary(target, null);
    canaries.delete(target.key);
    const list = (await containersOf(target)).filter((x) => c ? x.labels[LABEL.deploy] === c.deployId : false);
    retire(list);
  };

  /** Adopts one target's running processes (its active release), or deploys it when none run. */
  const adoptOne = async (target: DeployTarget, release: Release, canary: { release: Release; share: number } | undefined): Promise<void> => {
    const containers = await containersOf(target);
    // The newest deploy of the active release is live; anything else (older releases, or an
    // earlier deploy of the same release caught in its grace period by a stop) is stale.
    const liveDeploy = containers.find((c) => c.labels[LABEL.release] === String(release.version))?.labels[LABEL.deploy];
    const current = containers.filter((c) => c.labels[LABEL.deploy] === liveDeploy && liveDeploy !== undefined);
    // A running canary's processes (its release's newest deploy) are adopted after the live ones.
    const canaryDeploy = canary && containers.find((c) => c.labels[LABEL.release] === String(canary.release.version))?.labels[LABEL.deploy];
    const canaryOnes = containers.filter((c) => canaryDeploy !== undefined && c.labels[LABEL.deploy] === canaryDeploy);
    const stale = containers.filter((c) => !current.includes(c) && !canaryOnes.includes(c));
    await Promise.all(stale.map((c) => remove(c.id, undefined, 10)));
    if (await target.releases.isStopped()) {
      await Promise.all(current.map((c) => remove(c.id, undefined, 10)));
      return;
    }
    if (current.length === 0) {
      const error = await deployLocked(target, release, () => undefined);
      if (error) log.error({ target: target.name, version: release.version, error }, 're-deploying the active release failed');
      return;
    }
    const manifest = await manifestOf(release).catch(() => undefined);
    const network = await networkOf(target);
    await o.beforeStart?.(target, network);
    const web: Backend[] = [];
    for (const c of current) {
      const port = c.labels[LABEL.port];
      if (port) o.ports.reserve(Number(port));
      const s = await o.containers.inspect(c.id);
      const name = `${c.labels[LABEL.processType] ?? ''}.${c.labels[LABEL.processIndex] ?? ''}`;
      if (s && !s.running) {
        log.warn({ target: target.name, process: name }, 'restarting a process that died');
        await o.containers.start(c.id);
        // Back in the router only once it answers again.
        if (port) {
          const failure = await healthy(await backendOf(c.id, network, Number(port)), c.id, name, manifest);
          if (failure) {
            log.error({ target: target.name, process: name, failure }, 'a restarted process is not healthy');
            continue;
          }
        }
      }
      if (port) {
        try {
          web.push(await backendOf(c.id, network, Number(port)));
        } catch (err) {
          log.error({ err, target: target.name, process: name }, 'an adopted process has no address on its network');
        }
      }
    }
    await o.router.setBackends(target, web.map((b) => ({ ...b, release: release.version })));
    const deployId = current[0]?.labels[LABEL.deploy];
    if (deployId) live.set(target.key, deployId);
    log.info({ target: target.name, version: release.version, processes: current.length }, 'adopted running release');
    if (!canary) return;
    const cm = await manifestOf(canary.release).catch(() => undefined);
    const backends: Array<Backend & { id: string; name: string }> = [];
    for (const c of canaryOnes) {
      const port = c.labels[LABEL.port];
      if (port) o.ports.reserve(Number(port));
      const s = await o.containers.inspect(c.id);
      // A canary process that died is left to the canary's health checks (which abort it).
      if (!port || !s?.running) continue;
      try {
        backends.push({ ...(await backendOf(c.id, network, Number(port))), release: canary.release.version, id: c.id, name: `web.${c.labels[LABEL.processIndex] ?? ''}` });
      } catch (err) {
        log.error({ err, target: target.name }, 'an adopted canary process has no address on its network');
      }
    }
    if (backends.length === 0 && canaryOnes.length === 0) {
      const error = await canaryLocked(target, canary.release, canary.share, () => undefined);
      if (error) log.error({ target: target.name, version: canary.release.version, error }, 're-starting the canary failed');
      return;
    }
    await o.router.setCanary(target, { version: canary.release.version, share: canary.share, backends });
    canaries.set(target.key, { deployId: canaryDeploy ?? '', version: canary.release.version, share: canary.share, backends, path: probePathOf(cm) });
    log.info({ target: target.name, version: canary.release.version, share: canary.share, processes: backends.length }, 'adopted running canary');
  };

  return {
    deploy: (target, release, say) => serialized(target.key, () => deployLocked(target, release, say)),
    canary: (target, release, share, say) => serialized(target.key, () => canaryLocked(target, release, share, say)),
    endCanary: (target) => serialized(target.key, () => endCanaryLocked(target)),
    async checkCanary(target) {
      const c = canaries.get(target.key);
      if (!c) return 'the canary has no processes';
      if (c.backends.length === 0) return 'none of the canary\'s web processes is running';
      for (const b of c.backends) {
        const dead = await died(b.id, b.name)();
        if (dead) return dead;
        if (!(await probeOnce(b.host, b.port, c.path))) return c.path ? `${b.name}: no 2xx/3xx answer from ${c.path}` : `${b.name}: nothing listening on port ${b.port}`;
      }
      return undefined;
    },
    stopAll: (target) => serialized(target.key, async () => stopAllLocked(target, await containersOf(target))),
    async stopApp(app) {
      const all = await o.containers.list({ [LABEL.app]: app.name, [LABEL.role]: 'process' });
      const keys = new Map<string, string>();
      for (const c of all) {
        const key = c.labels[LABEL.target];
        if (key) keys.set(key, c.labels[LABEL.environment] ? `${app.name}-${c.labels[LABEL.environment]}` : app.name);
      }
      for (const [key, name] of keys) {
        await serialized(key, () => stopAllLocked({ key, name }, all.filter((c) => c.labels[LABEL.target] === key)));
      }
      // One-offs of the app (a scheduled job's kept output, a run still going) go with it.
      for (const c of await o.containers.list({ [LABEL.app]: app.name, [LABEL.role]: 'one-off' })) await o.containers.remove(c.id);
      // The app is going: its targets' networks go too (services linked to it are detached).
      for (const n of await o.containers.networks.targetNetworks()) {
        if (n.app === app.name) await serialized(n.key, () => o.containers.networks.removeTarget(n.key));
      }
    },
    async processes(target) {
      const out: ProcessInfo[] = [];
      for (const c of await containersOf(target)) {
        const s = await o.containers.inspect(c.id);
        out.push({
          type: c.labels[LABEL.processType] ?? '?',
          index: Number(c.labels[LABEL.processIndex] ?? 0),
          release: Number(c.labels[LABEL.release] ?? 0),
          port: c.labels[LABEL.port] ? Number(c.labels[LABEL.port]) : null,
          running: s?.running ?? false,
          retiring: c.labels[LABEL.deploy] !== live.get(target.key) && c.labels[LABEL.deploy] !== canaries.get(target.key)?.deployId,
          containerId: c.id,
        });
      }
      // Live processes first, then those being retired (newest release first).
      return out.sort((a, b) => Number(a.retiring) - Number(b.retiring) || b.release - a.release || a.type.localeCompare(b.type) || a.index - b.index);
    },
    async logs(target, options) {
      const out = new PassThrough();
      // Scheduled jobs' kept containers are read like processes (their output is the app's logs too).
      const list = [...(await containersOf(target)), ...(await o.containers.list({ [LABEL.target]: target.key, [LABEL.role]: 'one-off', [LABEL.oneOff]: 'cron' }))];
      let open = list.length;
      if (open === 0) out.end();
      const sources: Array<{ destroy(): void }> = [];
      for (const c of list) {
        const index = c.labels[LABEL.processIndex];
        const prefix = `v${c.labels[LABEL.release] ?? '?'} ${c.labels[LABEL.processType] ?? '?'}${index === undefined ? '' : `.${index}`} | `;
        const src = await o.containers.logs(c.id, options);
        sources.push(src);
        let partial = '';
        src.on('data', (chunk: Buffer) => {
          partial += chunk.toString('utf8');
          let nl;
          while ((nl = partial.indexOf('\n')) >= 0) {
            out.write(`${prefix}${printableLine(partial.slice(0, nl))}\n`);
            partial = partial.slice(nl + 1);
          }
        });
        src.on('end', () => {
          if (partial) out.write(`${prefix}${printableLine(partial)}\n`);
          if (--open === 0) out.end();
        });
      }
      out.on('close', () => { for (const s of sources) s.destroy(); });
      return out;
    },
    async adopt(active) {
      for (const { target, release, canary } of active) await serialized(target.key, () => adoptOne(target, release, canary));
      // Processes no active release owns any more (a target gone while Solum was down, or processes
      // labelled before targets existed) hold ports and memory: remove them.
      const owned = new Set(active.map((a) => a.target.key));
      for (const c of await o.containers.list({ [LABEL.role]: 'process' })) {
        const key = c.labels[LABEL.target];
        if (key && owned.has(key)) continue;
        log.warn({ container: c.id, app: c.labels[LABEL.app] }, 'removing a process no active release owns');
        await remove(c.id, undefined, 10).catch((err: unknown) => { log.error({ err }, 'removing it failed'); });
      }
      // Networks of targets with no active release and nothing attached (the app went while Solum was down).
      for (const n of await o.containers.networks.targetNetworks()) {
        if (owned.has(n.key) || n.containers.length > 0) continue;
        log.info({ target: n.key }, 'removing the network of a target that has no processes');
        await o.containers.networks.removeTarget(n.key).catch((err: unknown) => { log.error({ err }, 'removing it failed'); });
      }
    },
  };
}
