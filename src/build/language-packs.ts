// Language packs: a builder image plus its manifest; stock packs ship in language-packs/<name>/.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';

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
  /** `builder`: the build command runs in the pack's image; `dockerfile`: the app's Dockerfile is built. */
  readonly kind: 'builder' | 'dockerfile';
  /** Directories kept between an app's builds (a per-app volume). */
  readonly cache: readonly string[];
}

const manifestSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/),
  version: z.string().min(1),
  detect: z.array(z.string().min(1)).default([]),
  build: z.string().min(1),
  run: z.string().min(1).optional(),
  network: z.enum(['none', 'host']).default('none'),
  kind: z.enum(['builder', 'dockerfile']).default('builder'),
  cache: z.array(z.string().regex(/^\/[\w./-]+$/, 'cache directories are absolute paths')).max(8).default([]),
});

export const stockPackImage = (name: string): string => `solum/lp-${name}:latest`;

/** A pack from its manifest (as in solum-pack.json) and its image, or a clear error. */
export function packFromManifest(raw: unknown, image: string): LanguagePack {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('bad_request', `invalid language pack manifest: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  const { run, ...rest } = parsed.data;
  return { ...rest, run, image };
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
  return ruled.find((p) => p.detect.some((f) => rootNames.has(f))) ?? packs.find((p) => p.detect.length === 0);
}
