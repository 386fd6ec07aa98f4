// What every pack kind gets for one build: the inputs, the chosen packs, the process types found so
// far, and the small helpers that turn a step's result into the build's outcome.
import type { App } from '../../db/app-store.js';
import type { Build, BuildOutcome } from '../../db/build-store.js';
import type { Containers, JobNetwork, Limits } from '../../containers/containers.js';
import { writeDuLabels, type DuManifest } from '../../containers/du-labels.js';
import { LABEL } from '../../containers/labels.js';
import type { BuildLog } from '../queue/build-log.js';
import type { LanguagePack } from '../packs/language-packs.js';
import type { SbomRecorder } from '../../supply-chain/sbom-recorder.js';
import type { AppManifest } from './app-manifest.js';

/** Why a build is being stopped early. */
export type StopReason = 'canceled' | 'timeout';

export const duRepository = (app: string): string => `solum/${app}`;

export interface BuildRunInput {
  readonly build: Build;
  readonly app: App;
  readonly archive: string;
  readonly log: BuildLog;
  /** Aborted with a StopReason as its reason to stop the build. */
  readonly signal: AbortSignal;
  /** Limits for this build (the app's own, else the server's). */
  readonly limits: Limits;
}

export interface BuildContext extends BuildRunInput {
  readonly containers: Containers;
  readonly manifest: AppManifest;
  /** What the DU asks of its deploys: solum.yaml merged with app.json and the Procfile's release: (deploy-settings.ts). */
  readonly settings: DuManifest;
  /** Every pack this build runs, dependencies first; `pack` is the last (the one the DU is named after). */
  readonly chosen: readonly LanguagePack[];
  readonly pack: LanguagePack;
  /** Process types: the Procfile's, completed by each kind (web from solum.yaml, the pack, buildpacks). */
  readonly processTypes: Map<string, string>;
  /** The Procfile's own process types, which win over what buildpacks declare. */
  readonly procfileTypes: ReadonlyMap<string, string>;
  /** Labels naming the build on its builders. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * A pull request's code, which anyone who can open one wrote: it gets a throw-away cache, no
   * config vars and no artifacts of earlier builds, and nothing it leaves feeds a later build.
   */
  readonly untrusted: boolean;
  /**
   * The network of a step that needs one (a pack with network): the build's own network, made on
   * first use and removed when the build ends; 'none' for packs without network.
   */
  readonly networkFor: (packs: ReadonlyArray<Pick<LanguagePack, 'network'>>) => Promise<JobNetwork>;
  /** Records the DU's SBOM before its commit (absent: no SBOMs, as in the engine's unit tests). */
  readonly sbom?: SbomRecorder;
}

/** The DU's labels for this build, built from `packImage` and the kind's extras. */
export function duLabelsOf(c: BuildContext, packImage: string, extra: Partial<Parameters<typeof writeDuLabels>[0]> = {}): Record<string, string> {
  return writeDuLabels({
    installation: c.containers.installation,
    app: c.app.name,
    build: c.build.number,
    buildId: c.build.id,
    languagePack: c.pack.name,
    languagePackImage: packImage,
    // `release` is the release phase (Heroku's convention), never a process type to scale.
    processTypes: Object.fromEntries([...c.processTypes].filter(([type]) => type !== RELEASE_TYPE)),
    manifest: c.settings,
    revision: c.build.commit,
    ...extra,
  });
}

/** The Procfile type that is the release phase rather than a process. */
export const RELEASE_TYPE = 'release';

export const builderLabels = (app: App, build: Build): Record<string, string> => ({
  [LABEL.app]: app.name,
  [LABEL.build]: String(build.number),
  [LABEL.buildId]: String(build.id),
});

/** A failed outcome before or without a DU. */
export function failed(c: Pick<BuildContext, 'pack'> | undefined, error: string, extra: Partial<BuildOutcome> = {}): BuildOutcome {
  return { status: 'failed', exitCode: null, error, languagePack: c?.pack.name ?? null, languagePackImage: null, duId: null, duImage: null, ...extra };
}

/** The outcome of a build stopped early (canceled or timed out), if it was. */
export function stoppedOutcome(c: BuildContext): BuildOutcome | undefined {
  const reason = c.signal.aborted ? (c.signal.reason as StopReason) : undefined;
  if (reason === 'canceled') return { ...failed(c, 'canceled'), status: 'canceled' };
  if (reason === 'timeout') return failed(c, 'the build timed out');
  return undefined;
}

export function succeeded(c: BuildContext, duId: string, packImage: string | null, uses?: BuildOutcome['languagePacks']): BuildOutcome {
  return {
    languagePack: c.pack.name,
    languagePackImage: packImage,
    ...(uses ? { languagePacks: uses } : {}),
    status: 'succeeded',
    exitCode: 0,
    error: null,
    duId,
    duImage: `${duRepository(c.app.name)}:${c.build.number}`,
  };
}

/** The build's metadata file, put into the tree as .solum/build.json. */
export function buildMetadata(c: BuildContext): string {
  return `${JSON.stringify({ app: c.app.name, build: c.build.number, ref: c.build.ref, commit: c.build.commit, languagePack: c.pack.name, languagePacks: c.chosen.map((p) => p.name), processTypes: Object.fromEntries(c.processTypes) }, null, 2)}\n`;
}
