// Pipelines as the API and SSH commands see them: pipelines, their runs and gates, and environments.
// The run state machine lives in run-advancer.ts; the build wrapper in pipeline-builds.ts.
import { randomBytes } from 'node:crypto';
import type { AppService } from '../apps/app-service.js';
import type { App, AppStore } from '../db/app-store.js';
import type { Environment, EnvironmentStore } from '../db/environment-store.js';
import type { Pipeline, PipelineRun, PipelineStore } from '../db/pipeline-store.js';
import type { Release } from '../db/release-store.js';
import type { User } from '../db/user-store.js';
import type { Deployer } from '../deploy/deployer.js';
import { parseConfigChanges } from '../deploy/release-service.js';
import type { DeployTarget, Targets } from '../deploy/target.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import { environmentsOf, gateDescription, mayApprove, nextStep, parseEnvironmentName, parsePipeline, signatureValid } from './definition.js';
import type { EnsureEnvironment } from './pipeline-environments.js';
import type { RunAdvancer } from './run-advancer.js';

export interface EnvironmentInfo {
  readonly name: string;
  readonly url: string;
  readonly release: Release | undefined;
}

export interface PipelineService {
  /** The run a build belongs to, if any: its success advances the run instead of releasing. */
  runOfBuild(buildId: number): Promise<PipelineRun | undefined>;
  /** Runs stages until the run waits at a gate or ends; returns the run's error, if it failed. */
  advance(runId: number, say: (line: string) => void): Promise<string | undefined>;
  /** The API URL of a run. */
  runUrl(id: number): string;

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
  readonly appStore: Pick<AppStore, 'findAppById'>;
  readonly store: PipelineStore;
  readonly environments: Pick<EnvironmentStore, 'list' | 'find'>;
  readonly ensureEnvironment: EnsureEnvironment;
  readonly targets: Pick<Targets, 'ofEnvironment'>;
  readonly deployer: Pick<Deployer, 'deploy'>;
  readonly advancer: RunAdvancer;
  /** The router's URL of a target name. */
  readonly url: (name: string) => string;
  readonly runUrl: (id: number) => string;
  readonly logger: Logger;
}

export function createPipelineService(d: PipelineServiceDeps): PipelineService {
  const log = d.logger.child({ component: 'pipelines' });

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

  const environmentOf = async (actor: User | null, appName: string, envName: string, need: 'read' | 'admin'): Promise<DeployTarget> => {
    const { app } = await d.apps.require(actor, appName, need);
    const env = await d.environments.find(app.id, envName);
    if (!env) throw notFound(`'${app.name}' has no environment ${JSON.stringify(envName.slice(0, 40))}`);
    return d.targets.ofEnvironment(app, env);
  };

  const info = async (app: App, env: Environment): Promise<EnvironmentInfo> => {
    const target = d.targets.ofEnvironment(app, env);
    return { name: env.name, url: d.url(target.name), release: await target.releases.activeRelease() };
  };

  return {
    runOfBuild: (buildId) => d.store.runOfBuild(buildId),
    runUrl: d.runUrl,
    advance: (runId, say) => d.advancer.advance(runId, say),

    async create(actor, appName, raw) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      const definition = parsePipeline(raw);
      for (const env of environmentsOf(definition)) await d.ensureEnvironment(app, env);
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
      for (const env of environmentsOf(definition)) await d.ensureEnvironment(app, env);
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
      await d.advancer.advance(id, () => undefined);
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
      await d.advancer.advance(id, () => undefined);
      return (await d.store.getRun(id)) ?? run;
    },

    async environments(actor, appName) {
      const { app } = await d.apps.require(actor, appName, 'read');
      return Promise.all((await d.environments.list(app.id)).map((env) => info(app, env)));
    },
    async createEnvironment(actor, appName, name) {
      const { app } = await d.apps.require(actor, appName, 'admin');
      return info(app, await d.ensureEnvironment(app, parseEnvironmentName(name)));
    },
    async environmentReleases(actor, appName, envName) {
      return (await environmentOf(actor, appName, envName, 'read')).releases.listReleases();
    },
    async environmentConfig(actor, appName, envName) {
      return (await environmentOf(actor, appName, envName, 'admin')).releases.getConfig();
    },
    async changeEnvironmentConfig(actor, appName, envName, set, unset) {
      const target = await environmentOf(actor, appName, envName, 'admin');
      const book = target.releases;
      parseConfigChanges(set, unset);
      if (Object.keys(set).length === 0 && unset.length === 0) throw badRequest('nothing to change');
      const config = await book.changeConfig(set, unset);
      const current = await book.activeRelease();
      if (!current) return { config, release: null };
      const parts = [...Object.keys(set).map((k) => `set ${k}`), ...unset.map((k) => `unset ${k}`)];
      const r = await book.createRelease({
        buildId: current.buildId,
        duId: current.duId,
        duImage: current.duImage,
        config,
        processTypes: { ...current.processTypes },
        description: `Config: ${parts.join(', ')}`,
        createdBy: actor?.name ?? null,
      });
      const error = await d.deployer.deploy(target, r, () => undefined);
      if (error) {
        await book.fail(r.id, error);
        throw conflict(`release ${target.environment?.name ?? ''} v${r.version} failed: ${error}`);
      }
      await book.activate(r.id);
      return { config, release: (await book.getRelease(r.version)) ?? r };
    },
  };
}
