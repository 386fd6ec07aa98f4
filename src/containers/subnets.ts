// IPv4 subnets for container networks: parsing the configured pools, carving them into per-network
// subnets and checking them against what the host already routes (pure), plus reading the host's routes.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { systemTool } from './firewall.js';

const run = promisify(execFile);

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefix: number;
}

const toNumber = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
};

export const ipOf = (n: number): string => [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');

const size = (prefix: number): number => 2 ** (32 - prefix);

/** `a.b.c.d/n` with the host bits zero; undefined for anything else (IPv6 included). */
export function parseCidr(raw: string): Cidr | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(raw.trim());
  if (!m?.[1] || !m[2]) return undefined;
  const base = toNumber(m[1]);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  if (base % size(prefix) !== 0) return undefined;
  return { base, prefix };
}

export const formatCidr = (c: Cidr): string => `${ipOf(c.base)}/${c.prefix}`;

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

export const contains = (c: Cidr, ip: string): boolean => {
  const n = toNumber(ip);
  return n !== undefined && n >= c.base && n < c.base + size(c.prefix);
};

/** The gateway (first host address) of a subnet: the bridge's own address, where the host answers. */
export const gatewayOf = (c: Cidr): string => ipOf(c.base + 1);

/** Ranges no container network may take whatever the host's routes say: loopback, link-local, multicast and above. */
const RESERVED: readonly Cidr[] = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'].map((r) => parseCidr(r) as Cidr);

/**
 * Parses the pool setting (comma-separated CIDRs) and the per-network prefix, and checks the pools
 * against the host's own addresses and routes and the reserved ranges. Throws with what overlaps. Pure.
 */
export function parsePools(raw: string, networkPrefix: number, host: ReadonlyArray<{ cidr: Cidr; what: string }>): Cidr[] {
  const pools: Cidr[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const c = parseCidr(part);
    if (!c) throw new Error(`SOLUM_CONTAINER_SUBNETS: ${JSON.stringify(part)} is not an IPv4 network in CIDR form (e.g. 10.213.0.0/16)`);
    if (c.prefix > networkPrefix) throw new Error(`SOLUM_CONTAINER_SUBNETS: ${part} is smaller than one network (/${networkPrefix})`);
    for (const r of RESERVED) if (overlaps(c, r)) throw new Error(`SOLUM_CONTAINER_SUBNETS: ${part} overlaps the reserved range ${formatCidr(r)}`);
    for (const h of host) if (overlaps(c, h.cidr)) throw new Error(`SOLUM_CONTAINER_SUBNETS: ${part} overlaps ${h.what} (${formatCidr(h.cidr)}): choose a range this host does not use`);
    for (const p of pools) if (overlaps(c, p)) throw new Error(`SOLUM_CONTAINER_SUBNETS: ${part} overlaps ${formatCidr(p)}`);
    pools.push(c);
  }
  if (pools.length === 0) throw new Error('SOLUM_CONTAINER_SUBNETS is empty');
  return pools;
}

/**
 * A free subnet of `prefix` bits from the pools, avoiding `used` (every Docker network's subnet,
 * whoever made it), starting at a random block so concurrent installations rarely race. Pure but for `start`.
 */
export function freeSubnet(pools: readonly Cidr[], prefix: number, used: readonly Cidr[], start = Math.random()): Cidr | undefined {
  const blocks: Cidr[] = [];
  for (const p of pools) for (let b = p.base; b < p.base + size(p.prefix); b += size(prefix)) blocks.push({ base: b, prefix });
  const first = Math.floor(start * blocks.length);
  for (let i = 0; i < blocks.length; i++) {
    const c = blocks[(first + i) % blocks.length];
    if (c && !used.some((u) => overlaps(u, c))) return c;
  }
  return undefined;
}

/**
 * iproute2 names a route's device `if<index>` when no interface has that index any more: the
 * device went away while the routes were listed (a Docker bridge being removed). Not a host range.
 */
export const isVanishedDevice = (device: string): boolean => /^if[0-9]+$/.test(device);

interface IpAddr { ifname?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }
interface IpRoute { dst?: string; dev?: string }

/**
 * The host's IPv4 addresses, routes and DNS servers, minus what lives on `skipDevices` (bridges of
 * Docker networks, which are container networks themselves). The default route is not a range.
 */
export async function readHostNetworks(skipDevices: ReadonlySet<string>): Promise<Array<{ cidr: Cidr; what: string; device?: string }>> {
  const out: Array<{ cidr: Cidr; what: string; device?: string }> = [];
  const addrs = JSON.parse((await run(systemTool('ip'), ['-j', '-4', 'addr', 'show'])).stdout) as IpAddr[];
  for (const a of addrs) {
    if (a.ifname && skipDevices.has(a.ifname)) continue;
    for (const i of a.addr_info ?? []) {
      if (i.family !== 'inet' || !i.local || i.prefixlen === undefined) continue;
      const n = toNumber(i.local);
      if (n === undefined) continue;
      out.push({ cidr: { base: n - (n % size(i.prefixlen)), prefix: i.prefixlen }, what: `the address ${i.local}/${i.prefixlen} of ${a.ifname ?? '?'}`, ...(a.ifname ? { device: a.ifname } : {}) });
    }
  }
  const routes = JSON.parse((await run(systemTool('ip'), ['-j', '-4', 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || (r.dev && skipDevices.has(r.dev))) continue;
    const c = parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
    if (c) out.push({ cidr: c, what: `a route to ${r.dst}${r.dev ? ` via ${r.dev}` : ''}`, ...(r.dev ? { device: r.dev } : {}) });
  }
  const resolv = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  for (const m of resolv.matchAll(/^\s*nameserver\s+(\S+)/gm)) {
    const c = m[1] ? parseCidr(`${m[1]}/32`) : undefined;
    if (c) out.push({ cidr: c, what: `the DNS server ${m[1] ?? ''}` });
  }
  return out;
}
