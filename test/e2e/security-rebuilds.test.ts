// Security rebuilds: the operator updates a pack image; the apps built from the old one are found
// and rebuilt from the same commits with the new image, and go live again. The pack here is one
// the test registers from its own image, so no other test sees the update.
import test from 'ava';
import { releasesOf } from '../support/fixtures.js';
import { imageLabels, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

interface Candidate {
  app: string;
  state: string;
  languagePack: string | null;
  builtWith: string | null;
  current: string | null;
  queued: number | null;
  commit: string | null;
}

test.serial('after a pack image update, two apps built from the old image are reported, rebuilt and released', async (t) => {
  const solum = await startSolum();
  const apps = [randomName('sec'), randomName('sec')];
  const image = `solum-test/lp-${apps[0] ?? ''}:latest`;
  t.teardown(async () => {
    await solum.stop();
    for (const a of apps) await removeAppImages(a);
    await run('docker', ['rmi', '-f', image]);
  });
  const base = await run('docker', ['build', '-q', '--network', 'none', '-t', image, '-'], { input: 'FROM solum/lp-shell:latest\nRUN echo original > /solum/version\n' });
  t.is(base.code, 0, base.stderr);
  const original = base.stdout.trim();
  const manifest = { name: 'secpack', version: '1', detect: ['sec.txt'], build: '/solum/bin/build', network: 'none' };
  t.is((await solum.api('POST', '/v1/language-packs', { image, manifest })).status, 201);
  const client = await gitClient(solum, 'http');
  const commits: string[] = [];
  for (const a of apps) {
    const repo = await makeRepo({ 'sec.txt': a, 'build.sh': `echo building ${a}\n` });
    const push = await client.git(['push', client.url(a), 'main'], repo);
    t.is(push.code, 0, push.stderr);
    commits.push((await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim());
  }
  const report = async (): Promise<Candidate[]> => ((await solum.api('GET', '/v1/security-rebuilds?pack=secpack')).json as Candidate[]).filter((c) => apps.includes(c.app));
  t.deepEqual((await report()).map((c) => c.state), ['current', 'current']);

  // The operator patches the pack image (one more layer; a new image ID under the same tag).
  const patched = await run('docker', ['build', '-q', '--network', 'none', '-t', image, '-'], { input: `FROM ${image}\nRUN echo patched > /solum/security-patch\n` });
  t.is(patched.code, 0, patched.stderr);
  const newId = patched.stdout.trim();
  t.not(newId, original);
  t.is((await solum.api('POST', '/v1/language-packs/secpack/refresh')).status, 200);

  const before = await report();
  t.deepEqual(before.map((c) => [c.app, c.state, c.builtWith, c.current]).sort(), apps.map((a) => [a, 'rebuild', original, newId]).sort());
  const stranger = await createUser(solum, 'mallory');
  t.is((await solum.api('GET', '/v1/security-rebuilds', undefined, stranger.token)).status, 403, 'an operator task');

  const queued = await solum.api('POST', '/v1/security-rebuilds', { pack: 'secpack' });
  t.is(queued.status, 200, queued.text);
  t.deepEqual((queued.json as Candidate[]).filter((c) => apps.includes(c.app)).map((c) => c.queued), [2, 2]);
  for (const [i, a] of apps.entries()) {
    let b: { status: string; commit: string; duImage: string | null } | undefined;
    for (let k = 0; k < 80; k++) {
      b = ((await solum.api('GET', `/v1/apps/${a}/builds`)).json as { status: string; commit: string; duImage: string | null }[])[0];
      if (b?.status === 'succeeded' || b?.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    t.like(b, { status: 'succeeded', commit: commits[i], duImage: `solum/${a}:2` }, 'the same commit, rebuilt');
    t.is((await imageLabels(`solum/${a}:2`))['io.solum.language-pack.image'], newId);
    t.like((await releasesOf(solum, a, 2))[0], { version: 2, status: 'active' });
  }
  for (let k = 0; k < 40 && (await report()).some((c) => c.state !== 'current'); k++) await new Promise((r) => setTimeout(r, 250));
  t.deepEqual((await report()).map((c) => c.state), ['current', 'current']);
});
