// The spine, end to end over both transports and both databases: real git, OpenSSH, Docker.
import { existsSync } from 'node:fs';
import test from 'ava';
import { containersLabelled, imageExists, imageLabels, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, remoteRefs, transports, writeAndCommit } from '../support/git.js';
import { databaseKinds } from '../support/database.js';
import { makeSshIdentity, randomName, run, startSolum } from '../support/solum.js';

interface BuildJson {
  id: number;
  app: string;
  number: number;
  status: string;
  ref: string;
  commit: string;
  languagePack: string | null;
  duId: string | null;
  duImage: string | null;
  exitCode: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const app = {
  Procfile: 'web: echo "web says: $(cat greeting.txt) $(cat built.txt)"\n',
  'greeting.txt': 'hello from solum\n',
  'build.sh': 'echo "compiling the app"\necho compiled > built.txt\n',
};

for (const database of databaseKinds) {
  for (const transport of transports) {
    test.serial(`push builds a DU, a failed build rejects the push, other refs store without a build [${transport}, ${database}]`, async (t) => {
      const solum = await startSolum({ database });
      const name = randomName('spine');
      t.teardown(async () => {
        await solum.stop();
        await removeAppImages(name);
      });
      const client = await gitClient(solum, transport);
      const repo = await makeRepo(app);
      const first = (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();

      // 1. A good push: accepted, streamed, DU committed with its labels.
      const push = await client.git(['push', client.url(name), 'main'], repo);
      t.is(push.code, 0, push.stderr);
      t.regex(push.stderr, /remote: -----> Building spine-[0-9a-f]+ #1 \([0-9a-f]{12} on refs\/heads\/main\) with language pack shell/);
      t.regex(push.stderr, /remote: compiling the app/);
      t.regex(push.stderr, /remote: -----> Build #1 succeeded/);
      t.regex(push.stderr, /remote: {8}Deployment unit sha256:[0-9a-f]{64} \(solum\/spine-[0-9a-f]+:1\)/);

      const list = await solum.api('GET', `/v1/apps/${name}/builds`);
      t.is(list.status, 200);
      const builds = list.json as BuildJson[];
      t.is(builds.length, 1);
      const b1 = builds[0]!;
      t.like(b1, { app: name, number: 1, status: 'succeeded', ref: 'refs/heads/main', commit: first, languagePack: 'shell', exitCode: 0, error: null, duImage: `solum/${name}:1` });
      t.regex(b1.duId ?? '', /^sha256:[0-9a-f]{64}$/);
      t.truthy(b1.startedAt && b1.finishedAt);
      t.deepEqual(Object.keys((await solum.api('GET', `/v1/builds/${b1.id}`)).json as object).sort(), [
        'app', 'buildpacks', 'commit', 'createdAt', 'duId', 'duImage', 'duManifest', 'error', 'exitCode', 'finishedAt', 'id', 'languagePack', 'languagePacks', 'number', 'ref', 'release',
        'source', 'startedAt', 'status', 'worker',
      ]);
      // The DU manifest is kept in the database: what the DU runs and what it was built with.
      t.like((await solum.api('GET', `/v1/builds/${b1.id}`)).json, { release: 'done', duManifest: { languagePack: 'shell', processTypes: { web: 'echo "web says: $(cat greeting.txt) $(cat built.txt)"' } } });
      const log = await solum.api('GET', `/v1/builds/${b1.id}/log`);
      t.is(log.status, 200);
      t.regex(log.text, /Running build\.sh\ncompiling the app\n/);

      const labels = await imageLabels(b1.duImage!);
      t.like(labels, {
        'io.solum.app': name,
        'io.solum.build': '1',
        'io.solum.language-pack': 'shell',
        'io.solum.role': 'deployment-unit',
        'org.opencontainers.image.revision': first,
      });
      const packImage = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', 'solum/lp-shell:latest']);
      t.is(labels['io.solum.language-pack.image'], packImage.stdout.trim());
      const du = await run('docker', ['run', '--rm', '--network', 'none', b1.duId!]);
      t.is(du.code, 0, du.stderr);
      t.is(du.stdout.trim(), 'web says: hello from solum compiled');
      t.deepEqual(await containersLabelled(`io.solum.app=${name}`), [], 'builder containers are removed');

      // 2. A failing build: push rejected, remote ref unchanged, build failed with its log.
      await writeAndCommit(repo, { 'build.sh': 'echo "about to fail"\nexit 3\n' }, 'break the build');
      const bad = await client.git(['push', client.url(name), 'main'], repo);
      t.not(bad.code, 0);
      t.regex(bad.stderr, /remote: about to fail/);
      t.regex(bad.stderr, /remote: !\s+Build #2 failed after [0-9.]+s: the build command exited with status 3/);
      t.regex(bad.stderr, /pre-receive hook declined/);
      t.is((await remoteRefs(client, name, repo)).get('refs/heads/main'), first);
      const b2 = (await solum.api('GET', `/v1/apps/${name}/builds`)).json as BuildJson[];
      t.like(b2[0], { number: 2, status: 'failed', exitCode: 3, duId: null });
      t.regex((await solum.api('GET', `/v1/builds/${b2[0]!.id}/log`)).text, /about to fail/);
      t.false(await imageExists(`solum/${name}:2`));

      // 3. Another branch and a tag: stored, no build.
      const other = await client.git(['push', client.url(name), 'HEAD:refs/heads/feature'], repo);
      t.is(other.code, 0, other.stderr);
      t.regex(other.stderr, /refs\/heads\/feature: stored without a build \(only main builds\)/);
      await client.git(['tag', 'v1', first], repo);
      const tag = await client.git(['push', client.url(name), 'v1'], repo);
      t.is(tag.code, 0, tag.stderr);
      t.regex(tag.stderr, /tags never build/);
      t.is(((await solum.api('GET', `/v1/apps/${name}/builds`)).json as BuildJson[]).length, 2);
      const refs = await remoteRefs(client, name, repo);
      t.is(refs.get('refs/heads/feature'), (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim());
      t.is(refs.get('refs/tags/v1'), first);

      // 4. Clone works after the pushes.
      const cloneDir = `${repo}-clone`;
      const clone = await client.git(['clone', '-q', client.url(name), cloneDir], repo);
      t.is(clone.code, 0, clone.stderr);
      t.is((await run('git', ['rev-parse', 'HEAD'], { cwd: cloneDir })).stdout.trim(), first);
    });
  }
}

test.serial('unauthenticated pushes are refused over both transports and change nothing', async (t) => {
  const solum = await startSolum();
  t.teardown(() => solum.stop());
  const name = randomName('locked');
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo(app);
  t.is((await client.git(['push', client.url(name), 'main'], repo)).code, 0);
  await removeAppImages(name);
  await writeAndCommit(repo, { 'greeting.txt': 'changed\n' }, 'second');

  // HTTP without credentials, and with a wrong token.
  for (const url of [`http://127.0.0.1:${solum.httpPort}/${name}.git`, `http://x:not-a-token@127.0.0.1:${solum.httpPort}/${name}.git`]) {
    const r = await run('git', ['push', url, 'main'], { cwd: repo, env: { GIT_TERMINAL_PROMPT: '0' } });
    t.not(r.code, 0);
  }
  // SSH with a key nobody registered.
  const stranger = await makeSshIdentity();
  const s = await run('git', ['push', `ssh://git@127.0.0.1:${solum.sshPort}/${name}.git`, 'main'], { cwd: repo, env: { GIT_SSH_COMMAND: stranger.sshCommand } });
  t.not(s.code, 0);
  t.regex(s.stderr, /Permission denied \(publickey\)/);

  // A direct POST to git-receive-pack (skipping info/refs) without credentials.
  const post = await fetch(`http://127.0.0.1:${solum.httpPort}/${name}.git/git-receive-pack`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-git-receive-pack-request' },
    body: '00940000000000000000000000000000000000000000 1111111111111111111111111111111111111111 refs/heads/evil\0 report-status\n0000',
  });
  t.is(post.status, 401);
  t.truthy(post.headers.get('www-authenticate'));
  const refs = await remoteRefs(client, name, repo);
  t.false(refs.has('refs/heads/evil'));
  t.is(((await solum.api('GET', `/v1/apps/${name}/builds`)).json as unknown[]).length, 1);

  // Asking for the push ref list of a new name (an HTTP GET) creates nothing either: the app is
  // made when the push itself arrives.
  const fresh = randomName('fresh');
  const advert = await fetch(`http://127.0.0.1:${solum.httpPort}/${fresh}.git/info/refs?service=git-receive-pack`, {
    headers: { authorization: `Basic ${Buffer.from(`x:${solum.token}`).toString('base64')}` },
  });
  t.is(advert.status, 200);
  t.regex(await advert.text(), /report-status/);
  t.false((await solum.api('GET', '/v1/apps')).text.includes(fresh));
  t.false(existsSync(`${solum.dataDir}/repos/${fresh}.git`));
  const dry = await client.git(['push', '--dry-run', client.url(fresh), 'main'], repo);
  t.is(dry.code, 0, dry.stderr);
  t.false((await solum.api('GET', '/v1/apps')).text.includes(fresh));

  // A fetch of an app that does not exist creates nothing.
  const ghost = randomName('ghost');
  const f = await client.git(['ls-remote', client.url(ghost)], repo);
  t.not(f.code, 0);
  t.is((await solum.api('GET', '/v1/apps')).text.includes(ghost), false);
});
