// Builds through the real stock packs: a node app with npm dependencies, a silent build kept alive.
import test from 'ava';
import { solumWithApp } from '../support/fixtures.js';
import { removeAppImages } from '../support/docker.js';
import { gitClient, makeRepo, transports } from '../support/git.js';
import { randomName, run, startSolum } from '../support/solum.js';

test.serial('a node app: detected, dependencies installed from the registry, DU runs npm start', async (t) => {
  const { solum, app: name } = await solumWithApp(t, 'node');
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { 'is-number': '7.0.0' } }),
    'server.js': "console.log('is 5 a number?', require('is-number')(5));\n",
  });
  const push = await client.git(['push', client.url(name), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /with language pack node/);
  t.regex(push.stderr, /Installing dependencies \(npm install\)/);
  t.regex(push.stderr, /added 1 package/);
  const [build] = (await solum.api('GET', `/v1/apps/${name}/builds`)).json as { duImage: string; languagePack: string }[];
  t.is(build?.languagePack, 'node');
  const du = await run('docker', ['run', '--rm', '--network', 'none', build!.duImage]);
  t.is(du.code, 0, du.stderr);
  t.regex(du.stdout, /is 5 a number\? true/);
});

for (const transport of transports) {
  test.serial(`a build silent for longer than git's keep-alive interval still completes [${transport}]`, async (t) => {
    const solum = await startSolum();
    const name = randomName('quiet');
    t.teardown(async () => {
      await solum.stop();
      await removeAppImages(name);
    });
    const client = await gitClient(solum, transport);
    const repo = await makeRepo({ 'build.sh': 'sleep 12\necho woke up\n', Procfile: 'web: true\n' });
    const push = await client.git(['push', client.url(name), 'main'], repo, { GIT_TRACE_PACKET: '1' });
    t.is(push.code, 0, push.stderr);
    t.regex(push.stderr, /remote: woke up/);
    // git's keep-alive is an empty sideband-1 packet, sent after 5 s without hook output.
    const keepAlives = push.stderr.split('\n').filter((l) => /packet: +sideband< \\1$/.test(l));
    t.true(keepAlives.length >= 2, `expected keep-alives during 12 s of silence, saw ${keepAlives.length}`);
    t.regex(push.stderr, /Build #1 succeeded/);
  });
}

test.serial('a build log followed as Server-Sent Events: stored lines, live lines, the end, and resuming', async (t) => {
  const { solum, app: name } = await solumWithApp(t, 'sse');
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ 'build.sh': 'echo first line\nsleep 2\necho second line\n' });
  const push = client.git(['push', client.url(name), 'main'], repo);
  let id: number | undefined;
  for (let i = 0; i < 100 && id === undefined; i++) {
    const list = await solum.api('GET', `/v1/apps/${name}/builds`);
    if (list.status === 200) id = (list.json as { id: number; status: string }[]).find((b) => b.status === 'running')?.id;
    if (id === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  t.truthy(id, 'the build started');
  const res = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/builds/${id ?? 0}/log?follow=1`, { headers: { authorization: `Bearer ${solum.token}` } });
  t.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await res.text();
  await push;
  const events = text.split('\n\n').filter((e) => e.trim() !== '' && !e.startsWith(':'));
  const lines = events.filter((e) => e.includes('event: line')).map((e) => /data: (.*)/.exec(e)?.[1]);
  t.true(lines.includes('first line') && lines.includes('second line'), lines.join(' | '));
  const ids = events.filter((e) => e.includes('event: line')).map((e) => Number(/id: (\d+)/.exec(e)?.[1]));
  t.deepEqual(ids, ids.map((_, i) => i + 1), 'line numbers count from 1 without gaps');
  const end = events.find((e) => e.startsWith('event: end'));
  t.like(JSON.parse(/data: (.*)/.exec(end ?? '')?.[1] ?? '{}'), { id, status: 'succeeded' });
  // Resuming after line 2 sends only what came after it.
  const again = await fetch(`http://127.0.0.1:${solum.httpPort}/v1/builds/${id ?? 0}/log?follow=1`, { headers: { authorization: `Bearer ${solum.token}`, 'last-event-id': '2' } });
  const rest = (await again.text()).split('\n\n').filter((e) => e.includes('event: line')).map((e) => Number(/id: (\d+)/.exec(e)?.[1]));
  t.is(rest[0], 3);
  t.is(rest.length, ids.length - 2);
});
