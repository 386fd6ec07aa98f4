// Runs one build: archive → builder container from the language pack(s) → build step(s) → DU commit.
// Pack kinds: builder (and buildpack, a builder fed Heroku buildpacks), dockerfile, s2i.
import type { Build, BuildOutcome } from '../../db/build-store.js';
import type { App } from '../../db/app-store.js';
import { archiveWithFiles, inspectArchive } from './archive.js';
import { Readable } from 'node:stream';
import type { BuilderContainer, ContainerEngine } from '../../containers/container-engine.js';
import { detectPack, resolvePacks, type LanguagePack } from '../packs/language-packs.js';
import { ENV_DIR, RELEASE_DIR, fetchBuildpack, mergeProcessTypes, parseBuildpackRelease } from '../packs/buildpacks.js';
import { fileFromTar, retar, tarOf } from './tar-tools.js';
import type { BuildLog } from '../queue/build-log.js';
import { parseAppManifest } from './app-manifest.js';
import { parseProcfile } from './procfile.js';

export interface BuildRunnerOptions {
  readonly engine: ContainerEngine;
  /** Labels every builder and DU as this installation's (see SettingsStore.installationId). */
  readonly installation: string;
  readonly packs: () => readonly LanguagePack[];
  readonly builderNetwork: {
    readonly caBundle: string | undefined;
    readonly httpProxy: string | undefined;
    readonly httpsProxy: string | undefined;
    readonly noProxy: string | undefined;
  };
  /** The app's config vars: the buildpack pack writes them into ENV_DIR for bin/compile. */
  readonly configOf?: (appId: number) => Promise<Readonly<Record<string, string>>>;
  /** Fetches buildpack `index` as a tar under buildpackDir(index) (default: a shallow git clone here). */
  readonly fetchBuildpack?: (url: string, index: number) => Promise<{ tar: Buffer; commit: string }>;
  /** The app's newest successful build before this one (S2I incremental builds). */
  readonly previousBuild?: (app: App, build: Build) => Promise<Build | undefined>;
}

/** Why a build is being stopped early. */
export type StopReason = 'canceled' | 'timeout';

export interface BuildRunInput {
  readonly build: Build;
  readonly app: App;
  readonly archive: string;
  readonly log: BuildLog;
  /** Aborted with a StopReason as its reason to stop the build. */
  readonly signal: AbortSignal;
  /** Limits for this build (the app's own, else the server's). */
  readonly limits: { readonly memoryBytes: number; readonly nanoCpus: number; readonly pids: number };
}

export type BuildRunner = (input: BuildRunInput) => Promise<BuildOutcome>;

const CA_PATH = '/etc/ssl/certs/ca-certificates.crt';
const NO_WEB = "echo 'this app has no web process: add a Procfile with a web: line' >&2; exit 1";
export const duRepository = (app: string): string => `solum/${app}`;

/** Env a builder sees only while building: passed on its command line so `docker commit` keeps none of it. */
function buildOnlyEnv(net: BuildRunnerOptions['builderNetwork']): string[] {
  const env: string[] = [];
  if (net.caBundle) env.push(`NODE_EXTRA_CA_CERTS=${CA_PATH}`, `SSL_CERT_FILE=${CA_PATH}`);
  for (const [k, v] of [
    ['HTTP_PROXY', net.httpProxy],
    ['HTTPS_PROXY', net.httpsProxy],
    ['NO_PROXY', net.noProxy],
  ] as const) {
    if (v) env.push(`${k}=${v}`, `${k.toLowerCase()}=${v}`);
  }
  return env;
}

/** The same, as `docker build` arguments (the predefined proxy build args). */
function buildOnlyArgs(net: BuildRunnerOptions['builderNetwork']): Record<string, string> {
  return Object.fromEntries(buildOnlyEnv(net).filter((e) => /PROXY=/i.test(e)).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** The image ID of the first FROM of the tree's Dockerfile, when it names a local image (for security rebuilds). */
async function baseImageOf(dockerfile: string, engine: ContainerEngine): Promise<string | null> {
  const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)/im.exec(dockerfile)?.[1];
  if (!from || from.includes('$')) return null;
  return (await engine.imageId(from)) ?? null;
}

/**
 * A Dockerfile LABEL/ENV value, double-quoted with JSON escaping (which Docker's parser accepts);
 * `$` is escaped too, or Docker would substitute variables (`$PORT` in a process type) with nothing.
 */
export const quote = (v: string): string => JSON.stringify(v).replace(/\$/g, '\\$');

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

export function createBuildRunner(opts: BuildRunnerOptions): BuildRunner {
  const fetchOne = opts.fetchBuildpack ?? ((url: string, index: number) => fetchBuildpack(url, index));
  return async ({ build, app, archive, log, signal, limits }) => {
    const summary = await inspectArchive(archive);
    const failed = (error: string, languagePack: string | null = null): BuildOutcome => ({ status: 'failed', exitCode: null, error, languagePack, languagePackImage: null, duId: null, duImage: null });
    let manifest;
    try {
      manifest = parseAppManifest(summary.manifest);
    } catch (err) {
      return failed((err as Error).message);
    }
    const packs = opts.packs();
    // The build's own request (push option) wins over the app's packs, then its pinned pack, then
    // its buildpacks (which need the buildpack pack), then detection. Dependencies come first.
    const buildpackUrls = build.buildpacks.length > 0 ? build.buildpacks : app.buildpacks;
    const wanted = build.languagePack
      ? [build.languagePack]
      : app.languagePacks.length > 0
        ? app.languagePacks
        : app.languagePack
          ? [app.languagePack]
          : buildpackUrls.length > 0
            ? ['buildpack']
            : [];
    let chosen: LanguagePack[];
    try {
      const detected = wanted.length === 0 ? detectPack(packs, summary.rootNames) : undefined;
      chosen = resolvePacks(packs, wanted.length > 0 ? wanted : detected ? [detected.name] : []);
    } catch (err) {
      return failed((err as Error).message);
    }
    const pack = chosen.at(-1);
    const base = { languagePack: pack?.name ?? null, languagePackImage: null, duId: null, duImage: null };
    if (!pack) return { ...base, status: 'failed', exitCode: null, error: `language pack '${wanted[0] ?? '(detected)'}' is not available` };
    if (chosen.length > 1 && chosen.some((p) => p.kind === 'dockerfile' || p.kind === 's2i')) {
      return { ...base, status: 'failed', exitCode: null, error: `dockerfile and s2i packs build alone, not with other packs (${chosen.map((p) => p.name).join(', ')})` };
    }
    const processTypes = new Map(parseProcfile(summary.procfile ?? ''));
    const procfileTypes = new Map(processTypes);
    const labels = {
      'io.solum.installation': opts.installation,
      'io.solum.app': app.name,
      'io.solum.build': String(build.number),
      'io.solum.build-id': String(build.id),
    };
    const duLabels = (packImage: string, extra: Record<string, string> = {}): Record<string, string> => ({
      ...labels,
      // Overrides the builder's role label (and any the pack image carries) in the DU.
      'io.solum.role': 'deployment-unit',
      'io.solum.language-pack': pack.name,
      'io.solum.language-pack.image': packImage,
      'io.solum.process-types': JSON.stringify(Object.fromEntries(processTypes)),
      'io.solum.manifest': JSON.stringify(manifest),
      'org.opencontainers.image.revision': build.commit,
      ...extra,
    });
    const stopped = (): BuildOutcome | undefined => {
      const reason = signal.aborted ? (signal.reason as StopReason) : undefined;
      if (reason === 'canceled') return { ...base, status: 'canceled', exitCode: null, error: 'canceled' };
      if (reason === 'timeout') return { ...base, status: 'failed', exitCode: null, error: 'the build timed out' };
      return undefined;
    };
    log.line(`-----> Building ${app.name} #${build.number} (${build.commit.slice(0, 12)} on ${build.ref}) with language pack${chosen.length > 1 ? 's' : ''} ${chosen.map((p) => p.name).join(', ')}`);

    if (pack.kind === 'dockerfile') {
      // The app's own Dockerfile, with the pushed tree as context; the image is the DU. Without a
      // Procfile web line (or solum.yaml run) the image's own CMD is the web command ('').
      const web = processTypes.get('web') ?? manifest.run ?? '';
      processTypes.set('web', web);
      const fromImage = await baseImageOf(summary.dockerfile ?? '', opts.engine);
      try {
        const duId = await opts.engine.buildImage(archiveWithFiles(archive, new Map()), {
          tag: `${duRepository(app.name)}:${build.number}`,
          labels: duLabels(fromImage ?? ''),
          network: pack.network,
          buildArgs: buildOnlyArgs(opts.builderNetwork),
          memoryBytes: limits.memoryBytes,
          signal,
          onOutput: (text) => { log.output(text); },
        });
        return { ...base, languagePackImage: fromImage, status: 'succeeded', exitCode: 0, error: null, duId, duImage: `${duRepository(app.name)}:${build.number}` };
      } catch (err) {
        return stopped() ?? { ...base, status: 'failed', exitCode: null, error: `docker build failed: ${(err as Error).message.split('\n')[0] ?? ''}` };
      }
    }

    const images: string[] = [];
    for (const p of chosen) {
      const id = await opts.engine.imageId(p.image);
      if (!id) return { ...base, status: 'failed', exitCode: null, error: `the image ${p.image} of language pack '${p.name}' is missing: run scripts/provision.sh` };
      images.push(id);
    }
    const packImage = images.at(-1) ?? '';
    const uses = chosen.map((p, i) => ({ name: p.name, image: images[i] ?? null }));
    const usesLabel = { 'io.solum.language-packs': JSON.stringify(uses) };
    const metadata = (): string =>
      `${JSON.stringify({ app: app.name, build: build.number, ref: build.ref, commit: build.commit, languagePack: pack.name, languagePacks: chosen.map((p) => p.name), processTypes: Object.fromEntries(processTypes) }, null, 2)}\n`;
    const runBuilder = async (container: BuilderContainer): Promise<BuildOutcome | undefined> => {
      const stop = (): void => {
        container.stop().catch(() => undefined);
      };
      if (signal.aborted) stop();
      signal.addEventListener('abort', stop, { once: true });
      const { exitCode, oomKilled } = await container.run((chunk) => {
        log.output(chunk);
      });
      signal.removeEventListener('abort', stop);
      const early = stopped();
      if (early) return { ...early, languagePackImage: packImage, exitCode, languagePacks: uses };
      if (exitCode !== 0) {
        const error = oomKilled
          ? `the build ran out of memory (limit ${Math.round(limits.memoryBytes / 1024 / 1024)} MB) and was killed`
          : `the build command exited with status ${exitCode}`;
        return { ...base, languagePackImage: packImage, status: 'failed', exitCode, error, languagePacks: uses };
      }
      return undefined;
    };
    const succeeded = (duId: string): BuildOutcome => ({
      languagePack: pack.name,
      languagePackImage: packImage,
      languagePacks: uses,
      status: 'succeeded',
      exitCode: 0,
      error: null,
      duId,
      duImage: `${duRepository(app.name)}:${build.number}`,
    });

    if (pack.kind === 's2i') return runS2i(pack, packImage);

    const web0 = processTypes.get('web') ?? manifest.run ?? [...chosen].reverse().find((p) => p.run !== undefined)?.run;
    if (web0 !== undefined) processTypes.set('web', web0);
    // One cache volume per app and pack, mounted where the pack keeps what it downloads.
    const volumes: Array<readonly [string, string]> = [];
    for (const p of chosen) {
      for (const [i, dir] of p.cache.entries()) {
        if (volumes.some(([, d]) => d === dir)) continue;
        const name = `solum-cache-${opts.installation}-${app.name}-${p.name}-${i}`;
        await opts.engine.ensureVolume(name, { 'io.solum.installation': opts.installation, 'io.solum.app': app.name, 'io.solum.role': 'build-cache' });
        volumes.push([name, dir]);
      }
    }
    // Packs after the first bring their /solum directory (build scripts) into the first one's image.
    const extraTars: Buffer[] = [];
    const copied = new Set<string>();
    for (const p of chosen.slice(1)) {
      const dir = await opts.engine.readImagePath(p.image, '/solum');
      if (!dir) continue;
      extraTars.push(await retar(dir, 'solum', packDir(p.name).slice(1)));
      copied.add(p.name);
    }
    const usesBuildpacks = chosen.some((p) => p.kind === 'buildpack');
    const fetched: Array<{ url: string; commit: string }> = [];
    if (usesBuildpacks) {
      if (buildpackUrls.length === 0) {
        return { ...base, status: 'failed', exitCode: null, error: "no buildpacks to run: set the app's buildpacks or push with -o solum.buildpack=URL" };
      }
      for (const [i, url] of buildpackUrls.entries()) {
        log.line(`-----> Fetching buildpack ${i + 1}/${buildpackUrls.length}: ${url}`);
        try {
          const bp = await fetchOne(url, i);
          extraTars.push(bp.tar);
          fetched.push({ url, commit: bp.commit });
          log.line(`       at ${bp.commit.slice(0, 12)}`);
        } catch (err) {
          return { ...base, status: 'failed', exitCode: null, error: (err as Error).message };
        }
      }
      // Config vars as ENV_DIR files (Heroku's contract); the pack deletes them before the commit.
      const config = opts.configOf ? await opts.configOf(app.id) : {};
      extraTars.push(await tarOf([{ name: `${ENV_DIR}/`, content: '', mode: 0o700 }, ...Object.entries(config).map(([k, v]) => ({ name: `${ENV_DIR}/${k}`, content: v, mode: 0o600 }))]));
    }
    const script = chosen.length === 1 ? pack.build : multiPackScript(chosen, copied);
    const container = await opts.engine.createBuilder({
      image: chosen[0]?.image ?? pack.image,
      cmd: ['/usr/bin/env', ...buildOnlyEnv(opts.builderNetwork), '/bin/sh', '-c', script],
      workingDir: '/app',
      labels: { ...labels, 'io.solum.role': 'builder' },
      network: chosen.some((p) => p.network === 'host') ? 'host' : 'none',
      ...limits,
      readOnlyMounts: opts.builderNetwork.caBundle ? [[opts.builderNetwork.caBundle, CA_PATH]] : [],
      volumes,
    });
    try {
      await container.putArchive(archiveWithFiles(archive, new Map([['.solum/build.json', metadata()]])), '/app');
      for (const t of extraTars) await container.putArchive(Readable.from([t]), '/');
      const ended = await runBuilder(container);
      if (ended) return ended;
      const extra: Record<string, string> = { ...usesLabel };
      if (usesBuildpacks) {
        // Each buildpack's bin/release YAML: the last one naming process types wins; the Procfile overrides.
        const releases: Array<Map<string, string>> = [];
        for (const i of buildpackUrls.keys()) {
          const tar = await container.readArchive(`${RELEASE_DIR}/${String(i).padStart(2, '0')}.yml`);
          try {
            releases.push(parseBuildpackRelease(tar ? ((await fileFromTar(tar)) ?? '') : ''));
          } catch (err) {
            return { ...base, languagePackImage: packImage, languagePacks: uses, status: 'failed', exitCode: 0, error: `buildpack ${i + 1} (${buildpackUrls[i] ?? ''}): ${(err as Error).message}` };
          }
        }
        const merged = mergeProcessTypes(releases, procfileTypes);
        processTypes.clear();
        for (const [k, v] of merged) processTypes.set(k, v);
        const web = processTypes.get('web') ?? manifest.run ?? pack.run;
        if (web !== undefined) processTypes.set('web', web);
        log.line(`-----> Process types: ${[...processTypes.keys()].join(', ') || '(none)'}`);
        extra['io.solum.buildpacks'] = JSON.stringify(fetched);
      }
      const web = processTypes.get('web');
      log.line('-----> Committing deployment unit');
      const duId = await container.commit({
        repo: duRepository(app.name),
        tag: String(build.number),
        changes: [
          'WORKDIR /app',
          'ENTRYPOINT []',
          `CMD ${JSON.stringify(['/bin/sh', '-c', web ?? NO_WEB])}`,
          ...Object.entries(duLabels(packImage, extra)).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
        ],
      });
      return succeeded(duId);
    } finally {
      await container.remove();
    }

    /**
     * Source-to-image: the sources go to /tmp/src, the image's `assemble` builds them, its `run` is
     * the DU's command. With `save-artifacts` in the previous DU, its output lands in /tmp/artifacts.
     */
    async function runS2i(s2i: LanguagePack, s2iImage: string): Promise<BuildOutcome> {
      const scripts = s2i.scripts ?? '/usr/libexec/s2i';
      const run = `${scripts}/run`;
      const web = processTypes.get('web') ?? run;
      processTypes.set('web', web);
      const builderOf = (image: string, cmd: readonly string[], role: string): Promise<BuilderContainer> =>
        opts.engine.createBuilder({
          image,
          cmd,
          // The image's own working directory.
          workingDir: '',
          labels: { ...labels, 'io.solum.role': role },
          network: role === 'builder' ? s2i.network : 'none',
          ...limits,
          readOnlyMounts: role === 'builder' && opts.builderNetwork.caBundle ? [[opts.builderNetwork.caBundle, CA_PATH]] : [],
          volumes: [],
        });
      let artifacts: Buffer | undefined;
      const previous = opts.previousBuild ? await opts.previousBuild(app, build) : undefined;
      if (previous?.duImage && previous.languagePack === s2i.name && (await opts.engine.imageId(previous.duImage))) {
        const saver = await builderOf(
          previous.duImage,
          ['/bin/sh', '-c', `[ -x ${sh(`${scripts}/save-artifacts`)} ] || exit 99; mkdir -p /tmp/solum-artifacts && ${sh(`${scripts}/save-artifacts`)} | tar -x -C /tmp/solum-artifacts`],
          'builder',
        );
        try {
          const { exitCode } = await saver.run((chunk) => { log.output(chunk); });
          if (exitCode === 0) {
            const saved = await saver.readArchive('/tmp/solum-artifacts');
            if (saved) artifacts = await retar(saved, 'solum-artifacts', 'tmp/artifacts');
            log.line(`-----> Restored artifacts of build #${previous.number} (save-artifacts)`);
          } else if (exitCode === 99) {
            log.line('-----> The image has no save-artifacts: a clean build');
          } else {
            log.line(`-----> save-artifacts failed (status ${exitCode}): a clean build`);
          }
        } finally {
          await saver.remove();
        }
      }
      const container = await builderOf(s2i.image, ['/usr/bin/env', ...buildOnlyEnv(opts.builderNetwork), '/bin/sh', '-c', `${scripts}/assemble`], 'builder');
      try {
        await container.putArchive(Readable.from([await retar(archiveWithFiles(archive, new Map([['.solum/build.json', metadata()]])), '', 'tmp/src')]), '/');
        if (artifacts) await container.putArchive(Readable.from([artifacts]), '/');
        const ended = await runBuilder(container);
        if (ended) return ended;
        log.line('-----> Committing deployment unit');
        const duId = await container.commit({
          repo: duRepository(app.name),
          tag: String(build.number),
          changes: [
            'ENTRYPOINT []',
            `CMD ${JSON.stringify(web === run ? [run] : ['/bin/sh', '-c', web])}`,
            ...Object.entries(duLabels(s2iImage, { ...usesLabel, 'io.solum.s2i.scripts': scripts })).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
          ],
        });
        return succeeded(duId);
      } finally {
        await container.remove();
      }
    }
  };
}
