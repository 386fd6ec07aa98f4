// Language packs: a builder image plus its manifest; stock packs ship in language-packs/<name>/.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../errors.js';

export interface LanguagePack {
  readonly name: string;
  readonly version: string;
  /** The builder image reference (tag); its ID is resolved at build time. */
  readonly image: string;
  /** Files at the root of the source tree that select this pack; empty for a fallback pack. */
  readonly detect: readonly string[];
  readonly build: string;
  /** The default web command; none means apps need a Procfile web line to serve. */
  readonly run: string | undefined;
  readonly network: 'none' | 'host';
  /**
   * `builder`: the build command runs in the pack's image; `dockerfile`: the app's Dockerfile is
   * built; `buildpack`: a builder that also gets the app's Heroku buildpacks, its config vars as an
   * ENV_DIR and reports their `bin/release`; `s2i`: a source-to-image builder image driven by its
   * own scripts (sources in /tmp/src, `assemble`, CMD `run`, `save-artifacts`).
   */
  readonly kind: PackKind;
  /** Packs this one needs, built before it in the same builder (docs/decisions/0009). */
  readonly dependsOn: readonly string[];
  /** For `s2i` packs: the directory holding assemble, run and save-artifacts. */
  readonly scripts: string | undefined;
  /** Directories kept between an app's builds (a per-app volume). */
  readonly cache: readonly string[];
}

export const packKinds = ['builder', 'dockerfile', 'buildpack', 's2i'] as const;
export type PackKind = (typeof packKinds)[number];
const PACK_NAME = /^[a-z][a-z0-9-]{0,30}$/;

const manifestSchema = z
  .object({
    name: z.string().regex(PACK_NAME),
    version: z.string().min(1),
    detect: z.array(z.string().min(1)).default([]),
    build: z.string().min(1).optional(),
    run: z.string().min(1).optional(),
    network: z.enum(['none', 'host']).default('none'),
    kind: z.enum(packKinds).default('builder'),
    cache: z.array(z.string().regex(/^\/[\w./-]+$/, 'cache directories are absolute paths')).max(8).default([]),
    dependsOn: z.array(z.string().regex(PACK_NAME, 'dependencies are pack names')).max(16).default([]),
    scripts: z.string().regex(/^\/[\w./-]+$/, 'the scripts directory is an absolute path').optional(),
  })
  .refine((m) => m.kind === 's2i' || m.build !== undefined, { message: 'a build command is required (but for s2i packs)', path: ['build'] })
  .refine((m) => !m.dependsOn.includes(m.name), { message: 'a pack cannot depend on itself', path: ['dependsOn'] });

export const stockPackImage = (name: string): string => `solum/lp-${name}:latest`;

/** A pack from its manifest (as in solum-pack.json) and its image, or a clear error. */
export function packFromManifest(raw: unknown, image: string): LanguagePack {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('bad_request', `invalid language pack manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  const { run, scripts, build, ...rest } = parsed.data;
  return { ...rest, build: build ?? '', run, scripts, image };
}

export async function loadStockPacks(dir: string): Promise<LanguagePack[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const packs: LanguagePack[] = [];
  for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(dir, e.name, 'solum-pack.json');
    const pack = packFromManifest(JSON.parse(await fs.readFile(file, 'utf8')), stockPackImage(e.name));
    if (pack.name !== e.name) throw new Error(`language pack manifest ${file} names '${pack.name}', not '${e.name}'`);
    packs.push(pack);
  }
  return packs;
}

/**
 * Detection order: packs with detection rules, in name order, first match wins; then the first
 * fallback pack (no rules). With the stock packs: Dockerfile → dockerfile, package.json → node,
 * requirements.txt / pyproject.toml / setup.py / Pipfile → python, else shell.
 */
export function detectPack(packs: readonly LanguagePack[], rootNames: ReadonlySet<string>): LanguagePack | undefined {
  const ruled = packs.filter((p) => p.detect.length > 0);
  // Only plain builders fall back: the buildpack pack needs buildpacks, an s2i image its own rules.
  return ruled.find((p) => p.detect.some((f) => rootNames.has(f))) ?? packs.find((p) => p.detect.length === 0 && p.kind === 'builder');
}

/**
 * The packs a build runs, in order: each wanted pack preceded by its dependencies (depth first,
 * each pack once). A missing pack or dependency, or a cycle, is a clear error. Pure.
 */
export function resolvePacks(all: readonly LanguagePack[], wanted: readonly string[]): LanguagePack[] {
  const byName = new Map(all.map((p) => [p.name, p]));
  const out: LanguagePack[] = [];
  const done = new Set<string>();
  const visit = (name: string, path: readonly string[]): void => {
    if (done.has(name)) return;
    if (path.includes(name)) throw new AppError('bad_request', `language packs depend on each other in a cycle: ${[...path.slice(path.indexOf(name)), name].join(' → ')}`);
    const pack = byName.get(name);
    if (!pack) {
      const by = path.at(-1);
      throw new AppError('not_found', by ? `language pack '${by}' depends on '${name}', which does not exist` : `language pack '${name}' is not available`);
    }
    for (const dep of pack.dependsOn) visit(dep, [...path, name]);
    done.add(name);
    out.push(pack);
  };
  for (const name of wanted) visit(name, []);
  return out;
}
