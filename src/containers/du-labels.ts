// A deployment unit's labels, written and read through one checked schema: what the DU was built
// from and what it runs (process types, manifest), so every reader sees the same typed record.
import { z } from 'zod';
import { LABEL } from './labels.js';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A startup check of one process type (Dokku's app.json healthchecks, normalized at build time). */
const checkSchema = z.object({
  name: z.string(),
  path: z.string().optional(),
  content: z.string().optional(),
  port: z.number().int().optional(),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  command: z.array(z.string()).optional(),
  uptime: z.number().int().optional(),
  listening: z.boolean().optional(),
  attempts: z.number().int().min(1),
  timeout: z.number().int().min(1),
  wait: z.number().int().min(0),
  initialDelay: z.number().int().min(0),
  warn: z.boolean().default(false),
});

/** A command a release runs once, and the file and key it came from (`Procfile release`). */
const scriptSchema = z.object({ command: z.string(), source: z.string() });

/**
 * What a DU carries for deploys: the part of solum.yaml deploys read, and what app.json and the
 * Procfile's `release:` add (docs/decisions/0016), merged at build time with solum.yaml winning.
 */
const manifestSchema = z
  .object({
    run: z.string().optional(),
    healthcheck: z.object({ path: z.string(), timeout: z.number().int().min(1).max(600) }).optional(),
    env: z.record(z.string().regex(ENV_KEY), z.string()).default({}),
    services: z.array(z.string()).optional(),
    /** Commands run once in a container of a new release before any of its processes start, in order. */
    releasePhase: z.array(scriptSchema).optional(),
    /** Commands run once after a release went live; `once` ones only after the app's first. */
    postdeploy: z.array(scriptSchema.extend({ once: z.boolean() })).optional(),
    /** Startup checks by process type. */
    healthchecks: z.record(z.string(), z.array(checkSchema)).optional(),
    /** Process counts the app starts with (its first release). */
    formation: z.record(z.string(), z.number().int().min(0)).optional(),
    /** Scheduled jobs: each runs in a one-off container of the live release. */
    cron: z.array(z.object({ id: z.string(), schedule: z.string(), command: z.string() })).optional(),
    /** Config vars Solum generates (a secret) when the app has none of that name. */
    generate: z.array(z.string().regex(ENV_KEY)).optional(),
  })
  .loose();

export type HealthCheckSpec = z.infer<typeof checkSchema>;

export type DuManifest = z.infer<typeof manifestSchema>;

const packUse = z.object({ name: z.string(), image: z.string().nullable() });
const buildpackUse = z.object({ url: z.string(), commit: z.string() });

/** Every label Solum writes on a DU, parsed; JSON-valued labels are decoded. */
export interface DuLabels {
  readonly installation: string;
  readonly app: string;
  readonly build: number;
  readonly buildId: number | null;
  readonly languagePack: string | null;
  /** The image ID of the pack (or of a Dockerfile's FROM) the DU was built from. */
  readonly languagePackImage: string | null;
  readonly languagePacks: ReadonlyArray<z.infer<typeof packUse>>;
  readonly buildpacks: ReadonlyArray<z.infer<typeof buildpackUse>>;
  readonly processTypes: Readonly<Record<string, string>>;
  readonly manifest: DuManifest;
  readonly revision: string | null;
  readonly s2iScripts: string | null;
  /** For images registered from outside: the image the DU was made from. */
  readonly externalImage: string | null;
  /** `sha256:<hex>` of the SBOM Solum recorded for this DU (GET /v1/builds/:id/sbom). */
  readonly sbomDigest: string | null;
}

/** The label holding a DU's SBOM digest (written at commit time, or by a FROM-only rebuild). */
export const SBOM_DIGEST_LABEL = 'io.solum.sbom.digest';

const KEYS = {
  languagePackImage: 'io.solum.language-pack.image',
  languagePacks: 'io.solum.language-packs',
  buildpacks: 'io.solum.buildpacks',
  processTypes: 'io.solum.process-types',
  manifest: 'io.solum.manifest',
  revision: 'org.opencontainers.image.revision',
  s2iScripts: 'io.solum.s2i.scripts',
  externalImage: 'io.solum.external-image',
  sbomDigest: SBOM_DIGEST_LABEL,
} as const;

/** The labels of a DU; optional parts are left out rather than written empty. Pure. */
export function writeDuLabels(du: Omit<DuLabels, 'buildId' | 'languagePacks' | 'buildpacks' | 'revision' | 's2iScripts' | 'externalImage' | 'sbomDigest'> & Partial<DuLabels>): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.installation]: du.installation,
    [LABEL.app]: du.app,
    [LABEL.build]: String(du.build),
    [LABEL.role]: 'deployment-unit',
    [KEYS.processTypes]: JSON.stringify(du.processTypes),
    [KEYS.manifest]: JSON.stringify(du.manifest),
  };
  if (du.buildId !== undefined && du.buildId !== null) labels[LABEL.buildId] = String(du.buildId);
  if (du.languagePack) labels[LABEL.languagePack] = du.languagePack;
  if (du.languagePackImage !== null) labels[KEYS.languagePackImage] = du.languagePackImage;
  if (du.languagePacks && du.languagePacks.length > 0) labels[KEYS.languagePacks] = JSON.stringify(du.languagePacks);
  if (du.buildpacks && du.buildpacks.length > 0) labels[KEYS.buildpacks] = JSON.stringify(du.buildpacks);
  if (du.revision) labels[KEYS.revision] = du.revision;
  if (du.s2iScripts) labels[KEYS.s2iScripts] = du.s2iScripts;
  if (du.externalImage) labels[KEYS.externalImage] = du.externalImage;
  if (du.sbomDigest) labels[KEYS.sbomDigest] = du.sbomDigest;
  return labels;
}

const decoded = <T>(schema: z.ZodType<T>, raw: string | undefined, fallback: T, key: string): T => {
  if (raw === undefined || raw === '') return fallback;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidDuLabels(`${key} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidDuLabels(`${key}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'} ${i.message}`).join('; ')}`);
  return parsed.data;
};

/** A DU's labels do not have the shape Solum writes. */
export class InvalidDuLabels extends Error {
  override readonly name = 'InvalidDuLabels';
}

/**
 * Reads a DU's labels; undefined when the image is not a Solum DU at all (no role label), throws
 * InvalidDuLabels when a label Solum writes does not parse. Pure.
 */
export function readDuLabels(labels: Readonly<Record<string, string>> | undefined): DuLabels | undefined {
  if (labels?.[LABEL.role] !== 'deployment-unit') return undefined;
  const buildId = labels[LABEL.buildId];
  return {
    installation: labels[LABEL.installation] ?? '',
    app: labels[LABEL.app] ?? '',
    build: Number(labels[LABEL.build] ?? 0),
    buildId: buildId ? Number(buildId) : null,
    languagePack: labels[LABEL.languagePack] ?? null,
    languagePackImage: labels[KEYS.languagePackImage] || null,
    languagePacks: decoded(z.array(packUse), labels[KEYS.languagePacks], [], KEYS.languagePacks),
    buildpacks: decoded(z.array(buildpackUse), labels[KEYS.buildpacks], [], KEYS.buildpacks),
    processTypes: decoded(z.record(z.string(), z.string()), labels[KEYS.processTypes], {}, KEYS.processTypes),
    manifest: decoded(manifestSchema, labels[KEYS.manifest], { env: {} }, KEYS.manifest),
    revision: labels[KEYS.revision] ?? null,
    s2iScripts: labels[KEYS.s2iScripts] ?? null,
    externalImage: labels[KEYS.externalImage] ?? null,
    sbomDigest: labels[KEYS.sbomDigest] ?? null,
  };
}
