// Runs one build: archive → the language pack(s) it asks for → the pack kind's build → DU commit.
// Pack kinds: builder (and buildpack, a builder fed Heroku buildpacks), dockerfile, s2i.
import type { App } from '../../db/app-store.js';
import type { Build, BuildOutcome } from '../../db/build-store.js';
import type { BuildNetwork, Containers } from '../../containers/containers.js';
import type { SbomRecorder } from '../../supply-chain/sbom-recorder.js';
import { fetchBuildpack } from '../packs/buildpacks.js';
import { detectPack, resolvePacks, type LanguagePack } from '../packs/language-packs.js';
import { parseAppJson } from './app-json.js';
import { parseAppManifest, type AppManifest } from './app-manifest.js';
import { inspectArchive } from './archive.js';
import { builderLabels, failed, RELEASE_TYPE, type BuildContext, type BuildRunInput } from './build-context.js';
import { deploySettings, type DeploySettings } from './deploy-settings.js';
import { buildWithBuilder } from './builder-kind.js';
import { buildWithDockerfile } from './dockerfile-kind.js';
import { parseProcfile } from './procfile.js';
import { isPullRequestBuild } from '../queue/release-rules.js';
import { buildWithS2i } from './s2i-kind.js';

export { duRepository, type BuildRunInput, type StopReason } from './build-context.js';

export interface BuildRunnerOptions {
  readonly containers: Containers;
  readonly packs: () => readonly LanguagePack[];
  /** Images an app's Dockerfile may start and copy from besides its own DUs (patterns, `*` globs). */
  readonly dockerfileImages: readonly string[];
  /** The app's config vars: the buildpack pack writes them into ENV_DIR for bin/compile. */
  readonly configOf?: (appId: number) => Promise<Readonly<Record<string, string>>>;
  /** Fetches buildpack `index` as a tar under buildpackDir(index) (default: a shallow git clone here). */
  readonly fetchBuildpack?: (url: string, index: number) => Promise<{ tar: Buffer; commit: string }>;
  /** The app's newest successful build before this one (S2I incremental builds). */
  readonly previousBuild?: (app: App, build: Build) => Promise<Build | undefined>;
  readonly sbom?: SbomRecorder;
}

export type BuildRunner = (input: BuildRunInput) => Promise<BuildOutcome>;

/**
 * The packs a build runs, dependencies first. The build's own request (push option) wins over the
 * app's packs, then its pinned pack, then its buildpacks (which need the buildpack pack), then
 * detection from the tree's root names. Throws when a pack is unknown or dependencies cycle.
 */
export function choosePacks(packs: readonly LanguagePack[], build: Build, app: App, buildpackUrls: readonly string[], rootNames: ReadonlySet<string>): { wanted: readonly string[]; chosen: LanguagePack[] } {
  const wanted = build.languagePack
    ? [build.languagePack]
    : app.languagePacks.length > 0
      ? app.languagePacks
      : app.languagePack
        ? [app.languagePack]
        : buildpackUrls.length > 0
          ? ['buildpack']
          : [];
  const detected = wanted.length === 0 ? detectPack(packs, rootNames) : undefined;
  return { wanted, chosen: resolvePacks(packs, wanted.length > 0 ? wanted : detected ? [detected.name] : []) };
}

export function createBuildRunner(opts: BuildRunnerOptions): BuildRunner {
  const kinds = {
    configOf: opts.configOf ?? (() => Promise.resolve({})),
    fetchBuildpack: opts.fetchBuildpack ?? ((url: string, index: number) => fetchBuildpack(url, index)),
    ...(opts.previousBuild ? { previousBuild: opts.previousBuild } : {}),
  };
  /** The build proper, by the last pack's kind. */
  const runKind = async (c: BuildContext, dockerfile: string | null): Promise<BuildOutcome> => {
    const { chosen, pack, log, app, build } = c;
    log.line(`-----> Building ${app.name} #${build.number} (${build.commit.slice(0, 12)} on ${build.ref}) with language pack${chosen.length > 1 ? 's' : ''} ${chosen.map((p) => p.name).join(', ')}`);
    if (pack.kind === 'dockerfile') return buildWithDockerfile(c, dockerfile, opts.dockerfileImages);

    const images: string[] = [];
    for (const p of chosen) {
      const id = await opts.containers.imageId(p.image);
      if (!id) return failed(c, `the image ${p.image} of language pack '${p.name}' is missing: run scripts/provision.sh`);
      images.push(id);
    }
    const packImage = images.at(-1) ?? '';
    const uses = chosen.map((p, i) => ({ name: p.name, image: images[i] ?? null }));
    if (pack.kind === 's2i') return buildWithS2i(c, kinds, packImage, uses);
    return buildWithBuilder(c, kinds, packImage, uses, build.buildpacks.length > 0 ? build.buildpacks : app.buildpacks);
  };
  return async ({ build, app, archive, log, signal, limits }) => {
    const summary = await inspectArchive(archive);
    let manifest: AppManifest;
    let settings: DeploySettings;
    const procfile = parseProcfile(summary.procfile ?? '');
    try {
      manifest = parseAppManifest(summary.manifest);
      settings = deploySettings(manifest, parseAppJson(summary.appJson), procfile.get(RELEASE_TYPE));
    } catch (err) {
      return failed(undefined, (err as Error).message);
    }
    if (settings.sources.length > 0) {
      log.line('-----> App settings');
      for (const s of settings.sources) log.line(`       ${s}`);
    }
    // A pull request's build never goes live and gets no config: it needs none of the app's.
    if (settings.required.length > 0 && build.source !== 'pull-request') {
      const config = await kinds.configOf(app.id);
      const missing = settings.required.filter((k) => !(k in config));
      if (missing.length > 0) {
        return failed(undefined, `app.json: env ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required and not set: set ${missing.length > 1 ? 'them' : 'it'} first (config:set ${app.name} ${missing.map((k) => `${k}=…`).join(' ')}), then push again`);
      }
    }
    const buildpackUrls = build.buildpacks.length > 0 ? build.buildpacks : app.buildpacks;
    let wanted: readonly string[];
    let chosen: LanguagePack[];
    try {
      ({ wanted, chosen } = choosePacks(opts.packs(), build, app, buildpackUrls, summary.rootNames));
    } catch (err) {
      return failed(undefined, (err as Error).message);
    }
    const pack = chosen.at(-1);
    if (!pack) return failed(undefined, `language pack '${wanted[0] ?? '(detected)'}' is not available`);
    if (chosen.length > 1 && chosen.some((p) => p.kind === 'dockerfile' || p.kind === 's2i')) {
      return failed({ pack }, `dockerfile and s2i packs build alone, not with other packs (${chosen.map((p) => p.name).join(', ')})`);
    }
    const processTypes = new Map([...procfile].filter(([type]) => type !== RELEASE_TYPE));
    let network: Promise<BuildNetwork> | undefined;
    const c: BuildContext = {
      containers: opts.containers,
      build,
      app,
      archive,
      log,
      signal,
      limits,
      manifest,
      settings: settings.manifest,
      chosen,
      pack,
      processTypes,
      procfileTypes: new Map(processTypes),
      labels: builderLabels(app, build),
      untrusted: isPullRequestBuild(build),
      networkFor: (packs) => {
        if (!packs.some((p) => p.network === 'host')) return Promise.resolve('none');
        network ??= opts.containers.networks.forBuild({ app: app.name, buildId: build.id });
        return network;
      },
      ...(opts.sbom ? { sbom: opts.sbom } : {}),
    };
    try {
      return await runKind(c, summary.dockerfile);
    } finally {
      // The build's network goes with the build, whatever happened in it.
      if (network) await (await network.catch(() => undefined))?.remove();
    }
  };
}
