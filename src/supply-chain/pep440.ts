// Python package versions (PEP 440): parsing, ordering and the simple version specifiers
// (`==`, `!=`, `<`, `<=`, `>`, `>=`, `~=`, `==X.*`, `===`). Pure.

export interface Pep440Version {
  readonly epoch: number;
  /** Release segments with trailing zeros removed (1.0 and 1 are equal). */
  readonly release: readonly number[];
  /** a, b or rc and its number. */
  readonly pre: readonly [string, number] | null;
  readonly post: number | null;
  readonly dev: number | null;
  readonly local: string | null;
  /** All release segments as written (for prefix matching, which keeps zeros). */
  readonly written: readonly number[];
}

// PEP 440, appendix B (the permissive form, which normalises to the canonical one).
const VERSION =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

const PRE: Readonly<Record<string, string>> = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };

export function parsePep440(raw: string): Pep440Version | undefined {
  const m = VERSION.exec(raw);
  if (!m) return undefined;
  const written = (m[2] ?? '').split('.').map(Number);
  const release = [...written];
  while (release.length > 1 && release.at(-1) === 0) release.pop();
  const preLabel = m[3]?.toLowerCase();
  const postNumber = m[5] ?? (m[6] !== undefined ? (m[7] ?? '0') : undefined);
  return {
    epoch: Number(m[1] ?? 0),
    release,
    pre: preLabel ? [PRE[preLabel] ?? preLabel, Number(m[4] ?? 0)] : null,
    post: postNumber === undefined ? null : Number(postNumber),
    dev: m[8] !== undefined ? Number(m[9] ?? 0) : null,
    local: m[10]?.toLowerCase().replace(/[-_]/g, '.') ?? null,
    written,
  };
}

const cmp = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

function compareRelease(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = cmp(a[i] ?? 0, b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// Sort keys after the release: a dev release of X sorts before X's pre-releases, X's
// pre-releases before X, post-releases after it; `dev` of any of them before that one.
const preKey = (v: Pep440Version): readonly [number, number] => {
  if (v.pre) return [{ a: 1, b: 2, rc: 3 }[v.pre[0]] ?? 3, v.pre[1]];
  if (v.post === null && v.dev !== null) return [0, 0];
  return [4, 0];
};

function compareLocal(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    // Numeric segments sort after alphanumeric ones.
    if (pn && qn) {
      const d = cmp(Number(p), Number(q));
      if (d !== 0) return d;
    } else if (pn !== qn) return pn ? 1 : -1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  const pa = preKey(a);
  const pb = preKey(b);
  return (
    cmp(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    cmp(pa[0], pb[0]) ||
    cmp(pa[1], pb[1]) ||
    cmp(a.post ?? -1, b.post ?? -1) ||
    cmp(a.dev ?? Number.POSITIVE_INFINITY, b.dev ?? Number.POSITIVE_INFINITY) ||
    compareLocal(a.local, b.local)
  );
}

/** Compares two version strings; throws on what is no PEP 440 version. */
export function comparePep440Strings(a: string, b: string): number {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x) throw new Error(`not a PEP 440 version: ${JSON.stringify(a)}`);
  if (!y) throw new Error(`not a PEP 440 version: ${JSON.stringify(b)}`);
  return comparePep440(x, y);
}

/** One clause; `v` is undefined when the candidate is no PEP 440 version (only === can match it). */
type Clause = (v: Pep440Version | undefined, raw: string) => boolean;

const withoutLocal = (v: Pep440Version): Pep440Version => ({ ...v, local: null });

/** One clause (`>=1.2`, `==1.4.*`, `~=2.2`), or undefined when it is none. */
function clause(text: string): Clause | undefined {
  const c = versionClause(text);
  if (!c) return undefined;
  return /^\s*===/.test(text) ? c : (v, raw) => v !== undefined && c(v, raw);
}

function versionClause(text: string): ((v: Pep440Version | undefined, raw: string) => boolean) | undefined {
  const m = /^\s*(===|==|!=|~=|<=|>=|<|>)\s*(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const op = m[1] ?? '';
  const target = m[2] ?? '';
  if (op === '===') return (_v, raw) => raw.trim().toLowerCase() === target.toLowerCase();
  if ((op === '==' || op === '!=') && target.endsWith('.*')) {
    const prefix = parsePep440(target.slice(0, -2));
    if (!prefix || prefix.pre || prefix.post !== null || prefix.dev !== null || prefix.local) return undefined;
    const matches = (v: Pep440Version): boolean => v.epoch === prefix.epoch && prefix.written.every((n, i) => (v.written[i] ?? 0) === n);
    return op === '==' ? (v) => v !== undefined && matches(v) : (v) => v !== undefined && !matches(v);
  }
  const t = parsePep440(target);
  if (!t) return undefined;
  const on = (f: (v: Pep440Version) => boolean) => (v: Pep440Version | undefined): boolean => v !== undefined && f(v);
  switch (op) {
    case '==':
      // Without a local part in the specifier, a candidate's local part is ignored.
      return on((v) => comparePep440(t.local ? v : withoutLocal(v), t) === 0);
    case '!=':
      return on((v) => comparePep440(t.local ? v : withoutLocal(v), t) !== 0);
    case '<':
      return on((v) => comparePep440(v, t) < 0);
    case '<=':
      return on((v) => comparePep440(v, t) <= 0);
    case '>':
      return on((v) => comparePep440(withoutLocal(v), t) > 0);
    case '>=':
      return on((v) => comparePep440(v, t) >= 0);
    case '~=': {
      // ~=2.2.1 is >=2.2.1, ==2.2.*
      if (t.written.length < 2) return undefined;
      const head = t.written.slice(0, -1);
      return on((v) => comparePep440(v, t) >= 0 && v.epoch === t.epoch && head.every((n, i) => (v.written[i] ?? 0) === n));
    }
    default:
      return undefined;
  }
}

/**
 * A specifier set (`>=1.0,<2.0`) as a predicate over version strings, or undefined when it does
 * not parse. A bare version means `==` that version.
 */
export function parsePep440Specifier(spec: string): ((version: string) => boolean) | undefined {
  const parts = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) return undefined;
  const clauses: Clause[] = [];
  for (const p of parts) {
    const c = clause(/^[<>=!~]/.test(p) ? p : `==${p}`);
    if (!c) return undefined;
    clauses.push(c);
  }
  return (raw) => {
    const v = parsePep440(raw);
    return clauses.every((c) => c(v, raw));
  };
}

/** A PyPI project name as PEP 503 normalises it (`Foo_Bar.baz` → `foo-bar-baz`). */
export const normalizePypiName = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');
