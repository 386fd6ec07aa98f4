// Which files of an image tell what is inside it, and the inventory they add up to: OS packages
// (dpkg, apk), the runtime, npm packages (npm's record of the installed tree, else each installed
// package.json, else the lockfile), Python packages (installed METADATA), each app dependency
// marked when the app's own lockfile pins that version. Pure.
import { normalizePypiName } from './pep440.js';
import {
  nodeVersionFromHeader,
  parseApkInstalled,
  parseDpkgStatus,
  parseNpmLockfile,
  parseOsRelease,
  parsePackageJson,
  parsePythonMetadata,
  parseRequirementPins,
  type InstalledPackage,
} from './package-databases.js';
import { runtimesFromOsPackages, type Inventory, type InventoryPackage } from './sbom.js';

const HIDDEN_LOCK = '/app/node_modules/.package-lock.json';
const NODE_HEADER = '/usr/local/include/node/node_version.h';

/** Where an image keeps what its system holds: package databases, the runtime, global packages. */
export const SYSTEM_PATHS: readonly string[] = [
  '/var/lib/dpkg/status',
  '/var/lib/dpkg/status.d',
  '/lib/apk/db/installed',
  '/usr/lib/os-release',
  '/etc/os-release',
  NODE_HEADER,
  '/usr/local/lib/node_modules',
  // Official Python images build Python into /usr/local.
  ...[9, 10, 11, 12, 13].map((n) => `/usr/local/lib/python3.${n}/site-packages`),
];

/** Where a build leaves the app's packages. */
export const APP_PATHS: readonly string[] = [HIDDEN_LOCK, '/app/node_modules', '/app/npm-shrinkwrap.json', '/app/package-lock.json', '/app/.venv/lib'];

const PACKAGE_ROOT_JSON = /\/node_modules\/(?:@[^/]+\/)?[^/@.][^/]*\/package\.json$/;
const DIST_INFO_METADATA = /\/site-packages\/[^/]+\.dist-info\/METADATA$/;

/** The files of those paths that say what is installed; the rest of a directory is read past. */
export function keepFile(p: string): boolean {
  if (p.startsWith('/var/lib/dpkg/status.d/')) return !p.endsWith('.md5sums');
  return (
    ['/var/lib/dpkg/status', '/lib/apk/db/installed', '/usr/lib/os-release', '/etc/os-release', NODE_HEADER, HIDDEN_LOCK, '/app/npm-shrinkwrap.json', '/app/package-lock.json'].includes(p) ||
    PACKAGE_ROOT_JSON.test(p) ||
    DIST_INFO_METADATA.test(p)
  );
}

/** Paths' metadata as the engine reports it (see containers/bounded-read.ts PathStat). */
export type Stats = ReadonlyMap<string, { readonly size: number; readonly mode: number; readonly mtime: string; readonly linkTarget: string } | undefined>;

/**
 * Which paths to read, given their stats: the app's npm packages from npm's record of the
 * installed tree, else the tree itself, else the lockfile; system paths only where they differ
 * from the base image's (`unchanged`: same size, mode and mtime), whose files are reused instead.
 * Absent paths and symlinks are never read.
 */
export function planReads(stats: Stats, unchanged: (path: string) => boolean): { read: string[]; reuse: string[] } {
  const present = (p: string): boolean => {
    const s = stats.get(p);
    return s !== undefined && s.linkTarget === '';
  };
  const read: string[] = [];
  const reuse: string[] = [];
  for (const p of SYSTEM_PATHS) {
    if (!present(p)) continue;
    if (unchanged(p)) reuse.push(p);
    else read.push(p);
  }
  if (present(HIDDEN_LOCK)) read.push(HIDDEN_LOCK);
  else if (present('/app/node_modules')) read.push('/app/node_modules');
  else if (present('/app/npm-shrinkwrap.json')) read.push('/app/npm-shrinkwrap.json');
  else if (present('/app/package-lock.json')) read.push('/app/package-lock.json');
  if (present('/app/.venv/lib')) read.push('/app/.venv/lib');
  return { read, reuse };
}

/** What the app's source pins: name → version, per lockfile (read from the source archive). */
export interface Pins {
  readonly npm: ReadonlyMap<string, { version: string; file: string }[]>;
  readonly pypi: ReadonlyMap<string, { version: string; file: string }>;
}

/** The pins of an app's source tree: its package-lock.json / npm-shrinkwrap.json and requirements.txt. */
export function pinsOf(source: ReadonlyMap<string, Buffer>): Pins {
  const npm = new Map<string, { version: string; file: string }[]>();
  for (const file of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const text = source.get(file)?.toString('utf8');
    if (text === undefined) continue;
    for (const p of parseNpmLockfile(text, { includeDev: true })) npm.set(p.name, [...(npm.get(p.name) ?? []), { version: p.version, file }]);
  }
  const pypi = new Map<string, { version: string; file: string }>();
  const req = source.get('requirements.txt')?.toString('utf8');
  if (req !== undefined) for (const [name, version] of parseRequirementPins(req)) pypi.set(name, { version, file: 'requirements.txt' });
  return { npm, pypi };
}

/** The names of the source files pinsOf reads. */
export const PIN_FILES: readonly string[] = ['package-lock.json', 'npm-shrinkwrap.json', 'requirements.txt'];

const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

/** Adds up what the files say. `files` maps absolute paths to contents. */
export function inventoryOf(
  files: ReadonlyMap<string, Buffer>,
  o: { subject: Inventory['subject']; packs: Inventory['packs']; pins: Pins; gaps: readonly string[] },
): Inventory {
  const os: InventoryPackage[] = [];
  const dpkg = text(files.get('/var/lib/dpkg/status'));
  if (dpkg !== undefined) for (const p of parseDpkgStatus(dpkg)) os.push({ ...p, ecosystem: 'deb' });
  for (const [path, content] of files) {
    if (path.startsWith('/var/lib/dpkg/status.d/')) for (const p of parseDpkgStatus(content.toString('utf8'))) os.push({ ...p, ecosystem: 'deb' });
  }
  const apk = text(files.get('/lib/apk/db/installed'));
  if (apk !== undefined) for (const p of parseApkInstalled(apk)) os.push({ ...p, ecosystem: 'apk' });
  const release = parseOsRelease(text(files.get('/etc/os-release')) ?? text(files.get('/usr/lib/os-release')) ?? '');

  const runtimes = runtimesFromOsPackages(os);
  const header = nodeVersionFromHeader(text(files.get(NODE_HEADER)) ?? '');
  if (header && !runtimes.some((r) => r.name === 'node')) runtimes.push({ ecosystem: 'runtime', name: 'node', version: header, location: NODE_HEADER });

  const pinnedNpm = (p: InstalledPackage): string | undefined => o.pins.npm.get(p.name)?.find((x) => x.version === p.version)?.file;
  const npm: InventoryPackage[] = [];
  const addNpm = (list: readonly InstalledPackage[], prefix: string): void => {
    for (const p of list) npm.push({ ...p, ecosystem: 'npm', location: p.location ? `${prefix}${p.location}` : undefined, pinnedBy: prefix === '/app/' ? pinnedNpm(p) : undefined });
  };
  const hidden = text(files.get(HIDDEN_LOCK));
  const appJsons = [...files].filter(([p]) => p.startsWith('/app/node_modules/') && PACKAGE_ROOT_JSON.test(p));
  if (hidden !== undefined) addNpm(parseNpmLockfile(hidden, { includeDev: true }), '/app/');
  else if (appJsons.length > 0) addNpm(appJsons.flatMap(([p, c]) => parsePackageJson(c.toString('utf8'), p.slice('/app/'.length, -'/package.json'.length)) ?? []), '/app/');
  else {
    // Nothing installed that npm recorded: the lockfile in the DU is the best account there is.
    const lock = text(files.get('/app/npm-shrinkwrap.json')) ?? text(files.get('/app/package-lock.json'));
    if (lock !== undefined) addNpm(parseNpmLockfile(lock, { includeDev: false }), '/app/');
  }
  for (const [p, c] of files) {
    if (p.startsWith('/usr/local/lib/node_modules/') && PACKAGE_ROOT_JSON.test(p)) addNpm([parsePackageJson(c.toString('utf8'), p.slice(0, -'/package.json'.length))].flatMap((x) => x ?? []), '');
  }

  const pypi: InventoryPackage[] = [];
  for (const [p, c] of files) {
    if (!DIST_INFO_METADATA.test(p)) continue;
    const m = parsePythonMetadata(c.toString('utf8'), p.slice(0, -'/METADATA'.length));
    if (!m) continue;
    const pin = p.startsWith('/app/') ? o.pins.pypi.get(normalizePypiName(m.name)) : undefined;
    pypi.push({ ...m, ecosystem: 'pypi', pinnedBy: pin?.version === m.version ? pin.file : undefined });
  }
  return { subject: o.subject, os: release, packages: [...os, ...runtimes, ...npm, ...pypi], packs: o.packs, gaps: o.gaps };
}
