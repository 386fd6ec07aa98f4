// Preview apps (decision 0020): which pushed branch is a preview, the preview's name and router host,
// the idle TTL, and the reconciler's plan — what should exist against what Docker, the router and
// the database hold, as actions. Pure.
import { badRequest } from '../errors.js';

/** A preview's name (the slug of its branch) is at most this long; `<app>-<name>` stays a DNS label. */
export const MAX_PREVIEW_NAME = 30;
/** TTLs are whole seconds from 10 s (tests) to 90 days. */
export const MIN_TTL_SECONDS = 10;
export const MAX_TTL_SECONDS = 90 * 24 * 3600;
export const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_MAX_PREVIEWS = 10;

/** The name of a branch's preview: lowercase, [a-z0-9-], no leading/trailing/double dashes, bounded. Pure. */
export function previewSlug(branch: string): string {
  const base = branch
    .replace(/^refs\/heads\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (base === '') throw badRequest(`branch ${JSON.stringify(branch.slice(0, 80))} has no letters or digits to name a preview by`);
  if (base.length <= MAX_PREVIEW_NAME) return base;
  // Long names keep a short hash of the whole branch, so two long branches that share a prefix differ.
  let h = 0x811c9dc5;
  for (const ch of branch) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const tail = h.toString(36).slice(0, 6);
  return `${base.slice(0, MAX_PREVIEW_NAME - tail.length - 1).replace(/-+$/, '')}-${tail}`;
}

/**
 * The preview a ref builds: a branch (`refs/heads/<b>`) is named by its slug; a pull request's head
 * (`refs/pull/<n>/head`, or where a pull build keeps it, `refs/solum/source/pull/<n>/head`) is
 * `pr-<n>`, its branch shown as `pull/<n>`. Pure; a ref that is neither is refused.
 */
export function previewOfRef(ref: string): { readonly branch: string; readonly name: string; readonly pullRequest: number | null } {
  const pr = /^refs\/(?:solum\/source\/)?pull\/([1-9]\d{0,9})\/head$/.exec(ref)?.[1];
  if (pr !== undefined) return { branch: `pull/${pr}`, name: `pr-${pr}`, pullRequest: Number(pr) };
  if (!ref.startsWith('refs/heads/')) throw badRequest(`${JSON.stringify(ref.slice(0, 80))} is neither a branch nor a pull request`);
  const branch = ref.slice('refs/heads/'.length);
  return { branch, name: previewSlug(branch), pullRequest: null };
}

/** The router name (the host's first label) of an app's preview: `<app>-<name>`. Pure. */
export const previewRouterName = (app: string, name: string): string => `${app}-${name}`;

/** Why a preview pattern is not one, or undefined: a branch glob like `preview/*` (`*` within a segment, `**` across). Pure. */
export function previewPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > 100 || !/^[A-Za-z0-9._*/-]+$/.test(pattern) || pattern.includes('..') || pattern.startsWith('/') || pattern.endsWith('/')) {
    return `${JSON.stringify(pattern.slice(0, 80))} is not a branch pattern: give one like preview/* or feature/** (letters, digits, . _ - / and *)`;
  }
  return undefined;
}

/** Whether a branch (without refs/heads/) matches a preview pattern; a null pattern matches nothing. Pure. */
export function matchesPreviewPattern(branch: string, pattern: string | null): boolean {
  if (pattern === null || previewPatternProblem(pattern) !== undefined) return false;
  const re = pattern
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${re}$`).test(branch);
}

/** A TTL from `3d`, `12h`, `30m`, `45s` or a number of seconds, checked. Pure. */
export function parseTtl(raw: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(raw.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const;
  const seconds = m ? Number(m[1]) * unit[(m[2] ?? '') as keyof typeof unit] : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
    throw badRequest(`ttl ${JSON.stringify(raw.slice(0, 40))} is not one: give a duration from ${MIN_TTL_SECONDS}s to 90d, like 3d, 12h, 30m or 45s`);
  }
  return seconds;
}

/** When an idle preview expires: its last push plus the TTL. Pure. */
export const expiresAt = (lastPushAt: Date, ttlSeconds: number): Date => new Date(lastPushAt.getTime() + ttlSeconds * 1000);

/** Whether a preview has been idle past its TTL at `now`. Pure. */
export const idleDue = (lastPushAt: Date, ttlSeconds: number, now: Date): boolean => now.getTime() >= expiresAt(lastPushAt, ttlSeconds).getTime();

/**
 * Why `<app>-<name>` may not be a preview's router name, or undefined: the host must not be one
 * another app, an environment or another preview answers to. Pure; the caller looks the names up.
 */
export function routerNameClash(routerName: string, taken: { app: boolean; environment: boolean; previewOf: string | null }, app: string): string | undefined {
  if (taken.app) return `an app named ${routerName} exists: its host is not a preview's to take`;
  if (taken.environment) return `${routerName} is the router name of a pipeline environment: its host is not a preview's to take`;
  if (taken.previewOf !== null && taken.previewOf !== app) return `${routerName} is the router name of a preview of ${taken.previewOf}: choose another branch name`;
  return undefined;
}

/** What the reconciler knows of one preview in the database. */
export interface DesiredPreview {
  readonly id: number;
  /** `up`, `building`, `failed` stay; `doomed` is to be torn down. */
  readonly state: 'building' | 'up' | 'failed' | 'doomed';
  readonly serviceNames: readonly string[];
}

/** What Docker and the router hold that is labelled with a preview target (`pre-<id>`). */
export interface ActualPreview {
  readonly id: number;
  readonly processes: number;
  readonly routed: boolean;
  readonly network: boolean;
  /** Service instances (containers or volumes) made for it. */
  readonly services: readonly string[];
}

export type ReconcileAction =
  | { readonly kind: 'stop-processes'; readonly id: number }
  | { readonly kind: 'unroute'; readonly id: number }
  | { readonly kind: 'remove-service'; readonly id: number; readonly service: string }
  | { readonly kind: 'remove-network'; readonly id: number }
  | { readonly kind: 'remove-rows'; readonly id: number };

/** The target key of a preview: processes, networks and router entries are labelled with it. */
export const previewTargetKey = (id: number): string => `pre-${id}`;

/** The preview ID of a target key, or undefined when the key is not a preview's. Pure. */
export function previewIdOfKey(key: string): number | undefined {
  const m = /^pre-([1-9]\d{0,9})$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * Desired against actual → what to remove, in teardown order (processes, router, services, network,
 * then the rows): a doomed preview, and anything labelled with a preview the database no longer has,
 * loses all it holds; a crash between two steps leaves a state the next plan finishes. Pure.
 */
export function planReconcile(desired: readonly DesiredPreview[], actual: readonly ActualPreview[]): ReconcileAction[] {
  const byId = new Map(desired.map((d) => [d.id, d]));
  const gone = (id: number): boolean => byId.get(id)?.state === 'doomed' || !byId.has(id);
  const ids = [...new Set([...actual.map((a) => a.id), ...desired.filter((d) => d.state === 'doomed').map((d) => d.id)])].filter(gone).sort((a, b) => a - b);
  const out: ReconcileAction[] = [];
  for (const id of ids) {
    const a = actual.find((x) => x.id === id);
    if (a && a.processes > 0) out.push({ kind: 'stop-processes', id });
    if (a?.routed) out.push({ kind: 'unroute', id });
    const services = new Set([...(a?.services ?? []), ...(byId.get(id)?.serviceNames ?? [])]);
    for (const service of [...services].sort()) out.push({ kind: 'remove-service', id, service });
    if (a?.network) out.push({ kind: 'remove-network', id });
    if (byId.has(id)) out.push({ kind: 'remove-rows', id });
  }
  return out;
}
