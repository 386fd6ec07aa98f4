// Probes and metrics: /healthz, /readyz (database, Docker and the firewall table), /metrics in Prometheus format.
import test from 'ava';
import { solumWithApp } from '../support/fixtures.js';
import { gitClient, makeRepo } from '../support/git.js';

test.serial('healthz, readyz and metrics count pushes, bytes, builds and API latency', async (t) => {
  const { solum, app } = await solumWithApp(t, 'obs');
  const get = async (p: string) => {
    const res = await fetch(`http://127.0.0.1:${solum.httpPort}${p}`);
    return { status: res.status, text: await res.text() };
  };
  t.deepEqual(JSON.parse((await get('/healthz')).text), { status: 'ok' });
  const ready = await get('/readyz');
  t.is(ready.status, 200);
  t.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { database: 'ok', docker: 'ok', firewall: 'ok' } });

  const repo = await makeRepo({ 'build.sh': 'echo ok\n' });
  const ssh = await gitClient(solum, 'ssh');
  t.is((await ssh.git(['push', ssh.url(app), 'main'], repo)).code, 0);
  const http = await gitClient(solum, 'http');
  t.is((await http.git(['push', http.url(app), 'main:other'], repo)).code, 0);
  await solum.api('GET', `/v1/apps/${app}/builds`);

  const metrics = (await get('/metrics')).text;
  t.regex(metrics, /^solum_pushes_total\{transport="ssh"\} 1$/m);
  t.regex(metrics, /^solum_pushes_total\{transport="http"\} 1$/m);
  const sshBytes = Number(/^solum_push_bytes_total\{transport="ssh"\} (\d+)$/m.exec(metrics)?.[1]);
  t.true(sshBytes > 100, `ssh push bytes: ${sshBytes}`);
  t.regex(metrics, /^solum_builds_total\{status="succeeded"\} 1$/m);
  t.regex(metrics, /^solum_build_duration_seconds_count\{status="succeeded"\} 1$/m);
  t.regex(metrics, /^solum_build_queue_depth 0$/m);
  t.regex(metrics, /^solum_ssh_sessions_active 0$/m);
  t.regex(metrics, /^solum_http_request_duration_seconds_count\{method="GET",route="\/v1\/apps\/:app\/builds",status="200"\} 1$/m);
  t.regex(metrics, /^solum_process_resident_memory_bytes \d+/m);
});
