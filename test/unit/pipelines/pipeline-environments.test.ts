// An environment may not take a host an app or a preview answers to.
import test from 'ava';
import type { Environment } from '../../../src/db/environment-store.js';
import { environmentEnsurer } from '../../../src/pipelines/pipeline-environments.js';
import { errorCode, sampleApp } from '../../support/samples.js';

test('an environment whose router name a preview routes is refused; another is made', async (t) => {
  const made: string[] = [];
  const ensure = environmentEnsurer({
    appStore: { findApp: () => Promise.resolve(undefined) },
    environments: { find: () => Promise.resolve(undefined), ensure: (_appId, name) => { made.push(name); return Promise.resolve({ id: 1, appId: 1, name } as unknown as Environment); } },
    previewNamed: (routerName) => Promise.resolve(routerName === 'hello-staging'),
  });
  const err = await t.throwsAsync(ensure(sampleApp, 'staging'));
  t.regex(err.message, /a preview answers to hello-staging/);
  t.is(errorCode(() => { throw err; }), 'conflict');
  t.is((await ensure(sampleApp, 'qa')).name, 'qa');
  t.deepEqual(made, ['qa']);
});
