// A DU's (or a pack image's) bill of materials as CycloneDX 1.5 JSON, assembled with the CycloneDX
// library from what the package databases say is inside: OS packages, language packages, the
// language runtime and the packs the DU was built from. Pure; also the index rows Solum keeps to
// answer "which DUs hold NAME" without parsing every document.
import { createHash } from 'node:crypto';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { upstreamOf } from './debian-version.js';
import type { InstalledPackage, OsRelease } from './package-databases.js';
import { matchName, type Ecosystem } from './version-match.js';

/** A package of the inventory: where it comes from and, for app dependencies, where it is pinned. */
export interface InventoryPackage extends InstalledPackage {
  readonly ecosystem: Ecosystem;
  /** The file that pins this very version in the app's source (package-lock.json, requirements.txt). */
  readonly pinnedBy?: string | undefined;
}

/** What a DU or image holds, as read from its filesystem. */
export interface Inventory {
  /** What the BOM describes: `solum/<app>` and the build number, or a pack image. */
  readonly subject: { readonly kind: 'deployment-unit' | 'language-pack'; readonly name: string; readonly version: string; readonly properties: Readonly<Record<string, string>> };
  readonly os: OsRelease | undefined;
  readonly packages: readonly InventoryPackage[];
  /** The packs the DU was built with, each with the image ID it ran from. */
  readonly packs: ReadonlyArray<{ readonly name: string; readonly version: string | undefined; readonly image: string | null }>;
  /** What could not be read (a limit reached, a file too large): the BOM may miss packages there. */
  readonly gaps: readonly string[];
}

/** One component as the index keeps it. */
export interface ComponentRow {
  readonly ecosystem: Ecosystem;
  readonly name: string;
  /** The name questions are matched against (see matchName). */
  readonly matchName: string;
  /** Debian's source package (advisories name it), apk's origin; else null. */
  readonly sourceName: string | null;
  readonly version: string;
  readonly purl: string | null;
  readonly pinnedBy: string | null;
}

export interface Sbom {
  /** The serialized document: these exact bytes are stored, served and digested. */
  readonly document: string;
  /** `sha256:<hex>` of the document. */
  readonly digest: string;
  readonly components: readonly ComponentRow[];
}

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

export const sha256Digest = (bytes: string | Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Runtimes found by the OS package that installs them (Debian and Alpine name them alike). */
const RUNTIMES: ReadonlyArray<{ readonly runtime: string; readonly packages: readonly string[] }> = [
  { runtime: 'node', packages: ['nodejs'] },
  { runtime: 'python', packages: ['python3', 'python3-minimal'] },
  { runtime: 'ruby', packages: ['ruby'] },
  { runtime: 'php', packages: ['php'] },
];

/**
 * The language runtimes an image's OS packages install (node from Debian's `nodejs`, with the
 * upstream version: `18.20.4+dfsg-1~deb12u2` → `18.20.4`). Pure.
 */
export function runtimesFromOsPackages(os: readonly InventoryPackage[]): InventoryPackage[] {
  const out: InventoryPackage[] = [];
  for (const r of RUNTIMES) {
    const p = os.find((x) => r.packages.includes(x.name) && (x.ecosystem === 'deb' || x.ecosystem === 'apk'));
    const version = p ? (p.ecosystem === 'deb' ? upstreamOf(p.version) : p.version.split('-')[0]) : undefined;
    if (p && version) out.push({ ecosystem: 'runtime', name: r.runtime, version, location: `${p.ecosystem}:${p.name} ${p.version}` });
  }
  return out;
}

function purlOf(p: InventoryPackage, os: OsRelease | undefined): string | undefined {
  const distro = os ? `${os.id}${os.versionId ? `-${os.versionId}` : ''}` : undefined;
  const qualifiers = (q: Record<string, string | undefined>): Record<string, string> | undefined => {
    const kept = Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
    return Object.keys(kept).length > 0 ? kept : undefined;
  };
  try {
    switch (p.ecosystem) {
      case 'deb':
        return new PackageURL('deb', os?.id ?? 'debian', p.name, p.version, qualifiers({ arch: p.arch, distro, upstream: p.source !== p.name ? p.source : undefined }), undefined).toString();
      case 'apk':
        return new PackageURL('apk', os?.id ?? 'alpine', p.name, p.version, qualifiers({ arch: p.arch, distro }), undefined).toString();
      case 'npm': {
        const slash = p.name.startsWith('@') ? p.name.indexOf('/') : -1;
        return new PackageURL('npm', slash > 0 ? p.name.slice(0, slash) : undefined, slash > 0 ? p.name.slice(slash + 1) : p.name, p.version, undefined, undefined).toString();
      }
      case 'pypi':
        return new PackageURL('pypi', undefined, matchName('pypi', p.name), p.version, undefined, undefined).toString();
      case 'runtime':
        return new PackageURL('generic', undefined, p.name, p.version, undefined, undefined).toString();
    }
  } catch {
    return undefined;
  }
}

/** An SRI integrity (`sha512-<base64>`) as a CycloneDX hash. */
function hashOf(integrity: string | undefined): [CDX.Enums.HashAlgorithm, string] | undefined {
  const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity?.split(/\s+/)[0] ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const alg = { sha1: CDX.Enums.HashAlgorithm['SHA-1'], sha256: CDX.Enums.HashAlgorithm['SHA-256'], sha384: CDX.Enums.HashAlgorithm['SHA-384'], sha512: CDX.Enums.HashAlgorithm['SHA-512'] }[m[1] as 'sha1' | 'sha256' | 'sha384' | 'sha512'];
  return [alg, Buffer.from(m[2], 'base64').toString('hex')];
}

const httpUrl = (u: string | undefined): string | undefined => {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
};

const prop = (name: string, value: string): CDX.Models.Property => new CDX.Models.Property(name, value);

/** Builds the BOM and its index rows. `serialNumber` and `timestamp` make each document unique. */
export function assembleSbom(inv: Inventory, o: { serialNumber: string; timestamp: Date; tool: { name: string; version: string } }): Sbom {
  const bom = new CDX.Models.Bom({ serialNumber: o.serialNumber });
  bom.metadata.timestamp = o.timestamp;
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, o.tool.name, { version: o.tool.version }));
  const subject = new CDX.Models.Component(CDX.Enums.ComponentType.Container, inv.subject.name, { version: inv.subject.version, bomRef: `subject:${inv.subject.name}:${inv.subject.version}` });
  subject.properties.add(prop('solum:kind', inv.subject.kind));
  for (const [k, v] of Object.entries(inv.subject.properties)) subject.properties.add(prop(`solum:${k}`, v));
  bom.metadata.component = subject;
  for (const gap of inv.gaps) bom.metadata.properties.add(prop('solum:gap', gap));

  if (inv.os) {
    const os = new CDX.Models.Component(CDX.Enums.ComponentType.OperatingSystem, inv.os.id, { bomRef: `os:${inv.os.id}`, ...(inv.os.versionId ? { version: inv.os.versionId } : {}), ...(inv.os.prettyName ? { description: inv.os.prettyName } : {}) });
    bom.components.add(os);
  }
  for (const p of inv.packs) {
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Container, p.name, { bomRef: `pack:${p.name}`, ...(p.version ? { version: p.version } : {}), description: 'Solum language pack' });
    if (p.image) {
      c.properties.add(prop('solum:image', p.image));
      const hex = /^sha256:([0-9a-f]{64})$/.exec(p.image)?.[1];
      if (hex) c.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], hex);
    }
    bom.components.add(c);
  }

  const rows: ComponentRow[] = [];
  const byRef = new Map<string, CDX.Models.Component>();
  for (const p of inv.packages) {
    const purl = purlOf(p, inv.os);
    const ref = purl ?? `${p.ecosystem}:${p.name}@${p.version}`;
    const seen = byRef.get(ref);
    if (seen) {
      // The same package at two places of a tree (npm nests duplicates): one component, each place.
      if (p.location) seen.properties.add(prop('solum:location', p.location));
      continue;
    }
    const type = p.ecosystem === 'runtime' ? CDX.Enums.ComponentType.Platform : CDX.Enums.ComponentType.Library;
    const c = new CDX.Models.Component(type, p.name, { version: p.version, bomRef: ref, ...(purl ? { purl } : {}) });
    c.properties.add(prop('solum:ecosystem', p.ecosystem));
    if (p.location) c.properties.add(prop('solum:location', p.location));
    if (p.source && p.source !== p.name) c.properties.add(prop(p.ecosystem === 'deb' ? 'solum:deb:source' : 'solum:origin', p.source));
    if (p.pinnedBy) c.properties.add(prop('solum:pinned-by', p.pinnedBy));
    if (p.license) c.licenses.add(new CDX.Models.NamedLicense(p.license));
    const hash = hashOf(p.integrity);
    if (hash) c.hashes.set(hash[0], hash[1]);
    const dist = httpUrl(p.resolved);
    if (dist) c.externalReferences.add(new CDX.Models.ExternalReference(dist, CDX.Enums.ExternalReferenceType.Distribution));
    bom.components.add(c);
    byRef.set(ref, c);
    rows.push({
      ecosystem: p.ecosystem,
      name: p.name,
      matchName: matchName(p.ecosystem, p.name),
      sourceName: p.source && p.source !== p.name ? matchName(p.ecosystem, p.source) : null,
      version: p.version,
      purl: purl ?? null,
      pinnedBy: p.pinnedBy ?? null,
    });
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot5));
  // Sorted lists and no indentation: the same inventory gives the same bytes but for serial and time.
  const document = serializer.serialize(bom, { sortLists: true });
  return { document, digest: sha256Digest(document), components: rows };
}
