// The app manifest: an optional solum.yaml at the root of the pushed tree, validated with clear errors.
import { parse } from 'yaml';
import { z } from 'zod';
import { AppError } from '../../errors.js';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const schema = z
  .object({
    /** The web command when the Procfile has no web line. */
    run: z.string().min(1).max(4096).optional(),
    healthcheck: z
      .object({
        path: z.string().regex(/^\/[\x21-\x7e]*$/, 'must be an absolute URL path').max(1024),
        timeout: z.number().int().min(1).max(600).default(30),
      })
      .strict()
      .optional(),
    /** Runtime environment defaults; config vars override them. */
    env: z.record(z.string().regex(ENV_KEY, 'environment variable names use A-Z, a-z, 0-9 and _'), z.string().max(32_768)).default({}),
    /** Backing services the app needs (kinds); each deploy makes sure one of each is linked. */
    services: z
      .array(z.enum(['postgres', 'redis']))
      .max(8)
      .refine((list) => new Set(list).size === list.length, 'list each service kind once')
      .optional(),
    /** The app's pipeline; checked by src/pipelines/definition.ts when a build starts. */
    pipeline: z.unknown().optional(),
  })
  .strict();

export type AppManifest = z.infer<typeof schema>;

export const emptyManifest: AppManifest = { env: {} };

export function parseAppManifest(text: string | null): AppManifest {
  if (text === null) return emptyManifest;
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 10 }) ?? {};
  } catch (err) {
    throw new AppError('bad_request', `solum.yaml is not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('bad_request', `solum.yaml: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
