// Which package versions a question names: `NAME[@RANGE]` with each ecosystem's own ordering
// (semver for npm, Debian's for deb, PEP 440 for pypi), and OSV advisories' introduced/fixed
// events. Pure: the SBOM index answers "which versions of NAME", this answers "which of them match".
import semver from 'semver';
import { z } from 'zod';
import { compareDebianVersions, parseDebianVersion } from './debian-version.js';
import { comparePep440Strings, normalizePypiName, parsePep440, parsePep440Specifier } from './pep440.js';

/** Where a component comes from, as the SBOM records it. `runtime` is a language runtime a pack installs. */
export const ECOSYSTEMS = ['npm', 'deb', 'apk', 'pypi', 'runtime'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** The ecosystems a question may name (`--ecosystem`). */
export const QUERY_ECOSYSTEMS = ['npm', 'deb', 'pypi'] as const;

/** The name a component is found by: PyPI names normalised (PEP 503), the rest lower-cased. */
export const matchName = (ecosystem: Ecosystem, name: string): string => (ecosystem === 'pypi' ? normalizePypiName(name) : name.toLowerCase());

/** A predicate over one ecosystem's versions, with the words that describe it. */
export interface VersionMatcher {
  readonly describe: string;
  matches(version: string): boolean;
}

/** Orders two versions of one ecosystem; undefined when either is no version there. */
export function compareIn(ecosystem: Ecosystem, a: string, b: string): number | undefined {
  try {
    switch (ecosystem) {
      case 'npm': {
        const x = semver.valid(a);
        const y = semver.valid(b);
        return x && y ? semver.compare(x, y) : undefined;
      }
      case 'pypi':
        return comparePep440Strings(a, b);
      case 'runtime': {
        // Runtime versions are dotted numbers (node 18.20.4, python 3.11.2).
        const x = semver.coerce(a);
        const y = semver.coerce(b);
        return x && y ? semver.compare(x, y) : undefined;
      }
      case 'deb':
      case 'apk':
        // apk's ordering is not Debian's in every corner (suffixes like _rc1), but for the
        // numeric versions and -rN revisions Alpine uses it agrees.
        return compareDebianVersions(a, b);
    }
  } catch {
    return undefined;
  }
}

/** Whether `v` is a version of that ecosystem at all. */
export function isVersionIn(ecosystem: Ecosystem, v: string): boolean {
  switch (ecosystem) {
    case 'npm':
      return semver.valid(v) !== null;
    case 'pypi':
      return parsePep440(v) !== undefined;
    case 'runtime':
      return semver.coerce(v) !== null;
    default:
      return parseDebianVersion(v) !== undefined;
  }
}

const COMPARATOR = /^(<<|>>|<=|>=|==|!=|=|<|>)?\s*(\S+)$/;

/** Comparator lists (`>=1.2 <2`, `>= 1:1.2-1, << 1:1.3`) over an ordering: deb, apk and runtimes. */
function comparators(ecosystem: Ecosystem, range: string): VersionMatcher | undefined {
  // Operators may be written apart from their versions (Debian's own style): join them first.
  const words = range.replace(/(<<|>>|<=|>=|==|!=|=|<|>)\s+/g, '$1').split(/[\s,]+/).filter((w) => w !== '');
  if (words.length === 0) return undefined;
  const tests: Array<(v: string) => boolean> = [];
  for (const w of words) {
    const m = COMPARATOR.exec(w);
    const op = m?.[1] ?? '=';
    const target = m?.[2] ?? '';
    if (!isVersionIn(ecosystem, target)) return undefined;
    const against = (v: string): number | undefined => compareIn(ecosystem, v, target);
    const test = {
      '<': (d: number) => d < 0,
      '<<': (d: number) => d < 0,
      '<=': (d: number) => d <= 0,
      '=': (d: number) => d === 0,
      '==': (d: number) => d === 0,
      '!=': (d: number) => d !== 0,
      '>=': (d: number) => d >= 0,
      '>': (d: number) => d > 0,
      '>>': (d: number) => d > 0,
    }[op];
    if (!test) return undefined;
    tests.push((v) => {
      const d = against(v);
      return d !== undefined && test(d);
    });
  }
  return { describe: words.join(' '), matches: (v) => tests.every((t) => t(v)) };
}

/**
 * A range in one ecosystem's own syntax: npm semver ranges (`<4.17.21`, `^1.2`), PEP 440
 * specifiers (`>=2,<2.31`), comparator lists for the rest (`<3.0.13-1~deb12u1`). Undefined when
 * the range is no range there. An empty range matches every version.
 */
export function rangeMatcher(ecosystem: Ecosystem, range: string): VersionMatcher | undefined {
  const r = range.trim();
  if (r === '' || r === '*') return { describe: 'any version', matches: () => true };
  if (ecosystem === 'npm') {
    if (semver.validRange(r) === null) return undefined;
    // Pre-releases count: a vulnerable 2.0.0-rc.1 is as vulnerable as 1.9.
    return { describe: r, matches: (v) => semver.valid(v) !== null && semver.satisfies(v, r, { includePrerelease: true }) };
  }
  if (ecosystem === 'pypi') {
    const p = parsePep440Specifier(r);
    return p ? { describe: r, matches: p } : undefined;
  }
  if (ecosystem === 'runtime' && semver.validRange(r) !== null) return { describe: r, matches: (v) => { const c = semver.coerce(v); return c !== null && semver.satisfies(c, r); } };
  return comparators(ecosystem, r);
}

/** `NAME[@RANGE]`, as security:affected takes it. */
export interface PackageQuery {
  readonly name: string;
  readonly range: string;
}

const NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.+-]{0,213}$/i;

/** Splits `NAME[@RANGE]` (a leading @ is an npm scope, not a range); undefined when the name is none. */
export function parsePackageQuery(raw: string): PackageQuery | undefined {
  const s = raw.trim();
  const at = s.indexOf('@', s.startsWith('@') ? 1 : 0);
  const name = at < 0 ? s : s.slice(0, at);
  const range = at < 0 ? '' : s.slice(at + 1);
  if (!NAME.test(name) || range.length > 200) return undefined;
  return { name, range };
}

// ---- OSV (https://ossf.github.io/osv-schema/) ----

const event = z.union([
  z.object({ introduced: z.string() }),
  z.object({ fixed: z.string() }),
  z.object({ last_affected: z.string() }),
  z.object({ limit: z.string() }),
]);

/** The part of an OSV advisory Solum reads; other fields are kept but not looked at. */
export const osvAdvisory = z
  .object({
    id: z.string().min(1).max(200),
    summary: z.string().optional(),
    affected: z
      .array(
        z
          .object({
            package: z.object({ ecosystem: z.string().min(1), name: z.string().min(1), purl: z.string().optional() }).loose(),
            ranges: z.array(z.object({ type: z.enum(['SEMVER', 'ECOSYSTEM', 'GIT']), events: z.array(event).min(1) }).loose()).optional(),
            versions: z.array(z.string()).optional(),
          })
          .loose(),
      )
      .min(1, 'an advisory names at least one affected package')
      .max(500),
  })
  .loose();

export type OsvAdvisory = z.infer<typeof osvAdvisory>;
type OsvEvent = z.infer<typeof event>;

/** OSV's ecosystem names for the ones Solum's SBOMs hold (`Debian:12` → deb). */
export function ecosystemOfOsv(name: string): Ecosystem | undefined {
  const base = name.split(':')[0]?.toLowerCase();
  if (base === 'npm') return 'npm';
  if (base === 'pypi') return 'pypi';
  if (base === 'debian' || base === 'ubuntu') return 'deb';
  if (base === 'alpine') return 'apk';
  return undefined;
}

const eventVersion = (e: OsvEvent): string => ('introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : e.limit);

const describeEvent = (e: OsvEvent): string => ('introduced' in e ? `introduced ${e.introduced}` : 'fixed' in e ? `fixed ${e.fixed}` : 'last_affected' in e ? `last affected ${e.last_affected}` : `limit ${e.limit}`);

/**
 * One OSV range as a matcher: walk the events in version order, "introduced" turns affected on,
 * "fixed" (at or after) and "last_affected" (after) turn it off: OSV's own evaluation. Undefined
 * for GIT ranges (commits, which an SBOM does not hold) and events that are no versions.
 */
export function osvRangeMatcher(ecosystem: Ecosystem, range: { type: string; events: readonly OsvEvent[] }): VersionMatcher | undefined {
  if (range.type === 'GIT') return undefined;
  const order = (a: string, b: string): number | undefined => (a === '0' ? (b === '0' ? 0 : -1) : b === '0' ? 1 : compareIn(ecosystem, a, b));
  const events = range.events.filter((e) => !('limit' in e));
  if (events.some((e) => eventVersion(e) !== '0' && !isVersionIn(ecosystem, eventVersion(e)))) return undefined;
  const sorted = [...events].sort((a, b) => order(eventVersion(a), eventVersion(b)) ?? 0);
  return {
    describe: sorted.map(describeEvent).join(', '),
    matches(v) {
      if (!isVersionIn(ecosystem, v)) return false;
      let affected = false;
      for (const e of sorted) {
        if ('introduced' in e) {
          const d = order(v, e.introduced);
          if (e.introduced === '0' || (d !== undefined && d >= 0)) affected = true;
        } else if ('fixed' in e) {
          const d = order(v, e.fixed);
          if (d !== undefined && d >= 0) affected = false;
        } else if ('last_affected' in e) {
          const d = order(v, e.last_affected);
          if (d !== undefined && d > 0) affected = false;
        }
      }
      return affected;
    },
  };
}

/** What one affected entry of an advisory asks about. */
export interface AdvisoryQuestion {
  readonly ecosystem: Ecosystem | undefined;
  /** OSV's own name for the ecosystem, for the answer. */
  readonly osvEcosystem: string;
  readonly name: string;
  readonly matcher: VersionMatcher | undefined;
  /** Why some of the entry could not be evaluated. */
  readonly notes: readonly string[];
}

/** Every affected entry of an advisory as a name and a matcher (ranges or listed versions). Pure. */
export function advisoryQuestions(a: OsvAdvisory): AdvisoryQuestion[] {
  return a.affected.map((entry) => {
    const ecosystem = ecosystemOfOsv(entry.package.ecosystem);
    const notes: string[] = [];
    if (!ecosystem) return { ecosystem, osvEcosystem: entry.package.ecosystem, name: entry.package.name, matcher: undefined, notes: [`ecosystem ${entry.package.ecosystem} is not in Solum's SBOMs`] };
    const matchers: VersionMatcher[] = [];
    for (const r of entry.ranges ?? []) {
      const m = osvRangeMatcher(ecosystem, r);
      if (m) matchers.push(m);
      else notes.push(r.type === 'GIT' ? 'a GIT range (commits) cannot be matched against package versions' : `a ${r.type} range whose events are no ${ecosystem} versions was skipped`);
    }
    const listed = new Set(entry.versions ?? []);
    if (listed.size > 0) matchers.push({ describe: `versions ${[...listed].slice(0, 5).join(', ')}${listed.size > 5 ? ', …' : ''}`, matches: (v) => listed.has(v) });
    const matcher = matchers.length === 0 ? undefined : { describe: matchers.map((m) => m.describe).join('; '), matches: (v: string) => matchers.some((m) => m.matches(v)) };
    if (!matcher) notes.push('no range or version of this entry could be evaluated');
    return { ecosystem, osvEcosystem: entry.package.ecosystem, name: entry.package.name, matcher, notes };
  });
}
