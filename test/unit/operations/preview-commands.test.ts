// The preview commands' words: options to settings, assignments to config changes; bad words are
// usage errors (exit 2) and never reach the service.
import test from 'ava';
import { createSshCommands } from '../../../src/git/ssh-commands.js';
import { bindOperations } from '../../../src/operations/operations.js';
import type { PreviewService, PreviewSettingsChanges } from '../../../src/previews/preview-service.js';
import { alice, deps, fake } from './fakes.js';

function commands(previews: PreviewService) {
  const ssh = createSshCommands({ operations: bindOperations(deps({ previews })) });
  return (line: string) => ssh.run(alice, line.split(' ').filter((w) => w !== ''), () => Promise.resolve(''));
}

test('previews:settings:set maps --pattern, --pull-requests, --ttl and --max; bad values are usage errors', async (t) => {
  const seen: PreviewSettingsChanges[] = [];
  const run = commands(fake<PreviewService>({ configure: (_a, _app, c) => { seen.push(c); return Promise.resolve({ pattern: c.pattern ?? null, pullRequests: c.pullRequests ?? false, ttlSeconds: 60, maxPreviews: c.maxPreviews ?? 10 }); } }));
  const ok = await run('previews:settings:set hello --pattern preview/* --pull-requests on --ttl 1m --max 3');
  t.is(ok.code, 0, ok.stderr);
  t.like(seen[0], { app: 'hello', pattern: 'preview/*', pullRequests: true, ttl: '1m', maxPreviews: 3 });
  t.regex(ok.stdout, /pattern: preview\/\*\npull requests: previews/);
  for (const bad of ['--pull-requests maybe', '--max 101', '--max -1', '--max x']) t.is((await run(`previews:settings:set hello ${bad}`)).code, 2, bad);
  t.is(seen.length, 1);
});

test('previews:config:set and :unset turn words into config changes; a word that is not KEY=VALUE is a usage error', async (t) => {
  const seen: Array<[string, Record<string, string>, string[]]> = [];
  const run = commands(fake<PreviewService>({ changeConfig: (_a, _app, name, set, unset) => { seen.push([name, set, unset]); return Promise.resolve({ config: { ...set }, release: null }); } }));
  t.like(await run('previews:config:set hello my-feature A=1 B=two'), { code: 0, stdout: 'set A, B on preview my-feature\n' });
  t.like(await run('previews:config:unset hello my-feature A'), { code: 0, stdout: 'unset A on preview my-feature\n' });
  t.is((await run('previews:config:set hello my-feature nonsense')).code, 2);
  t.deepEqual(seen, [['my-feature', { A: '1', B: 'two' }, []], ['my-feature', {}, ['A']]]);
});
