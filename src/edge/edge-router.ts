// The router (decision 0017): what Solum routes — targets' web processes, their hosts and custom
// domains, canaries, certificates, HTTPS redirects — kept as a model and carried out by HAProxy. A
// change that only moves processes or hosts is made through HAProxy's admin socket (no reload, no
// connection touched); one that adds backends or certificates rewrites the configuration and reloads
// it (the old worker finishes what it holds). Either way the files always describe the live state.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Backend, RoutedTarget, Router } from '../deploy/router.js';
import type { Logger } from '../logger.js';
import { ADMIN_SOCKET, backendOf, canaryBackendOf, canaryCookies, CONFIG_FILE, CRT_LIST, MAPS, renderConfig, renderCrtList, renderMap, slotName, type BackendSpec, type CertificateEntry, type HaproxySettings, type MapName } from './haproxy-config.js';
import { createHaproxy, type Haproxy } from './haproxy.js';

/** ACME HTTP-01 key authorizations by token, written by the certificate manager, served here. */
export interface ChallengeBook {
  get(token: string): string | undefined;
}

export interface EdgeRouter extends Router {
  /** The custom domains an app's target answers to besides `<name>.<domain>`. */
  setDomains(targetKey: string, hosts: readonly string[]): Promise<void>;
  /** Whether plain-HTTP requests for the target's hosts that have a certificate are redirected to HTTPS. */
  setRedirect(targetKey: string, redirect: boolean): Promise<void>;
  /** Every certificate the TLS listener serves. */
  setCertificates(certificates: readonly CertificateEntry[]): Promise<void>;
  /** Whether a host is routed now: a live target's own host or one of its custom domains. */
  routes(host: string): boolean;
  /** A target's hosts: its own, then its custom domains. */
  hostsOf(target: RoutedTarget): string[];
  /** Tells `listener` when a target's hosts go live (its first deploy, or after a restart). */
  whenHostsLive(listener: (hosts: readonly string[]) => void): void;
  /** Tells `listener` when a routed host without a certificate is asked for over plain HTTP. */
  whenUncertified(listener: (host: string) => void): void;
}

export interface EdgeRouterOptions {
  readonly binary: string;
  readonly bind: string;
  /** 0: any free port. */
  readonly port: number;
  /** null: no TLS listener; 0: any free port. */
  readonly httpsPort: number | null;
  readonly domain: string;
  /** The router's directory (configuration, maps, admin socket). */
  readonly dir: string;
  readonly threads: number;
  /** Old processes keep running this long after a switch: slots are not reused sooner. */
  readonly graceMs: number;
  readonly defaultCertificate: string;
  readonly challenges: ChallengeBook;
  /** Requests for routed hosts without a certificate are reported (ACME is on). */
  readonly reportUncertified: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
}

interface Slot {
  readonly name: string;
  backend: Backend | null;
  /** When the slot last became free: a slot is reused only after the grace period. */
  freedAt: number;
}

interface Entry {
  readonly key: string;
  name: string;
  stable: Slot[];
  /** The canary's slots (kept once made, like the live ones) and what it is, while one runs. */
  canary: Slot[];
  canaryOf: { version: number; share: number } | null;
  domains: string[];
  redirect: boolean;
  /** Whether the target's hosts were announced live (certificates on first deploy). */
  announced: boolean;
}

/** Who a server slot served since the counters were last read: requests are counted for them. */
interface SlotOwner {
  readonly key: string;
  readonly name: string;
  readonly release: number | null;
}

interface Applied {
  readonly structure: string;
  readonly servers: ReadonlyMap<string, string | null>;
  readonly maps: Readonly<Record<MapName, ReadonlyMap<string, string>>>;
  readonly owners: ReadonlyMap<string, SlotOwner>;
}

const addr = (b: Backend): string => `${b.host}:${b.port}`;
const FIRST_SLOTS = 4;

/** A free port on `bind` (asked from the kernel, then released for HAProxy to take). */
function freePort(bind: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, bind, () => {
      const a = srv.address();
      srv.close(() => { resolve(typeof a === 'object' && a ? a.port : 0); });
    });
  });
}

/** Writes a file so a reader sees the old bytes or the new, never half. */
async function writeAtomic(file: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, data, { mode });
  await fs.rename(tmp, file);
}

/** One admin-socket answer that says a command failed. */
const failed = (out: string): boolean => /^(No such|Unknown|Require|Invalid|Can't|Missing|Failed|Permission|Not found|unknown)/im.test(out.trim());

/** `show stat` CSV rows as records. */
function parseStats(csv: string): Array<Record<string, string>> {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').replace(/^# /, '').split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i] ?? String(i), v])));
}

export function createEdgeRouter(o: EdgeRouterOptions): EdgeRouter {
  const log = o.logger.child({ component: 'router' });
  const entries = new Map<string, Entry>();
  /** Host name (first label) → target key: the host a name answers to belongs to one target. */
  const names = new Map<string, string>();
  let certificates: readonly CertificateEntry[] = [];
  let certified = new Set<string>();
  let ports = { http: 0, https: null as number | null };
  let settings: HaproxySettings | undefined;
  let applied: Applied | undefined;
  let generation = 0;
  let stopped = false;
  let challengeServer: http.Server | undefined;
  let reports: dgram.Socket | undefined;
  const liveListeners: Array<(hosts: readonly string[]) => void> = [];
  const uncertifiedListeners: Array<(host: string) => void> = [];

  // Read from HAProxy's counters when the metrics are scraped (and before every reload, which resets them).
  const requests = new Counter({
    name: 'solum_router_requests_total',
    help: 'Requests the router answered from web processes, by target, release and status class',
    labelNames: ['target', 'name', 'release', 'code'],
    registers: [o.registry],
    collect: () => fold(),
  });
  const errors = new Counter({ name: 'solum_router_errors_total', help: 'Requests to web processes that failed (5xx answers and broken responses), by target and release', labelNames: ['target', 'name', 'release'], registers: [o.registry], collect: () => folding });
  /** Counter values already counted, per `backend/server` (reset when a reload starts a new worker). */
  const seen = new Map<string, { requests: Record<string, number>; errors: number }>();

  const hostOf = (name: string): string => `${name}.${o.domain}`;

  const haproxy: Haproxy = createHaproxy({
    binary: o.binary,
    dir: o.dir,
    logger: o.logger,
    onExit: (code) => {
      if (stopped) return;
      log.error({ code }, 'the router exited: starting it again');
      applied = undefined;
      setTimeout(() => { void schedule().catch((err: unknown) => { log.error({ err }, 'restarting the router failed'); }); }, 1000).unref();
    },
  });

  const live = (e: Entry): boolean => e.stable.some((s) => s.backend !== null);

  const hostsOfEntry = (e: Entry): string[] => [hostOf(e.name), ...e.domains];

  /** What HAProxy should hold now, from the model. */
  const desired = (): { backends: BackendSpec[]; maps: Record<MapName, Map<string, string>>; owners: Map<string, SlotOwner>; crt: string; served: string } => {
    const backends: BackendSpec[] = [];
    const owners = new Map<string, SlotOwner>();
    const maps: Record<MapName, Map<string, string>> = { hosts: new Map(), redirect: new Map(), pending: new Map(), canary: new Map(), canaryShare: new Map(), canaryIn: new Map(), canaryOut: new Map() };
    for (const e of [...entries.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const stable = backendOf(e.key);
      backends.push({ name: stable, servers: e.stable.map((s) => ({ name: s.name, address: s.backend })) });
      for (const s of e.stable) owners.set(`${stable}/${s.name}`, { key: e.key, name: e.name, release: s.backend?.release ?? null });
      const canary = canaryBackendOf(e.key);
      if (e.canary.length > 0) {
        backends.push({ name: canary, servers: e.canary.map((s) => ({ name: s.name, address: s.backend })) });
        for (const s of e.canary) owners.set(`${canary}/${s.name}`, { key: e.key, name: e.name, release: s.backend?.release ?? null });
      }
      if (!live(e)) continue;
      const split = e.canaryOf && e.canary.some((s) => s.backend !== null) ? e.canaryOf : null;
      for (const host of hostsOfEntry(e)) {
        maps.hosts.set(host, stable);
        if (split) {
          const cookies = canaryCookies(split.version);
          maps.canary.set(host, canary);
          maps.canaryShare.set(host, String(split.share));
          maps.canaryIn.set(host, cookies.in);
          maps.canaryOut.set(host, cookies.out);
        }
        if (e.redirect && certified.has(host) && ports.https !== null) maps.redirect.set(host, '1');
        if (o.reportUncertified && !certified.has(host)) maps.pending.set(host, '1');
      }
    }
    return { backends, maps, owners, crt: renderCrtList(certificates), served: certificates.map((c) => `${c.file}@${c.serial ?? ''}`).sort().join(' ') };
  };

  // Backends, their slot counts and the certificates (by serial): a change in any of them needs a reload.
  const structureOf = (backends: readonly BackendSpec[], served: string): string => JSON.stringify([backends.map((b) => [b.name, b.servers.length]), served]);

  /** Counts what each server answered since the last read, for the release it served. */
  const foldOnce = async (): Promise<void> => {
    if (!applied || !haproxy.running()) return;
    let csv: string;
    try {
      csv = await haproxy.command('show stat -1 4 -1');
    } catch (err) {
      log.debug({ err }, 'reading router counters failed');
      return;
    }
    for (const row of parseStats(csv)) {
      const id = `${row.pxname ?? ''}/${row.svname ?? ''}`;
      const owner = applied.owners.get(id);
      if (!owner) continue;
      const now = { requests: { '1xx': Number(row.hrsp_1xx ?? 0), '2xx': Number(row.hrsp_2xx ?? 0), '3xx': Number(row.hrsp_3xx ?? 0), '4xx': Number(row.hrsp_4xx ?? 0), '5xx': Number(row.hrsp_5xx ?? 0), other: Number(row.hrsp_other ?? 0) } as Record<string, number>, errors: Number(row.hrsp_5xx ?? 0) + Number(row.eresp ?? 0) };
      const before = seen.get(id);
      seen.set(id, now);
      if (owner.release === null) continue;
      const labels = { target: owner.key, name: owner.name, release: `v${owner.release}` };
      for (const [code, n] of Object.entries(now.requests)) {
        const d = n - (before?.requests[code] ?? 0);
        if (d > 0) requests.inc({ ...labels, code }, d);
      }
      const de = now.errors - (before?.errors ?? 0);
      if (de > 0) errors.inc(labels, de);
    }
  };
  // One read at a time, so each is counted against the one before it.
  let folding: Promise<void> = Promise.resolve();
  const fold = (): Promise<void> => (folding = folding.then(foldOnce, foldOnce));

  const files = {
    config: path.join(o.dir, CONFIG_FILE),
    next: path.join(o.dir, `${CONFIG_FILE}.next`),
    crt: path.join(o.dir, CRT_LIST),
    map: (m: MapName) => path.join(o.dir, MAPS[m]),
  };

  const writeFiles = async (d: ReturnType<typeof desired>): Promise<void> => {
    for (const m of Object.keys(MAPS) as MapName[]) await writeAtomic(files.map(m), renderMap(d.maps[m]));
    await writeAtomic(files.crt, d.crt);
  };

  /** Carries the model out: through the admin socket when only servers and maps change, else by a reload. */
  const applyOnce = async (): Promise<void> => {
    if (!settings) return;
    const d = desired();
    const structure = structureOf(d.backends, d.served);
    const servers = new Map<string, string | null>();
    for (const b of d.backends) for (const s of b.servers) servers.set(`${b.name}/${s.name}`, s.address ? addr(s.address) : null);
    await writeFiles(d);
    if (!applied || !haproxy.running() || applied.structure !== structure) {
      await fold();
      generation++;
      await writeAtomic(files.next, renderConfig(settings, generation, d.backends));
      const problem = await haproxy.check(files.next);
      if (problem) throw new Error(`the router's new configuration does not load: ${problem}`);
      await fs.rename(files.next, files.config);
      if (haproxy.running()) await haproxy.reload(generation);
      else await haproxy.start(files.config, generation);
      seen.clear();
      applied = { structure, servers, maps: d.maps, owners: d.owners };
      return;
    }
    // The same backends: change servers and maps in place, new servers first, retired ones last.
    await fold();
    const enable: string[] = [];
    const disable: string[] = [];
    for (const [id, a] of servers) {
      const before = applied.servers.get(id);
      if (a === before) continue;
      if (a === null) {
        disable.push(`set server ${id} state maint`);
        continue;
      }
      const [host, port] = [a.slice(0, a.lastIndexOf(':')), a.slice(a.lastIndexOf(':') + 1)];
      enable.push(`set server ${id} addr ${host} port ${port}`, `set server ${id} state ready`);
    }
    const mapCommands: string[] = [];
    for (const m of Object.keys(MAPS) as MapName[]) {
      const now = d.maps[m];
      const was = applied.maps[m];
      for (const [k, v] of now) {
        if (!was.has(k)) mapCommands.push(`add map ${files.map(m)} ${k} ${v}`);
        else if (was.get(k) !== v) mapCommands.push(`set map ${files.map(m)} ${k} ${v}`);
      }
      for (const k of was.keys()) if (!now.has(k)) mapCommands.push(`del map ${files.map(m)} ${k}`);
    }
    for (const c of [...enable, ...mapCommands, ...disable]) {
      const out = await haproxy.command(c);
      if (failed(out)) throw new Error(`the router refused ${c}: ${out.trim()}`);
    }
    // The configuration file keeps the servers' addresses for the next reload or restart.
    await writeAtomic(files.config, renderConfig(settings, generation, d.backends));
    applied = { structure, servers, maps: d.maps, owners: d.owners };
  };

  // Changes are applied one batch at a time; everyone who changed the model before a batch started
  // is answered when it is done.
  let running: Promise<void> | undefined;
  let dirty = false;
  let waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  /** The model as it was last carried out, to return to when a change cannot be. */
  let lastGood = new Map<string, Entry>();
  const copy = (m: ReadonlyMap<string, Entry>): Map<string, Entry> =>
    new Map([...m].map(([k, e]) => [k, { ...e, stable: e.stable.map((s) => ({ ...s })), canary: e.canary.map((s) => ({ ...s })), canaryOf: e.canaryOf && { ...e.canaryOf }, domains: [...e.domains] }]));

  const loop = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      const batch = waiters;
      waiters = [];
      try {
        await applyOnce();
        lastGood = copy(entries);
        for (const w of batch) w.resolve();
      } catch (err) {
        log.error({ err }, 'changing the router failed: back to what it routed before');
        entries.clear();
        for (const [k, e] of copy(lastGood)) entries.set(k, e);
        applied = undefined;
        try {
          await applyOnce();
        } catch (again) {
          log.error({ err: again }, 'the router could not go back either');
        }
        for (const w of batch) w.reject(err);
      }
    }
    running = undefined;
  };

  const schedule = (): Promise<void> => {
    if (stopped || !settings) return Promise.resolve();
    dirty = true;
    const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    running ??= loop();
    return done;
  };

  /** A target the router knows nothing of yet: no processes, no canary, no domains. */
  const emptyEntry = (key: string, name: string): Entry => ({ key, name, stable: [], canary: [], canaryOf: null, domains: [], redirect: false, announced: false });

  const entryOf = (target: RoutedTarget): Entry => {
    let e = entries.get(target.key);
    if (!e) {
      e = emptyEntry(target.key, target.name);
      entries.set(target.key, e);
    }
    const owner = names.get(target.name);
    if (owner !== undefined && owner !== target.key) {
      // The name passed to another target (an app destroyed and made again): the old one loses it.
      const old = entries.get(owner);
      if (old) {
        for (const s of [...old.stable, ...old.canary]) s.backend = null;
        old.canaryOf = null;
      }
    }
    names.set(target.name, target.key);
    e.name = target.name;
    return e;
  };

  /** Points a set of slots at `backends`: kept ones stay, new ones take the slots free longest. */
  const assign = (slots: Slot[], backends: readonly Backend[]): void => {
    const now = Date.now();
    const wanted = new Map(backends.map((b) => [addr(b), b]));
    for (const s of slots) {
      if (!s.backend) continue;
      const w = wanted.get(addr(s.backend));
      if (w) {
        s.backend = w;
        wanted.delete(addr(w));
      } else {
        s.backend = null;
        s.freedAt = now;
      }
    }
    for (const b of wanted.values()) {
      const free = slots.filter((s) => s.backend === null && now - s.freedAt >= o.graceMs).sort((a, c) => a.freedAt - c.freedAt)[0];
      if (free) {
        free.backend = b;
        continue;
      }
      // None free for long enough: the backend grows (a reload).
      const more = Math.max(FIRST_SLOTS, slots.length);
      for (let i = 0; i < more; i++) slots.push({ name: slotName(slots.length), backend: null, freedAt: 0 });
      const slot = slots.find((s) => s.backend === null && s.freedAt === 0);
      if (slot) slot.backend = b;
    }
  };

  const url = (name: string): string => {
    const host = hostOf(name);
    if (ports.https !== null && certified.has(host)) return `https://${host}${ports.https === 443 ? '' : `:${ports.https}`}/`;
    return `http://${host}:${ports.http}/`;
  };

  return {
    async start() {
      stopped = false;
      await fs.mkdir(path.join(o.dir, 'empty'), { recursive: true, mode: 0o755 });
      await fs.chmod(o.dir, 0o700);
      // The challenge responder: HAProxy sends it /.well-known/acme-challenge/ of any host.
      const challenges = http.createServer((req, res) => {
        const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,200})$/.exec(req.url ?? '')?.[1];
        const answer = token ? o.challenges.get(token) : undefined;
        res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end(answer ?? 'no such challenge\n');
      });
      challengeServer = challenges;
      await new Promise<void>((resolve, reject) => {
        challenges.once('error', reject);
        challenges.listen(0, '127.0.0.1', resolve);
      });
      let reportPort: number | null = null;
      if (o.reportUncertified) {
        const sock = dgram.createSocket('udp4');
        reports = sock;
        sock.on('message', (msg) => {
          const host = /solum-pending ([a-z0-9.-]{1,253})\s*$/.exec(msg.toString('utf8'))?.[1];
          if (host && !certified.has(host) && [...entries.values()].some((e) => live(e) && hostsOfEntry(e).includes(host))) for (const l of uncertifiedListeners) l(host);
        });
        await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
        reportPort = sock.address().port;
      }
      ports = { http: o.port === 0 ? await freePort(o.bind) : o.port, https: o.httpsPort === null ? null : o.httpsPort === 0 ? await freePort(o.bind) : o.httpsPort };
      settings = {
        bind: o.bind,
        httpPort: ports.http,
        httpsPort: ports.https,
        dir: o.dir,
        domain: o.domain,
        threads: o.threads,
        challengePort: (challenges.address() as net.AddressInfo).port,
        reportPort,
        dropPrivileges: process.getuid?.() === 0,
        defaultCertificate: o.defaultCertificate,
        hardStopAfterSeconds: 600,
      };
      applied = undefined;
      await schedule();
      log.info({ port: ports.http, httpsPort: ports.https, bind: o.bind, socket: path.join(o.dir, ADMIN_SOCKET) }, 'router listening');
      return ports.http;
    },
    async stop() {
      stopped = true;
      await running?.catch(() => undefined);
      await haproxy.stop();
      await new Promise<void>((resolve) => { if (challengeServer) challengeServer.close(() => { resolve(); }); else resolve(); });
      reports?.close();
      reports = undefined;
      settings = undefined;
      applied = undefined;
    },
    setBackends(target, backends) {
      const e = entryOf(target);
      assign(e.stable, backends);
      if (backends.length === 0) {
        // Nothing live: no canary either.
        assign(e.canary, []);
        e.canaryOf = null;
        e.announced = false;
        if (names.get(target.name) === target.key) names.delete(target.name);
      } else if (!e.announced) {
        e.announced = true;
        const hosts = hostsOfEntry(e);
        // Told once the hosts answer, so an ACME validation reaches them.
        return schedule().then(() => { for (const l of liveListeners) l(hosts); });
      }
      return schedule();
    },
    keys: () => [...entries.keys()],
    forget(targetKey) {
      const e = entries.get(targetKey);
      if (!e) return Promise.resolve();
      entries.delete(targetKey);
      if (names.get(e.name) === targetKey) names.delete(e.name);
      return schedule();
    },
    setCanary(target, canary) {
      const e = entryOf(target);
      assign(e.canary, canary?.backends ?? []);
      e.canaryOf = canary && { version: canary.version, share: canary.share };
      return schedule();
    },
    setDomains(targetKey, hosts) {
      const e = entries.get(targetKey);
      if (e) e.domains = [...hosts];
      else entries.set(targetKey, { ...emptyEntry(targetKey, ''), domains: [...hosts] });
      return schedule();
    },
    setRedirect(targetKey, redirect) {
      const e = entries.get(targetKey);
      if (e) e.redirect = redirect;
      else entries.set(targetKey, { ...emptyEntry(targetKey, ''), redirect });
      return schedule();
    },
    setCertificates(list) {
      certificates = [...list];
      certified = new Set(list.flatMap((c) => c.hosts));
      return schedule();
    },
    routes: (host) => [...entries.values()].some((e) => live(e) && hostsOfEntry(e).includes(host)),
    hostsOf: (target) => [hostOf(target.name), ...(entries.get(target.key)?.domains ?? [])],
    whenHostsLive(listener) {
      liveListeners.push(listener);
    },
    whenUncertified(listener) {
      uncertifiedListeners.push(listener);
    },
    url,
    address: () => `http://${o.bind === '0.0.0.0' || o.bind === '::' ? '127.0.0.1' : o.bind}:${ports.http}/`,
    httpsPort: () => ports.https,
  };
}
