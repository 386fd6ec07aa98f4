// app.json at the root of the built tree, as Heroku and Dokku read it: the keys Solum acts on are
// checked strictly (an invalid one is refused with its key and the reason before anything is built);
// keys Solum knows but does not act on are listed, so the push can say they were ignored. Pure.
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { checkSchedule } from '../../deploy/cron-schedule.js';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const PROCESS_TYPE = /^[A-Za-z0-9_-]{1,63}$/;
/** The most processes of one type an app may ask for (the API's scaling limit). */
export const MAX_QUANTITY = 20;
const MAX_CRON = 20;
const command = z.string().trim().min(1, 'must not be empty').max(4096);

/** One of Dokku's healthchecks (docker-container-healthchecker's format); unknown keys are ignored, as there. */
const check = z
  .object({
    type: z.enum(['startup', 'liveness', 'readiness']).default('startup'),
    name: z.string().max(200).optional(),
    description: z.string().optional(),
    path: z.string().regex(/^\/[\x21-\x7e]*$/, 'must be an absolute URL path').max(1024).optional(),
    content: z.string().max(4096).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    scheme: z.literal('http', { error: 'only http is checked: Solum reaches processes on their own network' }).optional(),
    httpHeaders: z.array(z.object({ name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'is not a header name'), value: z.string().max(4096) })).max(20).default([]),
    command: z.array(z.string().max(4096)).min(1).max(64).optional(),
    uptime: z.number().int().min(1).max(600).optional(),
    listening: z.boolean().optional(),
    attempts: z.number().int().min(1).max(100).default(3),
    timeout: z.number().int().min(1).max(600).default(5),
    wait: z.number().int().min(0).max(600).default(5),
    initialDelay: z.number().int().min(0).max(600).default(0),
    warn: z.boolean().default(false),
    onFailure: z.unknown().optional(),
  })
  .loose()
  .superRefine((c, ctx) => {
    const ways = [c.path !== undefined, c.command !== undefined, c.uptime !== undefined, c.listening === true].filter(Boolean).length;
    if (ways > 1) ctx.addIssue({ code: 'custom', message: 'give one of path, command, uptime or listening, not several' });
    if (c.content !== undefined && c.path === undefined) ctx.addIssue({ code: 'custom', message: 'content is only checked with a path' });
  });

const envEntry = z.union([
  z.string().max(32_768),
  z
    .object({
      description: z.string().optional(),
      value: z.string().max(32_768).optional(),
      required: z.boolean().optional(),
      generator: z.literal('secret', { error: 'the only generator is "secret"' }).optional(),
    })
    .loose(),
]);

const cronEntry = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'use a-z, 0-9, _ and - (at most 40, starting with a letter or digit)').optional(),
    command,
    schedule: z.string().max(200).superRefine((s, ctx) => {
      const problem = checkSchedule(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    concurrency_policy: z.enum(['forbid'], { error: 'overlapping runs are always skipped: only "forbid" is accepted' }).optional(),
  })
  .loose();

const script = command.optional();

const schema = z
  .object({
    scripts: z
      .object({
        postdeploy: script,
        'pr-predestroy': z.string().optional(),
        dokku: z.object({ predeploy: script, postdeploy: script }).loose().optional(),
      })
      .loose()
      .optional(),
    env: z.record(z.string().regex(ENV_KEY, 'environment variable names use A-Z, a-z, 0-9 and _'), envEntry).default({}),
    formation: z
      .record(
        z.string().regex(PROCESS_TYPE, 'process types use A-Z, a-z, 0-9, _ and -'),
        z.object({ quantity: z.number().int().min(0).max(MAX_QUANTITY), size: z.string().optional(), max_parallel: z.number().optional() }).loose(),
      )
      .optional(),
    healthchecks: z.record(z.string().regex(PROCESS_TYPE, 'process types use A-Z, a-z, 0-9, _ and -'), z.array(check).max(20)).optional(),
    cron: z.array(cronEntry).max(MAX_CRON).optional(),
  })
  .loose();

export type AppJson = z.infer<typeof schema>;
export type AppJsonCheck = z.infer<typeof check>;

/** Keys of app.json Solum reads but does not act on (the push names the ones present). */
const IGNORED = ['name', 'description', 'keywords', 'website', 'repository', 'logo', 'success_url', 'addons', 'buildpacks', 'environments', 'stack', 'image'];

export interface ParsedAppJson {
  readonly appJson: AppJson;
  /** What the file says that Solum does not act on, for the push. */
  readonly ignored: readonly string[];
}

/**
 * An issue's key and reason. zod says only "Invalid key in record" of a record key and "Invalid
 * input" of a union (env entries are a string or an object): the inner issue is the one to name.
 */
const describe = (i: z.core.$ZodIssue): string => {
  const at = (p: readonly PropertyKey[]): string => p.map(String).join('.');
  if (i.code === 'invalid_key' && i.issues[0]) return `${at(i.path) || '(top)'}: ${i.issues[0].message}`;
  if (i.code === 'invalid_union') {
    // The branch that got furthest: its first issue below the entry itself (an object with a bad key).
    const inner = i.errors.flat().find((e) => e.path.length > 0);
    if (inner) return `${at([...i.path, ...inner.path])}: ${inner.message}`;
    return `${at(i.path) || '(top)'}: expected a string or an object`;
  }
  return `${at(i.path) || '(top)'}: ${i.message}`;
};

/** Parses app.json; throws a bad_request naming the key and the reason. Null text: there is none. Pure. */
export function parseAppJson(text: string | null): ParsedAppJson | undefined {
  if (text === null) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AppError('bad_request', `app.json is not valid JSON: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AppError('bad_request', 'app.json: (top): expected an object');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('bad_request', `app.json: ${parsed.error.issues.map(describe).join('; ')}`);
  }
  const a = parsed.data;
  const top = raw as Record<string, unknown>;
  const ignored = IGNORED.filter((k) => k in top);
  if (a.scripts?.['pr-predestroy'] !== undefined) ignored.push('scripts.pr-predestroy');
  for (const [type, f] of Object.entries(a.formation ?? {})) if (f.size !== undefined) ignored.push(`formation.${type}.size`);
  for (const [type, checks] of Object.entries(a.healthchecks ?? {})) {
    checks.forEach((c, i) => {
      if (c.type !== 'startup') ignored.push(`healthchecks.${type}.${i} (${c.type} checks are not run; startup checks are)`);
      if (c.onFailure !== undefined) ignored.push(`healthchecks.${type}.${i}.onFailure`);
    });
  }
  const ids = new Set<string>();
  for (const [i, c] of (a.cron ?? []).entries()) {
    const id = c.id ?? defaultCronId(c.schedule, c.command);
    if (ids.has(id)) throw new AppError('bad_request', `app.json: cron.${i}.id: ${id} is used twice`);
    ids.add(id);
  }
  return { appJson: a, ignored };
}

/** A cron entry's ID when app.json gives none: short and stable for the same schedule and command. Pure. */
export function defaultCronId(schedule: string, command: string): string {
  // FNV-1a over both, so the ID survives a reorder of the list and changes when the entry does.
  let h = 0x811c9dc5;
  for (const ch of `${schedule.trim()}\n${command.trim()}`) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `job-${h.toString(16).padStart(8, '0')}`;
}
