// The CycloneDX document from sample package databases: dpkg, apk, npm (lockfile and installed
// tree), Python METADATA, the runtime, the packs; validated against the CycloneDX 1.5 schema.
import test from 'ava';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { inventoryOf, keepFile, pinsOf, planReads } from '../../../src/supply-chain/inventory.js';
import { parseApkInstalled, parseDpkgStatus, parseNpmLockfile, parsePythonMetadata, parseRequirementPins } from '../../../src/supply-chain/package-databases.js';
import { assembleSbom, sha256Digest } from '../../../src/supply-chain/sbom.js';

const DPKG = `Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 multi-line description
 .

Package: nodejs
Status: install ok installed
Architecture: amd64
Version: 18.20.4+dfsg-1~deb12u2

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: broken
Version: $(rm -rf /)
`;

const LOCK = JSON.stringify({
  name: 'app',
  lockfileVersion: 3,
  packages: {
    '': { name: 'app', version: '1.0.0' },
    'node_modules/lodash': { version: '4.17.20', integrity: 'sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==', resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz' },
    'node_modules/@scope/pkg': { version: '2.0.0', license: 'MIT' },
    'node_modules/a/node_modules/lodash': { version: '4.17.20' },
    'node_modules/dev-only': { version: '1.0.0', dev: true },
    'node_modules/linked': { link: true, resolved: 'packages/linked' },
  },
});

const METADATA = 'Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nlong description\nName: not-this\n';

test('package databases: installed dpkg packages with their source, apk records, lockfiles v3 and v1, METADATA, pins', (t) => {
  t.deepEqual(parseDpkgStatus(DPKG).map((p) => [p.name, p.version, p.source]), [['libssl3', '3.0.11-1~deb12u2', 'openssl'], ['nodejs', '18.20.4+dfsg-1~deb12u2', 'nodejs']]);
  t.deepEqual(parseApkInstalled('P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r5\n').map((p) => `${p.name}@${p.version}`), ['musl@1.2.4-r2', 'busybox@1.36.1-r5']);
  t.deepEqual(parseNpmLockfile(LOCK, { includeDev: false }).map((p) => `${p.name}@${p.version}`), ['lodash@4.17.20', '@scope/pkg@2.0.0', 'lodash@4.17.20']);
  const v1 = JSON.stringify({ lockfileVersion: 1, dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } }, g: { version: 'github:x/y' } } });
  t.deepEqual(parseNpmLockfile(v1, { includeDev: true }).map((p) => `${p.location ?? ''}@${p.version}`), ['node_modules/a@1.0.0', 'node_modules/a/node_modules/b@2.0.0']);
  t.deepEqual(parseNpmLockfile('not json', { includeDev: true }), []);
  t.like(parsePythonMetadata(METADATA, '/x'), { name: 'Requests', version: '2.31.0', license: 'Apache 2.0' });
  t.deepEqual([...parseRequirementPins('# pins\nRequests==2.31.0\nflask>=2\nurllib3[socks] == 2.0.7 ; python_version>"3"\n')], [['requests', '2.31.0'], ['urllib3', '2.0.7']]);
});

test('what to read: npm record of the installed tree first, unchanged system paths reused, symlinks and absent paths never', (t) => {
  const stat = { size: 1, mode: 420, mtime: 't', linkTarget: '' };
  const stats = new Map([
    ['/var/lib/dpkg/status', stat],
    ['/etc/os-release', { ...stat, linkTarget: '/usr/lib/os-release' }],
    ['/usr/lib/os-release', stat],
    ['/app/node_modules/.package-lock.json', stat],
    ['/app/node_modules', stat],
    ['/app/package-lock.json', stat],
  ]);
  t.deepEqual(planReads(stats, (p) => p === '/usr/lib/os-release'), { read: ['/var/lib/dpkg/status', '/app/node_modules/.package-lock.json'], reuse: ['/usr/lib/os-release'] });
  stats.delete('/app/node_modules/.package-lock.json');
  t.true(planReads(stats, () => false).read.includes('/app/node_modules'));
  t.true(keepFile('/app/node_modules/@s/x/package.json'));
  t.true(keepFile('/app/.venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA'));
  t.false(keepFile('/app/node_modules/x/lib/package.json'));
  t.false(keepFile('/var/lib/dpkg/status.d/x.md5sums'));
});

test('the CycloneDX 1.5 document: OS, runtime, npm and Python packages, packs; pins; valid against the schema; its bytes survive a JSON round trip', async (t) => {
  const files = new Map<string, Buffer>([
    ['/var/lib/dpkg/status', Buffer.from(DPKG)],
    ['/usr/lib/os-release', Buffer.from('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')],
    ['/app/node_modules/.package-lock.json', Buffer.from(LOCK)],
    ['/app/.venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA', Buffer.from(METADATA)],
  ]);
  const pins = pinsOf(new Map([['package-lock.json', Buffer.from(LOCK)], ['requirements.txt', Buffer.from('requests==2.31.0\n')]]));
  const inventory = inventoryOf(files, {
    subject: { kind: 'deployment-unit', name: 'solum/hello', version: '3', properties: { commit: 'abc' } },
    packs: [{ name: 'node', version: '1', image: `sha256:${'a'.repeat(64)}` }],
    pins,
    gaps: ['/app/node_modules: not read past the limit'],
  });
  const sbom = assembleSbom(inventory, { serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', timestamp: new Date('2024-01-01T00:00:00Z'), tool: { name: 'solum', version: '0.1.0' } });
  t.is(sbom.digest, sha256Digest(sbom.document));
  t.is(JSON.stringify(JSON.parse(sbom.document)), sbom.document, 'served as JSON, the bytes stay the same');
  const doc = JSON.parse(sbom.document) as { specVersion: string; metadata: { component: { name: string; version: string }; properties?: Array<{ name: string; value: string }> }; components: Array<{ type: string; name: string; version?: string; purl?: string; hashes?: Array<{ alg: string; content: string }>; properties?: Array<{ name: string; value: string }> }> };
  t.is(doc.specVersion, '1.5');
  t.like(doc.metadata.component, { name: 'solum/hello', version: '3' });
  t.true(doc.metadata.properties?.some((p) => p.name === 'solum:gap'));
  const by = (name: string) => doc.components.filter((c) => c.name === name);
  t.is(by('libssl3')[0]?.purl, 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl');
  t.like(by('node').find((c) => c.type === 'platform'), { version: '18.20.4', purl: 'pkg:generic/node@18.20.4' });
  t.like(by('node').find((c) => c.type === 'container'), { version: '1', hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] });
  t.is(by('lodash').length, 1, 'one component for a package nested twice');
  t.true(by('lodash')[0]?.properties?.some((p) => p.name === 'solum:pinned-by' && p.value === 'package-lock.json'));
  t.is(by('lodash')[0]?.hashes?.[0]?.alg, 'SHA-512');
  t.is(by('@scope/pkg')[0]?.purl, 'pkg:npm/%40scope/pkg@2.0.0');
  t.is(by('Requests')[0]?.purl, 'pkg:pypi/requests@2.31.0');
  t.true(by('Requests')[0]?.properties?.some((p) => p.name === 'solum:pinned-by' && p.value === 'requirements.txt'));
  t.is(by('dev-only').length, 1, "npm's record of the installed tree is what is installed");
  t.like(by('debian')[0], { type: 'operating-system', version: '12' });
  t.deepEqual(
    sbom.components.filter((c) => c.name === 'libssl3').map((c) => [c.ecosystem, c.matchName, c.sourceName]),
    [['deb', 'libssl3', 'openssl']],
  );
  const errors: unknown = await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5).validate(sbom.document);
  t.is(errors, null, JSON.stringify(errors));
});
