// Pipelines as users meet them: the build runner wrapped so a pushed commit's pipeline runs its
// tree tests before the DU is built; after the build, the run advances stage by stage (deploys,
// tests against an environment, gates, promotion of the same DU) and stops at a gate until an
// approval or a signed callback decides it. All state is in the database, so a run waiting at a
// gate survives a restart.
import { randomBytes } from 'node:crypto';
import type { AppService } from '../apps/app-service.js';
import { archiveWithFiles, inspectArchive } from '../build/runner/archive.js';
import { parseAppManifest } from '../build/runner/app-manifest.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import type { BuildRunner } from '../build/runner/build-runner.js';
import { releases as releasesLive } from '../build/queue/build-worker.js';
import type { ContainerEngine } from '../containers/container-engine.js';
import { detectPack, type LanguagePack } from '../build/packs/language-packs.js';
import type { App, AppStore } from '../db/app-store.js';
import type { Build, BuildOutcome } from '../db/build-store.js';
import type { Environment, EnvironmentStore } from '../db/environment-store.js';
import type { Pipeline, PipelineRun, PipelineStage, PipelineStore } from '../db/pipeline-store.js';
import type { Release } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import type { Deployer } from '../deploy/deployer.js';
import { parseConfigChanges } from '../deploy/release-service.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AppName } from '../names.js';
import {
  describeStage,
  environmentsOf,
  gateDescription,
  isGate,
  mayApprove,
  nextStep,
  parseEnvironmentName,
  parsePipeline,
  runStatusOf,
  signatureValid,
  type PipelineDefinition,
} from './definition.js';

export interface EnvironmentInfo {
  readonly name: string;
  readonly url: string;
  readonly release: Release | undefined;
}

export interface PipelineService {
  /** The build runner with the app's pipeline around it (tree tests first; the build stage recorded). */
  wrapRunner(inner: BuildRunner): BuildRunner;
  /** The run a build belongs to, if any: its success advances the run instead of releasing. */
  runOfBuild(buildId: number): Promise<PipelineRun | undefined>;
  /** Runs stages until the run waits at a gate or ends; returns the run's error, if it failed. */
  advance(runId: number, say: (line: string) => void): Promise<string | undefined>;
  /** The API URL of a run. */
  runUrl(id: number): string;
  /** At start: runs a stopped server left mid-stage fail; environments' processes are re-adopted. */
  start(): Promise<void>;
  /** Stops every environment's processes of an app (the app is being destroyed). */
  stopEnvironments(app: App): Promise<void>;

  create(actor: User | null, app: string, raw: unknown): Promise<Pipeline>;
  list(actor: User | null): Promise<Pipeline[]>;
  get(actor: User | null, id: number): Promise<{ pipeline: Pipeline; admin: boolean }>;
  update(actor: User | null, id: number, raw: unknown): Promise<Pipeline>;
  remove(actor: User | null, id: number): Promise<void>;
  runs(actor: User | null, app: string): Promise<PipelineRun[]>;
  run(actor: User | null, id: number): Promise<PipelineRun>;
  /** Decides the approval gate the run waits at; an approval runs the stages after it before returning. */
  decide(actor: User | null, id: number, approve: boolean): Promise<PipelineRun>;
  /** An external check's callback, authenticated by the HMAC of its body with the pipeline's secret. */
  callback(id: number, signature: string | undefined, body: Buffer): Promise<PipelineRun>;

  environments(actor: User | null, app: string): Promise<EnvironmentInfo[]>;
  createEnvironment(actor: User | null, app: string, name: string): Promise<EnvironmentInfo>;
  environmentReleases(actor: User | null, app: string, env: string): Promise<Release[]>;
  environmentConfig(actor: User | null, app: string, env: string): Promise<Record<string, string>>;
  /** Sets and unsets an environment's config vars; a new release of it when it runs one. */
  changeEnvironmentConfig(actor: User | null, app: string, env: string, set: Record<string, string>, unset: string[]): Promise<{ config: Record<string, string>; release: Release | null }>;
}

export interface PipelineServiceDeps {
  readonly apps: AppService;
  readonly appStore: AppStore;
  readonly store: PipelineStore;
  readonly environments: EnvironmentStore;
  /** A deployer over the environments' releases (its app IDs are environment IDs). */
  readonly deployer: Deployer;
  readonly engine: ContainerEngine;
  readonly installation: string;
  readonly packs: () => readonly LanguagePack[];
  /** CA bundle handed to tree tests like to builders. */
  readonly caBundle: string | undefined;
  readonly limits: { readonly memoryBytes: number; readonly nanoCpus: number; readonly pids: number; readonly timeoutMs: number };
  /** The router's URL of a router name (`<app>-<env>`). */
  readonly url: (routerName: string) => string;
  /** Where the router listens, reachable from a host-network container. */
  readonly routerAddress: () => string;
  /** The API URL of a run. */
  readonly runUrl: (id: number) => string;
  /** Tells when a build has ended, its release step included. */
  readonly events: Pick<BuildEvents, 'subscribe'>;
  readonly logger: Logger;
}

const CA_PATH = '/etc/ssl/certs/ca-certificates.crt';
const RUN_ID = /^[1-9][0-9]{0,9}$/;

/** The router name and process label of an environment: `<app>-<env>`; the app's own stays `<app>`. */
export const environmentRouterName = (app: string, env: string): string => `${app}-${env}`;

const failed = (error: string): BuildOutcome => ({ status: 'failed', exitCode: null, error, languagePack: null, languagePackImage: null, duId: null, duImage: null });

export function parseRunId(raw: string): number {
  if (!RUN_ID.test(raw)) throw badRequest('pipeline run IDs are positive integers');
  return Number(raw);
}

export function createPipelineService(d: PipelineServiceDeps): PipelineService {
  const log = d.logger.child({ component: 'pipelines' });

  /** An environment as the deployer sees an app: its own ID space, its router name. */
  const envApp = (app: App, env: Environment): App => ({ ...app, id: env.id, name: environmentRouterName(app.name, env.name) as AppName });

  const ensureEnvironment = async (app: App, name: string): Promise<Environment> => {
    const existing = await d.environments.find(app.id, name);
    if (existing) return existing;
    // The router tells apps and environments apart by name only: never shadow an app.
    if (await d.appStore.findApp(environmentRouterName(app.name, name) as AppName)) {
      throw conflict(`an app named ${environmentRouterName(app.name, name)} exists: choose another environment name than '${name}'`);
    }
    return d.environments.ensure(app.id, name);
  };

  /** Output of one stage: into its stored log and to whoever follows the run (the push). */
  const stageLog = (stage: PipelineStage, say: (line: string) => void) => {
    let pending = Promise.resolve();
    const write = (text: string): void => {
      pending = pending.then(() => d.store.appendLog(stage.id, text)).catch((err: unknown) => { log.error({ err }, 'storing a stage log failed'); });
    };
    let partial = '';
    return {
      line(text: string) {
        say(text);
        write(`${text}\n`);
      },
      output(chunk: Buffer | string) {
        partial += chunk.toString();
        let nl;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl).replace(/\r$/, '');
          partial = partial.slice(nl + 1);
          this.line(line);
        }
      },
      async close() {
        if (partial) this.line(partial);
        partial = '';
        await pending;
      },
    };
  };

  /** Runs a command to completion in a container; returns its exit code (or why it could not run). */
  const runContainer = async (o: { image: string; command: string; env: Record<string, string>; app: App; network: 'none' | 'host'; archive?: string; output: (c: Buffer) => void }): Promise<number | string> => {
    const container = await d.engine.createBuilder({
      image: o.image,
      cmd: ['/usr/bin/env', ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`), '/bin/sh', '-c', o.command],
      workingDir: '/app',
      labels: { 'io.solum.installation': d.installation, 'io.solum.app': o.app.name, 'io.solum.role': 'pipeline-test' },
      network: o.network,
      memoryBytes: d.limits.memoryBytes,
      nanoCpus: d.limits.nanoCpus,
      pids: d.limits.pids,
      readOnlyMounts: d.caBundle && o.network === 'host' ? [[d.caBundle, CA_PATH]] : [],
      volumes: [],
    });
    const state = { timedOut: false };
    const timer = setTimeout(() => {
      state.timedOut = true;
      container.stop().catch(() => undefined);
    }, d.limits.timeoutMs);
    try {
      if (o.archive) await container.putArchive(archiveWithFiles(o.archive, new Map()), '/app');
      const { exitCode, oomKilled } = await container.run(o.output);
      if (state.timedOut) return `timed out after ${Math.round(d.limits.timeoutMs / 1000)}s`;
      if (oomKilled) return 'ran out of memory';
      return exitCode;
    } finally {
      clearTimeout(timer);
      await container.remove();
    }
  };

  const finishStage = async (stage: PipelineStage, ok: boolean): Promise<void> => {
    await d.store.moveStage(stage.id, ['running'], ok ? 'succeeded' : 'failed');
  };

  /** After a failure or rejection the stages that never ran are skipped; the run ends. */
  const endRun = async (run: PipelineRun, status: 'failed' | 'rejected' | 'succeeded', error: string | null): Promise<void> => {
    for (const s of run.stages) if (s.status === 'pending' || s.status === 'waiting') await d.store.moveStage(s.id, ['pending', 'waiting'], 'skipped');
    await d.store.setRun(run.id, { status, error });
  };

  const deployTo = async (app: App, run: PipelineRun, envName: string, description: string, out: { line(text: string): void }): Promise<string | undefined> => {
    if (!run.duId || !run.duImage) return 'the run has no deployment unit';
    const env = await ensureEnvironment(app, envName);
    const labels = await d.engine.imageLabels(run.duId);
    if (!labels) return `the deployment unit ${run.duImage} (${run.duId}) is missing`;
    const processTypes = JSON.parse(labels['io.solum.process-types'] ?? '{}') as Record<string, string>;
    const r = await d.environments.releases.createRelease({
      appId: env.id,
      buildId: run.buildId,
      duId: run.duId,
      duImage: run.duImage,
      config: await d.environments.releases.getConfig(env.id),
      processTypes,
      description,
      createdBy: null,
    });
    const error = await d.deployer.deploy(envApp(app, env), r, (l) => { out.line(l); });
    if (error) {
      await d.environments.releases.fail(r.id, error);
      const live = await d.environments.releases.activeRelease(env.id);
      out.line(`!     ${envName} v${r.version} failed: ${error}`);
      out.line(live ? `!     ${envName} v${live.version} is still serving` : `!     nothing was serving in ${envName} before; nothing is serving now`);
      return error;
    }
    await d.environments.releases.activate(r.id);
    out.line(`-----> Released ${envName} v${r.version} (DU ${run.duId.slice(0, 19)}): ${d.url(environmentRouterName(app.name, envName))}`);
    return undefined;
  };

  /** Runs one non-gate stage after the build; resolves whether it passed. */
  const runStage = async (app: App, run: PipelineRun, stage: PipelineStage, say: (line: string) => void): Promise<boolean> => {
    const out = stageLog(stage, say);
    const spec = stage.spec;
    out.line(`-----> Stage ${stage.name}: ${describeStage(spec)}`);
    let error: string | undefined;
    try {
      if (spec.kind === 'deploy') {
        error = await deployTo(app, run, spec.environment, `Pipeline run #${run.id}: deploy ${run.duImage ?? ''} (${run.commit.slice(0, 12)})`, out);
      } else if (spec.kind === 'promote') {
        error = await deployTo(app, run, spec.environment, `Pipeline run #${run.id}: promote ${run.duImage ?? ''} from ${spec.from}`, out);
      } else if (spec.kind === 'test' && spec.environment !== null) {
        if (!run.duId) error = 'the run has no deployment unit';
        else {
          const routerName = environmentRouterName(app.name, spec.environment);
          const code = await runContainer({
            image: run.duId,
            command: spec.command,
            env: { SOLUM_ENV_URL: d.url(routerName), SOLUM_ENV_HOST: new URL(d.url(routerName)).host, SOLUM_ROUTER_URL: d.routerAddress(), SOLUM_ENVIRONMENT: spec.environment },
            app,
            network: 'host',
            output: (c) => { out.output(c); },
          });
          if (code !== 0) error = typeof code === 'number' ? `the test exited with status ${code}` : `the test ${code}`;
        }
      } else {
        // Tree tests and the build run inside the build; a run resumed here cannot redo them.
        error = `stage ${stage.name} cannot run after the build`;
      }
    } catch (err) {
      log.error({ err, run: run.id, stage: stage.name }, 'stage crashed');
      error = 'internal error (see the server log)';
    }
    if (error) out.line(`!     Stage ${stage.name} failed: ${error}`);
    else out.line(`-----> Stage ${stage.name} passed`);
    await out.close();
    await finishStage(stage, error === undefined);
    return error === undefined;
  };

  const howToDecide = (run: PipelineRun, stage: PipelineStage): string[] =>
    stage.spec.kind === 'approval'
      ? [`       approve: ssh <solum> pipelines:approve ${run.id}   (or POST ${d.runUrl(run.id)}/approve; /reject refuses)`]
      : [`       callback: POST ${d.runUrl(run.id)}/callback with X-Solum-Signature: sha256=HMAC(secret, body), body {"stage":"${stage.name}","status":"success"|"failure"}`];

  const advance = async (runId: number, say: (line: string) => void): Promise<string | undefined> => {
    for (;;) {
      const run = await d.store.getRun(runId);
      if (!run) return 'the run is gone';
      // An ended run stays as it ended (a late or repeated call changes nothing).
      if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'rejected') return run.error ?? undefined;
      const app = await d.appStore.findAppById(run.appId);
      if (!app) return 'the app is gone';
      const next = nextStep(run.stages);
      if (next.action === 'busy') return undefined;
      if (next.action === 'done') {
        const error = next.status === 'succeeded' ? null : (run.stages.find((s) => s.status === 'failed' || s.status === 'rejected')?.name ?? 'a stage');
        await endRun(run, next.status, error === null ? null : `stage ${error} ${next.status === 'rejected' ? 'was rejected' : 'failed'}`);
        say(next.status === 'succeeded' ? `-----> Pipeline run #${run.id} succeeded` : `!     Pipeline run #${run.id} ${next.status} at stage ${error ?? ''}`);
        return next.status === 'succeeded' ? undefined : `pipeline run #${run.id} ${next.status}`;
      }
      const stage = run.stages[next.index];
      if (!stage) return 'no such stage';
      if (next.action === 'wait') {
        if (stage.status === 'pending') await d.store.moveStage(stage.id, ['pending'], 'waiting');
        await d.store.setRun(run.id, { status: runStatusOf(next) });
        say(`-----> Pipeline run #${run.id} waits at gate ${stage.name}: ${gateDescription(stage.spec)}`);
        for (const l of howToDecide(run, stage)) say(l);
        say(`       run: ${d.runUrl(run.id)}`);
        return undefined;
      }
      if (!(await d.store.moveStage(stage.id, ['pending'], 'running'))) return undefined;
      await d.store.setRun(run.id, { status: 'running' });
      await runStage(app, run, stage, say);
    }
  };

  /**
   * The definition a build runs. A pipeline set through the API is the app admins' and wins: a
   * pusher cannot drop its gates with a solum.yaml. Otherwise the pushed commit's own `pipeline:`
   * applies (recorded as the app's pipeline, source 'repo'); a commit without one runs none.
   */
  const definitionFor = async (app: App, archive: string, say: (line: string) => void): Promise<{ pipeline: Pipeline; definition: PipelineDefinition } | undefined> => {
    const existing = await d.store.pipelineOfApp(app.id);
    const manifest = parseAppManifest((await inspectArchive(archive)).manifest);
    if (existing?.source === 'api') {
      if (manifest.pipeline !== undefined) say("-----> solum.yaml pipeline: ignored, this app's pipeline is set through the API (PUT /v1/pipelines/ID changes it)");
      return { pipeline: existing, definition: existing.definition };
    }
    if (manifest.pipeline === undefined) return undefined;
    const definition = parsePipeline(manifest.pipeline, 'solum.yaml pipeline');
    const pipeline = existing
      ? await d.store.updatePipeline(existing.id, definition, 'repo')
      : ((await d.store.createPipeline({ appId: app.id, definition, source: 'repo', secret: randomBytes(24).toString('hex') })) ?? (await d.store.pipelineOfApp(app.id)));
    if (!pipeline) throw new Error('pipeline vanished');
    return { pipeline, definition };
  };

  const stranded = async (id: number): Promise<void> => {
    const run = await d.store.getRun(id);
    // After the release step a run waits at a gate, has ended, or has a stage running (decided
    // elsewhere); 'running' with nothing running means nobody advanced it.
    if (run?.status !== 'running' || run.stages.some((s) => s.status === 'running')) return;
    await endRun(run, 'failed', 'the run stopped after the build: its push was overtaken by another, or releasing failed');
  };

  const packFor = (build: Build, app: App, rootNames: ReadonlySet<string>): LanguagePack | undefined => {
    const packs = d.packs();
    const wanted = build.languagePack ?? app.languagePack;
    return wanted ? packs.find((p) => p.name === wanted) : detectPack(packs, rootNames);
  };

  const wrapRunner = (inner: BuildRunner): BuildRunner => async (input) => {
    const { build, app, archive } = input;
    // Only builds that would go live run a pipeline; others (pull requests, other branches) build as before.
    if (!releasesLive(build, app)) return inner(input);
    let found;
    try {
      found = await definitionFor(app, archive, (l) => { input.log.line(l); });
    } catch (err) {
      if (err instanceof AppError) return failed(err.message);
      throw err;
    }
    if (!found) return inner(input);
    for (const env of environmentsOf(found.definition)) {
      try {
        await ensureEnvironment(app, env);
      } catch (err) {
        if (err instanceof AppError) return failed(err.message);
        throw err;
      }
    }
    let run = await d.store.createRun({ appId: app.id, pipelineId: found.pipeline.id, buildId: build.id, commit: build.commit, stages: found.definition.stages });
    const say = (l: string): void => { input.log.line(l); };
    say(`-----> Pipeline run #${run.id} (${found.pipeline.source === 'repo' ? 'solum.yaml' : 'the app pipeline'}): ${d.runUrl(run.id)}`);
    const firstGate = run.stages.findIndex((s) => isGate(s.spec));
    for (const s of run.stages.slice(0, firstGate < 0 ? undefined : firstGate + 1)) say(`       ${s.position + 1}. ${s.name}: ${describeStage(s.spec)}`);
    if (firstGate >= 0 && firstGate < run.stages.length - 1) say(`       … ${run.stages.length - firstGate - 1} more after the gate`);

    for (const stage of run.stages) {
      if (stage.spec.kind === 'build') break;
      if (stage.spec.kind !== 'test') continue;
      const spec = stage.spec;
      await d.store.moveStage(stage.id, ['pending'], 'running');
      const out = stageLog(stage, say);
      out.line(`-----> Stage ${stage.name}: ${describeStage(spec)}`);
      const summary = await inspectArchive(archive);
      const pack = packFor(build, app, summary.rootNames);
      let error: string | undefined;
      if (!pack || pack.kind !== 'builder') error = `tests of the pushed tree run in a builder language pack's image; ${pack ? `'${pack.name}' has none` : 'no language pack fits this tree'}`;
      else {
        const code = await runContainer({ image: pack.image, command: spec.command, env: {}, app, network: pack.network, archive, output: (c) => { out.output(c); } });
        if (code !== 0) error = typeof code === 'number' ? `the test exited with status ${code}` : `the test ${code}`;
      }
      out.line(error ? `!     Stage ${stage.name} failed: ${error}` : `-----> Stage ${stage.name} passed`);
      await out.close();
      await finishStage(stage, error === undefined);
      if (error) {
        run = (await d.store.getRun(run.id)) ?? run;
        await endRun(run, 'failed', `stage ${stage.name} failed`);
        return failed(`pipeline run #${run.id}: stage ${stage.name} failed (${error}); no deployment unit was built`);
      }
    }
    const buildStage = run.stages.find((s) => s.spec.kind === 'build');
    if (!buildStage) return inner(input);
    await d.store.moveStage(buildStage.id, ['pending'], 'running');
    // When the build has ended, release step included, a run nobody advanced (its push was
    // overtaken by another, so the worker released nothing) must not look as if it still ran.
    const runId = run.id;
    const unsubscribe = d.events.subscribe(build.id, {
      onLine: () => undefined,
      onFinished: () => {
        unsubscribe();
        void stranded(runId).catch((err: unknown) => { log.error({ err, run: runId }, 'checking a run after its build failed'); });
      },
    });
    let outcome: BuildOutcome;
    try {
      outcome = await inner(input);
    } catch (err) {
      await finishStage(buildStage, false);
      await endRun((await d.store.getRun(run.id)) ?? run, 'failed', 'stage build failed');
      throw err;
    }
    await d.store.appendLog(buildStage.id, `build #${build.number}: ${outcome.status}${outcome.duId ? ` → ${outcome.duId}` : ''}${outcome.error ? ` (${outcome.error})` : ''}\n`);
    await finishStage(buildStage, outcome.status === 'succeeded');
    if (outcome.status === 'succeeded' && outcome.duId && outcome.duImage) {
      await d.store.setRun(run.id, { status: 'running', duId: outcome.duId, duImage: outcome.duImage });
    } else {
      await endRun((await d.store.getRun(run.id)) ?? run, 'failed', 'stage build failed');
    }
    return outcome;
  };

  const appOfRun = async (actor: User | null, id: number, need: 'read' | 'write' | 'admin'): Promise<{ run: PipelineRun; app: App; role: 'read' | 'write' | 'admin' | null }> => {
    const run = await d.store.getRun(id);
    if (!run) throw notFound(`no pipeline run #${id}`);
    try {
      const { app, role } = await d.apps.require(actor, run.app, need);
      return { run, app, role };
    } catch (err) {
      // Callers without access learn nothing about the run.
      if (err instanceof AppError && err.code === 'not_found') throw notFound(`no pipeline run #${id}`);
      throw err;
    }
  };

  const pipelineFor = async (actor: User | null, id: number, need: 'read' | 'admin'): Promise<{ pipeline: Pipeline; admin: boolean }> => {
    const pipeline = await d.store.getPipeline(id);
    if (!pipeline) throw notFound(`no pipeline ${id}`);
    try {
      const { role } = await d.apps.require(actor, pipeline.app, need);
      return { pipeline, admin: role === 'admin' };
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') throw notFound(`no pipeline ${id}`);
      throw err;
    }
  };

  const environmentOf = async (actor: User | null, appName: string, envName: string, need: 'read' | 'admin'): Promise<{ app: App; env: Environment }> => {
    const { app } = await d.apps.require(actor, appName, need);
    const env = await d.environments.find(app.id, envName);
    if (!env) throw notFound(`'${app.name}' has no environment ${JSON.stringify(envName.slice(0, 40))}`);
    return { app, env };
  };

  const info = async (app: App, env: Environment): Promise<EnvironmentInfo> => ({
    name: env.name,
    url: d.url(environmentRouterName(app.name, env.name)),
    release: await d.environments.releases.activeRelease(env.id),
  });

  return {
    wrapRunner,
    runOfBuild: (buildId) => d.store.runOfBuild(buildId),
    runUrl: d.runUrl,
    advance,
    async start() {
      for (const run of await d.store.runsWithStatus('running')) {
        for (const s of run.stages) if (s.status === 'running') await d.store.moveStage(s.id, ['running'], 'failed');
        await endRun(run, 'failed', 'Solum stopped while a stage ran');
        log.warn({ run: run.id, app: run.app }, 'pipeline run interrupted by a restart');
      }
      // Test containers of stages a stopped server left behind.
      for (const c of await d.engine.listContainers({ 'io.solum.installation': d.installation, 'io.solum.role': 'pipeline-test' })) await d.engine.removeContainer(c.id);
      await d.deployer.adopt(async (envId) => {
        const env = await d.environments.byId(envId);
        const app = env && (await d.appStore.findAppById(env.appId));
        return env && app ? envApp(app, env) : undefined;
      });
    },
    async stopEnvironments(app) {
      for (const env of await d.environments.list(app.id)) await d.deployer.stopAll(envApp(app, env));
    },

    async create(actor, appName, raw) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      const definition = parsePipeline(raw);
      for (const env of environmentsOf(definition)) await ensureEnvironment(app, env);
      const created = await d.store.createPipeline({ appId: app.id, definition, source: 'api', secret: randomBytes(24).toString('hex') });
      if (!created) throw conflict(`'${app.name}' already has a pipeline: change it with PUT /v1/pipelines/ID`);
      return created;
    },
    async list(actor) {
      const apps = await d.apps.list(actor);
      return d.store.listPipelines(apps.map((a) => a.id));
    },
    get: (actor, id) => pipelineFor(actor, id, 'read'),
    async update(actor, id, raw) {
      const { pipeline } = await pipelineFor(actor, id, 'admin');
      const definition = parsePipeline(raw);
      const app = await d.appStore.findAppById(pipeline.appId);
      if (!app) throw notFound(`no pipeline ${id}`);
      for (const env of environmentsOf(definition)) await ensureEnvironment(app, env);
      const updated = await d.store.updatePipeline(id, definition, 'api');
      if (!updated) throw notFound(`no pipeline ${id}`);
      return updated;
    },
    async remove(actor, id) {
      await pipelineFor(actor, id, 'admin');
      await d.store.deletePipeline(id);
    },
    async runs(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      return d.store.listRuns(app.id);
    },
    async run(actor, id) {
      return (await appOfRun(actor, id, 'read')).run;
    },
    async decide(actor, id, approve) {
      if (!actor) throw new AppError('unauthenticated', 'authentication required');
      const { run, role } = await appOfRun(actor, id, 'read');
      const next = nextStep(run.stages);
      const stage = next.action === 'wait' ? run.stages[next.index] : undefined;
      if (!stage || stage.spec.kind !== 'approval') throw conflict(`pipeline run #${id} is not waiting for an approval (it is ${run.status})`);
      if (!mayApprove(stage.spec, actor, role)) throw forbidden(`gate ${stage.name} needs ${gateDescription(stage.spec)}`);
      if (!(await d.store.moveStage(stage.id, ['pending', 'waiting'], approve ? 'succeeded' : 'rejected', actor.name))) {
        throw conflict(`gate ${stage.name} of run #${id} was decided by someone else`);
      }
      await d.store.appendLog(stage.id, `${approve ? 'approved' : 'rejected'} by ${actor.name} at ${new Date().toISOString()}\n`);
      log.info({ run: id, stage: stage.name, by: actor.name, approve }, 'gate decided');
      await d.store.setRun(id, { status: 'running' });
      await advance(id, () => undefined);
      return (await d.store.getRun(id)) ?? run;
    },
    async callback(id, signature, body) {
      const run = await d.store.getRun(id);
      const pipeline = run?.pipelineId ? await d.store.getPipeline(run.pipelineId) : undefined;
      if (!run || !pipeline) throw notFound(`no pipeline run #${id}`);
      if (!signatureValid(pipeline.secret, body, signature)) throw new AppError('unauthenticated', 'the X-Solum-Signature header does not match the body (HMAC-SHA256 with the pipeline secret)');
      let parsed: { stage?: unknown; status?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8')) as { stage?: unknown; status?: unknown };
      } catch {
        throw badRequest('the callback body is not JSON');
      }
      if (parsed.status !== 'success' && parsed.status !== 'failure') throw badRequest('status is "success" or "failure"');
      const next = nextStep(run.stages);
      const stage = next.action === 'wait' ? run.stages[next.index] : undefined;
      if (!stage || stage.spec.kind !== 'external') throw conflict(`pipeline run #${id} is not waiting for an external check (it is ${run.status})`);
      if (parsed.stage !== undefined && parsed.stage !== stage.name) throw conflict(`pipeline run #${id} waits at ${stage.name}, not ${JSON.stringify(parsed.stage).slice(0, 40)}`);
      if (!(await d.store.moveStage(stage.id, ['pending', 'waiting'], parsed.status === 'success' ? 'succeeded' : 'failed', 'callback'))) {
        throw conflict(`gate ${stage.name} of run #${id} was already decided`);
      }
      await d.store.appendLog(stage.id, `external check reported ${parsed.status} at ${new Date().toISOString()}\n`);
      await d.store.setRun(id, { status: 'running' });
      await advance(id, () => undefined);
      return (await d.store.getRun(id)) ?? run;
    },

    async environments(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      return Promise.all((await d.environments.list(app.id)).map((env) => info(app, env)));
    },
    async createEnvironment(actor, appName, name) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      return info(app, await ensureEnvironment(app, parseEnvironmentName(name)));
    },
    async environmentReleases(actor, appName, envName) {
      const { env } = await environmentOf(actor, appName, envName, 'read');
      return d.environments.releases.listReleases(env.id);
    },
    async environmentConfig(actor, appName, envName) {
      const { env } = await environmentOf(actor, appName, envName, 'admin');
      return d.environments.releases.getConfig(env.id);
    },
    async changeEnvironmentConfig(actor, appName, envName, set, unset) {
      const { app, env } = await environmentOf(actor, appName, envName, 'admin');
      parseConfigChanges(set, unset);
      if (Object.keys(set).length === 0 && unset.length === 0) throw badRequest('nothing to change');
      const config = await d.environments.releases.changeConfig(env.id, set, unset);
      const current = await d.environments.releases.activeRelease(env.id);
      if (!current) return { config, release: null };
      const parts = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)];
      const r = await d.environments.releases.createRelease({
        appId: env.id,
        buildId: current.buildId,
        duId: current.duId,
        duImage: current.duImage,
        config,
        processTypes: { ...current.processTypes },
        description: `Config: ${parts.join(', ')}`,
        createdBy: actor?.name ?? null,
      });
      const error = await d.deployer.deploy(envApp(app, env), r, () => undefined);
      if (error) {
        await d.environments.releases.fail(r.id, error);
        throw conflict(`release ${env.name} v${r.version} failed: ${error}`);
      }
      await d.environments.releases.activate(r.id);
      return { config, release: (await d.environments.releases.getRelease(env.id, r.version)) ?? r };
    },
  };
}
