// Runs one build: archive → builder container from the language pack → build command → DU commit.
import type { Build, BuildOutcome } from '../db/build-store.js';
import type { App } from '../db/app-store.js';
import { archiveWithFiles, inspectArchive } from './archive.js';
import type { ContainerEngine } from './container-engine.js';
import { detectPack, type LanguagePack } from './language-packs.js';
import type { BuildLog } from './build-log.js';
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

/** A Dockerfile LABEL/ENV value, double-quoted with JSON escaping (which Docker's parser accepts). */
const quote = (v: string): string => JSON.stringify(v);

export function createBuildRunner(opts: BuildRunnerOptions): BuildRunner {
  return async ({ build, app, archive, log, signal, limits }) => {
    const summary = await inspectArchive(archive);
    let manifest;
    try {
      manifest = parseAppManifest(summary.manifest);
    } catch (err) {
      return { status: 'failed', exitCode: null, error: (err as Error).message, languagePack: null, languagePackImage: null, duId: null, duImage: null };
    }
    const packs = opts.packs();
    // The build's own request (push option) wins over the app's pinned pack, which wins over detection.
    const wanted = build.languagePack ?? app.languagePack;
    const pack = wanted ? packs.find((p) => p.name === wanted) : detectPack(packs, summary.rootNames);
    const base = { languagePack: pack?.name ?? null, languagePackImage: null, duId: null, duImage: null };
    if (!pack) return { ...base, status: 'failed', exitCode: null, error: `language pack '${wanted ?? '(detected)'}' is not available` };
    const processTypes = new Map(parseProcfile(summary.procfile ?? ''));
    const labels = {
      'io.solum.installation': opts.installation,
      'io.solum.app': app.name,
      'io.solum.build': String(build.number),
      'io.solum.build-id': String(build.id),
    };
    const duLabels = (packImage: string): Record<string, string> => ({
      ...labels,
      // Overrides the builder's role label (and any the pack image carries) in the DU.
      'io.solum.role': 'deployment-unit',
      'io.solum.language-pack': pack.name,
      'io.solum.language-pack.image': packImage,
      'io.solum.process-types': JSON.stringify(Object.fromEntries(processTypes)),
      'io.solum.manifest': JSON.stringify(manifest),
      'org.opencontainers.image.revision': build.commit,
    });
    const stopped = (): BuildOutcome | undefined => {
      const reason = signal.aborted ? (signal.reason as StopReason) : undefined;
      if (reason === 'canceled') return { ...base, status: 'canceled', exitCode: null, error: 'canceled' };
      if (reason === 'timeout') return { ...base, status: 'failed', exitCode: null, error: 'the build timed out' };
      return undefined;
    };
    log.line(`-----> Building ${app.name} #${build.number} (${build.commit.slice(0, 12)} on ${build.ref}) with language pack ${pack.name}`);

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

    const packImage = await opts.engine.imageId(pack.image);
    if (!packImage) {
      return { ...base, status: 'failed', exitCode: null, error: `the image ${pack.image} of language pack '${pack.name}' is missing: run scripts/provision.sh` };
    }
    const web = processTypes.get('web') ?? manifest.run ?? pack.run;
    if (web !== undefined) processTypes.set('web', web);
    // One cache volume per app and pack, mounted where the pack keeps what it downloads.
    const volumes: Array<readonly [string, string]> = [];
    for (const [i, dir] of pack.cache.entries()) {
      const name = `solum-cache-${opts.installation}-${app.name}-${pack.name}-${i}`;
      await opts.engine.ensureVolume(name, { 'io.solum.installation': opts.installation, 'io.solum.app': app.name, 'io.solum.role': 'build-cache' });
      volumes.push([name, dir]);
    }
    const container = await opts.engine.createBuilder({
      image: pack.image,
      cmd: ['/usr/bin/env', ...buildOnlyEnv(opts.builderNetwork), '/bin/sh', '-c', pack.build],
      workingDir: '/app',
      labels: { ...labels, 'io.solum.role': 'builder' },
      network: pack.network,
      ...limits,
      readOnlyMounts: opts.builderNetwork.caBundle ? [[opts.builderNetwork.caBundle, CA_PATH]] : [],
      volumes,
    });
    try {
      const metadata = JSON.stringify(
        { app: app.name, build: build.number, ref: build.ref, commit: build.commit, languagePack: pack.name, processTypes: Object.fromEntries(processTypes) },
        null,
        2,
      );
      await container.putArchive(archiveWithFiles(archive, new Map([['.solum/build.json', `${metadata}\n`]])), '/app');
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
      if (early) return { ...early, languagePackImage: packImage, exitCode };
      if (exitCode !== 0) {
        const error = oomKilled
          ? `the build ran out of memory (limit ${Math.round(limits.memoryBytes / 1024 / 1024)} MB) and was killed`
          : `the build command exited with status ${exitCode}`;
        return { ...base, languagePackImage: packImage, status: 'failed', exitCode, error };
      }
      log.line('-----> Committing deployment unit');
      const duId = await container.commit({
        repo: duRepository(app.name),
        tag: String(build.number),
        changes: [
          'WORKDIR /app',
          'ENTRYPOINT []',
          `CMD ${JSON.stringify(['/bin/sh', '-c', web ?? NO_WEB])}`,
          ...Object.entries(duLabels(packImage)).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
        ],
      });
      return {
        languagePack: pack.name,
        languagePackImage: packImage,
        status: 'succeeded',
        exitCode,
        error: null,
        duId,
        duImage: `${duRepository(app.name)}:${build.number}`,
      };
    } finally {
      await container.remove();
    }
  };
}
