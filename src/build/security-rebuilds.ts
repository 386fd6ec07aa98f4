// Security rebuilds (seed 004: an operator updates a package in a pack image): find every app whose
// live DU was built from an older image of its language pack, and report them or rebuild the same
// commits with the current image. DUs Solum cannot rebuild are listed for their owners.
import type { AppStore, App } from '../db/app-store.js';
import type { Build, BuildStore } from '../db/build-store.js';
import type { ReleaseStore } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import { forbidden } from '../errors.js';
import { gitEnv } from '../git/git-process.js';
import { snapshotCommit } from './archive.js';
import type { BuildQueue } from './build-queue.js';
import type { LanguagePack } from './language-packs.js';

export interface RebuildCandidate {
  readonly app: string;
  readonly release: number;
  readonly build: number | null;
  readonly commit: string | null;
  readonly languagePack: string | null;
  readonly builtWith: string | null;
  readonly current: string | null;
  /** rebuild: an older pack image; current: nothing to do; skipped: Solum cannot rebuild it (why). */
  readonly state: 'rebuild' | 'current' | 'skipped';
  readonly reason: string;
  /** The build queued for it, when asked to rebuild. */
  readonly queued: number | null;
}

export interface SecurityRebuilds {
  run(actor: User | null, options: { pack?: string | undefined; rebuild: boolean }): Promise<RebuildCandidate[]>;
}

/** What to do about one live release. Pure. */
export function judge(build: Build | undefined, pack: LanguagePack | undefined, currentImage: string | null): { state: RebuildCandidate['state']; reason: string } {
  if (!build || build.source === 'image') return { state: 'skipped', reason: 'the live DU is a registered image, not a Solum build: its owner must rebuild it' };
  if (!pack) return { state: 'skipped', reason: `language pack '${build.languagePack ?? '?'}' no longer exists` };
  if (pack.kind === 'dockerfile') return { state: 'skipped', reason: "built from the app's own Dockerfile: its owner must rebuild it" };
  if (!currentImage) return { state: 'skipped', reason: `the image of language pack '${pack.name}' is missing` };
  if (build.languagePackImage === currentImage) return { state: 'current', reason: 'built with the current pack image' };
  return { state: 'rebuild', reason: `built with an older image of language pack '${pack.name}'` };
}

export function createSecurityRebuilds(deps: {
  apps: AppStore;
  builds: BuildStore;
  releases: ReleaseStore;
  packs: () => readonly LanguagePack[];
  imageId: (ref: string) => Promise<string | undefined>;
  queue: BuildQueue;
  repoPath: (app: App) => string;
}): SecurityRebuilds {
  return {
    async run(actor, options) {
      if (!actor?.isAdmin) throw forbidden('security rebuilds are an operator task: admins only');
      const out: RebuildCandidate[] = [];
      for (const release of await deps.releases.allActive()) {
        const app = await deps.apps.findAppById(release.appId);
        if (!app) continue;
        const build = release.buildId === null ? undefined : await deps.builds.getBuild(release.buildId);
        if (options.pack && build?.languagePack !== options.pack) continue;
        const pack = deps.packs().find((p) => p.name === build?.languagePack);
        const current = pack && pack.kind === 'builder' ? ((await deps.imageId(pack.image)) ?? null) : null;
        const verdict = judge(build, pack, current);
        let queued: number | null = null;
        if (options.rebuild && verdict.state === 'rebuild' && build) {
          const archivePath = deps.queue.newArchivePath();
          await snapshotCommit({ commit: build.commit, env: gitEnv({ GIT_DIR: deps.repoPath(app) }), dest: archivePath });
          queued = (await deps.queue.enqueue({ app, ref: build.ref, commit: build.commit, archivePath, source: 'rebuild', ...(build.languagePack ? { languagePack: build.languagePack } : {}) })).number;
        }
        out.push({
          app: app.name,
          release: release.version,
          build: build?.number ?? null,
          commit: build?.commit ?? null,
          languagePack: build?.languagePack ?? null,
          builtWith: build?.languagePackImage ?? null,
          current,
          ...verdict,
          queued,
        });
      }
      return out;
    },
  };
}
