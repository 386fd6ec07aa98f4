// The installed hook script, run by sh as git would.
import test from 'ava';
import { planPush } from '../../../src/hooks/push-plan.js';

test('the hook script stores pushes without a deploy-branch update itself, saying what the server would', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { hookScript } = await import('../../../src/hooks/hook-installer.js');
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const zero = '0'.repeat(40);
  const updates = [
    { oldSha: zero, newSha: b, ref: 'refs/heads/feature' },
    { oldSha: zero, newSha: b, ref: 'refs/tags/v1' },
    { oldSha: a, newSha: zero, ref: 'refs/heads/old' },
  ];
  const input = updates.map((u) => `${u.oldSha} ${u.newSha} ${u.ref}`).join('\n') + '\n';
  const run = (env: Record<string, string>): string =>
    execFileSync('sh', ['-c', hookScript('/nonexistent/node')], { input, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  const out = run({ SOLUM_PUSH_TOKEN: 'push_x', SOLUM_DEPLOY_REF: 'refs/heads/main' });
  t.deepEqual(out.trimEnd().split('\n'), planPush(updates, 'main').stored.map((s) => `-----> ${s}`));
  // Without a push token (a push made around the Solum server) it refuses.
  t.throws(() => run({}));
  // With push options (-o solum.preview), or for an app with previews, every push goes to the hook
  // program (here: a missing binary, so it fails): another branch may build.
  t.throws(() => run({ SOLUM_PUSH_TOKEN: 'push_x', SOLUM_DEPLOY_REF: 'refs/heads/main', GIT_PUSH_OPTION_COUNT: '1' }));
  t.throws(() => run({ SOLUM_PUSH_TOKEN: 'push_x', SOLUM_DEPLOY_REF: 'refs/heads/main', SOLUM_PREVIEWS: '1' }));
  t.notThrows(() => run({ SOLUM_PUSH_TOKEN: 'push_x', SOLUM_DEPLOY_REF: 'refs/heads/main', GIT_PUSH_OPTION_COUNT: '0' }));
  // An update of the deploy branch goes to the hook program (here: a missing binary, so it fails).
  t.throws(() => execFileSync('sh', ['-c', hookScript('/nonexistent/node')], { input: `${a} ${b} refs/heads/main\n`, env: { PATH: process.env.PATH ?? '', SOLUM_PUSH_TOKEN: 'x', SOLUM_DEPLOY_REF: 'refs/heads/main' }, stdio: 'pipe' }));
});
