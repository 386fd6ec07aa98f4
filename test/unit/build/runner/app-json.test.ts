// app.json as Heroku and Dokku read it, and how it merges with solum.yaml and the Procfile's release:.
import test from 'ava';
import { defaultCronId, parseAppJson } from '../../../../src/build/runner/app-json.js';
import { parseAppManifest } from '../../../../src/build/runner/app-manifest.js';
import { deploySettings } from '../../../../src/build/runner/deploy-settings.js';

const dokkuSmokeTest = {
  name: 'smoke-test-app',
  scripts: { dokku: { predeploy: 'echo predeploy', postdeploy: 'echo postdeploy' }, postdeploy: 'echo first' },
  healthchecks: { web: [{ type: 'startup', name: 'web check', path: '/', content: 'nodejs/express', attempts: 2 }], worker: [{ type: 'startup', uptime: 5 }, { type: 'liveness', path: '/' }] },
  formation: { web: { quantity: 2 }, worker: { quantity: 1, size: 'standard-1x' } },
  env: { PLAIN: 'v', WITH_VALUE: { value: 'x' }, SECRET_KEY: { generator: 'secret' }, NEEDED: { description: 'set me' }, OPTIONAL: { required: false } },
  cron: [{ command: 'echo hi', schedule: '@daily' }, { id: 'backup', command: 'bin/backup', schedule: '*/5 * * * *' }],
};

test('app.json: no file is none; the Dokku keys parse; ignored keys are listed', (t) => {
  t.is(parseAppJson(null), undefined);
  const p = parseAppJson(JSON.stringify(dokkuSmokeTest));
  t.truthy(p);
  t.deepEqual(p?.ignored, ['name', 'formation.worker.size', 'healthchecks.worker.1 (liveness checks are not run; startup checks are)']);
  t.is(p?.appJson.healthchecks?.web?.[0]?.attempts, 2);
  t.is(p?.appJson.healthchecks?.web?.[0]?.timeout, 5, 'Dokku defaults');
});

test('app.json: invalid files are refused with the key and the reason', (t) => {
  const refused = (v: unknown): string => t.throws(() => parseAppJson(typeof v === 'string' ? v : JSON.stringify(v))).message;
  t.regex(refused('{nope'), /^app\.json is not valid JSON/);
  t.regex(refused([]), /app\.json: \(top\): expected an object/);
  t.regex(refused({ cron: [{ command: 'x', schedule: '61 * * * *' }] }), /cron\.0\.schedule: "61 \* \* \* \*"/);
  t.regex(refused({ cron: [{ command: 'x', schedule: '* * * *' }] }), /cron\.0\.schedule: .*4 fields: a schedule has five/);
  t.regex(refused({ cron: [{ command: 'x', schedule: '@sometimes' }] }), /cron\.0\.schedule: .*is not a schedule/);
  t.regex(refused({ cron: [{ id: 'a', command: 'x', schedule: '@daily' }, { id: 'a', command: 'y', schedule: '@daily' }] }), /cron\.1\.id: a is used twice/);
  t.regex(refused({ formation: { web: { quantity: 'one' } } }), /formation\.web\.quantity: /);
  t.regex(refused({ formation: { web: { quantity: 21 } } }), /formation\.web\.quantity: /);
  t.regex(refused({ healthchecks: { web: [{ path: 'no-slash' }] } }), /healthchecks\.web\.0\.path: must be an absolute URL path/);
  t.regex(refused({ healthchecks: { web: [{ path: '/', uptime: 3 }] } }), /healthchecks\.web\.0: give one of path, command, uptime or listening/);
  t.regex(refused({ env: { 'BAD-NAME': 'x' } }), /env\.BAD-NAME: environment variable names/);
  t.regex(refused({ env: { K: { generator: 'uuid' } } }), /env\.K\.generator: the only generator is "secret"/);
  t.regex(refused({ scripts: { dokku: { predeploy: '' } } }), /scripts\.dokku\.predeploy: must not be empty/);
});

test('cron IDs: given, or derived from the schedule and command (stable, and new when the entry changes)', (t) => {
  t.regex(defaultCronId('@daily', 'echo hi'), /^job-[0-9a-f]{8}$/);
  t.is(defaultCronId('@daily', 'echo hi'), defaultCronId(' @daily', 'echo hi '));
  t.not(defaultCronId('@daily', 'echo hi'), defaultCronId('@hourly', 'echo hi'));
});

test('deploy settings: app.json and the Procfile merged, each setting naming its file', (t) => {
  const s = deploySettings(parseAppManifest(null), parseAppJson(JSON.stringify(dokkuSmokeTest)), 'node migrate.js');
  t.deepEqual(s.manifest.releasePhase, [{ command: 'echo predeploy', source: 'app.json scripts.dokku.predeploy' }, { command: 'node migrate.js', source: 'Procfile release' }]);
  t.deepEqual(s.manifest.postdeploy, [{ command: 'echo postdeploy', source: 'app.json scripts.dokku.postdeploy', once: false }, { command: 'echo first', source: 'app.json scripts.postdeploy', once: true }]);
  t.deepEqual(Object.keys(s.manifest.healthchecks ?? {}), ['web', 'worker']);
  t.like(s.manifest.healthchecks?.web?.[0], { name: 'web check', path: '/', content: 'nodejs/express', attempts: 2, timeout: 5, wait: 5 });
  t.is(s.manifest.healthchecks?.worker?.length, 1, 'only startup checks are run');
  t.deepEqual(s.manifest.formation, { web: 2, worker: 1 });
  t.deepEqual(s.manifest.cron?.map((c) => c.id), [defaultCronId('@daily', 'echo hi'), 'backup']);
  t.deepEqual(s.manifest.env, { PLAIN: 'v', WITH_VALUE: 'x' });
  t.deepEqual(s.manifest.generate, ['SECRET_KEY']);
  t.deepEqual(s.required, ['NEEDED']);
  t.true(s.sources.includes('release phase: Procfile release (node migrate.js)'));
  t.true(s.sources.some((l) => l.startsWith('env: app.json PLAIN, WITH_VALUE, SECRET_KEY (generated secret), NEEDED (required)')));
  t.true(s.sources.includes('ignored in app.json: name, formation.worker.size, healthchecks.worker.1 (liveness checks are not run; startup checks are)'));
});

test('deploy settings: solum.yaml wins where both files say something, and the push is told', (t) => {
  const yaml = parseAppManifest('healthcheck:\n  path: /health\nenv:\n  PLAIN: from-yaml\n');
  const s = deploySettings(yaml, parseAppJson(JSON.stringify({ healthchecks: { web: [{ path: '/' }] }, env: { PLAIN: 'from-json', OTHER: 'o' } })), undefined);
  t.is(s.manifest.healthchecks, undefined);
  t.deepEqual(s.manifest.healthcheck, { path: '/health', timeout: 30 });
  t.deepEqual(s.manifest.env, { PLAIN: 'from-yaml', OTHER: 'o' });
  t.true(s.sources.includes('healthchecks.web: solum.yaml healthcheck (wins over app.json healthchecks.web)'));
  t.true(s.sources.includes('env: solum.yaml PLAIN (wins over app.json)'));
  // Without app.json or release:, nothing new is said.
  t.deepEqual(deploySettings(yaml, undefined, undefined).sources, []);
});
