// How a release's commands run: after .profile.d/*.sh and .profile, with the release's environment.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { oneOffFailure } from '../../../src/deploy/one-off.js';
import { processCommand, releaseEnv } from '../../../src/deploy/process-command.js';

const run = promisify(execFile);

test('.profile.d/*.sh then .profile are sourced before the command, which runs as written', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-profile-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.mkdir(path.join(dir, '.profile.d'));
  await fs.writeFile(path.join(dir, '.profile.d', 'a.sh'), 'export FROM_A=a\n');
  await fs.writeFile(path.join(dir, '.profile.d', 'b.sh'), 'export FROM_B="$FROM_A-b"\n');
  await fs.writeFile(path.join(dir, '.profile.d', 'ignored.txt'), 'export IGNORED=yes\n');
  await fs.writeFile(path.join(dir, '.profile'), 'export FROM_PROFILE="$FROM_B-p"\n');
  const [cmd, ...args] = processCommand('echo "$FROM_PROFILE ${IGNORED:-unset} $1"; echo "quoted \'one\'" && exit 0');
  const { stdout } = await run(cmd ?? '', args, { cwd: dir });
  t.is(stdout, 'a-b-p unset \nquoted \'one\'\n');
  // A tree without profiles runs the command just the same, and its status is the command's.
  const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-noprofile-'));
  t.teardown(() => fs.rm(empty, { recursive: true, force: true }));
  const [c2, ...a2] = processCommand('exit 4');
  const err = await t.throwsAsync(run(c2 ?? '', a2, { cwd: empty }));
  t.is((err as unknown as { code: number }).code, 4);
});

test('the environment: DU defaults, then config, then what Solum sets', (t) => {
  t.deepEqual(releaseEnv({ A: 'default', B: 'default' }, { B: 'config', SOLUM_APP: 'forged' }, { target: 'hello', version: 3, process: 'release' }), { A: 'default', B: 'config', SOLUM_APP: 'hello', SOLUM_RELEASE: 'v3', SOLUM_PROCESS: 'release' });
});

test('a one-off failure is named by how it ended', (t) => {
  const base = { exitCode: 0, oomKilled: false, timedOut: false, aborted: false };
  t.is(oneOffFailure('x', base, 1000), undefined);
  t.is(oneOffFailure('the release phase', { ...base, exitCode: 3 }, 1000), 'the release phase exited with status 3');
  t.is(oneOffFailure('x', { ...base, exitCode: 137, timedOut: true }, 60_000), 'x did not finish within 60s and was stopped');
  t.is(oneOffFailure('x', { ...base, exitCode: 137, oomKilled: true }, 1000), 'x ran out of memory and was killed');
});
