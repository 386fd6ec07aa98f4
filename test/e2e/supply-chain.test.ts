// What is inside every DU and how it was made, end to end: real pushes through the stock node pack
// and a shell pack, the SBOM over the API, SSH and the CLI, security:affected before and after a
// lockfile change, du:verify of good and tampered DUs, statements and keys, and the openssl recipe
// of docs/provenance.md run as written.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import test from 'ava';
import { imageLabels } from '../support/docker.js';
import { releasesOf, solumWithApp } from '../support/fixtures.js';
import { gitClient, makeRepo, writeAndCommit } from '../support/git.js';
import { databaseKinds } from '../support/database.js';
import { makeSshIdentity, run, type RunningSolum, type SshIdentity } from '../support/solum.js';

const CLI = path.resolve('dist/src/cli/main.js');
const sha256 = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A tiny npm package as a tarball (npm pack), so the node pack installs it without a registry. */
async function packageTarball(version: string): Promise<{ file: string; name: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-pkg-'));
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'solum-fixture-pad', version, main: 'index.js', license: 'MIT' }));
  await fs.writeFile(path.join(dir, 'index.js'), `module.exports = (s) => '[' + s + '] ${version}';\n`);
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: dir });
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  return { file: path.join(dir, packed.stdout.trim()), name: packed.stdout.trim() };
}

/** The app's tree with the package vendored and its lockfile made by npm itself (offline). */
async function nodeAppFiles(repo: string, version: string): Promise<void> {
  const tgz = await packageTarball(version);
  await fs.rm(path.join(repo, 'vendor'), { recursive: true, force: true });
  await fs.mkdir(path.join(repo, 'vendor'), { recursive: true });
  await fs.copyFile(tgz.file, path.join(repo, 'vendor', tgz.name));
  await fs.writeFile(path.join(repo, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { 'solum-fixture-pad': `file:vendor/${tgz.name}` } }));
  await fs.writeFile(path.join(repo, 'server.js'), "require('http').createServer((q, s) => s.end(require('solum-fixture-pad')('ok'))).listen(process.env.PORT);\n");
  const lock = await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund'], { cwd: repo });
  if (lock.code !== 0) throw new Error(`npm install --package-lock-only failed: ${lock.stderr}`);
}

const SERVER = "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n";

const sshCmd = (solum: RunningSolum, id: SshIdentity, cmd: string, input = '') => run('ssh', [...id.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', cmd], { input });

interface Build { id: number; number: number; status: string; duImage: string; duId: string }
const builds = async (solum: RunningSolum, app: string): Promise<Build[]> => (await solum.api('GET', `/v1/apps/${app}/builds`)).json as Build[];

interface Report { releases: Array<{ app: string; version: string; action: string; pinnedBy: string | null; queued: number | null }>; packImages: unknown[] }

for (const database of databaseKinds) {
  test.serial(`the stock node pack's SBOM lists node and the app's packages; a pinned version is found by security:affected until a lockfile change and a rebuild [${database}]`, async (t) => {
    const { solum, app } = await solumWithApp(t, 'sbom', { database });
    const id = await makeSshIdentity();
    const client = await gitClient(solum, 'ssh', id);
    const repo = await makeRepo({ '.gitignore': 'node_modules\n' });
    await nodeAppFiles(repo, '1.0.0');
    await writeAndCommit(repo, {}, 'pin solum-fixture-pad 1.0.0');
    const push = await client.git(['push', client.url(app), 'main'], repo);
    t.is(push.code, 0, push.stderr);
    t.regex(push.stderr, /-----> SBOM: \d+ packages \(CycloneDX 1\.5\) in \d+\.\d\ds/);
    t.regex(push.stderr, /-----> Provenance: SLSA v1 statement for sha256:[0-9a-f]{12}…, signed/);
    const [b1] = await builds(solum, app);
    if (!b1) throw new Error('no build');

    // The SBOM: its bytes are what the DU's label digests, over the API, SSH and the CLI alike.
    const res = await solum.api('GET', `/v1/builds/${b1.id}/sbom`);
    t.is(res.status, 200, res.text);
    const label = (await imageLabels(b1.duImage))['io.solum.sbom.digest'] ?? 'no label';
    t.is(sha256(res.text), label);
    const viaSsh = await sshCmd(solum, id, `builds:sbom ${app} 1`);
    t.is(viaSsh.code, 0, viaSsh.stderr);
    t.is(sha256(viaSsh.stdout), label);
    const viaCli = await run('node', [CLI, 'builds:sbom', '1', '-a', app], { env: { SOLUM_URL: `http://127.0.0.1:${solum.httpPort}`, SOLUM_TOKEN: solum.token, HOME: os.tmpdir() } });
    t.is(viaCli.code, 0, viaCli.stderr);
    t.is(sha256(viaCli.stdout), label);
    const doc = JSON.parse(res.text) as { specVersion: string; components: Array<{ type: string; name: string; version: string; purl?: string; properties?: Array<{ name: string; value: string }> }> };
    t.is(doc.specVersion, '1.5');
    const node = doc.components.find((c) => c.type === 'platform' && c.name === 'node');
    t.regex(node?.version ?? '', /^\d+\.\d+\.\d+$/, 'node itself, as the pack installs it');
    const nodeDeb = doc.components.find((c) => c.name === 'nodejs');
    t.true(nodeDeb?.purl?.startsWith('pkg:deb/debian/nodejs@'));
    const pad = doc.components.find((c) => c.name === 'solum-fixture-pad');
    t.like(pad, { version: '1.0.0', purl: 'pkg:npm/solum-fixture-pad@1.0.0' });
    t.true(pad?.properties?.some((p) => p.name === 'solum:pinned-by' && p.value === 'package-lock.json'));
    t.true(doc.components.some((c) => c.type === 'container' && c.name === 'node' && c.properties?.some((p) => p.name === 'solum:image' && p.value.startsWith('sha256:'))), 'the pack with its image ID');

    // security:affected: the pinned version is the owner's to change, so --rebuild queues nothing.
    const asked = await sshCmd(solum, id, 'security:affected solum-fixture-pad@<1.0.1 --ecosystem npm --rebuild --json');
    t.is(asked.code, 0, asked.stderr);
    const before = JSON.parse(asked.stdout) as Report;
    t.deepEqual(before.releases.filter((r) => r.app === app).map((r) => [r.version, r.action, r.pinnedBy, r.queued]), [['1.0.0', 'owner', 'package-lock.json', null]]);
    t.is((await builds(solum, app)).length, 1, 'no rebuild of a pinned version');
    const overApi = await solum.api('GET', `/v1/security/affected?package=${encodeURIComponent('solum-fixture-pad@1.0.0')}`);
    t.is((overApi.json as Report).releases.filter((r) => r.app === app).length, 1);
    t.is((await sshCmd(solum, id, 'security:affected solum-fixture-pad@>=1.0.1')).stdout.includes(app), false, 'outside the range');
    t.is((await sshCmd(solum, id, 'security:affected "solum-fixture-pad@<<<"')).code, 1, 'a range no ecosystem reads is refused');

    // The same question as an OSV advisory.
    const osv = { id: 'SOLUM-TEST-1', summary: 'pad pads wrong', affected: [{ package: { ecosystem: 'npm', name: 'solum-fixture-pad' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }] }] };
    const adv = await sshCmd(solum, id, 'security:advisory --json', JSON.stringify(osv));
    t.is(adv.code, 0, adv.stderr);
    const advisory = JSON.parse(adv.stdout) as { packages: Array<Report & { versions: string }> };
    t.is(advisory.packages[0]?.versions, 'introduced 0, fixed 1.0.1');
    t.deepEqual(advisory.packages[0]?.releases.filter((r) => r.app === app).map((r) => r.version), ['1.0.0']);
    const overHttp = await solum.api('POST', '/v1/security/advisories', osv);
    t.is(overHttp.status, 200, overHttp.text);
    t.is((await solum.api('POST', '/v1/security/advisories', { id: 'x', affected: [] })).status, 400);

    // The owner updates the lockfile; the new build goes live and the old version is gone.
    await nodeAppFiles(repo, '1.0.1');
    await writeAndCommit(repo, {}, 'solum-fixture-pad 1.0.1');
    const push2 = await client.git(['push', client.url(app), 'main'], repo);
    t.is(push2.code, 0, push2.stderr);
    t.like((await releasesOf(solum, app, 2))[0], { version: 2, status: 'active' });
    const after = JSON.parse((await sshCmd(solum, id, 'security:affected solum-fixture-pad@<1.0.1 --json')).stdout) as Report;
    t.deepEqual(after.releases.filter((r) => r.app === app), []);
    const now = JSON.parse((await sshCmd(solum, id, 'security:affected solum-fixture-pad --json')).stdout) as Report;
    t.deepEqual(now.releases.filter((r) => r.app === app).map((r) => r.version), ['1.0.1']);
  });
}

test.serial('du:verify passes for a built DU and fails for a tampered DU, a tampered statement and a changed key; the openssl recipe agrees', async (t) => {
  const { solum, app } = await solumWithApp(t, 'prov', { database: 'postgres' });
  const id = await makeSshIdentity();
  const client = await gitClient(solum, 'ssh', id);
  const repo = await makeRepo({ 'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts: { start: 'node server.js' } }), 'server.js': SERVER });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  const [b] = await builds(solum, app);
  if (!b) throw new Error('no build');
  const verify = () => sshCmd(solum, id, `du:verify ${app} 1`);
  const good = await verify();
  t.is(good.code, 0, good.stderr);
  t.regex(good.stdout, /verified\n/);
  t.regex(good.stdout, /signature +ok/);

  // The openssl recipe of docs/provenance.md, as written, on the envelope the API serves.
  const recipe = /```sh\n# recipe: verify[^\n]*\n([\s\S]*?)```/.exec(await fs.readFile(path.resolve('docs/provenance.md'), 'utf8'))?.[1];
  if (!recipe) throw new Error('docs/provenance.md has no recipe block');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-recipe-'));
  const envelope = await solum.api('GET', `/v1/builds/${b.id}/provenance`);
  const key = await solum.api('GET', '/v1/provenance-key', undefined, '');
  t.is(key.status, 200, 'the public key needs no token');
  t.regex(key.text, /^-----BEGIN PUBLIC KEY-----\n/);
  await fs.writeFile(path.join(dir, 'envelope.json'), envelope.text);
  await fs.writeFile(path.join(dir, 'key.pem'), key.text);
  const recipeRun = () => run('bash', ['-c', recipe], { cwd: dir });
  const ok = await recipeRun();
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /Signature Verified Successfully/);
  t.regex(await fs.readFile(path.join(dir, 'payload.json'), 'utf8'), new RegExp(`"digest":\\{"sha256":"${b.duId.slice(7)}"`));
  const statement = JSON.parse(Buffer.from((envelope.json as { payload: string }).payload, 'base64').toString()) as { predicate: { buildDefinition: { externalParameters: { source: { repository: string; commit: string }; trigger: string } }; runDetails: { metadata: { invocationId: string } } } };
  t.like(statement.predicate.buildDefinition.externalParameters, { trigger: 'push', source: { repository: `http://127.0.0.1:${solum.httpPort}/${app}.git` } });
  t.is(statement.predicate.runDetails.metadata.invocationId, String(b.id));
  // One changed byte of the statement: the recipe refuses it.
  const forged = Buffer.from(JSON.stringify(statement).replace('"push"', '"pull"')).toString('base64');
  await fs.writeFile(path.join(dir, 'envelope.json'), envelope.text.replace((envelope.json as { payload: string }).payload, forged));
  const bad = await recipeRun();
  t.not(bad.code, 0);
  t.regex(bad.stdout + bad.stderr, /Signature Verification Failure/);

  // A tampered DU: the same labels, a changed filesystem, retagged as the DU.
  const c = await run('docker', ['create', b.duImage, '/bin/true']);
  const container = c.stdout.trim();
  t.teardown(async () => { await run('docker', ['rm', '-f', container]); });
  await fs.writeFile(path.join(dir, 'evil.txt'), 'evil\n');
  t.is((await run('docker', ['cp', path.join(dir, 'evil.txt'), `${container}:/app/evil.txt`])).code, 0);
  const committed = await run('docker', ['commit', container, b.duImage]);
  t.is(committed.code, 0, committed.stderr);
  const tampered = await verify();
  t.is(tampered.code, 1);
  t.regex(tampered.stderr, /NOT verified/);
  t.regex(tampered.stderr, /subject +FAILED/);
  t.regex(tampered.stderr, /signature +ok/);
  const overApi = await solum.api('GET', `/v1/apps/${app}/builds/1/verification`);
  t.like(overApi.json, { verified: false });
  t.is((await run('docker', ['tag', b.duId, b.duImage])).code, 0, 'the real DU back under its name');
  t.is((await verify()).code, 0);

  // A tampered statement in the database: the signature no longer holds.
  const db = new pg.Client({ connectionString: solum.databaseUrl });
  await db.connect();
  t.teardown(async () => { await db.end(); });
  const row = await db.query<{ envelope: string }>('select envelope from provenance where build_id = $1', [b.id]);
  const stored = JSON.parse(row.rows[0]?.envelope ?? '{}') as { payload: string };
  await db.query('update provenance set envelope = $1 where build_id = $2', [JSON.stringify({ ...stored, payload: forged }), b.id]);
  const forgedStatement = await verify();
  t.is(forgedStatement.code, 1);
  t.regex(forgedStatement.stderr, /signature +FAILED +no signature verifies/);
  await db.query('update provenance set envelope = $1 where build_id = $2', [row.rows[0]?.envelope, b.id]);
  // A changed SBOM in the database no longer matches the DU's label.
  await db.query(`update sboms set document = document || ' ' where build_id = $1`, [b.id]);
  const sbomChanged = await verify();
  t.is(sbomChanged.code, 1);
  t.regex(sbomChanged.stderr, /sbom +FAILED/);
  await db.query(`update sboms set document = rtrim(document) where build_id = $1`, [b.id]);
  t.is((await verify()).code, 0);

  // Another key (the file replaced, Solum restarted): every envelope signed before fails.
  await fs.rm(path.join(solum.dataDir, 'provenance-ed25519.pem'));
  await solum.restart();
  const rekeyed = await run('ssh', [...id.sshCommand.split(' ').slice(1), '-p', String(solum.sshPort), 'git@127.0.0.1', `du:verify ${app} 1`]);
  t.is(rekeyed.code, 1);
  t.regex(rekeyed.stderr, /signature +FAILED/);
  const mode = (await fs.stat(path.join(solum.dataDir, 'provenance-ed25519.pem'))).mode & 0o777;
  t.is(mode, 0o600, 'the new key is private to Solum');
  t.false(solum.logs().includes('PRIVATE KEY'), 'the key is never logged');
});

test.serial("a Dockerfile DU gets its SBOM label by a FROM-only rebuild, and verifies", async (t) => {
  const { solum, app } = await solumWithApp(t, 'dfile');
  const client = await gitClient(solum, 'http');
  const repo = await makeRepo({ Dockerfile: 'FROM solum/lp-node:latest\nCOPY server.js /app/server.js\nCMD ["node", "/app/server.js"]\n', 'server.js': SERVER });
  const push = await client.git(['push', client.url(app), 'main'], repo);
  t.is(push.code, 0, push.stderr);
  t.regex(push.stderr, /-----> SBOM: \d+ packages/);
  const [b] = await builds(solum, app);
  if (!b) throw new Error('no build');
  const labels = await imageLabels(b.duImage);
  t.is(labels['io.solum.sbom.digest'], sha256((await solum.api('GET', `/v1/builds/${b.id}/sbom`)).text));
  t.is(labels['io.solum.app'], app, "the DU's other labels are kept");
  t.like((await solum.api('GET', `/v1/apps/${app}/builds/1/verification`)).json, { verified: true });
});
