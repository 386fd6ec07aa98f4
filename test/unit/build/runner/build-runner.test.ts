// The build runner against a fake container engine (no Docker): what it asks of the engine, and that a builder is removed whatever happens.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import test from 'ava';
import { memoryLog, sampleApp as app, sampleBuild as build } from '../../../support/samples.js';
import tar from 'tar-stream';
import { createBuildRunner } from '../../../../src/build/runner/build-runner.js';
import type { BuilderContainer, BuilderSpec, ContainerEngine } from '../../../../src/containers/container-engine.js';
import { createContainers } from '../../../../src/containers/containers.js';
import type { LanguagePack } from '../../../../src/build/packs/language-packs.js';

const packs: LanguagePack[] = [
  { name: 'node', version: '1', image: 'solum/lp-node:latest', detect: ['package.json'], build: '/solum/bin/build', run: 'npm start', network: 'host', kind: 'builder', cache: ['/root/.npm'], dependsOn: [], scripts: undefined },
  { name: 'shell', version: '1', image: 'solum/lp-shell:latest', detect: [], build: '/solum/bin/build', run: 'false', network: 'none', kind: 'builder', cache: [], dependsOn: [], scripts: undefined },
];

async function tarFile(files: Record<string, string>): Promise<string> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'solum-ar-')), 'src.tar');
  await fs.writeFile(file, Buffer.concat(chunks));
  return file;
}

async function entries(stream: Readable): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, s, next) => {
      const parts: Buffer[] = [];
      s.on('data', (c: unknown) => parts.push(c as Buffer));
      s.on('end', () => {
        out.set(h.name, Buffer.concat(parts).toString());
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return out;
}

interface FakeRecord {
  volumes: string[];
  spec?: BuilderSpec;
  archive?: Map<string, string>;
  commit?: { repo: string; tag: string; changes: readonly string[] };
  removed: number;
}

function fakeEngine(behaviour: { exitCode?: number; failPut?: boolean; output?: string }): { engine: ContainerEngine; rec: FakeRecord } {
  const rec: FakeRecord = { removed: 0, volumes: [] };
  const engine: ContainerEngine = {
    imageId: (ref) => Promise.resolve(ref.startsWith('solum/lp-') ? `sha256:${ref.length.toString(16).padStart(64, '0')}` : undefined),
    createBuilder(spec) {
      rec.spec = spec;
      const c: BuilderContainer = {
        id: 'c1',
        readArchive: () => Promise.resolve(undefined),
        readArchiveStream: () => Promise.resolve(undefined),
        statPath: () => Promise.resolve(undefined),
        async putArchive(stream) {
          if (behaviour.failPut) throw new Error('disk full');
          rec.archive = await entries(stream);
        },
        run(onOutput) {
          onOutput(Buffer.from(behaviour.output ?? 'building\n'));
          return Promise.resolve({ exitCode: behaviour.exitCode ?? 0, oomKilled: behaviour.exitCode === 137 });
        },
        stop() {
          return Promise.resolve();
        },
        resize: () => Promise.resolve(),
        commit(opts) {
          rec.commit = opts;
          return Promise.resolve('sha256:du');
        },
        remove() {
          rec.removed++;
          return Promise.resolve();
        },
      };
      return Promise.resolve(c);
    },
    readImagePath: () => Promise.resolve(undefined),
    openImageReader: () => Promise.resolve({ readArchiveStream: () => Promise.resolve(undefined), statPath: () => Promise.resolve(undefined), close: () => Promise.resolve() }),
    listContainers: () => Promise.resolve([]),
    buildImage: () => Promise.reject(new Error('not used')),
    ensureVolume: (name) => {
      rec.volumes.push(name);
      return Promise.resolve();
    },
    removeVolumes: () => Promise.resolve(0),
    listImages: () => Promise.resolve([]),
    removeImage: () => Promise.resolve(),
    listVolumes: () => Promise.resolve([]),
    imageLabels: () => Promise.resolve(undefined),
    runApp: () => Promise.reject(new Error('not used')),
    stopAndRemove: () => Promise.resolve(),
    startContainer: () => Promise.resolve(),
    inspectContainer: () => Promise.resolve(undefined),
    logs: () => Promise.reject(new Error('not used')),
    removeImages: () => Promise.resolve(0),
    removeContainer: () => Promise.resolve(),
    ping: () => Promise.resolve(),
    exec: () => Promise.reject(new Error('not used')),
  };
  return { engine, rec };
}




const runLimits = { signal: new AbortController().signal, limits: { memoryBytes: 1 << 30, nanoCpus: 1e9, pids: 256 } };

const runnerWith = (engine: ContainerEngine) =>
  createBuildRunner({
    containers: createContainers(engine, {
      installation: 'test',
      egress: { caBundle: '/etc/ca.crt', httpProxy: undefined, httpsProxy: 'http://proxy:3128', noProxy: undefined },
      jobLimits: { memoryBytes: 1 << 30, nanoCpus: 1e9, pids: 1024 },
      processMemoryBytes: 1 << 29,
    }),
    packs: () => packs,
    dockerfileImages: [],
  });

test('a good build: metadata appended, forged .solum dropped, limits and build-only env set, DU committed with CMD and labels', async (t) => {
  const { engine, rec } = fakeEngine({});
  const archive = await tarFile({ Procfile: 'web: ./serve --port $PORT\n', 'package.json': '{}', '.solum/build.json': 'forged' });
  const { log, lines } = memoryLog();
  const outcome = await runnerWith(engine)({ build, app, archive, log, ...runLimits });
  await log.close();
  t.like(outcome, { status: 'succeeded', exitCode: 0, duId: 'sha256:du', duImage: 'solum/hello:3', languagePack: 'node' });
  t.is(rec.spec?.network, 'host');
  t.deepEqual(rec.spec?.volumes, [['solum-cache-test-hello-node-0', '/root/.npm']], 'the node pack gets its per-app npm cache');
  t.deepEqual(rec.volumes, ['solum-cache-test-hello-node-0']);
  t.is(rec.spec?.pids, 256);
  t.deepEqual(rec.spec?.readOnlyMounts, [['/etc/ca.crt', '/etc/ssl/certs/ca-certificates.crt']]);
  t.true(rec.spec?.cmd.includes('HTTPS_PROXY=http://proxy:3128'));
  t.is(rec.spec?.labels['io.solum.role'], 'builder');
  t.is((JSON.parse(rec.archive?.get('.solum/build.json') ?? '{}') as { commit?: string }).commit, build.commit);
  t.is(rec.archive?.get('Procfile'), 'web: ./serve --port $PORT\n');
  t.like(rec.commit, { repo: 'solum/hello', tag: '3' });
  t.true(rec.commit?.changes.includes('CMD ["/bin/sh","-c","./serve --port $PORT"]'));
  t.true(rec.commit?.changes.includes('LABEL io.solum.role="deployment-unit"'));
  t.true(rec.commit?.changes.includes('LABEL io.solum.process-types="{\\"web\\":\\"./serve --port \\$PORT\\"}"'), 'a $ in a label is escaped, not substituted by Docker');
  t.true(rec.commit?.changes.includes(`LABEL org.opencontainers.image.revision="${build.commit}"`));
  t.false(rec.commit?.changes.some((c) => c.includes('PROXY')), 'build-only env stays out of the DU');
  t.is(rec.removed, 1);
  t.true(lines.includes('building'));
});

test('a failing build command: failed, no commit, builder removed', async (t) => {
  const { engine, rec } = fakeEngine({ exitCode: 2 });
  const { log } = memoryLog();
  const outcome = await runnerWith(engine)({ build, app, archive: await tarFile({ 'a.sh': '' }), log, ...runLimits });
  t.like(outcome, { status: 'failed', exitCode: 2, duId: null, languagePack: 'shell' });
  t.regex(outcome.error ?? '', /exited with status 2/);
  t.is(rec.commit, undefined);
  t.is(rec.removed, 1);
});

test('an engine error mid-build still removes the builder', async (t) => {
  const { engine, rec } = fakeEngine({ failPut: true });
  const { log } = memoryLog();
  await t.throwsAsync(runnerWith(engine)({ build, app, archive: await tarFile({ 'a.sh': '' }), log, ...runLimits }), { message: 'disk full' });
  t.is(rec.removed, 1);
});

test('a pinned pack whose image is missing fails clearly without creating a builder', async (t) => {
  const { engine, rec } = fakeEngine({});
  const { log } = memoryLog();
  const outcome = await runnerWith(engine)({ build, app: { ...app, languagePack: 'python' }, archive: await tarFile({ 'a.sh': '' }), log, ...runLimits });
  t.like(outcome, { status: 'failed' });
  t.regex(outcome.error ?? '', /python/);
  t.is(rec.spec, undefined);
});
