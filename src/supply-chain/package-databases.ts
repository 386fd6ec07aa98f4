// Readers of the package databases inside an image: dpkg's status file, apk's installed database,
// os-release, npm lockfiles and package.json files, Python's installed METADATA and requirements.txt
// pins. Pure: bytes in, package records out. The bytes are whatever a tenant's build left in the
// image, so every reader tolerates garbage (a bad record is skipped, never thrown).

/** One installed package as a database names it. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly arch?: string | undefined;
  /** Debian: the source package (advisories are written against it); apk: its origin. */
  readonly source?: string | undefined;
  readonly license?: string | undefined;
  /** npm: the SRI integrity string of the tarball. */
  readonly integrity?: string | undefined;
  /** npm: where the tarball came from. */
  readonly resolved?: string | undefined;
  /** Where in the image it was found (node_modules/x, a dist-info directory). */
  readonly location?: string | undefined;
}

/** RFC 822-style paragraphs (dpkg status, METADATA headers): fields with continuation lines. */
function paragraphs(text: string): Array<Map<string, string>> {
  const out: Array<Map<string, string>> = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (last !== undefined) cur.set(last, `${cur.get(last) ?? ''}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      cur.set(last, line.slice(colon + 1).trim());
    }
  }
  if (cur.size > 0) out.push(cur);
  return out;
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9.+~:_@/-]{0,255}$/;
const clean = (v: string | undefined): string | undefined => (v !== undefined && TOKEN.test(v) ? v : undefined);

/**
 * Packages dpkg holds as installed (`Status: install ok installed`; distroless images' status.d
 * files have no Status field and list installed packages only).
 */
export function parseDpkgStatus(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const p of paragraphs(text)) {
    const status = p.get('status');
    if (status !== undefined && status.split(/\s+/)[2] !== 'installed') continue;
    const name = clean(p.get('package'));
    const version = clean(p.get('version'));
    if (!name || !version) continue;
    // `Source: openssl (3.0.11-1)` names the source and, when it differs, its version.
    const source = clean(p.get('source')?.split(/\s+/)[0]);
    out.push({ name, version, arch: clean(p.get('architecture')), source: source ?? name });
  }
  return out;
}

/** Packages in apk's /lib/apk/db/installed (`P:` name, `V:` version, `A:` arch, `o:` origin, `L:` license). */
export function parseApkInstalled(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const record of text.split(/\r?\n\r?\n/)) {
    const f = new Map<string, string>();
    for (const line of record.split(/\r?\n/)) {
      if (line.length > 2 && line[1] === ':') f.set(line[0] ?? '', line.slice(2));
    }
    const name = clean(f.get('P'));
    const version = clean(f.get('V'));
    if (!name || !version) continue;
    out.push({ name, version, arch: clean(f.get('A')), source: clean(f.get('o')) ?? name, license: f.get('L')?.slice(0, 200) });
  }
  return out;
}

export interface OsRelease {
  readonly id: string;
  readonly versionId: string | undefined;
  readonly prettyName: string | undefined;
}

/** /etc/os-release (or /usr/lib/os-release): `KEY=value` lines, values optionally quoted. */
export function parseOsRelease(text: string): OsRelease | undefined {
  const v = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2] ?? '';
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    v.set(m[1] ?? '', value);
  }
  const id = v.get('ID');
  if (!id || !/^[a-z0-9._-]{1,64}$/.test(id)) return undefined;
  return { id, versionId: clean(v.get('VERSION_ID')), prettyName: v.get('PRETTY_NAME')?.slice(0, 200) };
}

const json = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const NPM_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]{0,213}$/i;

/** The package name a lockfile path (`node_modules/a/node_modules/@s/b`) installs. */
const nameFromPath = (p: string): string | undefined => {
  const i = p.lastIndexOf('node_modules/');
  return i < 0 ? undefined : p.slice(i + 'node_modules/'.length);
};

/**
 * The packages of an npm lockfile: package-lock.json / npm-shrinkwrap.json (v1, v2, v3) or the
 * hidden node_modules/.package-lock.json npm writes for the installed tree. Links (workspaces)
 * and the root project are left out; `includeDev` keeps devDependencies.
 */
export function parseNpmLockfile(text: string, options: { includeDev: boolean }): InstalledPackage[] {
  const lock = json(text);
  if (!isRecord(lock)) return [];
  const out: InstalledPackage[] = [];
  const add = (name: string | undefined, entry: Record<string, unknown>, location: string): void => {
    const version = str(entry.version);
    if (!name || !NPM_NAME.test(name) || !version || entry.link === true) return;
    if (!options.includeDev && entry.dev === true) return;
    // A v1 entry for a git or file dependency has the spec, not a version, in `version`.
    if (!/^\d/.test(version)) return;
    out.push({ name, version, integrity: str(entry.integrity), resolved: str(entry.resolved), license: str(entry.license), location });
  };
  if (isRecord(lock.packages)) {
    for (const [p, entry] of Object.entries(lock.packages)) {
      if (p === '' || !isRecord(entry)) continue;
      add(str(entry.name) ?? nameFromPath(p), entry, p);
    }
    return out;
  }
  // v1: nested `dependencies`.
  const walk = (deps: unknown, prefix: string, depth: number): void => {
    if (!isRecord(deps) || depth > 64) return;
    for (const [name, entry] of Object.entries(deps)) {
      if (!isRecord(entry)) continue;
      const location = `${prefix}node_modules/${name}`;
      add(name, entry, location);
      walk(entry.dependencies, `${location}/`, depth + 1);
    }
  };
  walk(lock.dependencies, '', 0);
  return out;
}

/** An installed package's own package.json (found at `location`). */
export function parsePackageJson(text: string, location: string): InstalledPackage | undefined {
  const p = json(text);
  if (!isRecord(p)) return undefined;
  const name = str(p.name);
  const version = str(p.version);
  if (!name || !NPM_NAME.test(name) || !version || !/^\d/.test(version)) return undefined;
  return { name, version, license: str(p.license), location };
}

/** A wheel's METADATA (or an egg's PKG-INFO): the header fields Name, Version and License. */
export function parsePythonMetadata(text: string, location: string): InstalledPackage | undefined {
  const headers = paragraphs(text.split(/\r?\n\r?\n/)[0] ?? '')[0];
  const name = headers?.get('name');
  const version = headers?.get('version');
  if (!name || !version || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/.test(name) || !/^[\w.!+-]{1,100}$/.test(version)) return undefined;
  const license = headers?.get('license-expression') ?? headers?.get('license');
  return { name, version, license: license?.split('\n')[0]?.slice(0, 200), location };
}

/** `name==version` lines of a requirements.txt: the versions the app pins (normalised names). */
export function parseRequirementPins(text: string): Map<string, string> {
  const pins = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').split(';')[0]?.trim() ?? '';
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s,]+)$/.exec(line);
    if (m?.[1] && m[2]) pins.set(m[1].toLowerCase().replace(/[-_.]+/g, '-'), m[2]);
  }
  return pins;
}

/**
 * The version of a runtime from its C header (`node_version.h`: NODE_MAJOR_VERSION, …), as an
 * official Node.js build installs it under include/node.
 */
export function nodeVersionFromHeader(text: string): string | undefined {
  const part = (k: string): string | undefined => new RegExp(`#define\\s+NODE_${k}_VERSION\\s+(\\d+)`).exec(text)?.[1];
  const [a, b, c] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return a && b && c ? `${a}.${b}.${c}` : undefined;
}
