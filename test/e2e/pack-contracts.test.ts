// Packs that speak existing contracts, end to end with real git, Docker and the API: Heroku
// buildpacks (fetched by Solum from git, cache, ENV_DIR, bin/release, several in order), an S2I
// builder image with assemble/run/save-artifacts, and packs that depend on other packs.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import tar from 'tar-stream';
import { releasesOf, solumWithApp } from '../support/fixtures.js';
import { imageLabels } from '../support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { randomName, run } from '../support/solum.js';
import { createUser, gitEnvFor, urlFor } from '../support/users.js';

interface BuildJson {
  number: number;
  status: string;
  error: string | null;
  languagePack: string | null;
  languagePacks: Array<{ name: string; image: string | null }>;
  buildpacks: string[];
  duImage: string | null;
}

/** A Heroku buildpack (API v2) in shell, as a git repository Solum can clone over file://. */
async function buildpackRepo(name: string, opts: { detect?: string; compile: string; release?: string }): Promise<string> {
  return makeRepo({
    'bin/detect': opts.detect ?? `#!/bin/sh\necho ${name}\n`,
    'bin/compile': `#!/bin/sh\nset -e\nBUILD_DIR=$1\nCACHE_DIR=$2\nENV_DIR=$3\n${opts.compile}\n`,
    ...(opts.release ? { 'bin/release': `#!/bin/sh\ncat <<'YAML'\n${opts.release}YAML\n` } : {}),
  });
}

/** A web command for images with only the base system: perl answers every request with the files. */
const serveFiles = (files: string): string =>
  `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ENV{PORT}, Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { while (<$c>) { last if /^\\r?$/ } $b = \`cat ${files}\`; print $c "HTTP/1.0 200 OK\\r\\nContent-Length: " . length($b) . "\\r\\n\\r\\n" . $b; close $c }'`;

const builds = async (solum: { api: (m: string, p: string) => Promise<{ json: unknown }> }, app: string): Promise<BuildJson[]> =>
  (await solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];

test.serial('a Heroku buildpack builds an app: fetched by Solum, ENV_DIR config vars, a per-app cache, bin/release process types', async (t) => {
  const { solum, app } = await solumWithApp(t, 'bp');
  const bp = await buildpackRepo('Fixture', {
    compile: [
      'if [ -f "$CACHE_DIR/marker" ]; then echo "       cache hit: $(cat "$CACHE_DIR/marker")"; else echo "       cache empty"; fi',
      'echo "build $(date +%s%N)" > "$CACHE_DIR/marker"',
      'echo "       GREETING from ENV_DIR: $(cat "$ENV_DIR/GREETING")"',
      'printf "%s\\n" "$(cat "$ENV_DIR/GREETING")" > "$BUILD_DIR/greeting.txt"',
    ].join('\n'),
    release: '---\ndefault_process_types:\n  web: cat /app/greeting.txt /app/hello.txt\n  worker: echo working\n',
  });
  const url = `file://${bp}`;
  // file:// reads the server's disk: an app admin who is not a server admin may not use it.
  const eve = await createUser(solum, 'eve');
  t.is((await solum.api('POST', '/v1/apps', { name: app }, eve.token)).status, 201);
  const refused = await solum.api('PATCH', `/v1/apps/${app}`, { buildpacks: [url] }, eve.token);
  t.is(refused.status, 403, refused.text);
  // The SSH command does the same, for the app's admins.
  const ssh = (cmd: string) => run('ssh', [...eve.identity.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', cmd]);
  const viaSsh = await ssh(`buildpacks:set ${app} https://example.invalid/one.git https://example.invalid/two.git#v1`);
  t.is(viaSsh.code, 0, viaSsh.stderr);
  t.regex(viaSsh.stdout, /1\. https:\/\/example\.invalid\/one\.git\n {2}2\. https:\/\/example\.invalid\/two\.git#v1/);
  t.deepEqual(((await solum.api('GET', `/v1/apps/${app}`)).json as { buildpacks: string[] }).buildpacks, ['https://example.invalid/one.git', 'https://example.invalid/two.git#v1']);
  const sshRefused = await ssh(`buildpacks:set ${app} ${url}`);
  t.not(sshRefused.code, 0);
  t.regex(sshRefused.stderr, /admins only/);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { buildpacks: ['ftp://example.com/bp'] }, eve.token)).status, 400);
  const set = await solum.api('PATCH', `/v1/apps/${app}`, { buildpacks: [url] });
  t.is(set.status, 200, set.text);
  t.deepEqual((set.json as { buildpacks: string[] }).buildpacks, [url]);
  t.is((await solum.api('PATCH', `/v1/apps/${app}/config`, { GREETING: 'hello-from-config' })).status, 200);

  const client = await gitClient(solum, 'ssh');
  const repo = await makeRepo({ 'hello.txt': 'hello from the app\n' });
  const first = await client.git(['push', client.url(app), 'main'], repo);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /with language pack buildpack/);
  t.regex(first.stderr, new RegExp(`Fetching buildpack 1/1: ${url}`));
  t.regex(first.stderr, /Buildpack 1\/1: Fixture/);
  t.regex(first.stderr, /remote:\s+cache empty/);
  t.regex(first.stderr, /GREETING from ENV_DIR: hello-from-config/);
  t.regex(first.stderr, /Process types: web, worker/);
  const [b1] = await builds(solum, app);
  t.like(b1, { status: 'succeeded', languagePack: 'buildpack', duImage: `solum/${app}:1` });
  t.deepEqual(b1?.languagePacks.map((u) => u.name), ['buildpack']);
  t.regex(b1?.languagePacks[0]?.image ?? '', /^sha256:/);
  const labels = await imageLabels(`solum/${app}:1`);
  t.deepEqual(JSON.parse(labels['io.solum.process-types'] ?? '{}'), { web: 'cat /app/greeting.txt /app/hello.txt', worker: 'echo working' });
  t.is((JSON.parse(labels['io.solum.buildpacks'] ?? '[]') as Array<{ url: string }>)[0]?.url, url);
  // The web process type from bin/release is the DU's command; config vars stayed out of the DU.
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`])).stdout, 'hello-from-config\nhello from the app\n');
  t.not((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`, 'ls', '/solum/env'])).code, 0, 'ENV_DIR is gone from the DU');

  // The second build finds what the first left in CACHE_DIR.
  await writeAndCommit(repo, { 'hello.txt': 'hello again\n' }, 'again');
  const second = await client.git(['push', client.url(app), 'main'], repo);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /remote:\s+cache hit: build \d+/);
  t.notRegex(second.stderr, /cache empty/);
  // A Procfile line overrides the buildpack's process type.
  await writeAndCommit(repo, { Procfile: 'web: cat /app/hello.txt\n' }, 'procfile');
  t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
  t.deepEqual(JSON.parse((await imageLabels(`solum/${app}:3`))['io.solum.process-types'] ?? '{}'), { web: 'cat /app/hello.txt', worker: 'echo working' });
});

test.serial('two buildpacks from push options run in order in one builder; the last release wins; a buildpack that does not apply fails the push', async (t) => {
  const { solum, app } = await solumWithApp(t, 'bp2');
  const first = await buildpackRepo('First', {
    compile: 'echo "       first compiled"\necho from-first > "$BUILD_DIR/first.txt"',
    release: 'default_process_types:\n  web: echo first-web\n',
  });
  const second = await buildpackRepo('Second', {
    compile: 'echo "       second sees: $(cat "$BUILD_DIR/first.txt")"\necho from-second > "$BUILD_DIR/second.txt"',
    release: 'default_process_types:\n  web: cat /app/first.txt /app/second.txt\n',
  });
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'x.txt': 'x' });
  const push = await client.git(['push', '-o', `solum.buildpack=file://${first}`, '-o', `solum.buildpack=file://${second}`, client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  const log = push.stderr;
  const order = ['Buildpack 1/2: First', 'first compiled', 'Buildpack 2/2: Second', 'second sees: from-first'].map((s) => log.indexOf(s));
  t.true(order.every((i) => i >= 0), log);
  t.deepEqual([...order].sort((a, b) => a - b), order, 'the buildpacks ran in the order given');
  const [b] = await builds(solum, app);
  t.deepEqual(b?.buildpacks, [`file://${first}`, `file://${second}`]);
  t.deepEqual(JSON.parse((await imageLabels(`solum/${app}:1`))['io.solum.process-types'] ?? '{}'), { web: 'cat /app/first.txt /app/second.txt' });
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`])).stdout, 'from-first\nfrom-second\n');

  // file:// buildpacks in push options are for admins too.
  const eve = await createUser(solum, 'eve');
  const evePush = await run('git', ['push', '-o', `solum.buildpack=file://${first}`, urlFor(solum, 'http', `${app}-eve`, eve), 'main'], { cwd: repo, env: { ...gitEnvFor(eve), HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1' } });
  t.not(evePush.code, 0);
  t.regex(evePush.stderr, /file:\/\/ buildpacks read the server's disk: admins only \(solum\.buildpack\)/);

  const picky = await buildpackRepo('Picky', { detect: '#!/bin/sh\nexit 1\n', compile: 'echo never' });
  await writeAndCommit(repo, { 'y.txt': 'y' }, 'picky');
  const bad = await client.git(['push', '-o', `solum.buildpack=file://${picky}`, client.url(app), 'main'], repo);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /buildpack 1\/1 does not apply to this app \(its bin\/detect failed\)/);
  const missing = await client.git(['push', '-o', 'solum.buildpack=file:///nonexistent/bp', client.url(app), 'main'], repo);
  t.not(missing.code, 0);
  t.regex(missing.stderr, /fetching buildpack file:\/\/\/nonexistent\/bp failed/);
  t.is((await builds(solum, app)).filter((x) => x.status === 'succeeded').length, 1, 'failed builds released nothing new');
});

test.serial('an S2I builder image: registered as kind s2i, assemble builds /tmp/src, run is the command, save-artifacts feeds the next build', async (t) => {
  const { solum, app } = await solumWithApp(t, 's2i');
  const packName = randomName('s2i');
  const image = `solum-test/${packName}:1`;
  t.teardown(async () => { await run('docker', ['rmi', '-f', image]); });
  const ctx = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-s2i-'));
  const script = async (name: string, body: string): Promise<void> => {
    await fs.writeFile(path.join(ctx, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  };
  await script('assemble', [
    'set -e',
    'if [ -f /tmp/artifacts/counter ]; then n=$(( $(cat /tmp/artifacts/counter) + 1 )); echo "s2i assemble: restored counter, now $n"; else n=1; echo "s2i assemble: no artifacts"; fi',
    'mkdir -p /opt/app && cp -R /tmp/src/. /opt/app/ && echo "$n" > /opt/app/counter',
  ].join('\n'));
  await script('run', 'cat /opt/app/message.txt; echo "build counter $(cat /opt/app/counter)"');
  await script('save-artifacts', 'cd /opt/app && tar -c counter');
  await fs.writeFile(path.join(ctx, 'Dockerfile'), 'FROM solum/base:bookworm\nLABEL io.openshift.s2i.scripts-url=image:///opt/s2i/bin\nCOPY assemble run save-artifacts /opt/s2i/bin/\nWORKDIR /opt/app\n');
  const built = await run('docker', ['build', '-q', '--network', 'none', '-t', image, ctx]);
  t.is(built.code, 0, built.stderr);
  await fs.rm(ctx, { recursive: true, force: true });

  const reg = await solum.api('POST', '/v1/language-packs', { image, manifest: { name: packName, version: '1.0', kind: 's2i' } });
  t.is(reg.status, 201, reg.text);
  t.like(reg.json, { name: packName, kind: 's2i', status: 'ready' });
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { languagePack: packName })).status, 200);

  const client = await gitClient(solum, 'ssh');
  const repo = await makeRepo({ 'message.txt': 'hello from s2i\n' });
  const first = await client.git(['push', client.url(app), 'main'], repo);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, new RegExp(`with language pack ${packName}`));
  t.regex(first.stderr, /s2i assemble: no artifacts/);
  const labels = await imageLabels(`solum/${app}:1`);
  t.is(labels['io.solum.s2i.scripts'], '/opt/s2i/bin');
  t.is((await run('docker', ['image', 'inspect', '-f', '{{json .Config.Cmd}}', `solum/${app}:1`])).stdout.trim(), '["/opt/s2i/bin/run"]');
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`])).stdout, 'hello from s2i\nbuild counter 1\n');

  await writeAndCommit(repo, { 'message.txt': 'hello again\n' }, 'again');
  const second = await client.git(['push', client.url(app), 'main'], repo);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /Restored artifacts of build #1 \(save-artifacts\)/);
  t.regex(second.stderr, /s2i assemble: restored counter, now 2/);
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:2`])).stdout, 'hello again\nbuild counter 2\n');
});

test.serial('a pack depending on another: refused while its dependency is missing, then built after it in one builder; security rebuilds check both images', async (t) => {
  const { solum, app } = await solumWithApp(t, 'deps');
  const baseName = randomName('dbase');
  const topName = randomName('dtop');
  const baseImage = `solum-test/${baseName}:1`;
  const topImage = `solum-test/${topName}:1`;
  t.teardown(async () => { await run('docker', ['rmi', '-f', baseImage, topImage, `${baseImage}-old`]); });
  const packImage = async (tag: string, body: string): Promise<void> => {
    const r = await run('docker', ['build', '-q', '--network', 'none', '-t', tag, '-'], {
      input: `FROM solum/lp-shell:latest\nRUN printf '#!/bin/sh\\nset -e\\n${body}\\n' > /solum/bin/build && chmod 755 /solum/bin/build\n`,
    });
    t.is(r.code, 0, r.stderr);
  };
  await packImage(baseImage, 'echo "base step ran"\\necho base-was-here > /app/base.txt');
  await packImage(topImage, 'echo "top step ran; base said $(cat /app/base.txt)"\\necho top-was-here > /app/top.txt');
  const top = { image: topImage, manifest: { name: topName, version: '1.2.0', build: '/solum/bin/build', run: serveFiles('/app/base.txt /app/top.txt'), dependsOn: [baseName] } };
  const early = await solum.api('POST', '/v1/language-packs', top);
  t.is(early.status, 400, early.text);
  t.regex(early.text, new RegExp(`depends on '${baseName}', which does not exist`));
  t.is((await solum.api('POST', '/v1/language-packs', { image: baseImage, manifest: { name: baseName, version: '1.0.0', build: '/solum/bin/build' } })).status, 201);
  const reg = await solum.api('POST', '/v1/language-packs', top);
  t.is(reg.status, 201, reg.text);
  t.deepEqual((reg.json as { dependsOn: string[] }).dependsOn, [baseName]);
  // Searchable by name and version.
  t.deepEqual(((await solum.api('GET', `/v1/language-packs?q=${topName}@1`)).json as Array<{ name: string }>).map((p) => p.name), [topName]);
  t.deepEqual((await solum.api('GET', `/v1/language-packs?q=${topName}@2`)).json, []);

  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { languagePacks: ['no-such-pack'] })).status, 404);
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { languagePacks: [topName] })).status, 200);
  const client = await gitClient(solum, 'http');
  const push = await client.git(['push', client.url(app), 'main'], await makeRepo({ 'x.txt': 'x' }));
  t.is(push.code, 0, push.stderr);
  const log = push.stderr;
  t.regex(log, new RegExp(`with language packs ${baseName}, ${topName}`));
  const order = [`Build step 1/2: language pack ${baseName}`, 'base step ran', `Build step 2/2: language pack ${topName}`, 'top step ran; base said base-was-here'].map((s) => log.indexOf(s));
  t.true(order.every((i) => i >= 0), log);
  t.deepEqual([...order].sort((a, b) => a - b), order, 'the dependency built first');
  const [b] = await builds(solum, app);
  const baseId = (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', baseImage])).stdout.trim();
  const topId = (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', topImage])).stdout.trim();
  t.deepEqual(b?.languagePacks, [{ name: baseName, image: baseId }, { name: topName, image: topId }]);
  t.is(b?.languagePack, topName);
  t.deepEqual(JSON.parse((await imageLabels(`solum/${app}:1`))['io.solum.language-packs'] ?? '[]'), [{ name: baseName, image: baseId }, { name: topName, image: topId }]);
  // Released: the app answers with what both build steps wrote.
  t.like((await releasesOf(solum, app, 1))[0], { version: 1, status: 'active' }, (await solum.api('GET', `/v1/apps/${app}/releases`)).text);
  t.deepEqual(await solum.viaRouter(app), { status: 200, text: 'base-was-here\ntop-was-here\n' });
  t.is((await solum.api('DELETE', `/v1/language-packs/${baseName}`)).status, 409, 'a pack others depend on stays');

  // The operator updates the dependency's image: the app is due a rebuild through it.
  const mine = async (): Promise<{ state: string; reason: string } | undefined> =>
    ((await solum.api('GET', '/v1/security-rebuilds')).json as Array<{ app: string; state: string; reason: string }>).find((c) => c.app === app);
  const before = await mine();
  t.is(before?.state, 'current', JSON.stringify(before));
  await run('docker', ['tag', baseImage, `${baseImage}-old`]);
  await packImage(baseImage, 'echo "base step ran (patched)"\\necho base-was-here > /app/base.txt');
  const after = await mine();
  t.is(after?.state, 'rebuild', JSON.stringify(after));
  t.regex(after?.reason ?? '', new RegExp(`'${baseName}'`));
  // Rebuilding the same commit runs both packs again, the patched dependency first.
  const queued = await solum.api('POST', '/v1/security-rebuilds', { pack: baseName });
  t.is(queued.status, 200, queued.text);
  t.is((queued.json as Array<{ app: string; queued: number | null }>).find((c) => c.app === app)?.queued, 2);
  let rebuilt: { status: string; languagePacks: Array<{ name: string; image: string | null }> } | undefined;
  for (let i = 0; i < 600 && !['succeeded', 'failed', 'canceled'].includes(rebuilt?.status ?? ''); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    rebuilt = (await solum.api('GET', `/v1/apps/${app}/builds/2`)).json as typeof rebuilt;
  }
  t.is(rebuilt?.status, 'succeeded');
  const patchedId = (await run('docker', ['image', 'inspect', '-f', '{{.Id}}', baseImage])).stdout.trim();
  t.deepEqual(rebuilt?.languagePacks, [{ name: baseName, image: patchedId }, { name: topName, image: topId }]);
});

test.serial('a buildpack uploaded as an archive: admins only, checked, used by name, kept while an app uses it', async (t) => {
  const { solum, app } = await solumWithApp(t, 'bparc');
  const name = randomName('arc');
  const archive = async (files: Record<string, string>): Promise<Buffer> => {
    const pack = tar.pack();
    for (const [n, body] of Object.entries(files)) pack.entry({ name: n, mode: 0o755 }, body);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const put = async (body: Buffer, token = solum.token): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/buildpacks/${name}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-tar' }, body });
    return { status: res.status, json: await res.json() };
  };
  const good = await archive({
    'bin/detect': '#!/bin/sh\necho Archived\n',
    'bin/compile': '#!/bin/sh\necho "       compiled from an uploaded archive"\necho archived > "$1/from-archive.txt"\n',
    'bin/release': '#!/bin/sh\nprintf "default_process_types:\\n  web: cat /app/from-archive.txt\\n"\n',
  });
  const eve = await createUser(solum, 'eve');
  t.is((await put(good, eve.token)).status, 403);
  const noCompile = await put(await archive({ 'bin/detect': '#!/bin/sh\n' }));
  t.is(noCompile.status, 400);
  t.regex(JSON.stringify(noCompile.json), /needs bin\/compile/);
  const up = await put(good);
  t.is(up.status, 201, JSON.stringify(up.json));
  t.like(up.json, { name, url: `solum-buildpack:${name}` });
  t.is((await put(good)).status, 409, 'names are taken once');
  t.true(((await solum.api('GET', '/v1/buildpacks', undefined, eve.token)).json as Array<{ name: string }>).some((a) => a.name === name));

  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { buildpacks: [`solum-buildpack:${name}`] })).status, 200);
  const client = await gitClient(solum, 'http');
  const push = await client.git(['push', client.url(app), 'main'], await makeRepo({ 'x.txt': 'x' }));
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, new RegExp(`Fetching buildpack 1/1: solum-buildpack:${name}`));
  t.regex(push.stderr, /Buildpack 1\/1: Archived/);
  t.regex(push.stderr, /compiled from an uploaded archive/);
  t.is((await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`])).stdout, 'archived\n');
  t.is((await solum.api('DELETE', `/v1/buildpacks/${name}`)).status, 409, 'the app uses it');
  t.is((await solum.api('PATCH', `/v1/apps/${app}`, { buildpacks: [] })).status, 200);
  t.is((await solum.api('DELETE', `/v1/buildpacks/${name}`)).status, 204);
  t.is((await solum.api('DELETE', `/v1/buildpacks/${name}`)).status, 404);
});
