// The stock language packs beyond shell and node basics: python, the app's own Dockerfile, and the
// per-app build cache (npm) with its purge.
import test from 'ava';
import { imageLabels, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';

interface BuildJson {
  id: number;
  status: string;
  languagePack: string | null;
  duImage: string | null;
}

test.serial('python and Dockerfile apps build with their packs; their DUs run', async (t) => {
  const solum = await startSolum();
  const py = randomName('py');
  const df = randomName('df');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(py);
    await removeAppImages(df);
  });
  const client = await gitClient(solum, 'ssh');

  const pyRepo = await makeRepo({ 'requirements.txt': '# no third-party packages\n', 'app.py': "import sys\nprint('python says hi from', sys.version_info[0])\n" });
  const p = await client.git(['push', client.url(py), 'main'], pyRepo);
  t.is(p.code, 0, p.stderr);
  t.regex(p.stderr, /with language pack python/);
  t.regex(p.stderr, /Python 3\.\d+/);
  const [pb] = (await solum.api('GET', `/v1/apps/${py}/builds`)).json as BuildJson[];
  t.is(pb?.languagePack, 'python');
  const pyRun = await run('docker', ['run', '--rm', '--network', 'none', pb!.duImage!]);
  t.is(pyRun.stdout.trim(), 'python says hi from 3', pyRun.stderr);

  // A Dockerfile wins detection; its image is the DU, with Solum's labels; its CMD is the web command.
  const dfRepo = await makeRepo({
    Dockerfile: 'FROM solum/base:bookworm\nCOPY hello.txt /srv/hello.txt\nRUN echo built-in-docker > /srv/built.txt\nCMD ["sh", "-c", "cat /srv/hello.txt /srv/built.txt"]\n',
    'hello.txt': 'hello from a Dockerfile\n',
    'package.json': '{}',
  });
  const d = await client.git(['push', client.url(df), 'main'], dfRepo);
  t.is(d.code, 0, d.stderr);
  t.regex(d.stderr, /with language pack dockerfile/);
  t.regex(d.stderr, /remote: Step 3\/\d+ : RUN echo built-in-docker/);
  const [db] = (await solum.api('GET', `/v1/apps/${df}/builds`)).json as BuildJson[];
  t.like(db, { status: 'succeeded', languagePack: 'dockerfile', duImage: `solum/${df}:1` });
  const labels = await imageLabels(`solum/${df}:1`);
  t.like(labels, { 'io.solum.app': df, 'io.solum.role': 'deployment-unit', 'io.solum.language-pack': 'dockerfile' });
  t.is(labels['io.solum.language-pack.image'], (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', 'solum/base:bookworm'])).stdout.trim(), 'the FROM image is recorded');
  const dfRun = await run('docker', ['run', '--rm', '--network', 'none', `solum/${df}:1`]);
  t.is(dfRun.stdout, 'hello from a Dockerfile\nbuilt-in-docker\n');
  // A broken Dockerfile fails the build and the push.
  await writeAndCommit(dfRepo, { Dockerfile: 'FROM solum/base:bookworm\nRUN exit 7\n' }, 'broken');
  const bad = await client.git(['push', client.url(df), 'main'], dfRepo);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /docker build failed: The command '.*exit 7' returned a non-zero code: 7/);
});

test.serial('the node pack keeps its npm cache per app between builds; purging empties it', async (t) => {
  const solum = await startSolum();
  const app = randomName('cache');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
  });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'package.json': JSON.stringify({ name: 'c', version: '1.0.0', dependencies: { 'is-number': '7.0.0' } }) });
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  const vols = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=build-cache']);
  const volume = vols.stdout.trim();
  t.regex(volume, new RegExp(`^solum-cache-[0-9a-f]+-${app}-node-0$`));
  const cached = await run('docker', ['run', '--rm', '--network', 'none', '-v', `${volume}:/c`, 'solum/base:bookworm', 'sh', '-c', 'ls /c/_cacache/index-v5 | wc -l']);
  t.true(Number(cached.stdout.trim()) > 0, 'npm wrote its cache into the volume');
  // The second build mounts the same volume (and npm finds the package there).
  await writeAndCommit(repo, { 'x.txt': '2' }, 'again');
  const second = await client.git(['push', client.url(app), 'main'], repo);
  t.is(second.code, 0, second.stderr);
  const after = await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', 'label=io.solum.role=build-cache']);
  t.is(after.stdout.trim(), volume);
  const purge = await solum.api('DELETE', `/v1/apps/${app}/build-cache`);
  t.deepEqual(purge.json, { removed: 1 });
  t.is((await run('docker', ['volume', 'ls', '-q', '--filter', `label=io.solum.app=${app}`])).stdout.trim(), '');
});
