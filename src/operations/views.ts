// The JSON shape of each resource: the API's answers, the SSH commands' --json, and (as types) what
// the CLI reads. One view per shape; answers made of several are composed here too.
import type { App, Collaborator } from '../db/app-store.js';
import type { Build } from '../db/build-store.js';
import type { BuildpackArchive } from '../db/buildpack-store.js';
import type { Release } from '../db/release-store.js';
import type { ProcessInfo } from '../deploy/deployer.js';
import type { ApiToken, SshKey, User } from '../db/user-store.js';
import type { ServiceInstance, ServiceLink } from '../db/service-store.js';
import type { Pipeline, PipelineRun, PipelineStage } from '../db/pipeline-store.js';
import type { EnvironmentInfo } from '../pipelines/pipeline-service.js';
import type { ServiceInfo } from '../backing-services/service-manager.js';
import type { AppRole } from '../roles.js';
import { maskUrlCredentials } from '../terminal-text.js';
import type { CronJobInfo } from '../deploy/cron-scheduler.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const userView = (u: User) => ({ name: u.name, admin: u.isAdmin, createdAt: iso(u.createdAt) });

export const keyView = (k: SshKey) => ({ name: k.name, type: k.algo, fingerprint: k.fingerprint, createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt) });

export const tokenView = (t: ApiToken) => ({ id: t.id, name: t.name, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), revokedAt: iso(t.revokedAt) });

/** A token just made: the only time the token itself is shown. */
export const createdTokenView = (c: { token: string; info: ApiToken }) => ({ ...tokenView(c.info), token: c.token });

export const appView = (a: App) => ({
  name: a.name,
  deployBranch: a.deployBranch,
  languagePack: a.languagePack,
  public: a.public,
  buildTimeoutSeconds: a.buildTimeoutSeconds,
  buildMemoryMb: a.buildMemoryMb,
  // Credentials in a buildpack URL are never shown back, to anyone who may read the app.
  buildpacks: a.buildpacks.map(maskUrlCredentials),
  languagePacks: a.languagePacks,
  pullRequestBuilds: a.pullRequestBuilds,
  /** The directory of the repository the app builds from (null: the whole tree). */
  baseDir: a.baseDir,
  /** A push of the deploy branch builds only when it changes one of these (empty: always). */
  watchPaths: a.watchPaths,
  createdAt: iso(a.createdAt),
});

/** One app with who owns it, the caller's role (null: a public app read without one), its URL and live release (`v3`). */
export const appInfoView = (a: App, more: { owner: string | null; role: AppRole | null; url: string; release: string | null; canary: CanaryJson | null }) => ({ ...appView(a), ...more });

/** A running canary (decision 0019): its release, its share of new sessions, since when. */
export const canaryView = (c: { version: number; percent: number; since: Date }) => ({ version: c.version, percent: c.percent, since: c.since.toISOString() });
export type CanaryJson = ReturnType<typeof canaryView>;

export const collaboratorView = (c: Collaborator) => ({ user: c.user, role: c.role });

export const buildView = (b: Build) => ({
  id: b.id,
  app: b.app,
  number: b.number,
  status: b.status,
  ref: b.ref,
  commit: b.commit,
  languagePack: b.languagePack,
  /** Every pack the build ran, in order, with its image ID. */
  languagePacks: b.languagePacks,
  buildpacks: b.buildpacks.map(maskUrlCredentials),
  duId: b.duId,
  duImage: b.duImage,
  exitCode: b.exitCode,
  error: b.error === null ? null : maskUrlCredentials(b.error),
  createdAt: iso(b.createdAt),
  startedAt: iso(b.startedAt),
  finishedAt: iso(b.finishedAt),
  /** push, upload, image, rebuild */
  source: b.source,
  /** The worker that ran it (host-pid-random). */
  worker: b.workerId,
  /** For builds that go live: pending until the server released it, then done. */
  release: b.releaseState,
  /** What the DU was built with: run command, env, health check, process types, language pack. */
  duManifest: b.duManifest,
});

/** Config var names only: values are shown to app admins through the config route alone. */
export const releaseView = (r: Release) => ({
  version: r.version,
  status: r.status,
  description: r.description,
  duId: r.duId,
  duImage: r.duImage,
  buildId: r.buildId,
  configKeys: Object.keys(r.config).sort(),
  processTypes: r.processTypes,
  error: r.error,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  finishedAt: iso(r.finishedAt),
});

/** A config change: the config vars now, and the release it made (null when the app has none live). */
export const configChangeView = (r: { config: Record<string, string>; release: Release | null }) => ({ config: r.config, release: r.release ? releaseView(r.release) : null });

export const processView = (p: ProcessInfo) => ({ name: `${p.type}.${p.index}`, type: p.type, release: p.release, port: p.port, state: p.retiring ? 'retiring' : p.running ? 'up' : 'down' });

/** A backing service instance; never its password (the URL is shown to its owner by info alone). */
export const serviceView = (i: ServiceInstance, links?: readonly ServiceLink[]) => ({
  name: i.name,
  kind: i.kind,
  owner: i.owner,
  port: i.port,
  createdAt: iso(i.createdAt),
  ...(links ? { links: links.map((l) => ({ app: l.app, envVar: l.envVar })) } : {}),
});

/** One instance with its links, its container's state and its URL (for its owner and admins). */
export const serviceInfoView = (s: ServiceInfo) => ({ ...serviceView(s.instance, s.links), state: s.state, url: s.url });

export const serviceLinkView = (l: ServiceLink) => ({ service: l.service, app: l.app, envVar: l.envVar, createdAt: iso(l.createdAt) });

/** A link made or undone, and the release that set or unset its config var. */
export const linkChangeView = (r: { link: ServiceLink; release: Release | null }) => ({ ...serviceLinkView(r.link), release: r.release ? releaseView(r.release) : null });

/** An uploaded buildpack and the URL apps name it by. */
export const buildpackView = (a: BuildpackArchive) => ({ name: a.name, url: `solum-buildpack:${a.name}`, sha256: a.sha256, bytes: a.bytes, createdBy: a.createdBy, createdAt: a.createdAt.toISOString() });

/** A pipeline; its callback secret only for app admins (`withSecret`). */
export const pipelineView = (p: Pipeline, withSecret: boolean) => ({
  id: p.id,
  app: p.app,
  source: p.source,
  stages: p.definition.stages,
  ...(withSecret ? { secret: p.secret } : {}),
  createdAt: iso(p.createdAt),
  updatedAt: iso(p.updatedAt),
});

export const pipelineStageView = (s: PipelineStage) => ({
  name: s.name,
  kind: s.spec.kind,
  spec: s.spec,
  status: s.status,
  decidedBy: s.decidedBy,
  startedAt: iso(s.startedAt),
  finishedAt: iso(s.finishedAt),
  log: s.log,
});

export const pipelineRunView = (r: PipelineRun, url: string) => ({
  id: r.id,
  app: r.app,
  url,
  pipelineId: r.pipelineId,
  buildId: r.buildId,
  commit: r.commit,
  status: r.status,
  duId: r.duId,
  duImage: r.duImage,
  error: r.error,
  createdAt: iso(r.createdAt),
  finishedAt: iso(r.finishedAt),
  stages: r.stages.map(pipelineStageView),
});

/** A scheduled job of an app: its schedule, its next time, and how its runs went. */
export const cronJobView = (j: CronJobInfo) => ({
  id: j.job,
  schedule: j.schedule,
  zone: j.zone,
  command: j.command,
  nextAt: iso(j.nextAt),
  running: j.runningSince !== null,
  runningSince: iso(j.runningSince),
  runs: j.runs,
  /** Slots (and runs by hand) skipped because a run was still going. */
  skipped: j.skipped,
  lastStartedAt: iso(j.lastStartedAt),
  lastFinishedAt: iso(j.lastFinishedAt),
  lastExitCode: j.lastExitCode,
});

export const environmentView = (e: EnvironmentInfo) => ({ name: e.name, url: e.url, release: e.release ? releaseView(e.release) : null });

// The names the CLI reads these shapes by.
export type UserJson = ReturnType<typeof userView>;
export type KeyJson = ReturnType<typeof keyView>;
export type TokenJson = ReturnType<typeof tokenView>;
export type AppJson = ReturnType<typeof appView>;
export type AppInfoJson = ReturnType<typeof appInfoView>;
export type CollaboratorJson = ReturnType<typeof collaboratorView>;
export type BuildJson = ReturnType<typeof buildView>;
export type ReleaseJson = ReturnType<typeof releaseView>;
export type CronJobJson = ReturnType<typeof cronJobView>;
export type ProcessJson = ReturnType<typeof processView>;
export type ServiceJson = ReturnType<typeof serviceView>;
export type PipelineRunJson = ReturnType<typeof pipelineRunView>;
export type EnvironmentJson = ReturnType<typeof environmentView>;
