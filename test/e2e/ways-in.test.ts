// Ways in besides a push: artifact uploads (tar / tar.gz, with every bad kind of entry refused)
// and existing images registered as DUs. Same build records, logs and DUs as a push.
import zlib from 'node:zlib';
import test from 'ava';
import { releasesOf, solumWithApp } from '../support/fixtures.js';
import tar from 'tar-stream';
import { imageExists, removeAppImages } from '../support/docker.js';
import { randomName, run, startSolum, type RunningSolum } from '../support/solum.js';

type Entry = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; linkname?: string };

async function makeTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type && e.type !== 'file') pack.entry({ name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}), mode: 0o644 });
    else pack.entry({ name: e.name, mode: 0o755 }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function upload(solum: RunningSolum, app: string, body: Buffer, type = 'application/x-tar') {
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/apps/${app}/builds`, { method: 'POST', headers: { authorization: `Bearer ${solum.token}`, 'content-type': type }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function waitBuild(solum: RunningSolum, id: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 120; i++) {
    const b = (await solum.api('GET', `/v1/builds/${id}`)).json as Record<string, unknown>;
    if (b.status !== 'queued' && b.status !== 'running') return b;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('build did not finish');
}

test.serial('artifact uploads build like a push; bad archives are refused with a clear error and change nothing', async (t) => {
  const { solum, app } = await solumWithApp(t, 'upload', { env: { SOLUM_UPLOAD_MAX_ENTRIES: '50', SOLUM_UPLOAD_MAX_PATH: '100', SOLUM_UPLOAD_MAX_BYTES: '200000' } });
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  const good = [
    { name: 'build.sh', body: 'echo building the upload\n' },
    { name: 'bin/', type: 'directory' as const },
    { name: 'bin/run', body: '#!/bin/sh\necho prebuilt binary ran\n' },
    { name: 'link-to-run', type: 'symlink' as const, linkname: 'bin/run' },
    { name: 'Procfile', body: 'web: sh bin/run\n' },
  ];
  const res = await upload(solum, app, await makeTar(good));
  t.is(res.status, 201, JSON.stringify(res.json));
  t.like(res.json, { app, number: 1, ref: 'upload', source: 'upload' });
  t.regex(String(res.json.commit), /^[0-9a-f]{64}$/);
  const done = await waitBuild(solum, Number(res.json.id));
  t.like(done, { status: 'succeeded', languagePack: 'shell', duImage: `solum/${app}:1` });
  t.regex((await solum.api('GET', `/v1/builds/${String(res.json.id)}/log`)).text, /building the upload/);
  const du = await run('docker', ['run', '--rm', '--network', 'none', `solum/${app}:1`, 'sh', '-c', 'sh link-to-run']);
  t.is(du.stdout, 'prebuilt binary ran\n');
  // Uploads go live like pushes (this one has a web process that exits, so its release fails).
  t.is((await releasesOf(solum, app, 1)).length, 1);

  const gz = await upload(solum, app, zlib.gzipSync(await makeTar(good)), 'application/gzip');
  t.is(gz.status, 201);
  t.like(await waitBuild(solum, Number(gz.json.id)), { status: 'succeeded', number: 2 });

  const bad: Array<[string, Buffer, RegExp]> = [
    ['absolute path', await makeTar([{ name: '/etc/cron.d/evil', body: 'x' }]), /absolute path/],
    ['dot-dot', await makeTar([{ name: 'a/../../evil', body: 'x' }]), /path with '\.\.'/],
    ['device file', await makeTar([{ name: 'dev', type: 'character-device' }]), /character-device entry "dev": only files, directories and links/],
    ['fifo', await makeTar([{ name: 'pipe', type: 'fifo' }]), /fifo entry/],
    ['symlink out', await makeTar([{ name: 'etc', type: 'symlink', linkname: '../../etc' }]), /link "etc" points outside the tree/],
    ['absolute symlink', await makeTar([{ name: 'p', type: 'symlink', linkname: '/etc/passwd' }]), /points outside the tree/],
    ['hard link out', await makeTar([{ name: 'h', type: 'link', linkname: 'not-in-archive' }]), /hard link "h" points outside the tree/],
    ['too many entries', await makeTar(Array.from({ length: 60 }, (_, i) => ({ name: `f${i}`, body: 'x' }))), /more than 50 entries/],
    ['long path', await makeTar([{ name: `${'d'.repeat(90)}/${'f'.repeat(20)}`, body: 'x' }]), /path longer than 100 characters/],
    ['too big', await makeTar([{ name: 'big', body: 'x'.repeat(300_000) }]), /larger than 200000 bytes/],
    ['not a tar', Buffer.from('this is not a tar file at all, not even close. '.repeat(20)), /not a valid tar/],
  ];
  for (const [what, body, message] of bad) {
    const r = await upload(solum, app, body);
    t.is(r.status, 400, what);
    t.regex(String(r.json.message), message, what);
  }
  t.is(((await solum.api('GET', `/v1/apps/${app}/builds`)).json as unknown[]).length, 2, 'no build was queued for a refused archive');
  const wrongType = await solum.api('POST', `/v1/apps/${app}/builds`, { nothing: true });
  t.is(wrongType.status, 400);
});

test.serial('an existing local image registers as a DU, goes live, and is listed as not rebuildable', async (t) => {
  const solum = await startSolum();
  const app = randomName('image');
  const tag = `solum-test/${app}:1`;
  t.teardown(async () => {
    await solum.stop();
    await removeAppImages(app);
    await run('docker', ['rmi', '-f', tag]);
  });
  const built = await run('docker', ['build', '-q', '--network', 'none', '-t', tag, '-'], {
    input: 'FROM solum/lp-node:latest\nRUN echo "require(\'http\').createServer((q, s) => s.end(\'from a prebuilt image\')).listen(process.env.PORT)" > /srv.js\nCMD ["node", "/srv.js"]\n',
  });
  t.is(built.code, 0, built.stderr);
  t.is((await solum.api('POST', '/v1/apps', { name: app })).status, 201);
  t.is((await solum.api('POST', `/v1/apps/${app}/deployment-units`, { image: 'no/such:image' })).status, 404);
  const reg = await solum.api('POST', `/v1/apps/${app}/deployment-units`, { image: tag });
  t.is(reg.status, 201, reg.text);
  t.like(reg.json, { number: 1, status: 'succeeded', source: 'image', duImage: `solum/${app}:1`, releaseError: null });
  t.true(await imageExists(`solum/${app}:1`));
  t.is((await solum.viaRouter(app)).text, 'from a prebuilt image');
  const report = (await solum.api('GET', '/v1/security-rebuilds')).json as { app: string; state: string; reason: string }[];
  t.like(report.find((r) => r.app === app), { state: 'skipped' });
  t.regex(report.find((r) => r.app === app)?.reason ?? '', /registered image/);
});
