// Benchmark: how much of a stock node pack build its SBOM takes. Pushes a small node app (one
// vendored dependency, so no registry is needed) several times and prints, per build, the build's
// time, the SBOM's time (as the build recorded it) and their ratio; the first build also scans the
// pack image, which later builds reuse.
import fs from 'node:fs/promises';
import path from 'node:path';
import { removeAppImages } from '../test/support/docker.js';
import { gitClient, makeRepo, writeAndCommit } from '../test/support/git.js';
import { run, startSolum } from '../test/support/solum.js';
import { median, mustRun, tempDir } from './lib.js';

const BUILDS = 5;
const APP = 'bench-sbom';

async function main(): Promise<void> {
  const solum = await startSolum();
  try {
    const client = await gitClient(solum, 'http');
    const pkgDir = await tempDir('solum-bench-pkg-');
    await fs.writeFile(path.join(pkgDir, 'package.json'), JSON.stringify({ name: 'bench-dep', version: '1.0.0', main: 'index.js' }));
    await fs.writeFile(path.join(pkgDir, 'index.js'), 'module.exports = 1;\n');
    const tgz = (await mustRun('npm', ['pack', '--silent', '--pack-destination', pkgDir], { cwd: pkgDir })).stdout.trim();
    const repo = await makeRepo({
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', scripts: { start: 'node server.js' }, dependencies: { 'bench-dep': `file:vendor/${tgz}` } }),
      'server.js': "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    });
    await fs.mkdir(path.join(repo, 'vendor'));
    await fs.copyFile(path.join(pkgDir, tgz), path.join(repo, 'vendor', tgz));
    await mustRun('npm', ['install', '--package-lock-only', '--offline'], { cwd: repo });
    await writeAndCommit(repo, { '.gitignore': 'node_modules\n' }, 'vendored dependency');
    const rows: Array<{ build: number; total: number; sbom: number }> = [];
    for (let i = 1; i <= BUILDS; i++) {
      if (i > 1) await writeAndCommit(repo, { 'version.txt': `${i}\n` }, `build ${i}`);
      const push = await client.git(['push', client.url(APP), 'main'], repo);
      if (push.code !== 0) throw new Error(`push failed: ${push.stderr}`);
      const total = Number(/Build #\d+ succeeded in ([\d.]+)s/.exec(push.stderr)?.[1]);
      const sbom = Number(/SBOM: \d+ packages \(CycloneDX 1\.5\) in ([\d.]+)s/.exec(push.stderr)?.[1]);
      rows.push({ build: i, total, sbom });
      process.stdout.write(`build #${i}: build ${total.toFixed(2)}s, SBOM ${sbom.toFixed(2)}s, ratio ${((sbom / total) * 100).toFixed(1)}%${i === 1 ? ' (scans the pack image too)' : ''}\n`);
    }
    const later = rows.slice(1);
    const ratio = median(later.map((r) => r.sbom / r.total));
    process.stdout.write(`median of builds 2-${BUILDS}: build ${median(later.map((r) => r.total)).toFixed(2)}s, SBOM ${median(later.map((r) => r.sbom)).toFixed(2)}s, ratio ${(ratio * 100).toFixed(1)}% (target < 10%)\n`);
  } finally {
    await solum.stop();
    await removeAppImages(APP);
    await run('true', []);
  }
}

await main();
