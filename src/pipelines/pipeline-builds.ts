// The build runner with an app's pipeline around it: a pushed commit's pipeline runs its tree tests
// before the DU is built, and the build is recorded as the run's build stage. Runs in the server and
// in `solum worker` processes alike, so a pipeline's gates hold wherever a build runs.
import { randomBytes } from 'node:crypto';
import { archiveWithFiles, inspectArchive } from '../build/runner/archive.js';
import { parseAppManifest } from '../build/runner/app-manifest.js';
import type { BuildEvents } from '../build/queue/build-events.js';
import type { BuildRunner } from '../build/runner/build-runner.js';
import { goesLive, isPreviewBuild } from '../build/queue/release-rules.js';
import { detectPack, type LanguagePack } from '../build/packs/language-packs.js';
import type { Containers } from '../containers/containers.js';
import { LABEL } from '../containers/labels.js';
import type { App } from '../db/app-store.js';
import type { Build, BuildOutcome } from '../db/build-store.js';
import type { Pipeline, PipelineRun, PipelineStore } from '../db/pipeline-store.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { describeStage, environmentsOf, isGate, parsePipeline, type PipelineDefinition } from './definition.js';
import type { EnsureEnvironment } from './pipeline-environments.js';
import { createStageLog, testFailure } from './stage-log.js';

export interface PipelineBuildsDeps {
  readonly store: PipelineStore;
  readonly ensureEnvironment: EnsureEnvironment;
  readonly containers: Containers;
  readonly packs: () => readonly LanguagePack[];
  /** How long a test may run. */
  readonly testTimeoutMs: number;
  /** Bytes of output a stage's log keeps (the build log's cap). */
  readonly logMaxBytes: number;
  /** The API URL of a run. */
  readonly runUrl: (id: number) => string;
  /** Tells when a build has ended, its release step included. */
  readonly events: Pick<BuildEvents, 'subscribe'>;
  readonly logger: Logger;
}

const failed = (error: string): BuildOutcome => ({ status: 'failed', exitCode: null, error, languagePack: null, languagePackImage: null, duId: null, duImage: null });

/** Ends a run: stages that never ran are skipped. */
export async function endRun(store: PipelineStore, run: PipelineRun, status: 'failed' | 'rejected' | 'succeeded', error: string | null): Promise<void> {
  for (const s of run.stages) if (s.status === 'pending' || s.status === 'waiting') await store.moveStage(s.id, ['pending', 'waiting'], 'skipped');
  await store.setRun(run.id, { status, error });
}

/** Wraps a build runner so the app's pipeline runs around its builds. */
export function pipelineBuilds(d: PipelineBuildsDeps): (inner: BuildRunner) => BuildRunner {
  const log = d.logger.child({ component: 'pipelines' });

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
    await endRun(d.store, run, 'failed', 'the run stopped after the build: its push was overtaken by another, or releasing failed');
  };

  const packFor = (build: Build, app: App, rootNames: ReadonlySet<string>): LanguagePack | undefined => {
    const packs = d.packs();
    const wanted = build.languagePack ?? app.languagePack;
    return wanted ? packs.find((p) => p.name === wanted) : detectPack(packs, rootNames);
  };

  return (inner) => async (input) => {
    const { build, app, archive } = input;
    // Only builds that would go live on the app run a pipeline; others (pull requests, other
    // branches, previews) build as before.
    if (!goesLive(build, app) || isPreviewBuild(build)) return inner(input);
    let found;
    try {
      found = await definitionFor(app, archive, (l) => { input.log.line(l); });
      for (const env of found ? environmentsOf(found.definition) : []) await d.ensureEnvironment(app, env);
    } catch (err) {
      if (err instanceof AppError) return failed(err.message);
      throw err;
    }
    if (!found) return inner(input);
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
      const out = createStageLog(d.store, stage, say, log, d.logMaxBytes);
      out.line(`-----> Stage ${stage.name}: ${describeStage(spec)}`);
      const pack = packFor(build, app, (await inspectArchive(archive)).rootNames);
      let error: string | undefined;
      if (!pack || pack.kind !== 'builder') error = `tests of the pushed tree run in a builder language pack's image; ${pack ? `'${pack.name}' has none` : 'no language pack fits this tree'}`;
      else {
        // A pack with network runs its tests on a network of their own, like its builds.
        const network = pack.network === 'host' ? await d.containers.networks.forBuild({ app: app.name, buildId: build.id }) : undefined;
        try {
          const r = await d.containers.runToExit({
            image: pack.image,
            script: spec.command,
            role: 'pipeline-test',
            labels: { [LABEL.app]: app.name, [LABEL.buildId]: String(build.id) },
            network: network ?? 'none',
            archive: { tar: () => archiveWithFiles(archive, new Map()), dir: '/app' },
            onOutput: (c) => { out.output(c); },
            timeoutMs: d.testTimeoutMs,
          });
          error = testFailure(r, d.testTimeoutMs);
        } finally {
          await network?.remove();
        }
      }
      out.line(error ? `!     Stage ${stage.name} failed: ${error}` : `-----> Stage ${stage.name} passed`);
      await out.close();
      await d.store.moveStage(stage.id, ['running'], error === undefined ? 'succeeded' : 'failed');
      if (error) {
        run = (await d.store.getRun(run.id)) ?? run;
        await endRun(d.store, run, 'failed', `stage ${stage.name} failed`);
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
      await d.store.moveStage(buildStage.id, ['running'], 'failed');
      await endRun(d.store, (await d.store.getRun(run.id)) ?? run, 'failed', 'stage build failed');
      throw err;
    }
    await d.store.appendLog(buildStage.id, `build #${build.number}: ${outcome.status}${outcome.duId ? ` → ${outcome.duId}` : ''}${outcome.error ? ` (${outcome.error})` : ''}\n`);
    await d.store.moveStage(buildStage.id, ['running'], outcome.status === 'succeeded' ? 'succeeded' : 'failed');
    if (outcome.status === 'succeeded' && outcome.duId && outcome.duImage) {
      await d.store.setRun(run.id, { status: 'running', duId: outcome.duId, duImage: outcome.duImage });
    } else {
      await endRun(d.store, (await d.store.getRun(run.id)) ?? run, 'failed', 'stage build failed');
    }
    return outcome;
  };
}
