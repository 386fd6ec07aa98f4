// Heroku buildpacks (API v2) on the host side: fetching them (a shallow git clone, never inside the
// builder) and reading what their bin/release said. The in-builder half is language-packs/buildpack/.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { parseBuildpackUrl } from '../../buildpack-url.js';
import { gitEnv, runGit } from '../../git/git-process.js';
import { snapshotCommit } from '../runner/archive.js';
import { retar } from '../runner/tar-tools.js';

/** Where the `buildpack` pack finds the buildpacks, config vars and writes each release's YAML. */
export const BUILDPACKS_DIR = 'solum/buildpacks';
export const ENV_DIR = 'solum/env';
export const RELEASE_DIR = '/solum/release';

/** The directory of buildpack `i` (00, 01, …): the pack runs them in this order. */
export const buildpackDir = (i: number): string => `${BUILDPACKS_DIR}/${String(i).padStart(2, '0')}`;

/**
 * Fetches one buildpack with `git clone --depth 1` into a temporary directory and returns it as a
 * tar under `buildpackDir(index)`, with the commit it was at. URLs were checked when they were set;
 * they are parsed again here (file:// was allowed then for admins only).
 */
export async function fetchBuildpack(url: string, index: number, timeoutMs = 120_000): Promise<{ tar: Buffer; commit: string }> {
  const { repo, ref, registered } = parseBuildpackUrl(url, true);
  if (registered !== undefined) throw new Error(`buildpack ${url} is a registered archive, not a git URL`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-buildpack-'));
  try {
    // Past its deadline the clone is killed with its helpers (git-remote-https, index-pack).
    const r = await runGit(['clone', '--quiet', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', repo, path.join(dir, 'bp')], { env: gitEnv({}), timeoutMs });
    if (r.timedOut) throw new Error(`fetching buildpack ${url} took longer than ${Math.round(timeoutMs / 1000)}s`);
    if (r.code !== 0) throw new Error(`fetching buildpack ${url} failed: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
    const env = gitEnv({ GIT_DIR: path.join(dir, 'bp', '.git') });
    const commit = (await runGit(['rev-parse', 'HEAD'], { env })).stdout.trim();
    const file = path.join(dir, 'bp.tar');
    await snapshotCommit({ commit: 'HEAD', env, dest: file });
    return { tar: await retar(await fs.readFile(file), '', buildpackDir(index)), commit };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * The `default_process_types` of a buildpack's `bin/release` output (YAML); other keys
 * (addons, config_vars) are ignored. Empty output or no process types: an empty map. Pure.
 */
export function parseBuildpackRelease(text: string): Map<string, string> {
  const types = new Map<string, string>();
  if (text.trim() === '') return types;
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 10 });
  } catch (err) {
    throw new Error(`bin/release printed invalid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  if (raw === null || raw === undefined) return types;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('bin/release must print a YAML mapping');
  const dpt = (raw as Record<string, unknown>).default_process_types;
  if (dpt === undefined || dpt === null) return types;
  if (typeof dpt !== 'object' || Array.isArray(dpt)) throw new Error('bin/release: default_process_types must be a mapping of process type to command');
  for (const [k, v] of Object.entries(dpt as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(k)) throw new Error(`bin/release: invalid process type ${JSON.stringify(k.slice(0, 64))}`);
    if (typeof v !== 'string' || v.trim() === '') throw new Error(`bin/release: the command of process type '${k}' must be a non-empty string`);
    types.set(k, v.trim());
  }
  return types;
}

/**
 * Process types of a buildpack build: the last buildpack whose release names process types wins
 * (as with Heroku's multi-buildpack); the app's Procfile overrides it per type. Pure.
 */
export function mergeProcessTypes(releases: ReadonlyArray<ReadonlyMap<string, string>>, procfile: ReadonlyMap<string, string>): Map<string, string> {
  const last = [...releases].reverse().find((r) => r.size > 0) ?? new Map<string, string>();
  return new Map([...last, ...procfile]);
}
