// Records what is inside each DU: reads the package databases out of the stopped builder (before its
// commit, so the digest can be a label of the DU) or out of a built image, through the container
// port and within byte limits, never by running anything in the image. Also pack images' SBOMs,
// made once per image ID. A failure to read is reported in the build output, never fails a build.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { readFilesFrom, type FileSource, type PathStat } from '../containers/bounded-read.js';
import type { Containers, Job } from '../containers/containers.js';
import { SBOM_DIGEST_LABEL } from '../containers/du-labels.js';
import type { SbomStore, StoredSbom } from '../db/sbom-store.js';
import type { Logger } from '../logger.js';
import fs from 'node:fs';
import { APP_PATHS, PIN_FILES, SYSTEM_PATHS, inventoryOf, keepFile, pinsOf, planReads, type Pins, type Stats } from './inventory.js';
import { assembleSbom, type Inventory } from './sbom.js';

/** What a build kind knows of the DU it is about to commit (BuildContext has all of it). */
export interface SbomBuild {
  readonly build: { readonly id: number; readonly number: number; readonly commit: string; readonly ref: string };
  readonly app: { readonly name: string };
  /** The build's source archive (a tar on this host): the app's own pins are read from it. */
  readonly archive: string;
  readonly log: { line(text: string): void };
  readonly chosen: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}

export interface SbomLimits {
  /** Bytes of tar read per SBOM, over all paths. */
  readonly maxBytes: number;
  readonly maxFileBytes: number;
}

export interface SbomRecorder {
  /**
   * The DU's SBOM from its builder, stopped and not yet committed: recorded for the build, and its
   * digest returned for the DU's label (null when it could not be made).
   */
  fromJob(c: SbomBuild, job: Pick<Job, 'readFiles' | 'stat'>, uses: ReadonlyArray<{ name: string; image: string | null }>): Promise<string | null>;
  /**
   * A DU built as an image (the dockerfile kind): its SBOM read from the image, which is then
   * rebuilt with the digest label (`FROM <id>`, nothing else changes); answers the labelled ID.
   */
  labelImage(c: SbomBuild, imageId: string, tag: string, uses: ReadonlyArray<{ name: string; image: string | null }>): Promise<string>;
  /** A pack image's SBOM, made the first time it is asked for. */
  ofPackImage(pack: { name: string; version: string }, imageId: string): Promise<StoredSbom>;
  /** A DU that has none (a registered image, a DU from before SBOMs): read from its image, no label. */
  forDuImage(build: { id: number; number: number; commit: string }, app: string, duImage: string): Promise<StoredSbom>;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;

/** What a scan of a filesystem found: every path's stat and the files read (or reused). */
interface Scan {
  readonly stats: Stats;
  readonly files: ReadonlyMap<string, Buffer>;
  readonly gaps: readonly string[];
}

const sameStat = (a: PathStat | undefined, b: PathStat | undefined): boolean =>
  a !== undefined && b !== undefined && a.size === b.size && a.mode === b.mode && a.mtime === b.mtime && a.linkTarget === b.linkTarget;

/**
 * Stats every path (cheap: no tar is made), then reads what the plan says; system paths that match
 * the base image's are taken from its scan. Reading a path costs the engine a tar of it, so a
 * builder's DU reads little more than the app's own record of its packages.
 */
async function scan(src: FileSource, limits: SbomLimits, base?: Scan): Promise<Scan> {
  const paths = [...SYSTEM_PATHS, ...APP_PATHS];
  const stats = new Map(await Promise.all(paths.map(async (p) => [p, await src.stat(p)] as const)));
  const plan = planReads(stats, (p) => base !== undefined && sameStat(stats.get(p), base.stats.get(p)));
  const r = await src.readFiles({ paths: plan.read, keep: keepFile, maxBytes: limits.maxBytes, maxFileBytes: limits.maxFileBytes });
  const files = new Map(r.files);
  const gaps: string[] = [];
  for (const p of plan.reuse) {
    for (const [k, v] of base?.files ?? []) if (k === p || k.startsWith(`${p}/`)) files.set(k, v);
    for (const g of base?.gaps ?? []) if (g.startsWith(p)) gaps.push(g);
  }
  for (const p of r.truncated) gaps.push(`${p}: not read past the limit of ${limits.maxBytes} bytes`);
  for (const p of r.tooLarge) gaps.push(`${p}: larger than ${limits.maxFileBytes} bytes, not read`);
  return { stats, files, gaps };
}

/** The app's pins, from the root of its source archive (bounded like everything a tenant gives). */
async function pinsFromArchive(archive: string, limits: SbomLimits): Promise<Pins> {
  try {
    const r = await readFilesFrom(
      (p) => Promise.resolve(p === '/' ? fs.createReadStream(archive) : undefined),
      { paths: ['/'], keep: (p) => PIN_FILES.some((f) => p === `/${f}`), maxBytes: limits.maxBytes, maxFileBytes: limits.maxFileBytes },
    );
    return pinsOf(new Map([...r.files].map(([k, v]) => [k.slice(1), v])));
  } catch {
    return pinsOf(new Map());
  }
}

export function createSbomRecorder(d: { containers: Pick<Containers, 'readImage' | 'buildImage'>; store: SbomStore; limits: SbomLimits; solumVersion: string; logger: Logger }): SbomRecorder {
  // Scans of pack images by image ID: an image never changes, so its scan is made once. A few
  // images at most are in use at a time; the oldest scan goes first.
  const baseScans = new Map<string, Promise<Scan>>();
  const baseScan = (imageId: string): Promise<Scan> => {
    const kept = baseScans.get(imageId);
    if (kept) return kept;
    const made = d.containers.readImage(imageId, (src) => scan(src, d.limits));
    baseScans.set(imageId, made);
    made.catch(() => baseScans.delete(imageId));
    while (baseScans.size > 8) baseScans.delete(baseScans.keys().next().value ?? '');
    return made;
  };
  const tool = { name: 'solum', version: d.solumVersion };
  const make = (inventory: Inventory) => assembleSbom(inventory, { serialNumber: `urn:uuid:${randomUUID()}`, timestamp: new Date(), tool });
  const duSubject = (c: Pick<SbomBuild, 'build' | 'app'>): Inventory['subject'] => ({
    kind: 'deployment-unit',
    name: `solum/${c.app.name}`,
    version: String(c.build.number),
    properties: { app: c.app.name, build: String(c.build.number), 'build-id': String(c.build.id), commit: c.build.commit },
  });
  const packsOf = (c: SbomBuild, uses: ReadonlyArray<{ name: string; image: string | null }>): Inventory['packs'] =>
    uses.map((u) => ({ name: u.name, version: c.chosen.find((p) => p.name === u.name)?.version, image: u.image }));

  /** Reads, assembles and stores a build's SBOM; logs it; answers its digest or null. */
  const record = async (c: SbomBuild, read: () => Promise<Scan>, uses: ReadonlyArray<{ name: string; image: string | null }>): Promise<string | null> => {
    const started = performance.now();
    try {
      const [{ files, gaps }, pins] = await Promise.all([read(), pinsFromArchive(c.archive, d.limits)]);
      const sbom = make(inventoryOf(files, { subject: duSubject(c), packs: packsOf(c, uses), pins, gaps }));
      const ms = performance.now() - started;
      await d.store.saveForBuild(c.build.id, { ...sbom, generatedMs: ms });
      c.log.line(`-----> SBOM: ${sbom.components.length} packages (CycloneDX 1.5) in ${seconds(ms)}, ${sbom.digest.slice(0, 19)}…`);
      for (const g of gaps.slice(0, 5)) c.log.line(`       incomplete: ${g}`);
      return sbom.digest;
    } catch (err) {
      d.logger.warn({ err, buildId: c.build.id }, 'making the SBOM failed');
      c.log.line(`!     No SBOM recorded: ${(err as Error).message.split('\n')[0] ?? ''}`);
      return null;
    }
  };

  return {
    fromJob: (c, job, uses) =>
      record(
        c,
        async () => {
          // The builder runs on its first pack's image: what the build left unchanged is that image's.
          const image = uses[0]?.image;
          return scan(job, d.limits, image ? await baseScan(image) : undefined);
        },
        uses,
      ),
    async labelImage(c, imageId, tag, uses) {
      const digest = await record(c, () => d.containers.readImage(imageId, (src) => scan(src, d.limits)), uses);
      if (!digest) return imageId;
      // One line of Dockerfile: the same layers and config, one more label.
      const pack = tar.pack();
      pack.entry({ name: 'Dockerfile' }, `FROM ${imageId}\n`);
      pack.finalize();
      try {
        return await d.containers.buildImage(Readable.from(pack), { tag, labels: { [SBOM_DIGEST_LABEL]: digest }, network: 'none', memoryBytes: 256 * 1024 * 1024 });
      } catch (err) {
        d.logger.warn({ err, buildId: c.build.id }, 'labelling the DU with its SBOM digest failed');
        c.log.line('!     The DU could not be labelled with its SBOM digest; the SBOM is recorded');
        return imageId;
      }
    },
    async ofPackImage(p, imageId) {
      const kept = await d.store.ofPackImage(imageId);
      if (kept) return kept;
      const started = performance.now();
      const { files, gaps } = await baseScan(imageId);
      const subject: Inventory['subject'] = { kind: 'language-pack', name: p.name, version: p.version, properties: { image: imageId } };
      const sbom = make(inventoryOf(files, { subject, packs: [], pins: pinsOf(new Map()), gaps }));
      return d.store.saveForPackImage(imageId, p.name, { ...sbom, generatedMs: performance.now() - started });
    },
    async forDuImage(build, app, duImage) {
      const started = performance.now();
      const { files, gaps } = await d.containers.readImage(duImage, (src) => scan(src, d.limits));
      const sbom = make(inventoryOf(files, { subject: duSubject({ build: { ...build, ref: '' }, app: { name: app } }), packs: [], pins: pinsOf(new Map()), gaps }));
      return d.store.saveForBuild(build.id, { ...sbom, generatedMs: performance.now() - started });
    },
  };
}
