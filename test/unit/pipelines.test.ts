// Pipeline logic without mocks: definition parsing and validation, the next-stage decision, who may
// approve, callback signatures; and the pipeline and environment stores on both databases.
import test from 'ava';
import { createAppStore } from '../../src/db/app-store.js';
import { createEnvironmentStore } from '../../src/db/environment-store.js';
import { createPipelineStore } from '../../src/db/pipeline-store.js';
import { createUserStore } from '../../src/db/user-store.js';
import { parseAppName, parseUserName } from '../../src/names.js';
import {
  environmentsOf,
  mayApprove,
  nextStep,
  parseEnvironmentName,
  parsePipeline,
  runStatusOf,
  signBody,
  signatureValid,
  type StageSpec,
  type StageStatus,
} from '../../src/pipelines/definition.js';
import { databaseKinds, openTestDatabase } from '../support/database.js';

const full = {
  stages: [
    { name: 'unit-test', test: 'npm test' },
    'build',
    { deploy: 'staging' },
    { name: 'smoke', test: 'node smoke.js', environment: 'staging' },
    { gate: 'approval', users: ['carol'] },
    { gate: 'external', name: 'ci' },
    { promote: 'production' },
  ],
};

test('a full pipeline parses into typed stages with default names', (t) => {
  const d = parsePipeline(full);
  t.deepEqual(
    d.stages.map((s) => [s.kind, s.name]),
    [
      ['test', 'unit-test'],
      ['build', 'build'],
      ['deploy', 'deploy-staging'],
      ['test', 'smoke'],
      ['approval', 'approval'],
      ['external', 'ci'],
      ['promote', 'promote-production'],
    ],
  );
  t.deepEqual(d.stages[4], { kind: 'approval', name: 'approval', role: null, users: ['carol'] });
  t.deepEqual(d.stages[6], { kind: 'promote', name: 'promote-production', environment: 'production', from: 'staging' });
  t.deepEqual(d.stages[3], { kind: 'test', name: 'smoke', command: 'node smoke.js', environment: 'staging' });
  t.deepEqual(environmentsOf(d), ['staging', 'production']);
  // An approval gate without users or role needs an app admin.
  t.deepEqual(parsePipeline({ stages: ['build', { gate: 'approval' }] }).stages[1], { kind: 'approval', name: 'approval', role: 'admin', users: [] });
});

test('invalid pipelines are refused with every problem named', (t) => {
  const bad = (raw: unknown, pattern: RegExp): void => {
    const err = t.throws(() => parsePipeline(raw));
    t.regex(err.message, pattern);
  };
  bad({ stages: [{ deploy: 'staging' }] }, /deploy needs the build before it.*a pipeline needs a build stage/);
  bad({ stages: ['build', 'build'] }, /a pipeline builds once/);
  bad({ stages: ['build', { test: 'npm test' }] }, /runs before the build/);
  bad({ stages: ['build', { test: 'x', environment: 'staging' }] }, /'staging' is not deployed by an earlier stage/);
  bad({ stages: ['build', { promote: 'production' }] }, /promote needs an earlier deploy stage/);
  bad({ stages: ['build', { deploy: 'staging' }, { promote: 'staging' }] }, /'staging' already runs this DU/);
  bad({ stages: [{ gate: 'approval' }, 'build'] }, /gates come after the build/);
  bad({ stages: ['build', { deploy: 'staging' }, { name: 'deploy-staging', gate: 'external' }] }, /another stage is already named 'deploy-staging'/);
  bad({ stages: ['build', { deploy: 'Staging!' }] }, /environment names use a-z/);
  bad({ stages: ['build', { gate: 'vote' }] }, /stages/);
  bad({ stages: ['build', { deploy: 'staging', extra: 1 }] }, /stages/);
  bad({ stages: [] }, /stages/);
  bad('build', /pipeline/);
  t.is(parseEnvironmentName('qa-eu'), 'qa-eu');
  t.throws(() => parseEnvironmentName('qa--eu'), { message: /invalid environment name/ });
  t.throws(() => parseEnvironmentName('-qa'), { message: /invalid environment name/ });
});

const stages = (statuses: readonly StageStatus[]): Array<{ spec: StageSpec; status: StageStatus }> => {
  const d = parsePipeline(full);
  return d.stages.map((spec, i) => ({ spec, status: statuses[i] ?? 'pending' }));
};

test('next step: tests and deploys run, gates wait, failures and rejections end the run', (t) => {
  t.deepEqual(nextStep(stages([])), { action: 'run', index: 0 });
  t.deepEqual(nextStep(stages(['running'])), { action: 'busy', index: 0 });
  t.deepEqual(nextStep(stages(['succeeded', 'succeeded', 'succeeded'])), { action: 'run', index: 3 });
  // The approval gate opens (pending) and stays open (waiting) until decided.
  const atGate = nextStep(stages(['succeeded', 'succeeded', 'succeeded', 'succeeded']));
  t.deepEqual(atGate, { action: 'wait', index: 4 });
  t.is(runStatusOf(atGate), 'waiting');
  t.deepEqual(nextStep(stages(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'waiting'])), { action: 'wait', index: 4 });
  t.deepEqual(nextStep(stages(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'])), { action: 'wait', index: 5 });
  t.deepEqual(nextStep(stages(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'])), { action: 'run', index: 6 });
  t.deepEqual(nextStep(stages(Array<StageStatus>(7).fill('succeeded'))), { action: 'done', status: 'succeeded' });
  t.deepEqual(nextStep(stages(['failed', 'skipped'])), { action: 'done', status: 'failed' });
  t.deepEqual(nextStep(stages(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'rejected'])), { action: 'done', status: 'rejected' });
  t.is(runStatusOf({ action: 'run', index: 2 }), 'running');
});

test('approval: the named users or the role, nobody else', (t) => {
  const [named] = parsePipeline({ stages: ['build', { gate: 'approval', users: ['carol'] }] }).stages.slice(1);
  const [byRole] = parsePipeline({ stages: ['build', { gate: 'approval', role: 'write' }] }).stages.slice(1);
  const [deploy] = parsePipeline({ stages: ['build', { deploy: 'staging' }] }).stages.slice(1);
  const user = (name: string) => ({ name, isAdmin: false });
  if (!named || !byRole || !deploy) throw new Error('stages missing');
  t.true(mayApprove(named, user('carol'), 'read'));
  t.false(mayApprove(named, user('bob'), 'admin'), 'a gate that names users ignores roles');
  t.true(mayApprove(byRole, user('bob'), 'write'));
  t.true(mayApprove(byRole, user('bob'), 'admin'));
  t.false(mayApprove(byRole, user('bob'), 'read'));
  t.false(mayApprove(byRole, user('bob'), null));
  t.false(mayApprove(deploy, user('bob'), 'admin'), 'only approval gates are approved');
});

test('callback signatures: HMAC-SHA256 of the exact body with the pipeline secret', (t) => {
  const body = Buffer.from('{"stage":"ci","status":"success"}');
  const sig = signBody('s3cret', body);
  t.regex(sig, /^sha256=[0-9a-f]{64}$/);
  t.true(signatureValid('s3cret', body, sig));
  t.false(signatureValid('other', body, sig));
  t.false(signatureValid('s3cret', Buffer.from('{"stage":"ci","status":"failure"}'), sig));
  t.false(signatureValid('s3cret', body, undefined));
  t.false(signatureValid('s3cret', body, sig.toUpperCase()));
  t.false(signatureValid('s3cret', body, sig.slice(0, -2)));
});

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
