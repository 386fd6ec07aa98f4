// Pipeline and environment stores on both databases.
import test from 'ava';
import { fullPipeline as full } from '../support/samples.js';
import { createAppStore } from '../../src/db/app-store.js';
import { createEnvironmentStore } from '../../src/db/environment-store.js';
import { createPipelineStore } from '../../src/db/pipeline-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import { parsePipeline } from '../../src/pipelines/definition.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';


for (const kind of databaseKinds) {
  test(`pipeline and environment stores [${kind}]`, async (t) => {
    const { db, done } = await openTestDatabase(kind);
    t.teardown(done);
    const owner = await createUserStore(db.knex).createUser(parseUserName('owner'), false);
    if (owner === 'duplicate') throw new Error('duplicate');
    const { app } = await createAppStore(db.knex).createApp(parseAppName('shop'), owner.id);
    const store = createPipelineStore(db.knex);
    const envs = createEnvironmentStore(db.knex);

    // Environments: created once, each with its own config, formation and release numbering.
    const staging = await envs.ensure(app.id, 'staging');
    t.is((await envs.ensure(app.id, 'staging')).id, staging.id);
    const production = await envs.ensure(app.id, 'production');
    t.deepEqual((await envs.list(app.id)).map((e) => e.name), ['production', 'staging']);
    t.deepEqual(await envs.releases.changeConfig(production.id, { GREETING: 'hello production' }, []), { GREETING: 'hello production' });
    t.deepEqual(await envs.releases.getConfig(staging.id), {});
    const input = { buildId: null, duId: 'sha256:du', duImage: 'solum/shop:1', config: {}, processTypes: { web: 'npm start' }, description: 'd', createdBy: null };
    const s1 = await envs.releases.createRelease({ ...input, appId: staging.id });
    const p1 = await envs.releases.createRelease({ ...input, appId: production.id });
    t.is(s1.version, 1);
    t.is(p1.version, 1);
    t.true(await envs.releases.activate(s1.id));
    t.false(await envs.releases.activate(s1.id), 'a release activates once');
    t.is((await envs.releases.activeRelease(staging.id))?.id, s1.id);
    t.is(await envs.releases.activeRelease(production.id), undefined);
    t.true(await envs.releases.fail(p1.id, 'health check failed'));
    t.is((await envs.releasesOfApp(app.id)).length, 2);
    t.deepEqual(await envs.releases.getFormation(staging.id), { web: 1 });

    // One pipeline per app; runs keep their stages in order; stage moves are conditional.
    const definition = parsePipeline(full);
    const pipeline = await store.createPipeline({ appId: app.id, definition, source: 'api', secret: 'x' });
    t.truthy(pipeline);
    t.is(await store.createPipeline({ appId: app.id, definition, source: 'repo', secret: 'y' }), undefined);
    t.is((await store.pipelineOfApp(app.id))?.secret, 'x');
    const run = await store.createRun({ appId: app.id, pipelineId: pipeline?.id ?? null, buildId: null, commit: 'abc', stages: definition.stages });
    t.deepEqual(run.stages.map((s) => s.name), definition.stages.map((s) => s.name));
    t.true(run.stages.every((s) => s.status === 'pending'));
    const first = run.stages[0];
    if (!first) throw new Error('no stage');
    t.true(await store.moveStage(first.id, ['pending'], 'running'));
    t.false(await store.moveStage(first.id, ['pending'], 'running'), 'a stage moves once from a status');
    await store.appendLog(first.id, 'line 1\n');
    await store.appendLog(first.id, 'line 2\n');
    t.true(await store.moveStage(first.id, ['running'], 'succeeded', 'someone'));
    await store.setRun(run.id, { status: 'waiting', duId: 'sha256:du', duImage: 'solum/shop:1' });
    const again = await store.getRun(run.id);
    t.like(again, { status: 'waiting', duId: 'sha256:du', app: 'shop', finishedAt: null });
    t.like(again?.stages[0], { status: 'succeeded', log: 'line 1\nline 2\n', decidedBy: 'someone' });
    t.truthy(again?.stages[0]?.finishedAt);
    t.is((await store.runsWithStatus('waiting')).length, 1);
    await store.setRun(run.id, { status: 'failed', error: 'stage x failed' });
    t.truthy((await store.getRun(run.id))?.finishedAt);
    t.is((await store.listRuns(app.id)).length, 1);
    t.true(await store.deletePipeline(pipeline?.id ?? 0));
    t.is((await store.getRun(run.id))?.pipelineId, null, 'runs outlive their pipeline');
  });
}
