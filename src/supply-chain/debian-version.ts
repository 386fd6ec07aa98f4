// Debian version ordering (deb-version(7)), as `dpkg --compare-versions` does it: epoch, then the
// upstream version, then the Debian revision, each compared by dpkg's verrevcmp. Pure.

export interface DebianVersion {
  readonly epoch: number;
  readonly upstream: string;
  /** '' when the version has none (which dpkg orders like "0"). */
  readonly revision: string;
}

const ALLOWED = /^[A-Za-z0-9.+~:-]+$/;

/** A Debian version's parts, or undefined when it is no version dpkg would take. */
export function parseDebianVersion(raw: string): DebianVersion | undefined {
  const v = raw.trim();
  if (v === '' || !ALLOWED.test(v)) return undefined;
  const colon = v.indexOf(':');
  let epoch = 0;
  let rest = v;
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^\d{1,9}$/.test(e)) return undefined;
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  // dpkg refuses an empty upstream part and (after an epoch) further colons.
  if (upstream === '' || (dash >= 0 && revision === '') || upstream.includes(':') || revision.includes(':')) return undefined;
  return { epoch, upstream, revision };
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

/** dpkg's character weight: end and digits 0, letters by code, `~` before everything, the rest after letters. */
function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isAlpha(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternating non-digit runs (by weight) and digit runs (by value, any length). */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDiff = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = (a[i] ?? '').charCodeAt(0) - (b[j] ?? '').charCodeAt(0);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/** Negative, zero or positive as `a` sorts before, with or after `b`; throws on what is no version. */
export function compareDebianVersions(a: string, b: string): number {
  const x = parseDebianVersion(a);
  const y = parseDebianVersion(b);
  if (!x) throw new Error(`not a Debian version: ${JSON.stringify(a)}`);
  if (!y) throw new Error(`not a Debian version: ${JSON.stringify(b)}`);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return Math.sign(verrevcmp(x.upstream, y.upstream)) || Math.sign(verrevcmp(x.revision, y.revision));
}

/**
 * The upstream part of a Debian version without its packaging suffixes (`18.20.4+dfsg-1~deb12u2`
 * → `18.20.4`): what the software itself calls its version, for runtimes packaged by Debian.
 */
export function upstreamOf(raw: string): string | undefined {
  const v = parseDebianVersion(raw);
  if (!v) return undefined;
  return v.upstream.split(/[+~]/)[0] ?? v.upstream;
}
