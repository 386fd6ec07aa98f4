// Results written back to git: after a push, `git fetch` of refs/notes/solum and `git log
// --notes=solum` show each commit's build and, once it is live, its release; branches untouched.
import test from 'ava';
import { okWebServer, solumWithApp, waitFor } from '../support/fixtures.js';
import { gitClient, makeRepo, remoteRefs, transports, writeAndCommit } from '../support/git.js';
import { databaseKinds } from '../support/database.js';

for (const database of databaseKinds) {
  for (const transport of transports) {
    test.serial(`a build's number, status, DU and release are noted on its commit under refs/notes/solum [${transport}, ${database}]`, async (t) => {
      const { solum, app } = await solumWithApp(t, 'notes', { database });
      const client = await gitClient(solum, transport);
      const repo = await makeRepo({ Procfile: 'web: sh ./serve.sh\n', 'serve.sh': okWebServer, 'build.sh': 'echo built\n' });
      const pushed = await client.git(['push', client.url(app), 'main'], repo);
      t.is(pushed.code, 0, pushed.stderr);
      const good = (await client.git(['rev-parse', 'HEAD'], repo)).stdout.trim();
      const builds = (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Array<{ id: number; duId: string }>;
      const notesOf = async (commit: string): Promise<string | undefined> => {
        const f = await client.git(['fetch', '-q', client.url(app), '+refs/notes/solum:refs/notes/solum'], repo);
        if (f.code !== 0) return undefined;
        const shown = await client.git(['log', '-1', '--notes=solum', '--format=%N', commit], repo);
        return shown.stdout.trim() || undefined;
      };
      const first = await waitFor('the release note', async () => {
        const n = await notesOf(good);
        return n?.includes('Solum-Release:') ? n : undefined;
      });
      t.regex(first, /^Solum-Build: #1 succeeded$/m);
      t.regex(first, new RegExp(`^Solum-Build-URL: http://\\S+/v1/builds/${builds[0]!.id}$`, 'm'));
      t.true(first.includes(`Solum-DU: ${builds[0]!.duId}`), first);
      t.regex(first, /^Solum-Release: v1 http:\/\/\S+$/m);
      // A failed build's commit, which the push never stored, is noted too: the pusher has it.
      const bad = await writeAndCommit(repo, { 'build.sh': 'echo broken; exit 3\n' }, 'broken');
      t.not((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
      const second = await waitFor('the failure note', () => notesOf(bad));
      t.regex(second, /^Solum-Build: #2 failed$/m);
      t.false(second.includes('Solum-Release'), 'a failed build was not released');
      // Only the notes ref was written: main is where the first push put it, and no other ref appeared.
      const refs = await remoteRefs(client, app, repo);
      t.is(refs.get('refs/heads/main'), good);
      t.deepEqual([...refs.keys()].filter((r) => r !== 'HEAD').sort(), ['refs/heads/main', 'refs/notes/solum']);
    });
  }
}
