// Push options over both transports: skip the build, pick a language pack, return at once.
import test from 'ava';
import { removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, remoteRefs, transports, writeAndCommit } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';

interface BuildJson {
  number: number;
  status: string;
  languagePack: string | null;
  commit: string;
}

for (const transport of transports) {
  test.serial(`push options: solum.skip-build, solum.language-pack, solum.async, unknown ones [${transport}]`, async (t) => {
    const solum = await startSolum();
    const app = randomName('opts');
    t.teardown(async () => {
      await solum.stop();
      await removeAppImages(app);
    });
    const client = await gitClient(solum, transport);
    const list = async (): Promise<BuildJson[]> => (await solum.api('GET', `/v1/apps/${app}/builds`)).json as BuildJson[];
    const repo = await makeRepo({ 'package.json': '{"name":"x","version":"1.0.0"}', 'build.sh': 'echo built by the shell pack\n' });

    const skip = await client.git(['push', '-o', 'solum.skip-build', '-o', 'color=blue', client.url(app), 'main'], repo);
    t.is(skip.code, 0, skip.stderr);
    t.regex(skip.stderr, /Ignoring unknown push options: color=blue/);
    t.regex(skip.stderr, /refs\/heads\/main: stored without a build \(solum\.skip-build\)/);
    t.deepEqual(await list(), []);
    t.truthy((await remoteRefs(client, app, repo)).get('refs/heads/main'));

    // A preview is of another branch: asked for on the deploy branch, the push is refused rather than deploying the app itself.
    await writeAndCommit(repo, { 'p.txt': '1' }, 'preview asked');
    const preview = await client.git(['push', '-o', 'solum.preview', client.url(app), 'main'], repo);
    t.not(preview.code, 0);
    t.regex(preview.stderr, /solum\.preview builds a branch other than main as a preview: push main without it/);
    t.deepEqual(await list(), [], 'no build started');
    t.not((await remoteRefs(client, app, repo)).get('refs/heads/main'), (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim(), 'the branch did not move');

    // package.json would select node; the option asks for shell for this build only.
    await writeAndCommit(repo, { 'x.txt': '1' }, 'two');
    const pinned = await client.git(['push', '-o', 'solum.language-pack=shell', client.url(app), 'main'], repo);
    t.is(pinned.code, 0, pinned.stderr);
    t.regex(pinned.stderr, /with language pack shell/);
    t.regex(pinned.stderr, /built by the shell pack/);
    t.is((await list())[0]?.languagePack, 'shell');

    const bad = await client.git(['push', '--force', '-o', 'solum.language-pack=cobol', client.url(app), 'main'], await makeRepo({ 'a.txt': 'x' }));
    t.not(bad.code, 0);
    t.regex(bad.stderr, /no language pack named 'cobol'/);

    await writeAndCommit(repo, { 'build.sh': 'sleep 3\necho slow build done\n' }, 'slow');
    const started = Date.now();
    const quick = await client.git(['push', '-o', 'solum.async', '-o', 'solum.language-pack=shell', client.url(app), 'main'], repo);
    t.is(quick.code, 0, quick.stderr);
    t.true(Date.now() - started < 3000, 'the push did not wait for the build');
    t.regex(quick.stderr, /Build #2 queued \(solum\.async\): http:\/\/127\.0\.0\.1:\d+\/v1\/builds\/\d+/);
    t.notRegex(quick.stderr, /slow build done/);
    // The build runs on after the push and is released (its base is its own, landed commit).
    for (let i = 0; i < 60 && (await list())[0]?.status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 250));
    t.like((await list())[0], { number: 2, status: 'succeeded' });
    const log = await solum.api('GET', `/v1/builds/${((await solum.api('GET', `/v1/apps/${app}/builds`)).json as { id: number }[])[0]!.id}/log`);
    t.regex(log.text, /slow build done/);
  });
}
