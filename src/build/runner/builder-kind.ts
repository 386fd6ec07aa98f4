// The builder pack kind (and buildpack, a builder fed Heroku buildpacks): one builder container
// from the first pack's image runs every chosen pack's build command over /app, then is committed.
import { Readable } from 'node:stream';
import type { BuildOutcome } from '../../db/build-store.js';
import { LABEL } from '../../containers/labels.js';
import { ENV_DIR, RELEASE_DIR, mergeProcessTypes, parseBuildpackRelease } from '../packs/buildpacks.js';
import type { LanguagePack } from '../packs/language-packs.js';
import { archiveWithFiles } from './archive.js';
import { buildMetadata, duLabelsOf, duRepository, failed, succeeded, type BuildContext } from './build-context.js';
import { runStep } from './run-step.js';
import { fileFromTar, retar, tarOf } from './tar-tools.js';

const NO_WEB = "echo 'this app has no web process: add a Procfile with a web: line' >&2; exit 1";

/** A word for sh, single-quoted. */
const sh = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/** Where packs after the first keep their /solum directory inside the builder. */
export const packDir = (name: string): string => `/solum/packs/${name}`;

/**
 * The builder's shell script for several packs (docs/decisions/0009): each pack's build command in
 * order, with a header line; a later pack's `/solum/…` paths point at its copy under packDir(name). Pure.
 */
export function multiPackScript(packs: readonly LanguagePack[], copied: ReadonlySet<string>): string {
  const lines = ['set -e'];
  packs.forEach((p, i) => {
    lines.push(`echo ${sh(`-----> Build step ${i + 1}/${packs.length}: language pack ${p.name} ${p.version}`)}`);
    if (i === 0 || !copied.has(p.name)) lines.push(`/bin/sh -c ${sh(p.build)}`);
    else lines.push(`SOLUM_PACK_DIR=${packDir(p.name)} /bin/sh -c ${sh(p.build.replace(/(^|[\s'"=])\/solum\//g, `$1${packDir(p.name)}/`))}`);
  });
  return lines.join('\n');
}

export interface BuilderKindDeps {
  /** The app's config vars: the buildpack pack writes them into ENV_DIR for bin/compile. */
  readonly configOf: (appId: number) => Promise<Readonly<Record<string, string>>>;
  /** Fetches buildpack `index` as a tar under buildpackDir(index). */
  readonly fetchBuildpack: (url: string, index: number) => Promise<{ tar: Buffer; commit: string }>;
}

export async function buildWithBuilder(c: BuildContext, d: BuilderKindDeps, packImage: string, uses: NonNullable<BuildOutcome['languagePacks']>, buildpackUrls: readonly string[]): Promise<BuildOutcome> {
  const { chosen, processTypes } = c;
  const web0 = processTypes.get('web') ?? c.manifest.run ?? [...chosen].reverse().find((p) => p.run !== undefined)?.run;
  if (web0 !== undefined) processTypes.set('web', web0);
  // One cache volume per app and pack, mounted where the pack keeps what it downloads; an untrusted
  // build gets volumes of its own, removed when it ends, so it can neither read nor poison the cache.
  const volumes: Array<readonly [string, string]> = [];
  const cacheLabels = { [LABEL.app]: c.app.name, [LABEL.role]: 'build-cache', ...(c.untrusted ? { [LABEL.buildId]: String(c.build.id) } : {}) };
  for (const p of chosen) {
    for (const [i, dir] of p.cache.entries()) {
      if (volumes.some(([, existing]) => existing === dir)) continue;
      const name = `solum-cache-${c.containers.installation}-${c.app.name}-${c.untrusted ? `b${c.build.id}-` : ''}${p.name}-${i}`;
      await c.containers.ensureVolume(name, cacheLabels);
      volumes.push([name, dir]);
    }
  }
  try {
    return await buildIn(c, d, packImage, uses, buildpackUrls, volumes);
  } finally {
    if (c.untrusted) await c.containers.removeVolumes(cacheLabels);
  }
}

async function buildIn(c: BuildContext, d: BuilderKindDeps, packImage: string, uses: NonNullable<BuildOutcome['languagePacks']>, buildpackUrls: readonly string[], volumes: ReadonlyArray<readonly [string, string]>): Promise<BuildOutcome> {
  const { chosen, pack, processTypes } = c;
  // Packs after the first bring their /solum directory (build scripts) into the first one's image.
  const extraTars: Buffer[] = [];
  const copied = new Set<string>();
  for (const p of chosen.slice(1)) {
    const dir = await c.containers.readImagePath(p.image, '/solum');
    if (!dir) continue;
    extraTars.push(await retar(dir, 'solum', packDir(p.name).slice(1)));
    copied.add(p.name);
  }
  const usesBuildpacks = chosen.some((p) => p.kind === 'buildpack');
  const fetched: Array<{ url: string; commit: string }> = [];
  if (usesBuildpacks) {
    if (buildpackUrls.length === 0) return failed(c, "no buildpacks to run: set the app's buildpacks or push with -o solum.buildpack=URL");
    for (const [i, url] of buildpackUrls.entries()) {
      c.log.line(`-----> Fetching buildpack ${i + 1}/${buildpackUrls.length}: ${url}`);
      try {
        const bp = await d.fetchBuildpack(url, i);
        extraTars.push(bp.tar);
        fetched.push({ url, commit: bp.commit });
        c.log.line(`       at ${bp.commit.slice(0, 12)}`);
      } catch (err) {
        return failed(c, (err as Error).message);
      }
    }
    // Config vars as ENV_DIR files (Heroku's contract); the pack deletes them before the commit.
    const config = c.untrusted ? {} : await d.configOf(c.app.id);
    extraTars.push(await tarOf([{ name: `${ENV_DIR}/`, content: '', mode: 0o700 }, ...Object.entries(config).map(([k, v]) => ({ name: `${ENV_DIR}/${k}`, content: v, mode: 0o600 }))]));
  }
  const job = await c.containers.createJob({
    image: chosen[0]?.image ?? pack.image,
    script: chosen.length === 1 ? pack.build : multiPackScript(chosen, copied),
    role: 'builder',
    labels: c.labels,
    network: await c.networkFor(chosen),
    limits: c.limits,
    volumes,
  });
  try {
    await job.putArchive(archiveWithFiles(c.archive, new Map([['.solum/build.json', buildMetadata(c)]])), '/app');
    for (const t of extraTars) await job.putArchive(Readable.from([t]), '/');
    const ended = await runStep(c, job, packImage, uses);
    if (ended) return ended;
    if (usesBuildpacks) {
      // Each buildpack's bin/release YAML: the last one naming process types wins; the Procfile overrides.
      const releases: Array<Map<string, string>> = [];
      for (const i of buildpackUrls.keys()) {
        const tar = await job.readArchive(`${RELEASE_DIR}/${String(i).padStart(2, '0')}.yml`);
        try {
          releases.push(parseBuildpackRelease(tar ? ((await fileFromTar(tar)) ?? '') : ''));
        } catch (err) {
          return failed(c, `buildpack ${i + 1} (${buildpackUrls[i] ?? ''}): ${(err as Error).message}`, { languagePackImage: packImage, languagePacks: uses, exitCode: 0 });
        }
      }
      const merged = mergeProcessTypes(releases, c.procfileTypes);
      processTypes.clear();
      for (const [k, v] of merged) processTypes.set(k, v);
      const web = processTypes.get('web') ?? c.manifest.run ?? pack.run;
      if (web !== undefined) processTypes.set('web', web);
      c.log.line(`-----> Process types: ${[...processTypes.keys()].join(', ') || '(none)'}`);
    }
    const sbomDigest = (await c.sbom?.fromJob(c, job, uses)) ?? null;
    c.log.line('-----> Committing deployment unit');
    const duId = await job.commit({
      repo: duRepository(c.app.name),
      tag: String(c.build.number),
      workingDir: '/app',
      cmd: ['/bin/sh', '-c', processTypes.get('web') ?? NO_WEB],
      labels: duLabelsOf(c, packImage, { languagePacks: uses, sbomDigest, ...(usesBuildpacks ? { buildpacks: fetched } : {}) }),
    });
    return succeeded(c, duId, packImage, uses);
  } finally {
    await job.remove();
  }
}
