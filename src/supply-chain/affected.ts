// Affected apps by package (seed 004: the operator identifies a security update to a set of
// packages, finds the images and deployments affected, rebuilds those it can and tells the owners
// of the rest): every live release (apps and pipeline environments) and every current pack image
// whose SBOM holds a matching version, with what a rebuild would do about it.
import type { LanguagePack } from '../build/packs/language-packs.js';
import type { SecurityRebuilds } from '../build/upkeep/security-rebuilds.js';
import type { Build } from '../db/build-store.js';
import type { ComponentHit, SbomStore, StoredSbom } from '../db/sbom-store.js';
import type { User } from '../db/user-store.js';
import type { Targets } from '../deploy/target.js';
import { badRequest, forbidden } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SbomRecorder } from './sbom-recorder.js';
import { ECOSYSTEMS, advisoryQuestions, matchName, rangeMatcher, type Ecosystem, type OsvAdvisory, type VersionMatcher } from './version-match.js';

/** What a rebuild would do about one affected release. */
export type AffectedAction =
  /** A rebuild can change the result: the pack image is fixed, or the version is not pinned. */
  | 'rebuild'
  /** The current pack image still has it: the operator updates the pack image first. */
  | 'update-pack'
  /** Solum cannot change it: the owner must (a registered image, a Dockerfile, a pinned version). */
  | 'owner';

export interface AffectedRelease {
  readonly app: string;
  readonly environment: string | null;
  readonly release: number;
  readonly build: number | null;
  readonly duImage: string;
  readonly ecosystem: string;
  readonly package: string;
  readonly version: string;
  readonly pinnedBy: string | null;
  readonly action: AffectedAction;
  readonly reason: string;
  /** The rebuild queued, when asked for. */
  readonly queued: number | null;
}

export interface AffectedPackImage {
  readonly pack: string;
  readonly image: string;
  readonly ecosystem: string;
  readonly package: string;
  readonly version: string;
}

export interface AffectedReport {
  readonly package: string;
  readonly ecosystem: string | null;
  /** The versions asked about, in words. */
  readonly versions: string;
  readonly releases: readonly AffectedRelease[];
  readonly packImages: readonly AffectedPackImage[];
  /** Live releases whose contents are not known (no SBOM could be had), and other caveats. */
  readonly notes: readonly string[];
}

export interface AdvisoryReport {
  readonly advisory: string;
  readonly summary: string | null;
  readonly packages: ReadonlyArray<AffectedReport & { readonly osvEcosystem: string }>;
}

/** One question: a name in some ecosystems, each with its matcher (undefined: not askable there). */
interface Question {
  readonly name: string;
  readonly ecosystem: Ecosystem | undefined;
  readonly matcherFor: (e: Ecosystem) => VersionMatcher | undefined;
  readonly describe: string;
}

export interface Affected {
  affected(actor: User | null, q: { package: string; range: string; ecosystem: Ecosystem | undefined; rebuild: boolean }): Promise<AffectedReport>;
  advisory(actor: User | null, advisory: OsvAdvisory, rebuild: boolean): Promise<AdvisoryReport>;
}

/**
 * What a rebuild does about one affected component of a live release. `packStillHas` tells whether
 * the current image of the build's first pack (the system it ran on) still has a matching version.
 * Pure.
 */
export function judgeAffected(
  build: Pick<Build, 'source' | 'languagePack'> | undefined,
  hit: { ecosystem: string; version: string; pinnedBy: string | null },
  pack: { kind: LanguagePack['kind']; name: string } | undefined,
  packStillHas: boolean | undefined,
): { action: AffectedAction; reason: string } {
  if (!build || build.source === 'image') return { action: 'owner', reason: 'a registered image, not a Solum build: its owner must rebuild it' };
  if (!pack) return { action: 'owner', reason: `language pack '${build.languagePack ?? '?'}' no longer exists` };
  if (pack.kind === 'dockerfile') return { action: 'owner', reason: "built from the app's own Dockerfile: its owner must update it" };
  if (hit.ecosystem === 'npm' || hit.ecosystem === 'pypi') {
    if (hit.pinnedBy) return { action: 'owner', reason: `pinned at ${hit.version} by the app's ${hit.pinnedBy}: its owner must update it` };
    return { action: 'rebuild', reason: 'not pinned by the app: a rebuild resolves it again' };
  }
  if (packStillHas === undefined) return { action: 'owner', reason: `the image of language pack '${pack.name}' is missing` };
  if (packStillHas) return { action: 'update-pack', reason: `the current image of language pack '${pack.name}' still has it: update the pack image, then rebuild` };
  return { action: 'rebuild', reason: `the current image of language pack '${pack.name}' no longer has it` };
}

export function createAffected(d: {
  targets: Pick<Targets, 'active'>;
  builds: { getBuild(id: number): Promise<Build | undefined> };
  store: SbomStore;
  recorder: Pick<SbomRecorder, 'ofPackImage' | 'forDuImage'>;
  packs: () => readonly LanguagePack[];
  imageId: (ref: string) => Promise<string | undefined>;
  rebuilds: Pick<SecurityRebuilds, 'queue'>;
  logger: Logger;
}): Affected {
  /** Every current pack image with its SBOM (made on first use). */
  const packImages = async (): Promise<Array<{ pack: LanguagePack; image: string; sbom: StoredSbom | undefined }>> => {
    const out: Array<{ pack: LanguagePack; image: string; sbom: StoredSbom | undefined }> = [];
    for (const pack of d.packs()) {
      if (pack.kind === 'dockerfile') continue;
      const image = await d.imageId(pack.image);
      if (!image) continue;
      const sbom = await d.recorder.ofPackImage(pack, image).catch((err: unknown) => {
        d.logger.warn({ err, pack: pack.name }, 'making a pack image SBOM failed');
        return undefined;
      });
      out.push({ pack, image, sbom });
    }
    return out;
  };

  const answer = async (q: Question, rebuild: boolean, queuedFor: Map<number, number> = new Map()): Promise<AffectedReport> => {
    const notes: string[] = [];
    const live = await d.targets.active();
    const builds = new Map<number, Build>();
    for (const { target, release } of live) {
      const build = release.buildId === null ? undefined : await d.builds.getBuild(release.buildId);
      if (!build) {
        notes.push(`${target.name} v${release.version}: its build is gone, its contents are not known`);
        continue;
      }
      builds.set(build.id, build);
      // DUs from before SBOMs (and registered images) get one now, read from the image.
      if (!(await d.store.ofBuild(build.id))) {
        const made = await d.recorder.forDuImage(build, target.app.name, release.duImage).catch(() => undefined);
        if (!made) notes.push(`${target.name} v${release.version}: no SBOM, and none could be read from ${release.duImage}`);
      }
    }
    const images = await packImages();
    for (const p of images) if (!p.sbom) notes.push(`the image of language pack '${p.pack.name}' could not be read`);

    // Matching names: a PyPI name normalises differently from the rest.
    const ecosystems = q.ecosystem ? [q.ecosystem] : ECOSYSTEMS;
    const names = new Set(ecosystems.map((e) => matchName(e, q.name)));
    const hits: ComponentHit[] = [];
    for (const n of names) hits.push(...(await d.store.findComponents(n, q.ecosystem)));
    const matching = hits.filter((h) => (ecosystems as readonly string[]).includes(h.ecosystem) && q.matcherFor(h.ecosystem as Ecosystem)?.matches(h.version) === true);

    /** Whether the pack's current image still holds a matching version of the hit's package. */
    const packStillHas = (packName: string, hit: ComponentHit): boolean | undefined => {
      const cur = images.find((p) => p.pack.name === packName);
      if (!cur?.sbom) return undefined;
      return matching.some((m) => m.packImage === cur.image && m.ecosystem === hit.ecosystem && (m.matchName === hit.matchName || m.sourceName === hit.matchName || (hit.sourceName !== null && m.sourceName === hit.sourceName)));
    };

    const releases: AffectedRelease[] = [];
    for (const { target, release } of live) {
      const build = release.buildId === null ? undefined : builds.get(release.buildId);
      if (!build) continue;
      const own = matching.filter((h) => h.buildId === build.id);
      // The system a build ran on is its first pack's image (docs/decisions/0009).
      const first = build.languagePacks[0]?.name ?? build.languagePack ?? '';
      const pack = d.packs().find((p) => p.name === first);
      const judged = own.map((h) => ({ h, ...judgeAffected(build, h, pack, packStillHas(first, h)) }));
      let queued: number | null = null;
      if (rebuild && judged.some((j) => j.action === 'rebuild')) {
        // One rebuild per app and build: an environment's DU is rebuilt through its app's pipeline.
        queued = queuedFor.get(build.id) ?? null;
        if (queued === null) {
          queued = await d.rebuilds.queue(target.app, build);
          queuedFor.set(build.id, queued);
        }
      }
      for (const j of judged) {
        releases.push({
          app: target.app.name,
          environment: target.environment?.name ?? null,
          release: release.version,
          build: build.number,
          duImage: release.duImage,
          ecosystem: j.h.ecosystem,
          package: j.h.name,
          version: j.h.version,
          pinnedBy: j.h.pinnedBy,
          action: j.action,
          reason: j.reason,
          queued: j.action === 'rebuild' ? queued : null,
        });
      }
    }
    const packHits: AffectedPackImage[] = [];
    for (const p of images) {
      for (const h of matching.filter((m) => m.packImage === p.image)) packHits.push({ pack: p.pack.name, image: p.image, ecosystem: h.ecosystem, package: h.name, version: h.version });
    }
    return { package: q.name, ecosystem: q.ecosystem ?? null, versions: q.describe, releases, packImages: packHits, notes };
  };

  const admin = (actor: User | null): void => {
    if (!actor?.isAdmin) throw forbidden('finding affected apps is an operator task: admins only');
  };

  return {
    async affected(actor, q) {
      admin(actor);
      const matchers = new Map<Ecosystem, VersionMatcher | undefined>((q.ecosystem ? [q.ecosystem] : ECOSYSTEMS).map((e) => [e, rangeMatcher(e, q.range)]));
      const usable = [...matchers].filter(([, m]) => m !== undefined);
      if (usable.length === 0) throw badRequest(`'${q.range}' is no version range${q.ecosystem ? ` for ${q.ecosystem}` : ' in any ecosystem'} (npm: semver ranges like <4.17.21; deb: comparators like "<< 3.0.13-1"; pypi: specifiers like >=2,<2.31)`);
      const report = await answer({ name: q.package, ecosystem: q.ecosystem, matcherFor: (e) => matchers.get(e), describe: q.range.trim() === '' ? 'any version' : q.range.trim() }, q.rebuild);
      const unusable = [...matchers].filter(([, m]) => m === undefined).map(([e]) => e);
      return unusable.length > 0 && !q.ecosystem ? { ...report, notes: [...report.notes, `'${q.range}' is no ${unusable.join(' or ')} range: those ecosystems were not searched`] } : report;
    },
    async advisory(actor, advisory, rebuild) {
      admin(actor);
      const packages: Array<AffectedReport & { osvEcosystem: string }> = [];
      // An app hit by several packages of the advisory is rebuilt once.
      const queuedFor = new Map<number, number>();
      for (const question of advisoryQuestions(advisory)) {
        if (!question.ecosystem || !question.matcher) {
          packages.push({ package: question.name, ecosystem: question.ecosystem ?? null, osvEcosystem: question.osvEcosystem, versions: question.matcher?.describe ?? '-', releases: [], packImages: [], notes: [...question.notes] });
          continue;
        }
        const { ecosystem, matcher } = question;
        const report = await answer({ name: question.name, ecosystem, matcherFor: (e) => (e === ecosystem ? matcher : undefined), describe: matcher.describe }, rebuild, queuedFor);
        packages.push({ ...report, osvEcosystem: question.osvEcosystem, notes: [...question.notes, ...report.notes] });
      }
      return { advisory: advisory.id, summary: advisory.summary ?? null, packages };
    },
  };
}
