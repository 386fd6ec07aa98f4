// Container networks: one Docker network per deploy target, per build and per backing service, on
// subnets carved from configuration, behind Solum's firewall table, with the egress proxy as the only
// way out. In `host` mode (single-tenant hosts only) every container shares the host's network instead.
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { NetworkEngine, NetworkSummary } from './container-engine.js';
import { createEgressProxy, type EgressProxy, type EgressSource } from './egress-proxy.js';
import { bridgeName, createFirewall, isSolumBridge, type Firewall, type NetworkKind } from './firewall.js';
import { LABEL } from './labels.js';
import { contains, formatCidr, freeSubnet, gatewayOf, isVanishedDevice, parseCidr, parsePools, readHostNetworks, type Cidr } from './subnets.js';

/** Where a container is attached: a Solum network, or the host's (host mode). */
export interface NetworkRef {
  readonly name: string;
  /** The bridge's address: where a container reaches the host (the egress proxy). */
  readonly gateway: string;
  readonly kind: NetworkKind | 'host';
  /** Whether containers on it get the egress proxy (builds; app targets when the operator allows). */
  readonly egress: boolean;
}

export interface BuildNetwork extends NetworkRef {
  /** Removes the network (and detaches anything left on it). */
  remove(): Promise<void>;
}

/** What jobs with network access need to reach package registries (the operator's settings). */
export interface EgressSettings {
  readonly caBundle: string | undefined;
  readonly httpProxy: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string | undefined;
}

export interface Networks {
  readonly mode: 'isolated' | 'host';
  /** Checks the subnets against the host, creates the firewall table, starts the egress proxy, removes stale build networks. */
  start(): Promise<void>;
  /** Stops the proxy and removes the firewall table. */
  stop(): Promise<void>;
  /** Why containers may not be started on Solum networks now (the firewall table is gone), or undefined. */
  problem(): Promise<string | undefined>;
  /** Throws the problem, if there is one. */
  guard(): Promise<void>;
  forBuild(o: { app: string; buildId: number }): Promise<BuildNetwork>;
  /** The network of a deploy target (`app-<id>`, `env-<id>`), made when it has none. */
  ofTarget(o: { key: string; app: string }): Promise<NetworkRef>;
  /** The network a backing service instance lives on, made when it has none. */
  ofService(name: string): Promise<NetworkRef>;
  removeTarget(key: string): Promise<void>;
  removeService(name: string): Promise<void>;
  /** This installation's target networks with the containers attached to them. */
  targetNetworks(): Promise<Array<{ key: string; app: string; containers: readonly string[] }>>;
  /** This installation's service networks, by service name. */
  serviceNetworks(): Promise<string[]>;
  connect(ref: NetworkRef, containerId: string, aliases: readonly string[]): Promise<void>;
  disconnect(ref: NetworkRef, containerId: string): Promise<void>;
  /** Environment of a job with network access on `ref`: the proxies and the CA bundle's variables. */
  egressEnv(ref: NetworkRef): Record<string, string>;
  /** The app (and network) a source address belongs to, for the egress proxy. */
  sourceOf(address: string): EgressSource | undefined;
  /** The firewall table's name, when there is one. */
  readonly table: string | undefined;
}

/** Where a job's CA bundle is mounted: Debian's (and node's, with NODE_EXTRA_CA_CERTS) default path. */
export const CA_PATH = '/etc/ssl/certs/ca-certificates.crt';

const HOST: BuildNetwork = { name: 'host', gateway: '127.0.0.1', kind: 'host', egress: true, remove: () => Promise.resolve() };

/** CA variables and proxies as environment, upper- and lower-case (tools read one or the other). Pure. */
export function proxyEnv(caBundle: string | undefined, proxies: { http: string | undefined; https: string | undefined; no: string | undefined }): Record<string, string> {
  const env: Record<string, string> = {};
  if (caBundle) Object.assign(env, { NODE_EXTRA_CA_CERTS: CA_PATH, SSL_CERT_FILE: CA_PATH });
  for (const [k, v] of [['HTTP_PROXY', proxies.http], ['HTTPS_PROXY', proxies.https], ['NO_PROXY', proxies.no]] as const) {
    if (v) Object.assign(env, { [k]: v, [k.toLowerCase()]: v });
  }
  return env;
}

/** Host mode: every container on the host's network, builders with the operator's proxies (single-tenant hosts). */
export function hostNetworks(egress: EgressSettings): Networks {
  return {
    mode: 'host',
    table: undefined,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    problem: () => Promise.resolve(undefined),
    guard: () => Promise.resolve(),
    forBuild: () => Promise.resolve(HOST),
    ofTarget: () => Promise.resolve(HOST),
    ofService: () => Promise.resolve(HOST),
    removeTarget: () => Promise.resolve(),
    removeService: () => Promise.resolve(),
    targetNetworks: () => Promise.resolve([]),
    serviceNetworks: () => Promise.resolve([]),
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    egressEnv: () => proxyEnv(egress.caBundle, { http: egress.httpProxy, https: egress.httpsProxy, no: egress.noProxy }),
    sourceOf: () => undefined,
  };
}

export interface IsolatedNetworkOptions {
  readonly engine: NetworkEngine;
  readonly installation: string;
  /** A `solum worker` names its networks and table apart from the server's on the same host. */
  readonly role: 'server' | 'worker';
  /** SOLUM_CONTAINER_SUBNETS, unparsed: checked against the host at start. */
  readonly pools: string;
  /** Prefix length of each network's subnet. */
  readonly networkPrefix: number;
  readonly egress: EgressSettings;
  readonly allow: readonly string[];
  readonly appEgress: boolean;
  readonly proxyPort: number;
  /** Build networks of other processes older than this, with nothing attached, are left over. */
  readonly staleBuildSeconds: number;
  readonly logger: Logger;
}

export function isolatedNetworks(o: IsolatedNetworkOptions): Networks {
  const log = o.logger.child({ component: 'networks' });
  // Bridge names are at most 15 characters: a 7-character prefix per process, stable for the server
  // (its target networks outlive it), random for a worker (its build networks do not).
  const prefix = o.role === 'server' ? `s${o.installation.slice(0, 6)}` : `w${randomBytes(3).toString('hex')}`;
  const table = o.role === 'server' ? `solum-${o.installation}` : `solum-${o.installation}-${prefix}`;
  let pools: Cidr[] = [];
  /** Networks of this process by name: their subnet and whose they are (egress attribution). */
  const known = new Map<string, { cidr: Cidr; kind: NetworkKind; app: string; what: string }>();
  let firewall: Firewall | undefined;
  let proxy: EgressProxy | undefined;
  let allocating: Promise<unknown> = Promise.resolve();
  const ensuring = new Map<string, Promise<NetworkRef>>();

  const mine = (extra: Record<string, string>): Record<string, string> => ({ [LABEL.installation]: o.installation, [LABEL.role]: 'network', ...extra });
  const egressOf = (kind: NetworkKind): boolean => kind === 'build' || (kind === 'target' && o.appEgress);
  const refOf = (name: string, cidr: Cidr, kind: NetworkKind): NetworkRef => ({ name, gateway: gatewayOf(cidr), kind, egress: egressOf(kind) });

  const problem = async (): Promise<string | undefined> => {
    if (!firewall) return 'container networks are not set up (Solum has not started them)';
    return firewall.problem();
  };
  const guard = async (): Promise<void> => {
    const p = await problem();
    if (p) throw new AppError('conflict', `refusing to start a container: ${p}; restart Solum to restore it`);
  };

  const remember = (n: NetworkSummary): void => {
    const cidr = n.subnets[0] ? parseCidr(n.subnets[0]) : undefined;
    const kind = n.labels[LABEL.networkKind] as NetworkKind | undefined;
    if (!cidr || !kind) return;
    const what = n.labels[LABEL.buildId] ? `build ${n.labels[LABEL.buildId]}` : (n.labels[LABEL.target] ?? n.labels[LABEL.service] ?? n.name);
    known.set(n.name, { cidr, kind, app: n.labels[LABEL.app] ?? '', what });
  };

  /** Creates a network on a free subnet; serialized here, retried when another installation took the subnet first. */
  const create = (name: string, kind: NetworkKind, labels: Record<string, string>): Promise<NetworkRef> => {
    const run = allocating.then(async () => {
      await guard();
      for (let attempt = 0; attempt < 8; attempt++) {
        const used = (await o.engine.listNetworks({})).flatMap((n) => n.subnets.map(parseCidr).filter((c): c is Cidr => c !== undefined));
        const cidr = freeSubnet(pools, o.networkPrefix, used);
        if (!cidr) throw new AppError('conflict', `no free subnet left in SOLUM_CONTAINER_SUBNETS (${pools.map(formatCidr).join(', ')}) for another /${o.networkPrefix} network`);
        const all = mine({ [LABEL.networkKind]: kind, [LABEL.networkOwner]: prefix, ...labels });
        try {
          await o.engine.createNetwork({ name, subnet: formatCidr(cidr), gateway: gatewayOf(cidr), bridge: bridgeName(prefix, kind, randomBytes(3).toString('hex')), labels: all });
        } catch (err) {
          if ((err as { overlap?: boolean }).overlap && !/already exists/i.test((err as Error).message)) continue;
          throw err;
        }
        known.set(name, { cidr, kind, app: labels[LABEL.app] ?? '', what: labels[LABEL.buildId] ? `build ${labels[LABEL.buildId]}` : (labels[LABEL.target] ?? labels[LABEL.service] ?? name) });
        return refOf(name, cidr, kind);
      }
      throw new AppError('conflict', 'could not find a free subnet for a container network (other installations kept taking them)');
    });
    allocating = run.catch(() => undefined);
    return run;
  };

  /** The network `name` if it exists (made by this installation), else a new one. One at a time per name. */
  const ensure = (name: string, kind: NetworkKind, labels: Record<string, string>): Promise<NetworkRef> => {
    const pending = ensuring.get(name);
    if (pending) return pending;
    const run = (async () => {
      const have = known.get(name);
      if (have) {
        const found = (await o.engine.listNetworks(mine({ [LABEL.networkKind]: kind }))).find((n) => n.name === name);
        if (found) return refOf(name, have.cidr, kind);
        known.delete(name);
      }
      const existing = (await o.engine.listNetworks(mine({ [LABEL.networkKind]: kind }))).find((n) => n.name === name);
      const cidr = existing?.subnets[0] ? parseCidr(existing.subnets[0]) : undefined;
      if (existing && cidr) {
        remember(existing);
        return refOf(name, cidr, kind);
      }
      return create(name, kind, labels);
    })();
    ensuring.set(name, run);
    const clear = (): void => { if (ensuring.get(name) === run) ensuring.delete(name); };
    run.then(clear, clear);
    return run;
  };

  const removeByName = async (name: string): Promise<void> => {
    await o.engine.removeNetwork(name);
    known.delete(name);
  };

  const sourceOf = (address: string): EgressSource | undefined => {
    for (const [name, n] of known) {
      if (contains(n.cidr, address) && egressOf(n.kind)) return { app: n.app, network: `${n.kind} ${n.what} (${name})` };
    }
    return undefined;
  };

  const targetName = (key: string): string => `solum-${o.installation}-${key}`;
  const serviceName = (name: string): string => `solum-${o.installation}-svc-${name}`;

  return {
    mode: 'isolated',
    table,
    async start() {
      // Docker's bridges are container networks themselves (ours and other installations'): not host
      // ranges. The host is read first, then Docker: a network made in between is in Docker's list,
      // one removed in between carries a Solum bridge name, and a route whose device went away
      // while it was listed names the device by index only (`if<N>`, see isVanishedDevice).
      const hostRanges = async (): Promise<Array<{ cidr: Cidr; what: string }>> => {
        const seen = await readHostNetworks(new Set());
        const bridges = new Set((await o.engine.listNetworks({})).map((n) => n.bridge).filter((b) => b !== ''));
        return seen.filter((h) => !h.device || !(bridges.has(h.device) || isSolumBridge(h.device) || isVanishedDevice(h.device)));
      };
      try {
        pools = parsePools(o.pools, o.networkPrefix, await hostRanges());
      } catch {
        // Networks other Solum processes make and remove on this engine change the host's routes
        // while they are read: an overlap that is real is still there a moment later.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        pools = parsePools(o.pools, o.networkPrefix, await hostRanges());
      }
      proxy = createEgressProxy({
        allow: o.allow,
        upstream: { http: o.egress.httpProxy, https: o.egress.httpsProxy },
        sourceOf,
        logger: o.logger,
        port: o.proxyPort,
      });
      const proxyPort = await proxy.start();
      firewall = createFirewall({ table, prefix, proxyPort, appEgress: o.appEgress });
      await firewall.install();
      log.info({ table, prefix, pools: pools.map(formatCidr), proxyPort, allow: o.allow, appEgress: o.appEgress }, 'container networks ready');
      const now = Date.now() / 1000;
      for (const n of await o.engine.listNetworks(mine({}))) {
        const build = n.labels[LABEL.networkKind] === 'build';
        // A build network of this process's earlier life, or one of a process long gone, is left over.
        if (build && (n.labels[LABEL.networkOwner] === prefix || (n.containers.length === 0 && now - n.created > o.staleBuildSeconds))) {
          log.info({ network: n.name }, 'removing a left-over build network');
          await o.engine.removeNetwork(n.name).catch((err: unknown) => { log.warn({ err, network: n.name }, 'removing it failed'); });
          continue;
        }
        if (n.labels[LABEL.networkOwner] === prefix) remember(n);
      }
    },
    async stop() {
      await proxy?.stop();
      await firewall?.remove();
      firewall = undefined;
    },
    problem,
    guard,
    async forBuild({ app, buildId }) {
      const name = `solum-${o.installation}-build-${buildId}-${randomBytes(2).toString('hex')}`;
      const ref = await create(name, 'build', { [LABEL.app]: app, [LABEL.buildId]: String(buildId) });
      return { ...ref, remove: () => removeByName(name) };
    },
    ofTarget: ({ key, app }) => ensure(targetName(key), 'target', { [LABEL.app]: app, [LABEL.target]: key }),
    ofService: (name) => ensure(serviceName(name), 'service', { [LABEL.service]: name }),
    removeTarget: (key) => removeByName(targetName(key)),
    removeService: (name) => removeByName(serviceName(name)),
    async targetNetworks() {
      return (await o.engine.listNetworks(mine({ [LABEL.networkKind]: 'target' }))).map((n) => ({ key: n.labels[LABEL.target] ?? '', app: n.labels[LABEL.app] ?? '', containers: n.containers })).filter((n) => n.key !== '');
    },
    async serviceNetworks() {
      return (await o.engine.listNetworks(mine({ [LABEL.networkKind]: 'service' }))).map((n) => n.labels[LABEL.service] ?? '').filter((n) => n !== '');
    },
    connect: (ref, id, aliases) => o.engine.connectNetwork(ref.name, id, aliases),
    disconnect: (ref, id) => o.engine.disconnectNetwork(ref.name, id),
    egressEnv(ref) {
      if (!ref.egress) return {};
      const url = `http://${ref.gateway}:${proxy?.port() ?? 0}`;
      return proxyEnv(o.egress.caBundle, { http: url, https: url, no: 'localhost,127.0.0.1' });
    },
    sourceOf,
  };
}
