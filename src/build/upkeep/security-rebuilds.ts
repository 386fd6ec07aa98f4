// Security rebuilds (seed 004: an operator updates a package in a pack image): find every app whose
// live DU was built from an older image of its language pack, and report them or rebuild the same
// commits with the current image. DUs Solum cannot rebuild are listed for their owners.
import type { AppStore, App } from '../../db/app-store.js';
import type { Build, BuildStore, PackUse } from '../../db/build-store.js';
import type { ReleaseStore } from '../../db/release-store.js';
import type { User } from '../../db/user-store.js';
import { forbidden } from '../../errors.js';
import { gitEnv } from '../../git/git-process.js';
import { snapshotCommit } from '../runner/archive.js';
import type { BuildQueue } from '../queue/build-queue.js';
import { resolvePacks, type LanguagePack } from '../packs/language-packs.js';

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
  /**
   * Queues a rebuild of a build's commit with the packs it ran (security:affected uses it too);
   * answers the new build's number. The caller decides that a rebuild is wanted.
   */
  queue(app: App, build: Build): Promise<number>;
}

/**
 * What to do about one live release built with several packs (each with the image it ran and the
 * pack's current image): the first pack that cannot be judged or is stale decides. Pure.
 */
export function judgeAll(build: Build | undefined, used: ReadonlyArray<{ name: string; image: string | null; pack: LanguagePack | undefined; current: string | null }>): { state: RebuildCandidate['state']; reason: string } {
  if (!build || build.source === 'image' || used.length <= 1) return judge(build, used[0]?.pack, used[0]?.current ?? null);
  const stale: string[] = [];
  for (const u of used) {
    const v = judge({ ...build, languagePack: u.name, languagePackImage: u.image }, u.pack, u.current);
    if (v.state === 'skipped') return v;
    if (v.state === 'rebuild') stale.push(u.name);
  }
  if (stale.length > 0) return { state: 'rebuild', reason: `built with an older image of language pack${stale.length > 1 ? 's' : ''} ${stale.map((n) => `'${n}'`).join(', ')}` };
  return { state: 'current', reason: 'built with the current images of all its packs' };
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

/**
 * Whether asking for `main` alone rebuilds with the same packs (it and its dependencies); otherwise
 * the rebuild takes the app's own settings. Pure.
 */
export function rebuildsSame(all: readonly LanguagePack[], recorded: ReadonlyArray<{ name: string }>, main: string): boolean {
  try {
    return resolvePacks(all, [main]).map((p) => p.name).join('\n') === recorded.map((u) => u.name).join('\n');
  } catch {
    return false;
  }
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
  const sameBuild = (recorded: ReadonlyArray<{ name: string }>, main: string): boolean => recorded.length <= 1 || rebuildsSame(deps.packs(), recorded, main);
  const recordedPacks = (build: Build | undefined): PackUse[] =>
    build && build.languagePacks.length > 0 ? [...build.languagePacks] : build?.languagePack ? [{ name: build.languagePack, image: build.languagePackImage }] : [];
  const queue = async (app: App, build: Build): Promise<number> => {
    const recorded = recordedPacks(build);
    const archivePath = deps.queue.newArchivePath();
    await snapshotCommit({ commit: build.commit, env: gitEnv({ GIT_DIR: deps.repoPath(app) }), dest: archivePath });
    return (await deps.queue.enqueue({ app, ref: build.ref, commit: build.commit, archivePath, source: 'rebuild', ...(build.languagePack && sameBuild(recorded, build.languagePack) ? { languagePack: build.languagePack } : {}), ...(build.buildpacks.length > 0 ? { buildpacks: build.buildpacks } : {}) })).number;
  };
  return {
    queue,
    async run(actor, options) {
      if (!actor?.isAdmin) throw forbidden('security rebuilds are an operator task: admins only');
      const out: RebuildCandidate[] = [];
      for (const release of await deps.releases.allActive()) {
        const app = await deps.apps.findAppById(release.appId);
        if (!app) continue;
        const build = release.buildId === null ? undefined : await deps.builds.getBuild(release.buildId);
        // Every pack the build ran (older builds recorded only their one pack).
        const recorded = recordedPacks(build);
        if (options.pack && !recorded.some((u) => u.name === options.pack)) continue;
        const used = await Promise.all(
          recorded.map(async (u) => {
            const p = deps.packs().find((x) => x.name === u.name);
            const cur = p && p.kind !== 'dockerfile' ? ((await deps.imageId(p.image)) ?? null) : null;
            return { ...u, pack: p, current: cur };
          }),
        );
        const pack = used.at(-1)?.pack;
        const current = used.at(-1)?.current ?? null;
        const verdict = used.length > 1 ? judgeAll(build, used) : judge(build, pack, current);
        let queued: number | null = null;
        if (options.rebuild && verdict.state === 'rebuild' && build) queued = await queue(app, build);
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
