// The stock language packs beyond shell and node basics: python, the app's own Dockerfile, and the
// per-app build cache (npm) with its purge.
import test from 'ava';
import tar from 'tar-stream';
import { solumWithApp } from '../support/fixtures.js';
import { imageLabels, removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';
import { createUser } from '../support/users.js';

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
  const { solum, app } = await solumWithApp(t, 'cache');
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

test.serial('a language pack registered from a local image: listed, searched, detected, built with; removal refused while in use', async (t) => {
  const solum = await startSolum();
  const app = randomName('custom');
  const image = `solum-test/lp-${app}:1`;
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await run('docker', ['rmi', '-f', image]);
  });
  const built = await run('docker', ['build', '-q', '--network', 'none', '-t', image, '-'], {
    input: 'FROM solum/lp-shell:latest\nRUN printf \'#!/bin/sh\\necho "custom pack at work"\\necho made-by-custom > /app/out.txt\\n\' > /solum/bin/custom-build && chmod 755 /solum/bin/custom-build\n',
  });
  t.is(built.code, 0, built.stderr);
  const manifest = { name: 'custompack', version: '2.1', detect: ['custom.txt'], build: '/solum/bin/custom-build', run: 'cat /app/out.txt', network: 'none' };
  const eve = await createUser(solum, 'eve');
  t.is((await solum.api('POST', '/v1/language-packs', { image, manifest }, eve.token)).status, 403);
  t.is((await solum.api('POST', '/v1/language-packs', { image, manifest: { ...manifest, network: 'internet' } })).status, 400);
  const reg = await solum.api('POST', '/v1/language-packs', { image, manifest });
  t.is(reg.status, 201, reg.text);
  t.like(reg.json, { name: 'custompack', version: '2.1', origin: 'registered', status: 'ready' });
  t.deepEqual(((await solum.api('GET', '/v1/language-packs?q=custom')).json as { name: string }[]).map((p) => p.name), ['custompack']);
  t.true(((await solum.api('GET', '/v1/language-packs')).json as { name: string }[]).length >= 5);

  const client = await gitClient(solum, 'http');
  const push = await client.git(['push', client.url(app), 'main'], await makeRepo({ 'custom.txt': 'x' }));
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /with language pack custompack/);
  t.regex(push.stderr, /custom pack at work/);
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`])).stdout, 'made-by-custom\n');
  const refreshed = await solum.api('POST', '/v1/language-packs/custompack/refresh');
  t.is(refreshed.status, 200);
  t.is((await solum.api('DELETE', '/v1/language-packs/custompack')).status, 409, 'the app was last built with it');
  t.is((await solum.api('DELETE', '/v1/language-packs/shell')).status, 409, 'stock packs stay');
});

test.serial('a language pack built here from a tar: queued, building, ready with its log, then used; a broken one ends in error', async (t) => {
  const solum = await startSolum();
  const app = randomName('tarpack');
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await run('docker', ['rmi', '-f', 'solum/lp-tarpack:1', 'solum/lp-brokenpack:1']);
  });
  const packTar = async (files: Record<string, string>): Promise<Buffer> => {
    const pack = tar.pack();
    for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o755 }, body);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const post = async (body: Buffer) => {
    const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/language-packs`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': 'application/x-tar' }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const waitFor = async (name: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 120; i++) {
      const p = (await solum.api('GET', `/v1/language-packs/${name}`)).json as Record<string, unknown>;
      if (p.status !== 'queued' && p.status !== 'building') return p;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('pack build did not finish');
  };
  const manifest = { name: 'tarpack', version: '1', detect: ['tarpack.txt'], build: '/solum/bin/build', network: 'none' };
  const queued = await post(await packTar({
    Dockerfile: 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY build /solum/bin/build\nRUN chmod 755 /solum/bin/build && mkdir -p /app\nWORKDIR /app\n',
    build: '#!/bin/sh\necho "tarpack built this"\n',
    'solum-pack.json': JSON.stringify(manifest),
  }));
  t.is(queued.status, 202, JSON.stringify(queued.json));
  t.like(queued.json, { name: 'tarpack', status: 'queued' });
  const ready = await waitFor('tarpack');
  t.like(ready, { status: 'ready', image: 'solum/lp-tarpack:1' });
  t.regex(String(ready.imageId), /^sha256:/);
  const client = await gitClient(solum, 'http');
  const push = await client.git(['push', client.url(app), 'main'], await makeRepo({ 'tarpack.txt': 'x' }));
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /with language pack tarpack/);
  t.regex(push.stderr, /tarpack built this/);

  const broken = await post(await packTar({ Dockerfile: 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN exit 3\n', 'solum-pack.json': JSON.stringify({ ...manifest, name: 'brokenpack' }) }));
  t.is(broken.status, 202);
  const failed = await waitFor('brokenpack');
  t.like(failed, { status: 'error' });
  t.regex(String(failed.error), /returned a non-zero code: 3/);
  t.regex(String(failed.log), /RUN exit 3/);
  t.is((await post(await packTar({ 'solum-pack.json': JSON.stringify(manifest) }))).status, 400, 'no Dockerfile');
  t.is((await solum.api('DELETE', '/v1/language-packs/brokenpack')).status, 204, 'a failed pack can be removed');
});
