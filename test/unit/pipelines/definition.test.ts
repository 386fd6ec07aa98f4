// Pipeline definitions: parsing, the next step, approvers and callback signatures.
import test from 'ava';
import { fullPipeline as full } from '../../support/samples.js';
import { environmentsOf, mayApprove, nextStep, parseEnvironmentName, parsePipeline, runStatusOf, signBody, signatureValid, type StageSpec, type StageStatus } from '../../../src/pipelines/definition.js';


const stages = (statuses: readonly StageStatus[]): Array<{ spec: StageSpec; status: StageStatus }> => {
  const d = parsePipeline(full);
  return d.stages.map((spec, i) => ({ spec, status: statuses[i] ?? 'pending' }));
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
