// Canary releases through the real router (HAProxy), real Docker and real git, on both databases:
// a push made a canary (-o solum.canary), the share of new sessions, stickiness, per-release
// counts, a restart that re-adopts it, promote with no failed request, abort, bad input refused,
// and a canary whose health check fails aborting on its own.
import http from 'node:http';
import test from 'ava';
import { databaseKinds } from '../support/database.js';
import { solumWithApp, waitFor, webSocketEcho } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { makeSshIdentity, run } from '../support/solum.js';
import { createUser } from '../support/users.js';

const server = (greeting: string, breakAfterMs = 0): string => `
const http = require('http');
const started = Date.now();
http.createServer((req, res) => {
  if (req.url === '/health') { res.statusCode = ${breakAfterMs} > 0 && Date.now() - started > ${breakAfterMs} ? 500 : 200; res.end('ok'); return; }
  if (req.url === '/boom') { res.statusCode = 503; res.end('boom'); return; }
  res.end(${JSON.stringify(greeting)} + ' of ' + process.env.SOLUM_RELEASE);
}).on('upgrade', (req, socket) => {
  // A WebSocket handshake naming the release, then every byte echoed back.
  const accept = require('crypto').createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nX-Release: ' + process.env.SOLUM_RELEASE + '\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  socket.on('data', (d) => socket.write(d));
}).listen(Number(process.env.PORT), '0.0.0.0');
`;
const pkg = JSON.stringify({ name: 'web', version: '1.0.0', scripts: { start: 'node server.js' } });
const yaml = 'healthcheck:\n  path: /health\n  timeout: 10\n';

/** One request to the app through the router, with an optional cookie; the answer and the cookie it set. */
function get(port: number, app: string, cookie?: string, path = '/'): Promise<{ status: number; text: string; setCookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host: `${app}.localhost`, ...(cookie ? { cookie } : {}) }, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text, setCookie: res.headers['set-cookie']?.[0]?.split(';')[0] }); });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

for (const database of databaseKinds) {
  test.serial(`a pushed canary gets its share of new sessions, sticky per client, counted per release, re-adopted after a restart, promoted with no failed request; abort; bad input changes nothing [${database}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'canary', { database, env: { SOLUM_CANARY_CHECK_MS: '300', SOLUM_DEPLOY_GRACE_SECONDS: '2' } });
    const client = await gitClient(solum, 'http');
    const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('hello v1'), 'solum.yaml': yaml });
    t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

    // v2 pushed as a canary at 30%: v1 stays live.
    await writeAndCommit(repo, { 'server.js': server('hello v2') }, 'v2');
    const p2 = await client.git(['push', '-o', 'solum.canary=30', client.url(app), 'main'], repo);
    t.is(p2.code, 0, p2.stderr);
    t.regex(p2.stderr, /v2 is a canary with 30% of new sessions/);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v1', canary: { version: 2, percent: 30 } });

    // Bad input changes nothing.
    for (const [body, code] of [[{ version: 2, percent: 0 }, 400], [{ version: 2, percent: 100 }, 400], [{ version: 2, percent: 'abc' }, 400], [{ version: 1, percent: 20 }, 400], [{ version: 9, percent: 20 }, 404]] as const) {
      t.is((await solum.api('POST', `/v1/apps/${app}/canary`, body)).status, code, JSON.stringify(body));
    }
    t.like((await solum.api('GET', `/v1/apps/${app}/canary`)).json, { canary: { version: 2, percent: 30 } });

    // ~200 new sessions: about 30% land on v2, each told its release by the cookie.
    const port = solum.routerPort;
    let onCanary = 0;
    const cookies = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const r = await get(port, app);
      t.is(r.status, 200);
      if (r.text.endsWith('of v2')) onCanary++;
      if (r.setCookie) cookies.set(r.text.endsWith('of v2') ? 'v2' : 'v1', r.setCookie);
    }
    t.true(onCanary >= 35 && onCanary <= 90, `${onCanary} of 200 new sessions went to the canary`);
    // A client holding a cookie stays on its release for 20 requests.
    for (const [release, cookie] of cookies) {
      for (let i = 0; i < 20; i++) t.regex((await get(port, app, cookie)).text, new RegExp(`of ${release}$`));
    }
    // A WebSocket with the canary's cookie is upgraded by the canary and passes both ways.
    const canaryCookie = cookies.get('v2');
    t.truthy(canaryCookie);
    if (canaryCookie) {
      const ws = await webSocketEcho(port, `${app}.localhost`, canaryCookie);
      t.regex(ws, /^HTTP\/1\.1 101 /);
      t.regex(ws, /X-Release: v2\r\n/i);
      t.regex(ws, /ping-pong$/);
    }
    // Errors are counted per release too.
    t.is((await get(port, app, cookies.get('v2'), '/boom')).status, 503);
    const metrics = (await solum.api('GET', '/metrics')).text;
    t.regex(metrics, new RegExp(`solum_router_requests_total\\{target="app-\\d+",name="${app}",release="v2",code="2xx"\\} \\d+`));
    t.regex(metrics, new RegExp(`solum_router_requests_total\\{target="app-\\d+",name="${app}",release="v1",code="2xx"\\} \\d+`));
    t.regex(metrics, new RegExp(`solum_router_errors_total\\{target="app-\\d+",name="${app}",release="v2"\\} [1-9]`));

    // A second canary is refused while one runs; the share of the running one can change.
    const alice = await createUser(solum, 'alice');
    t.true([403, 404].includes((await solum.api('POST', `/v1/apps/${app}/canary`, { version: 2, percent: 50 }, alice.token)).status));
    t.is((await solum.api('POST', `/v1/apps/${app}/canary`, { version: 2, percent: 50 })).status, 201);

    // A restart re-adopts the canary: processes, share, stickiness.
    await solum.restart();
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v1', canary: { version: 2, percent: 50 } });
    const port2 = solum.routerPort;
    const c2 = cookies.get('v2');
    if (c2) await waitFor('the canary back in the router', async () => ((await get(port2, app, c2)).text.endsWith('of v2') ? true : undefined));

    // Promote while a client requests continuously: nothing fails, v2 is live.
    let failed = 0;
    let made = 0;
    const state = { done: false };
    const loop = (async () => {
      while (!state.done) {
        made++;
        try {
          if ((await get(port2, app)).status !== 200) failed++;
        } catch {
          failed++;
        }
      }
    })();
    const promoted = await solum.api('POST', `/v1/apps/${app}/canary/promote`, {});
    t.is(promoted.status, 200, promoted.text);
    await new Promise((r) => setTimeout(r, 3000));
    state.done = true;
    await loop;
    t.is(failed, 0, `${failed} of ${made} requests failed during the promotion`);
    t.true(made > 20, `only ${made} requests were made`);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v2', canary: null });
    t.regex((await get(port2, app)).text, /of v2$/);

    // v3 as a canary, then aborted: everything back on v2, the release says why.
    await writeAndCommit(repo, { 'server.js': server('hello v3') }, 'v3');
    t.is((await client.git(['push', '-o', 'solum.canary=25', client.url(app), 'main'], repo)).code, 0);
    t.is((await solum.api('POST', `/v1/apps/${app}/canary/abort`, {})).status, 200);
    for (let i = 0; i < 20; i++) t.regex((await get(port2, app)).text, /of v2$/);
    t.like((await solum.api('GET', `/v1/apps/${app}/releases/3`)).json, { status: 'failed' });

    // v4's health check fails after it starts: the canary aborts on its own.
    await writeAndCommit(repo, { 'server.js': server('hello v4', 3000) }, 'v4');
    t.is((await client.git(['push', '-o', 'solum.canary=40', client.url(app), 'main'], repo)).code, 0);
    await waitFor('the failing canary to abort', async () => (((await solum.api('GET', `/v1/apps/${app}`)).json as { canary: unknown }).canary === null ? true : undefined), 30_000);
    const v4 = (await solum.api('GET', `/v1/apps/${app}/releases/4`)).json as { status: string; error: string };
    t.is(v4.status, 'failed', 'the release is failed by the time the canary is gone');
    t.regex(v4.error, /health check failed 3 times in a row/);
    // The records end first, then the router sends the canary's sessions back (decision 0019):
    // within moments every request is v2's again.
    const tenAtV2 = async (): Promise<true | undefined> => {
      for (let i = 0; i < 10; i++) if (!/of v2$/.test((await get(port2, app)).text)) return undefined;
      return true;
    };
    await waitFor('ten requests in a row answered by v2', tenAtV2, 15_000);
    for (let i = 0; i < 10; i++) t.regex((await get(port2, app)).text, /of v2$/);
  });

  test.serial(`a collaborator without deploy rights cannot start a canary on someone else's app; over SSH the owner starts, re-shares and aborts one on an earlier release; a mistyped solum.canary rejects the push [${database}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'canten', { database });
    const identity = await makeSshIdentity();
    const client = await gitClient(solum, 'ssh', identity);
    const ssh = (cmd: string, who = identity) => run('ssh', [...who.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', cmd]);
    const repo = await makeRepo({ 'package.json': pkg, 'server.js': server('hello v1'), 'solum.yaml': yaml });
    t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);
    await writeAndCommit(repo, { 'server.js': server('hello v2') }, 'v2');
    t.is((await client.git(['push', client.url(app), 'main'], repo)).code, 0);

    // A read collaborator and a stranger: refused over HTTP and SSH, nothing starts.
    const reader = await createUser(solum, 'reader');
    const stranger = await createUser(solum, 'stranger');
    t.is((await solum.api('PUT', `/v1/apps/${app}/collaborators/reader`, { role: 'read' })).status, 204);
    t.is((await solum.api('POST', `/v1/apps/${app}/canary`, { version: 1, percent: 20 }, reader.token)).status, 403);
    t.is((await solum.api('POST', `/v1/apps/${app}/canary`, { version: 1, percent: 20 }, stranger.token)).status, 404);
    t.not((await ssh(`releases:canary ${app} v1 20`, reader.identity)).code, 0);
    t.not((await ssh(`releases:canary ${app} v1 20`, stranger.identity)).code, 0);
    t.is((await solum.api('POST', `/v1/apps/${app}/canary/abort`, {}, reader.token)).status, 403);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v2', canary: null });

    // The owner over SSH: bad shares refused, then v1 (an earlier release) as a canary, re-shared, aborted.
    for (const bad of ['0', '100', 'abc']) {
      const r = await ssh(`releases:canary ${app} v1 ${bad}`);
      t.not(r.code, 0, bad);
      t.regex(r.stderr, /PERCENT|1 to 99/, bad);
    }
    t.regex((await ssh(`releases:canary ${app} v2 20`)).stderr, /live release/);
    const started = await ssh(`releases:canary ${app} v1 20`);
    t.is(started.code, 0, started.stderr);
    t.regex(started.stdout, /canary v1 of .*: 20% of new sessions/);
    t.regex((await ssh(`releases:canary ${app} v1 60`)).stdout, /60% of new sessions/);
    t.regex((await ssh(`releases ${app}`)).stdout, /v1\s+canary 60%/);
    t.like((await solum.api('GET', `/v1/apps/${app}/releases/1`)).json, { canary: { version: 1, percent: 60 } });
    // Only one canary at a time.
    await writeAndCommit(repo, { 'server.js': server('hello v3') }, 'v3');
    const p3 = await client.git(['push', '-o', 'solum.canary=10', client.url(app), 'main'], repo);
    t.regex(p3.stderr, /v1 is already the canary/);
    t.is((await ssh(`releases:abort ${app}`)).code, 0);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v2', canary: null });
    t.like((await solum.api('GET', `/v1/apps/${app}/releases/1`)).json, { status: 'superseded', canary: null });

    // A mistyped share never makes the build live at once.
    await writeAndCommit(repo, { 'server.js': server('hello v4') }, 'v4');
    const p4 = await client.git(['push', '-o', 'solum.canary=abc', client.url(app), 'main'], repo);
    t.not(p4.code, 0);
    t.regex(p4.stderr, /solum\.canary takes a whole percent from 1 to 99/);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v2' });

    // A pushed canary runs its release phase first: a failing one starts nothing of the release.
    await writeAndCommit(repo, { 'server.js': server('hello v5'), 'Procfile': 'web: node server.js\nrelease: sh -c "echo migrating; exit 3"\n' }, 'v5');
    const p5 = await client.git(['push', '-o', 'solum.canary=25', client.url(app), 'main'], repo);
    t.regex(p5.stderr, /remote: +release phase: Procfile release/);
    t.regex(p5.stderr, /the release phase failed: the release phase \(Procfile release\) exited with status 3/);
    t.like((await solum.api('GET', `/v1/apps/${app}`)).json, { release: 'v2', canary: null });
    const v5 = (await solum.api('GET', `/v1/apps/${app}/releases`)).json as Array<{ version: number; status: string }>;
    t.is(v5.find((r) => r.version === Math.max(...v5.map((x) => x.version)))?.status, 'failed');
    t.is((await run('docker', ['ps', '-q', '--filter', `label=io.solum.app=${app}`, '--filter', `label=io.solum.release=${Math.max(...v5.map((x) => x.version))}`])).stdout.trim(), '', 'no process of the failed canary started');
  });
}
