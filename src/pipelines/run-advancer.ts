// The run state machine after the build: runs stages one after another (deploys, tests against an
// environment, promotion of the same DU) and stops at a gate until an approval or a signed callback
// decides it. All state is in the database, so a run waiting at a gate survives a restart.
import { LABEL } from '../containers/labels.js';
import type { Containers } from '../containers/containers.js';
import type { App, AppStore } from '../db/app-store.js';
import type { PipelineRun, PipelineStage, PipelineStore } from '../db/pipeline-store.js';
import type { ReleaseFlow } from '../deploy/release-flow.js';
import { environmentRouterName, type Targets } from '../deploy/target.js';
import type { Logger } from '../logger.js';
import { describeStage, gateDescription, nextStep, runStatusOf } from './definition.js';
import { endRun } from './pipeline-builds.js';
import type { EnsureEnvironment } from './pipeline-environments.js';
import { createStageLog, testFailure } from './stage-log.js';

export interface RunAdvancerDeps {
  readonly store: PipelineStore;
  readonly appStore: Pick<AppStore, 'findAppById'>;
  readonly ensureEnvironment: EnsureEnvironment;
  readonly targets: Pick<Targets, 'ofEnvironment'>;
  readonly flow: ReleaseFlow;
  readonly containers: Containers;
  readonly testTimeoutMs: number;
  /** Bytes of output a stage's log keeps (the build log's cap). */
  readonly logMaxBytes: number;
  /** The router's URL of a target name (`<app>-<env>`). */
  readonly url: (name: string) => string;
  /** Where the router listens, reachable from a host-network container (host mode). */
  readonly routerAddress: () => string;
  /** The base URL of an environment's web processes on its own network (isolated mode). */
  readonly webUrl: () => string;
  readonly runUrl: (id: number) => string;
  readonly logger: Logger;
  /** Told once when a run comes to wait at a gate (deploy notifications). */
  readonly onWaiting?: (app: App, run: PipelineRun, stage: string) => void;
}

export interface RunAdvancer {
  /** Runs stages until the run waits at a gate or ends; returns the run's error, if it failed. */
  advance(runId: number, say: (line: string) => void): Promise<string | undefined>;
  /** At start: runs a stopped server left mid-stage fail, and their test containers go. */
  recover(): Promise<void>;
}

export function createRunAdvancer(d: RunAdvancerDeps): RunAdvancer {
  const log = d.logger.child({ component: 'pipelines' });

  const deployTo = async (app: App, run: PipelineRun, envName: string, description: string, say: (line: string) => void): Promise<string | undefined> => {
    if (!run.duId || !run.duImage) return 'the run has no deployment unit';
    const target = d.targets.ofEnvironment(app, await d.ensureEnvironment(app, envName));
    const du = await d.containers.readDu(run.duId);
    if (!du) return `the deployment unit ${run.duImage} (${run.duId}) is missing`;
    const r = await d.flow.release(
      target,
      { buildId: run.buildId, duId: run.duId, duImage: run.duImage, config: await target.releases.getConfig(), processTypes: { ...du.processTypes }, description, createdBy: null },
      say,
    );
    return r.status === 'failed' ? (r.error ?? 'release failed') : undefined;
  };

  /** Runs one non-gate stage after the build; resolves whether it passed. */
  const runStage = async (app: App, run: PipelineRun, stage: PipelineStage, say: (line: string) => void): Promise<boolean> => {
    const out = createStageLog(d.store, stage, say, log, d.logMaxBytes);
    const spec = stage.spec;
    out.line(`-----> Stage ${stage.name}: ${describeStage(spec)}`);
    let error: string | undefined;
    try {
      if (spec.kind === 'deploy') {
        error = await deployTo(app, run, spec.environment, `Pipeline run #${run.id}: deploy ${run.duImage ?? ''} (${run.commit.slice(0, 12)})`, (l) => { out.line(l); });
      } else if (spec.kind === 'promote') {
        error = await deployTo(app, run, spec.environment, `Pipeline run #${run.id}: promote ${run.duImage ?? ''} from ${spec.from}`, (l) => { out.line(l); });
      } else if (spec.kind === 'test' && spec.environment !== null) {
        if (!run.duId) error = 'the run has no deployment unit';
        else {
          const target = d.targets.ofEnvironment(app, await d.ensureEnvironment(app, spec.environment));
          // The test joins the environment's own network and reaches its web processes there; the
          // router (on the host) is out of any container's reach unless Solum runs in host mode.
          const network = await d.containers.networks.ofTarget({ key: target.key, app: app.name });
          const host = network.kind === 'host';
          const url = host ? d.url(environmentRouterName(app.name, spec.environment)) : d.webUrl();
          const r = await d.containers.runToExit({
            image: run.duId,
            script: spec.command,
            env: { SOLUM_ENV_URL: url, SOLUM_ENV_HOST: new URL(d.url(environmentRouterName(app.name, spec.environment))).host, SOLUM_ROUTER_URL: host ? d.routerAddress() : url, SOLUM_ENVIRONMENT: spec.environment },
            role: 'pipeline-test',
            labels: { [LABEL.app]: app.name },
            network,
            onOutput: (c) => { out.output(c); },
            timeoutMs: d.testTimeoutMs,
          });
          error = testFailure(r, d.testTimeoutMs);
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
    await d.store.moveStage(stage.id, ['running'], error === undefined ? 'succeeded' : 'failed');
    return error === undefined;
  };

  const howToDecide = (run: PipelineRun, stage: PipelineStage): string[] =>
    stage.spec.kind === 'approval'
      ? [`       approve: ssh <solum> pipelines:approve ${run.id}   (or POST ${d.runUrl(run.id)}/approve; /reject refuses)`]
      : [`       callback: POST ${d.runUrl(run.id)}/callback with X-Solum-Signature: sha256=HMAC(secret, body), body {"stage":"${stage.name}","status":"success"|"failure"}`];

  return {
    async advance(runId, say) {
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
          await endRun(d.store, run, next.status, error === null ? null : `stage ${error} ${next.status === 'rejected' ? 'was rejected' : 'failed'}`);
          say(next.status === 'succeeded' ? `-----> Pipeline run #${run.id} succeeded` : `!     Pipeline run #${run.id} ${next.status} at stage ${error ?? ''}`);
          return next.status === 'succeeded' ? undefined : `pipeline run #${run.id} ${next.status}`;
        }
        const stage = run.stages[next.index];
        if (!stage) return 'no such stage';
        if (next.action === 'wait') {
          if (stage.status === 'pending' && (await d.store.moveStage(stage.id, ['pending'], 'waiting'))) d.onWaiting?.(app, run, stage.name);
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
    },
    async recover() {
      for (const run of await d.store.runsWithStatus('running')) {
        for (const s of run.stages) if (s.status === 'running') await d.store.moveStage(s.id, ['running'], 'failed');
        await endRun(d.store, run, 'failed', 'Solum stopped while a stage ran');
        log.warn({ run: run.id, app: run.app }, 'pipeline run interrupted by a restart');
      }
      // Test containers of stages a stopped server left behind.
      for (const c of await d.containers.list({ [LABEL.role]: 'pipeline-test' })) await d.containers.remove(c.id);
    },
  };
}
